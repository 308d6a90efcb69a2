"""One ``pulumi preview`` against an already running pack, in the engine's call order (§1.3).

``drive_pack`` starts a pack per call; the pack tests share one process per module and reconfigure
it before each preview (``Configure`` replaces the whole config, as the engine sends it once per
operation), which keeps the suite fast on a small machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kmsguard.engine import DriveResult, PackProcess, PackResource, Violation

REPO = Path(__file__).resolve().parents[2]
POLICY_DIR = REPO / "policy"
FIXTURE_PACKS = REPO / "tests" / "fixtures" / "packs"

REACHABILITY = "kms-reachability"
UNVERIFIED = "kms-unverified"
AUTOFIX = "kms-route-autofix"
INPUTS = "kms-inputs"

NO_AUTOFIX = {AUTOFIX: "disabled"}


def preview(
    pack: PackProcess, resources: Sequence[PackResource], policy_config: Mapping[str, Any] | None = None
) -> DriveResult:
    """Configure, then Remediate + Analyze per resource in registration order, then AnalyzeStack."""
    name, policies = pack.analyzer_info()
    pack.configure(policy_config or {})
    pack.remediation_violations.clear()
    violations: list[Violation] = []
    remediations = []
    final: list[PackResource] = []
    for resource in resources:
        rems, remediated = pack.remediate(resource)
        remediations.extend(rems)
        violations.extend(pack.analyze(remediated))
        final.append(remediated)
    violations.extend(pack.remediation_violations)
    violations.extend(pack.analyze_stack(final))
    return DriveResult(name, policies, tuple(violations), tuple(remediations), tuple(final), pack.stderr, {})


def found(result: DriveResult) -> set[tuple[str, str, str]]:
    """The (policy, level, URN) of every violation."""
    return {(v.policy, v.level, v.urn) for v in result.violations}


def messages(result: DriveResult, policy: str, urn: str | None = None) -> list[str]:
    """Messages of one policy (optionally for one URN), without the description line the SDK prepends."""
    return [
        v.message.split("\n", 1)[1] if "\n" in v.message else v.message
        for v in result.violations
        if v.policy == policy and (urn is None or v.urn == urn)
    ]


def routes_of(resource: PackResource) -> list[Any]:
    routes = resource.inputs.get("routes")
    return list(routes) if isinstance(routes, Iterable) else []
