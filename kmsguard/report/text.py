"""The text report for people: one block per subnet with its verdict, trace and fixes; for preview
and check also the pack's violations and remediations, and the outcome."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING

from kmsguard.analysis import EndpointResult, NetworkResult, Outcome, Step, SubnetResult, Verdict

if TYPE_CHECKING:
    from kmsguard.evaluate import Evaluation

MARKS = {Outcome.PASS: "✓", Outcome.BLOCK: "✗", Outcome.UNKNOWN: "?", Outcome.INFO: "·"}
COLOURS = {
    Verdict.REACHABLE: "32",
    Verdict.BLOCKED: "31",
    Verdict.UNKNOWN: "33",
    Verdict.EXCLUDED: "90",
    Outcome.PASS: "32",
    Outcome.BLOCK: "31",
    Outcome.UNKNOWN: "33",
    Outcome.INFO: "90",
}


# Control characters a resource name may carry (names are data): C0 but newline and tab, DEL, C1 —
# escape sequences that could move the cursor, retitle the terminal or hide lines of the report.
# Only the exact colour codes of _Painter survive (ESC [ 32/31/33/90/0 m); a name carrying one of
# those can at most colour some text.
_CONTROLS = re.compile(r"\x1b\[(?:3[123]|90|0)m|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """Control characters as visible ``\\xNN`` escapes, the painter's colour codes kept."""
    return _CONTROLS.sub(lambda m: m.group() if len(m.group()) > 1 else f"\\x{ord(m.group()):02x}", text)


def use_colour(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


class _Painter:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, key: Verdict | Outcome) -> str:
        if not self.colour:
            return text
        return f"\x1b[{COLOURS[key]}m{text}\x1b[0m"


def render(result: NetworkResult, *, colour: bool = False, verbose: bool = True) -> str:
    paint = _Painter(colour)
    lines: list[str] = []
    for problem in result.problems:
        lines.append(f"input problem: {problem.where}: {problem.prop}: {problem.message}")
    if result.problems:
        lines.append("")
    for subnet in result.subnets:
        lines.extend(_subnet(subnet, paint, verbose))
        lines.append("")
    lines.append(summary(result.subnets, paint))
    return escape_controls("\n".join(lines) + "\n")


def summary(subnets: Sequence[SubnetResult], paint: _Painter | None = None) -> str:
    paint = paint or _Painter(False)
    counts = {v: sum(1 for s in subnets if s.verdict is v) for v in Verdict}
    parts = [paint(f"{counts[v]} {v.value}", v) for v in Verdict if counts[v]]
    return f"{len(subnets)} subnet(s): " + ", ".join(parts) if parts else "no subnets"


def _subnet(s: SubnetResult, paint: _Painter, verbose: bool) -> list[str]:
    where = ", ".join(
        x
        for x in (f"VNet {s.vnet}" if s.vnet else "", s.location, f"{s.cloud} cloud" if s.cloud else "")
        if x
    )
    lines = [f"{s.name} ({where}): {paint(s.verdict.value.upper(), s.verdict)}"]
    for note in s.notes:
        lines.append(f"  {MARKS[note.outcome]} {note.detail}")
    if s.verdict is Verdict.EXCLUDED:
        return lines
    lines.extend(_endpoints(s.endpoints, paint, verbose, "  "))
    for nic in s.nics:
        if _same(nic.endpoints, s.endpoints):
            lines.append(
                f"  NIC {nic.name}: {paint(nic.verdict.value, nic.verdict)} (same path as the subnet)"
            )
            continue
        lines.append(f"  NIC {nic.name}: {paint(nic.verdict.value, nic.verdict)}")
        lines.extend(_endpoints(nic.endpoints, paint, verbose, "    "))
    if s.fixes:
        checked = "these changes make every KMS endpoint reachable" if s.fixes_verified else "changes needed"
        lines.append(f"  fix ({checked}):")
        for i, fix in enumerate(s.fixes, 1):
            lines.append(f"    {i}. {fix.detail}")
            if fix.code and verbose:
                lines.append(f"       Pulumi: {fix.code}")
    settle = settle_hints(s)
    if settle:
        lines.append("  to settle the unknowns:")
        lines.extend(f"    - {t}" for t in settle)
    return lines


