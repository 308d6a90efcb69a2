"""SARIF 2.1.0: one result per policy violation, one rule per policy of the pack.

Code scanning services place a result on a file and line, so each result gets a physical location:
where the program declared the resource (the runner records it) when known; otherwise, for
``kmsguard check``, the line of the state file that holds the resource's URN; otherwise the
project's ``Pulumi.yaml``. The URN is always there as a logical location. Paths are relative to the
working directory (the repository root in CI), as GitHub code scanning expects.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from kmsguard.engine import PolicyInfo, Violation
from kmsguard.evaluate import Evaluation
from kmsguard.report.document import message_of

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/kmsguard/kmsguard"
LEVELS = {"mandatory": "error", "remediate": "error", "advisory": "warning", "disabled": "none"}


def _version() -> str:
    try:
        return metadata.version("kmsguard")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _rule_name(policy: str) -> str:
    return "".join(part.capitalize() for part in policy.replace("_", "-").split("-"))


def rule(p: PolicyInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.name,
        "name": _rule_name(p.name),
        "shortDescription": {"text": p.description or p.name},
        "defaultConfiguration": {
            "level": LEVELS.get(p.enforcement_level, "warning"),
            "enabled": p.enforcement_level != "disabled",
        },
        "properties": {"enforcementLevel": p.enforcement_level, "policyType": p.policy_type},
    }
    if p.remediation_steps:
        out["fullDescription"] = {"text": p.remediation_steps}
        out["help"] = {"text": p.remediation_steps}
    if p.url:
        out["helpUri"] = p.url
    return out


def render(ev: Evaluation, *, cwd: Path | None = None) -> str:
    return json.dumps(log(ev, cwd=cwd), indent=2, ensure_ascii=False) + "\n"


def log(ev: Evaluation, *, cwd: Path | None = None) -> dict[str, Any]:
    cwd = (cwd or Path.cwd()).resolve()
    policies = list(ev.drive.policies)
    known = {p.name for p in policies}
    # A violation from a policy the pack did not list (should not happen) still gets a rule.
    for v in ev.violations:
        if v.policy not in known:
            known.add(v.policy)
            policies.append(PolicyInfo(v.policy, v.description, v.level, "", None, "", ""))
    index = {p.name: i for i, p in enumerate(policies)}
    finder = _Locator(ev, cwd)
    results = [_result(v, index[v.policy], finder) for v in ev.violations]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kmsguard",
                "fullName": f"kmsguard policy pack ({ev.drive.pack_name})",
                "version": _version(),
                "informationUri": INFORMATION_URI,
                "rules": [rule(p) for p in policies],
            }
        },
        "automationDetails": {"id": f"kmsguard/{ev.project}/{ev.stack}/"},
        "invocations": [
            {"executionSuccessful": True, "properties": {"mode": ev.mode, "blocked": ev.blocked}}
        ],
        "results": results,
        "properties": {
            "project": ev.project,
            "stack": ev.stack,
            "remediations": [
                {"policy": r.policy, "urn": r.urn, "description": r.description} for r in ev.remediations
            ],
        },
    }
    if finder.uses_root:
        run["originalUriBaseIds"] = {"SRCROOT": {"uri": cwd.as_uri() + "/"}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _result(v: Violation, rule_index: int, finder: _Locator) -> dict[str, Any]:
    message = message_of(v)
    location: dict[str, Any] = {}
    physical = finder.physical(v.urn)
    if physical is not None:
        location["physicalLocation"] = physical
    if v.urn:
        location["logicalLocations"] = [
            {"fullyQualifiedName": v.urn, "name": v.urn.rsplit("::", 1)[-1], "kind": "resource"}
        ]
    digest = hashlib.sha256(f"{v.policy}\n{v.urn}\n{message}".encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": v.policy,
        "ruleIndex": rule_index,
        "level": LEVELS.get(v.level, "warning"),
        "message": {"text": message},
        "partialFingerprints": {"kmsguardViolation/v1": digest[:32]},
        "properties": {"enforcementLevel": v.level},
    }
    if location:
        result["locations"] = [location]
    return result


class _Locator:
    """Where a resource shows up in the repository: program line, state-file line, or Pulumi.yaml."""

    def __init__(self, ev: Evaluation, cwd: Path) -> None:
        self.ev = ev
        self.cwd = cwd
        self.uses_root = False
        self._state_lines: dict[str, int] | None = None

    def _artifact(self, path: Path) -> dict[str, Any]:
        resolved = path.resolve()
        try:
            rel = resolved.relative_to(self.cwd)
        except ValueError:
            return {"uri": resolved.as_uri()}
        self.uses_root = True
        return {"uri": rel.as_posix(), "uriBaseId": "SRCROOT"}

    def physical(self, urn: str) -> dict[str, Any] | None:
        source = self.ev.sources.get(urn) if urn else None
        if source is not None:
            path = Path(source[0])
            if not path.is_absolute() and self.ev.project_dir is not None:
                path = self.ev.project_dir / path
            return {"artifactLocation": self._artifact(path), "region": {"startLine": max(1, source[1])}}
        if self.ev.origin is not None:
            line = self._state_line(urn)
            return {"artifactLocation": self._artifact(self.ev.origin), "region": {"startLine": line}}
        if self.ev.project_dir is not None:
            for name in ("Pulumi.yaml", "Pulumi.yml"):
                path = self.ev.project_dir / name
                if path.is_file():
                    return {"artifactLocation": self._artifact(path), "region": {"startLine": 1}}
        return None

    def _state_line(self, urn: str) -> int:
        if self._state_lines is None:
            self._state_lines = {}
            assert self.ev.origin is not None
            try:
                text = self.ev.origin.read_text(encoding="utf-8")
            except OSError:
                text = ""
            for number, line in enumerate(text.splitlines(), 1):
                stripped = line.strip()
                if stripped.startswith('"urn":'):
                    try:
                        value = json.loads(stripped.removeprefix('"urn":').strip().rstrip(","))
                    except json.JSONDecodeError:
                        continue
                    if isinstance(value, str):
                        self._state_lines.setdefault(value, number)
        return self._state_lines.get(urn, 1) if urn else 1
