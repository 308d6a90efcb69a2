"""SARIF 2.1.0: one result per policy violation, one rule per finding (kmsguard.findings).

Every finding of the closed set is a rule, in the order of ``Finding``, so a rule's index is the same
in every log; a result's rule is the first finding its message names (its ``Docs:`` line), the
others are listed in its ``properties.findings``, and the policy that reported it in
``properties.policy``. A violation naming no finding (another pack) gets a rule named after its policy.

Code scanning services place a result on a file and line, so each result gets a physical location:
where the program declared the resource (the runner records it) when known; otherwise, for
``kmsguard check``, the line of the state file that holds the resource's URN; otherwise the
project's ``Pulumi.yaml``. The URN is always there as a logical location. Paths are relative to the
working directory (the repository root in CI), as GitHub code scanning expects.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from kmsguard.analysis import Verdict
from kmsguard.diff import violation_key
from kmsguard.engine import EnforcementLevel, PolicyInfo, Violation
from kmsguard.evaluate import Evaluation
from kmsguard.findings import FINDINGS, Finding
from kmsguard.policies.links import DOCS_URL_ENV, FINDINGS_PAGE, link
from kmsguard.protocol import logical_name
from kmsguard.report.document import catalog_info, differing_nics, message_of

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINDING_IDS = re.compile(r"\((KMS-[A-Z0-9-]+)\)")
LEVELS = {
    EnforcementLevel.MANDATORY: "error",
    EnforcementLevel.REMEDIATE: "error",
    EnforcementLevel.ADVISORY: "warning",
    EnforcementLevel.DISABLED: "none",
}


def _version() -> str:
    try:
        return metadata.version("kmsguard")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _rule_name(policy: str) -> str:
    return "".join(part.capitalize() for part in policy.replace("_", "-").split("-"))


def _information_uri() -> dict[str, str]:
    """The tool's home page only when the user configured where the docs live (no invented URL)."""
    base = os.environ.get(DOCS_URL_ENV, "").strip().rstrip("/")
    return {"informationUri": base} if base else {}


def findings_of(message: str) -> list[Finding]:
    """The findings a message names on its last (``Docs:``) line, in order."""
    last = message.rstrip().rsplit("\n", 1)[-1]
    if not last.startswith("Docs: "):
        return []
    known = {f.value: f for f in Finding}
    return [known[i] for i in dict.fromkeys(FINDING_IDS.findall(last)) if i in known]


def finding_rule(f: Finding, enabled: bool = True) -> dict[str, Any]:
    """The rule of a finding; ``enabled=False`` when the policy that reports it is disabled."""
    info = FINDINGS[f]
    return {
        "id": f.value,
        "name": info.name,
        "shortDescription": {"text": info.short},
        "fullDescription": {"text": info.full},
        "helpUri": link(FINDINGS_PAGE, f.anchor),
        "help": {"text": f"{info.short} See {FINDINGS_PAGE}#{f.anchor}."},
        "defaultConfiguration": {"level": info.level, "enabled": True}
        if enabled
        else {"level": "none", "enabled": False},
        "properties": {"policy": info.policy},
    }


class _Rules:
    """The run's rules: every finding first, then a rule per policy for violations naming none."""

    def __init__(self, policies: Sequence[PolicyInfo]) -> None:
        levels = {p.name: p.enforcement_level for p in policies}
        disabled = {name for name, level in levels.items() if level == EnforcementLevel.DISABLED}
        everything_off = bool(levels) and disabled == set(levels)

        def enabled(f: Finding) -> bool:
            owner = FINDINGS[f].policy
            return not everything_off if owner == "any" else owner not in disabled

        self.rules: list[dict[str, Any]] = [finding_rule(f, enabled(f)) for f in Finding]
        self.index = {r["id"]: i for i, r in enumerate(self.rules)}
        self._policies = {p.name: p for p in policies}

    def for_violation(
        self, policy: str, level: EnforcementLevel, message: str
    ) -> tuple[str, int, list[Finding]]:
        found = findings_of(message)
        rule_id = found[0].value if found else policy
        if rule_id not in self.index:
            info = self._policies.get(policy) or PolicyInfo(policy, "", level, "", None, "", "")
            self.index[rule_id] = len(self.rules)
            self.rules.append(rule(info))
        return rule_id, self.index[rule_id], found


def rule(p: PolicyInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.name,
        "name": _rule_name(p.name),
        "shortDescription": {"text": p.description or p.name},
        "defaultConfiguration": {
            "level": LEVELS.get(p.enforcement_level, "warning"),
            "enabled": p.enforcement_level != EnforcementLevel.DISABLED,
        },
        "properties": {"enforcementLevel": p.enforcement_level, "policyType": p.policy_type},
    }
    if p.remediation_steps:
        out["fullDescription"] = {"text": p.remediation_steps}
        out["help"] = {"text": p.remediation_steps}
    if p.url:
        out["helpUri"] = link(*p.url.split("#", 1)) if not p.url.startswith(("http:", "https:")) else p.url
    return out