def _same(a: Sequence[EndpointResult], b: Sequence[EndpointResult]) -> bool:
    return [(e.verdict, e.trace) for e in a] == [(e.verdict, e.trace) for e in b]


def _endpoints(endpoints: Iterable[EndpointResult], paint: _Painter, verbose: bool, indent: str) -> list[str]:
    lines: list[str] = []
    for e in endpoints:
        lines.append(f"{indent}{e.fqdn} {e.ip}:1688 → {paint(e.verdict.value, e.verdict)}")
        steps: Iterable[Step] = e.trace if verbose else [s for s in (e.decisive,) if s is not None]
        for step in steps:
            mark = paint(MARKS[step.outcome], step.outcome)
            lines.append(f"{indent}  {mark} [{step.kind}] {step.detail}")
    return lines


def settle_hints(s: SubnetResult) -> list[str]:
    """What would settle each unknown of the subnet, each hint once."""
    out: list[str] = []
    for e in (*s.endpoints, *(x for n in s.nics for x in n.endpoints)):
        for step in e.trace:
            if step.outcome is Outcome.UNKNOWN and step.settle and step.settle not in out:
                out.append(step.settle)
    for note in s.notes:
        if note.settle and note.settle not in out:
            out.append(note.settle)
    return out


# --- preview / check ---------------------------------------------------------------------------


def render_evaluation(ev: Evaluation, *, colour: bool = False, verbose: bool = True) -> str:
    """The preview/check report: subnets (verdict, trace, fixes), violations, remediations, outcome."""
    from kmsguard.engine.types import EnforcementLevel
    from kmsguard.report.document import added_items, catalog_line, describe_added, message_of

    paint = _Painter(colour)
    what = "kmsguard preview" if ev.mode == "preview" else "kmsguard check (deployed state)"
    engine = f"Pulumi CLI {ev.engine_version}" if ev.engine == "pulumi" else "stand-in engine, mocks"
    suffix = f" ({engine})" if ev.mode == "preview" else ""
    lines = [f"{what}: project {ev.project}, stack {ev.stack}{suffix}", catalog_line(), ""]
    for s in ev.result.subnets:
        lines.extend(_subnet(s, paint, verbose))
        lines.append("")
    lines.append(summary(ev.result.subnets, paint))
    lines.append("")
    lines.append(f"violations ({len(ev.violations)}):" if ev.violations else "violations: none")
    for v in ev.violations:
        level = paint(v.level, Outcome.BLOCK if v.level == EnforcementLevel.MANDATORY else Outcome.UNKNOWN)
        where = ev.name_of(v.urn) if v.urn else "(stack)"
        body = message_of(v).replace("\n", "\n      ")
        lines.append(f"  [{level}] {v.policy} on {where}:")
        lines.append(f"      {body}")
    if ev.notes:
        # check: what the autofix would change is a note, not a failure of the deployed state.
        lines.append(f"notes: what the next `pulumi up` with this pack would change ({len(ev.notes)}):")
        for v in ev.notes:
            where = ev.name_of(v.urn) if v.urn else "(stack)"
            body = message_of(v).replace("\n", "\n      ")
            lines.append(f"  [note] {v.policy} on {where}:")
            lines.append(f"      {body}")
    done = "applied" if ev.mode == "preview" else "that the next `pulumi up` would apply"
    lines.append(
        f"remediations {done} ({len(ev.remediations)}):" if ev.remediations else "remediations: none"
    )
    for r in ev.remediations:
        lines.append(f"  {r.policy} on {ev.name_of(r.urn)}:")
        for item in added_items(r):
            lines.append(f"    + {describe_added(item)}")
    lines.append("")
    if ev.blocked:
        lines.append(paint(f"BLOCKED: {ev.outcome}", Verdict.BLOCKED))
    else:
        lines.append(paint(f"PASSED: {ev.outcome}", Verdict.REACHABLE))
    return escape_controls("\n".join(lines) + "\n")  # names are data
