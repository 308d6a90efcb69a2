"""Violation messages: short, what breaks, why (with the error the VM will show), the exact fix."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from kmsguard.analysis import EndpointResult, Outcome, Step, SubnetResult, Verdict
from kmsguard.findings import Finding
from kmsguard.policies.links import docs_line, with_finding

if TYPE_CHECKING:
    from kmsguard.model.network import Problem


def problem_message(problem: Problem) -> str:
    """kms-unverified's message for a malformed resource (by name and property)."""
    return with_finding(f"{problem.where}: {problem.prop}: {problem.message}", Finding.INVALID_INPUT)


def _all_endpoints(s: SubnetResult) -> list[EndpointResult]:
    return [*s.endpoints, *(e for n in s.nics for e in n.endpoints)]


def _steps(s: SubnetResult, outcome: Outcome) -> list[Step]:
    """Distinct steps with this outcome, in first-seen order, one per resource and cause."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for e in _all_endpoints(s):
        for step in e.trace:
            if step.outcome is not outcome:
                continue
            key = (
                step.kind,
                step.urn,
                step.fix.kind if step.fix else None,
                step.fix.target if step.fix else step.detail,
            )
            if key not in seen:
                seen.add(key)
                out.append(step)
    return out


def merge_by_ip(texts: Iterable[str], ips: Sequence[str]) -> list[str]:
    """``texts`` (distinct, in order) with those that differ only in which one of ``ips`` they name
    merged into one line naming them all: "(selected for 20.118.99.224, 40.83.235.53)", "add a
    20.118.99.224/32, 40.83.235.53/32 → Internet route". A text naming several IPs stays as it is."""
    if not ips:
        return list(dict.fromkeys(texts))
    pattern = re.compile(
        r"(?<![\d.])(" + "|".join(re.escape(ip) for ip in sorted(ips, key=len, reverse=True)) + r")(?![\d])"
    )
    groups: dict[str, list[str]] = {}
    for text in texts:
        named = set(pattern.findall(text))
        key = pattern.sub("\0", text) if len(named) == 1 else text
        found = groups.setdefault(key, [])
        found.extend(ip for ip in named if ip not in found)
    return [_fill(key, group) for key, group in groups.items()]


def _fill(template: str, ips: Sequence[str]) -> str:
    def each(m: re.Match[str]) -> str:
        return ", ".join(ip + (m.group(1) or "") for ip in ips)

    return re.sub("\0(/32)?", each, template)


def _ips(endpoints: Iterable[EndpointResult], verdict: Verdict) -> list[str]:
    return list(dict.fromkeys(e.ip for e in endpoints if e.verdict is verdict))


def _where(s: SubnetResult) -> str:
    parts = [p for p in (s.location, f"{s.cloud} cloud" if s.cloud else "") if p]
    return f"{s.name} ({', '.join(parts)})" if parts else s.name


def error_codes(steps: Iterable[Step]) -> str:
    kinds = {s.kind for s in steps}
    if "dns" in kinds:
        return "0xC004F074 (no KMS could be contacted) or 0x800705B4 (timeout)"
    return "0xC004F074 (no Key Management Service could be contacted)"


def blocked_message(s: SubnetResult) -> str:
    blocking = _steps(s, Outcome.BLOCK)
    ips = _ips(_all_endpoints(s), Verdict.BLOCKED)
    lines = [
        f"Subnet {_where(s)}: Windows cannot activate. KMS TCP 1688 is blocked to {', '.join(ips)}; "
        f"VMs will fail with {error_codes(blocking)}.",
        "Blocked by:",
        *(f"- {step.detail}" for step in blocking),
    ]
    if s.fixes:
        lines.append(
            "Fix (checked: these changes make every KMS endpoint reachable):" if s.fixes_verified else "Fix:"
        )
        for i, fix in enumerate(s.fixes, 1):
            lines.append(f"{i}. {fix.detail}")
            if fix.code:
                lines.append(f"   Pulumi: {fix.code}")
    lines.append(docs_line(step.finding for step in blocking if step.finding is not None))
    return "\n".join(lines)


def unknown_message(s: SubnetResult) -> str:
    steps = _steps(s, Outcome.UNKNOWN) + [n for n in s.notes if n.outcome is Outcome.UNKNOWN]
    ips = _ips(_all_endpoints(s), Verdict.UNKNOWN)
    target = f" to {', '.join(ips)}" if ips else ""
    lines = [
        f"Subnet {_where(s)}: KMS TCP 1688 reachability{target} cannot be proven from the stack, "
        "so Windows activation may fail with 0xC004F074.",
        "Unknown because:",
        *(f"- {detail}" for detail in merge_by_ip((step.detail for step in steps), ips)),
    ]
    settle = merge_by_ip((step.settle for step in steps if step.settle), ips)
    if settle:
        lines.append("To settle it:")
        lines.extend(f"- {t}" for t in settle)
    lines.append(docs_line(step.finding for step in steps if step.finding is not None))
    return "\n".join(lines)