def render(ev: Evaluation, *, cwd: Path | None = None, baseline: Mapping[str, Any] | None = None) -> str:
    return json.dumps(log(ev, cwd=cwd, baseline=baseline), indent=2, ensure_ascii=False) + "\n"


def log(
    ev: Evaluation, *, cwd: Path | None = None, baseline: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The SARIF log of one evaluation; with ``baseline`` (a JSON report of the base), every result
    carries its ``baselineState`` and the base's violations that are gone are listed as ``absent``."""
    out = _log(ev, cwd=cwd)
    if baseline is not None:
        from kmsguard.report.redact import secret_texts

        finder = _Locator(ev, (cwd or Path.cwd()).resolve())
        apply_baseline(out, baseline, secrets=secret_texts(ev), locate=finder.physical)
        if finder.uses_root and "originalUriBaseIds" not in out["runs"][0]:
            out["runs"][0]["originalUriBaseIds"] = {"SRCROOT": {"uri": finder.cwd.as_uri() + "/"}}
    return out


def _log(ev: Evaluation, *, cwd: Path | None = None) -> dict[str, Any]:
    cwd = (cwd or Path.cwd()).resolve()
    rules = _Rules(ev.drive.policies)
    finder = _Locator(ev, cwd)
    results = [_result(v, rules, finder) for v in ev.violations]
    for v, result in zip(ev.violations, results, strict=True):
        _add_nics(result, v, ev, finder)
    # check: what the autofix would change is SARIF's "note" level, never an error (DESIGN "check").
    listed = {p.name for p in ev.drive.policies} | {v.policy for v in ev.violations}
    results += [_result(v, rules, finder, note=True) for v in ev.notes if v.policy in listed]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kmsguard",
                "fullName": f"kmsguard policy pack ({ev.drive.pack_name})",
                "version": _version(),
                **_information_uri(),
                "rules": rules.rules,
                "properties": {"catalog": catalog_info()},
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


def _result(v: Violation, rules: _Rules, finder: _Locator, *, note: bool = False) -> dict[str, Any]:
    message = message_of(v)
    rule_id, rule_index, found = rules.for_violation(v.policy, v.level, message)
    location: dict[str, Any] = {}
    physical = finder.physical(v.urn)
    if physical is not None:
        location["physicalLocation"] = physical
    if v.urn:
        location["logicalLocations"] = [
            {"fullyQualifiedName": v.urn, "name": logical_name(v.urn), "kind": "resource"}
        ]
    digest = hashlib.sha256(f"{v.policy}\n{v.urn}\n{message}".encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": "note" if note else LEVELS.get(v.level, "warning"),
        "message": {"text": message},
        "partialFingerprints": {"kmsguardViolation/v1": digest[:32]},
        "properties": {
            "enforcementLevel": EnforcementLevel.REMEDIATE if note else v.level,
            "policy": v.policy,
            "findings": [f.value for f in found],
        },
    }
    if location:
        result["locations"] = [location]
    return result


def _add_nics(result: dict[str, Any], v: Violation, ev: Evaluation, finder: _Locator) -> None:
    """A subnet's violation points at the NICs whose own path is blocked or unknown (their NSG,
    load balancer pool, public IP), as SARIF related locations: where each NIC is declared."""
    if v.policy not in ("kms-reachability", "kms-unverified") or not v.urn:
        return
    message = message_of(v)
    related: list[dict[str, Any]] = []
    for s in ev.result.subnets:
        if s.urn != v.urn or s.name not in message:
            continue
        for n in differing_nics(s):
            if n.verdict is Verdict.REACHABLE:
                continue
            location: dict[str, Any] = {
                "id": len(related),
                "message": {"text": f"NIC {n.name} of subnet {s.name}: {n.verdict.value}"},
            }
            physical = finder.physical(n.urn) if n.urn else None
            if physical is not None:
                location["physicalLocation"] = physical
            if n.urn:
                location["logicalLocations"] = [
                    {"fullyQualifiedName": n.urn, "name": logical_name(n.urn), "kind": "resource"}
                ]
            related.append(location)
    if related:
        result["relatedLocations"] = related


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


# --- baselines (pull requests): what the head introduced, kept, changed or removed ---------------


def _result_urn(result: Mapping[str, Any]) -> str | None:
    for location in result.get("locations", ()):
        for logical in location.get("logicalLocations", ()):
            return str(logical["fullyQualifiedName"])
    return None


def apply_baseline(
    sarif_log: dict[str, Any],
    baseline: Mapping[str, Any],
    *,
    secrets: Sequence[str] = (),
    locate: Callable[[str], dict[str, Any] | None] | None = None,
) -> None:
    """Sets SARIF's ``baselineState`` on each result of the log's run, against the violations of a base
    JSON report: ``new`` (no such finding in the base), ``unchanged`` (same finding, same message),
    ``updated`` (same finding, message changed) — and appends the base's findings the head no longer
    has as ``absent`` results, so code scanning can show only what the change introduced.

    Two results are the same finding when :func:`kmsguard.diff.violation_key` says so: the rest of
    the message may change while the finding stays (``updated``). The base report was redacted when
    it was written, so the head's messages are compared redacted.
    """
    from kmsguard.report.redact import in_text

    run = sarif_log["runs"][0]
    rules: list[dict[str, Any]] = run["tool"]["driver"]["rules"]
    waiting: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    # A check's notes (what the autofix would add) are results too, at SARIF's note level.
    for v in [*baseline["violations"], *baseline.get("notes", ())]:
        waiting.setdefault(violation_key(v["policy"], v["urn"], v["message"]), []).append(v)
    for result in run["results"]:
        message = in_text(result["message"]["text"], secrets)
        policy = result.get("properties", {}).get("policy", result["ruleId"])
        same = waiting.get(violation_key(policy, _result_urn(result), message))
        if not same:
            result["baselineState"] = "new"
            continue
        before = same.pop(0)
        result["baselineState"] = "unchanged" if before["message"] == message else "updated"
    index = {r["id"]: i for i, r in enumerate(rules)}
    for gone in (v for group in waiting.values() for v in group):
        rule_id = _rule_id(gone["policy"], gone["message"])
        if rule_id not in index:
            index[rule_id] = len(rules)
            rules.append(_bare_rule(rule_id))
        run["results"].append(_absent(gone, rule_id, index[rule_id], locate))


def _rule_id(policy: str, message: str) -> str:
    found = findings_of(message)
    return found[0].value if found else policy


def _bare_rule(rule_id: str) -> dict[str, Any]:
    """A finding's full rule, or a policy's rule known by its name only (a JSON report has no more)."""
    known = {f.value: f for f in Finding}
    if rule_id in known:
        return finding_rule(known[rule_id])
    return {"id": rule_id, "name": _rule_name(rule_id), "shortDescription": {"text": rule_id}}


def _absent(
    v: Mapping[str, Any],
    rule_id: str,
    rule_index: int,
    locate: Callable[[str], dict[str, Any] | None] | None,
) -> dict[str, Any]:
    urn: str | None = v["urn"]
    location: dict[str, Any] = {}
    physical = locate(urn) if locate is not None and urn else None
    if physical is not None:
        location["physicalLocation"] = physical
    if urn:
        location["logicalLocations"] = [
            {"fullyQualifiedName": urn, "name": logical_name(urn), "kind": "resource"}
        ]
    digest = hashlib.sha256(f"{v['policy']}\n{urn or ''}\n{v['message']}".encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        # A check's note has no level of its own: the autofix's remediate level, shown as a note.
        "level": LEVELS.get(v["level"], "warning") if "level" in v else "note",
        "message": {"text": v["message"]},
        "partialFingerprints": {"kmsguardViolation/v1": digest[:32]},
        "properties": {
            "enforcementLevel": v.get("level", EnforcementLevel.REMEDIATE.value),
            "policy": v["policy"],
            "findings": [f.value for f in findings_of(v["message"])],
        },
        "baselineState": "absent",
    }
    if location:
        result["locations"] = [location]
    return result


def log_from_reports(base: Mapping[str, Any], head: Mapping[str, Any]) -> dict[str, Any]:
    """SARIF for ``kmsguard diff``: the head report's violations against the base's.

    A JSON report records no source lines, so these results have logical locations (URNs) only;
    code scanning needs a file and line, which ``kmsguard preview --baseline ... --format sarif``
    gives (it runs the program and knows where each resource was declared).
    """
    rules = [finding_rule(f) for f in Finding]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for v in head["violations"]:
        rule_id = _rule_id(v["policy"], v["message"])
        if rule_id not in index:
            index[rule_id] = len(rules)
            rules.append(_bare_rule(rule_id))
        result = _absent(v, rule_id, index[rule_id], None)
        del result["baselineState"]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "kmsguard",
                "version": _version(),
                **_information_uri(),
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"kmsguard/{head['project']}/{head['stack']}/"},
        "invocations": [{"executionSuccessful": True, "properties": {"blocked": head["blocked"]}}],
        "results": results,
        "properties": {"project": head["project"], "stack": head["stack"]},
    }
    out = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    apply_baseline(out, base)
    return out
