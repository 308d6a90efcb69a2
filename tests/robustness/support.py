"""Shared pieces of the robustness suite: example budgets, secret markers, the pack round trip and
the in-process prediction of what the pack must report.

Budgets follow ``HYPOTHESIS_PROFILE`` (``ci`` by default, ``long`` = ten times as many examples),
read here rather than from a loaded profile so the suite sizes itself the same way whether or not
another directory's conftest loaded first.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kmsguard.analysis import NetworkResult, Verdict
from kmsguard.collect.pulumi import PulumiResource
from kmsguard.config import parse_settings
from kmsguard.engine import PackProcess, PackResource, Remediation, Secret, Unknown, Violation
from kmsguard.errors import KmsguardError
from kmsguard.findings import Finding
from kmsguard.policies import AUTOFIX, REACHABILITY, UNVERIFIED, analyze_resources
from kmsguard.policies.links import with_finding
from kmsguard.policies.messages import blocked_message, problem_message, unknown_message

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FACTOR = 10 if PROFILE == "long" else 1


def scaled(n: int) -> int:
    """``n`` examples under the ci profile, ten times as many under ``long``."""
    return n * FACTOR


# Unique, greppable secret values: each marker appears nowhere else in any input.
_counter = itertools.count()


def marker() -> str:
    return f"SeCrEt{next(_counter):06d}zq"


MARKER_PREFIX = "SeCrEt"


# --- the engine side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackRun:
    """What one preview-shaped pass over a stack produced."""

    final: tuple[PackResource, ...]
    remediations: tuple[Remediation, ...]
    resource_violations: tuple[Violation, ...]  # Analyze, plus Remediate diagnostics
    stack_violations: tuple[Violation, ...]  # AnalyzeStack

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self.resource_violations + self.stack_violations


# Secret texts each pack process has been sent: the pack redacts every one it has seen in Remediate.
_sent_secrets: dict[int, set[str]] = {}


def secret_texts(value: Any, inside: bool = False) -> Iterator[str]:
    """The texts of the secret leaves of ``value`` that the pack redacts (3 characters or more)."""
    if isinstance(value, Secret):
        yield from secret_texts(value.value, True)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from secret_texts(item, inside)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from secret_texts(item, inside)
    elif inside and isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        if len(text) >= 3:
            yield text


def redacted(message: str, secrets: set[str]) -> str:
    for text in sorted(secrets, key=len, reverse=True):
        message = message.replace(text, "[secret]")
    return message


def run_stack(pack: PackProcess, resources: Sequence[PackResource]) -> PackRun:
    """The §1.3 call sequence on an already configured pack: Remediate + Analyze each, AnalyzeStack.

    A gRPC error surfaces as ``KmsguardError`` from the driver; callers let it fail the test.
    """
    seen = _sent_secrets.setdefault(id(pack), set())
    for r in resources:
        seen.update(secret_texts(r.inputs))
    final: list[PackResource] = []
    remediations: list[Remediation] = []
    found: list[Violation] = []
    pack.remediation_violations.clear()
    for r in resources:
        rems, remediated = pack.remediate(r)
        remediations.extend(rems)
        found.extend(pack.analyze(remediated))
        final.append(remediated)
    found.extend(pack.remediation_violations)
    stack = pack.analyze_stack(final)
    return PackRun(tuple(final), tuple(remediations), tuple(found), tuple(stack))


def unwrap(value: Any) -> Any:
    """What pulumi_policy hands a policy in Analyze/AnalyzeStack: secrets unwrapped, unknowns as the
    sentinel strings (docs/pulumi-mechanics.md §1.8)."""
    if isinstance(value, Secret):
        return unwrap(value.value)
    if isinstance(value, Unknown):
        return value.sentinel
    if isinstance(value, Mapping):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # §1.8: every number crosses as a double
    return value


def envelope(value: Any) -> Any:
    """The same values with secrets as the wire envelope (what a stack export or the collector sees)."""
    if isinstance(value, Secret):
        return {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            "value": envelope(value.value),
        }
    if isinstance(value, Unknown):
        return value.sentinel
    if isinstance(value, Mapping):
        return {k: envelope(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [envelope(v) for v in value]
    return value


def to_pulumi(resources: Sequence[PackResource], view: Any = unwrap) -> list[PulumiResource]:
    return [
        PulumiResource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=view(r.inputs if r.outputs is None else r.outputs),
            parent=r.parent,
            dependencies=r.dependencies,
            property_dependencies=dict(r.property_dependencies),
        )
        for r in resources
    ]


def in_process(resources: Sequence[PackResource], config: Mapping[str, Any] | None = None) -> NetworkResult:
    """The analysis the pack's stack policies run, on exactly the values the pack sees."""
    return analyze_resources(to_pulumi(resources), config or {})


def expected_stack_violations(
    resources: Sequence[PackResource],
    config: Mapping[str, Any] | None = None,
    pack: PackProcess | None = None,
) -> list[tuple[str, str, str]]:
    """``(policy, urn, message)`` of every AnalyzeStack diagnostic the pack must report, sorted, with
    the secrets ``pack`` was sent redacted."""
    secrets = _sent_secrets.get(id(pack), set()) if pack is not None else set()
    return sorted((p, u, redacted(m, secrets)) for p, u, m in _expected(resources, config))


def _expected(
    resources: Sequence[PackResource], config: Mapping[str, Any] | None
) -> list[tuple[str, str, str]]:
    urns = {r.urn for r in resources}

    def at(urn: str | None) -> str:
        return urn if urn is not None and urn in urns else ""

    try:
        result = in_process(resources, config)
    except KmsguardError as exc:
        text = with_finding(f"kmsguard could not evaluate the stack: {exc}", Finding.NOT_EVALUATED)
        try:
            parse_settings(dict(config or {}), "policy config")
        except KmsguardError:
            # A rejected config is reported once, by kms-reachability (kms-unverified shares it).
            return [(REACHABILITY, "", text)]
        return [(REACHABILITY, "", text), (UNVERIFIED, "", text)]
    out = [
        (REACHABILITY, at(s.urn), blocked_message(s)) for s in result.subnets if s.verdict is Verdict.BLOCKED
    ]
    out += [(UNVERIFIED, at(p.urn), problem_message(p)) for p in result.problems]
    out += [
        (UNVERIFIED, at(s.urn), unknown_message(s)) for s in result.subnets if s.verdict is Verdict.UNKNOWN
    ]
    return out


def observed(
    violations: Sequence[Violation], policies: Sequence[str] = (REACHABILITY, UNVERIFIED)
) -> list[tuple[str, str, str]]:
    """``(policy, urn, message)`` as reported, without the description pulumi_policy puts first."""
    return sorted(
        (v.policy, v.urn, v.message.removeprefix(v.description + "\n"))
        for v in violations
        if v.policy in policies
    )


def texts(run: PackRun, pack: PackProcess) -> Iterator[str]:
    """Every piece of text the pack produced that a user or a log could see."""
    for v in run.violations:
        yield v.message
        yield v.description
    for rem in run.remediations:
        yield rem.description
    yield pack.stderr
    yield pack.stdout


__all__ = [
    "AUTOFIX",
    "REACHABILITY",
    "UNVERIFIED",
    "PackRun",
    "envelope",
    "expected_stack_violations",
    "in_process",
    "marker",
    "observed",
    "run_stack",
    "scaled",
    "texts",
    "to_pulumi",
    "unwrap",
]
