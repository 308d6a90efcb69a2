"""Markdown for a pull-request comment or ``$GITHUB_STEP_SUMMARY`` (GitHub's CommonMark + tables).

A diff reads top-down: one line of verdict, a table of the subnets that changed (before → after),
then each failing subnet's blockers and fixes as code blocks, and the unchanged subnets folded in
``<details>``. Every name and message comes from the stack, so text goes through :func:`text`
(backslash escapes: a ``|`` cannot split a table cell, a ``<`` cannot open HTML) and code blocks get
a fence longer than any backtick run inside them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kmsguard.diff import (
    ORDER,
    Change,
    Diff,
    SubnetChange,
    blockers,
    headline,
    is_about_subnet,
    verdict_change,
)

ICONS = {"reachable": "✅", "blocked": "❌", "unknown": "❔", "excluded": "➖"}
# ASCII punctuation that means something inline, in a table row or as raw HTML. CommonMark lets any
# ASCII punctuation be backslash-escaped, so escaping never shows a stray backslash.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!])")


def text(value: str) -> str:
    """Inline text: Markdown syntax characters escaped, line breaks as spaces (one table row)."""
    return _SPECIAL.sub(r"\\\1", " ".join(value.split("\n")).replace("\r", " "))


def verdict(value: str | None) -> str:
    return f"{ICONS.get(value, '')} {value}".strip() if value else "—"


def code_span(value: str) -> str:
    """Inline code: backslash escapes do not work inside a code span, so the fence is one backtick
    longer than any run in the text (CommonMark 6.1), padded where the text touches a backtick."""
    value = " ".join(value.split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def code_block(body: str, lang: str = "text") -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", body, fence]


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    return [_row(head), _row("---" for _ in head), *(_row(r) for r in rows)]


def _explain(
    title: str, verdict_value: str | None, found: Sequence[str], fixes: Sequence[Mapping[str, Any]]
) -> list[str]:
    icon = ICONS.get(verdict_value or "")
    out = [f"#### {icon} {title}" if icon else f"#### {title}", ""]
    if found:
        out += ["Blocked by:" if verdict_value == "blocked" else "Unknown because:", ""]
        out += [*code_block("\n".join(found)), ""]
    for i, f in enumerate(fixes, 1):
        out += [f"Fix {i}: {text(f['detail'])}", ""]
        if f["code"]:
            out += [*code_block(f["code"], "python"), ""]
    return out


def render_diff(diff: Diff) -> str:
    """The pull-request summary of a base → head diff."""
    icon = "❌" if diff.regressed else "✅"
    lines = [
        f"### {icon} kmsguard: {text(headline(diff))}",
        "",
        f"Windows KMS activation (TCP 1688), per subnet: base {text(_stack(diff.base.project, diff.base.stack))}"
        f" → head {text(_stack(diff.head.project, diff.head.stack))}.",
        "",
    ]
    changed = [c for kind in ORDER for c in diff.changes if c.change is kind and kind is not Change.UNCHANGED]
    if changed:
        lines += _table(
            ("subnet", "VNet", "before", "after", "change"),
            (
                (
                    text(c.subnet),
                    text(c.vnet),
                    verdict(c.before),
                    verdict(c.after) + _moved(c),
                    f"**{c.change.value}**" if c.fails else c.change.value,
                )
                for c in changed
            ),
        )
        lines.append("")
    for c in changed:
        if c.blockers or c.fixes:
            title = f"{text(c.subnet)}: {text(verdict_change(c))}"
            lines += _explain(title, c.after, c.blockers, c.fixes)
    if diff.violations:
        lines += ["#### ❌ New mandatory violations", ""]
        for v in diff.violations:
            lines += [code_span(v.policy), "", *code_block(v.message), ""]
    unchanged = [c for c in diff.changes if c.change is Change.UNCHANGED]
    if unchanged:
        lines += [
            f"<details><summary>{len(unchanged)} unchanged subnet{'s' if len(unchanged) != 1 else ''}</summary>",
            "",
            *_table(
                ("subnet", "VNet", "verdict"),
                ((text(c.subnet), text(c.vnet), _unchanged(c)) for c in unchanged),
            ),
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _moved(c: SubnetChange) -> str:
    """The endpoints that moved, when the subnet's verdict did not (else the row would read x → x)."""
    if c.before != c.after or c.change not in (Change.REGRESSED, Change.IMPROVED):
        return ""
    moved = [
        f"{e.nic + ' ' if e.nic else ''}{e.ip} {e.before} → {e.after}"
        for e in c.endpoints
        if e.before is not None and e.after is not None and e.before != e.after
    ]
    return f" ({text(', '.join(moved))})"


def _unchanged(c: SubnetChange) -> str:
    return verdict(c.after) if c.before == c.after else f"{verdict(c.before)} → {verdict(c.after)}"


def _stack(project: str, stack: str) -> str:
    return f"{project}/{stack}"


def render_report(doc: Mapping[str, Any]) -> str:
    """The summary of one JSON report (no baseline): verdict line, subnets, what blocks and the fixes."""
    subnets: Sequence[Mapping[str, Any]] = doc["subnets"]
    counts = (
        ", ".join(f"{n} {v}" for v in ICONS if (n := sum(1 for s in subnets if s["verdict"] == v)))
        or "no subnets"
    )
    if doc["blocked"]:
        head = f"❌ kmsguard: `pulumi preview` with the pack would fail ({counts})"
    else:
        head = f"✅ kmsguard: no mandatory violation ({counts})"
    lines = [
        f"### {head}",
        "",
        f"Windows KMS activation (TCP 1688), per subnet: {text(_stack(doc['project'], doc['stack']))}.",
        "",
    ]
    if subnets:
        lines += _table(
            ("subnet", "VNet", "location", "verdict"),
            ((text(s["name"]), text(s["vnet"]), text(s["location"]), verdict(s["verdict"])) for s in subnets),
        )
        lines.append("")
    for s in subnets:
        if s["verdict"] in ("blocked", "unknown"):
            lines += _explain(
                f"{text(s['name'])}: {s['verdict']}", s["verdict"], blockers(s, doc["violations"]), s["fixes"]
            )
    # What else makes `pulumi preview` fail: mandatory violations about no blocked or unknown subnet
    # (a Windows VM's activation setup, a route table the autofix cannot complete, ...).
    shown = {(s["urn"], s["name"]) for s in subnets if s["verdict"] in ("blocked", "unknown")}
    others = [
        v
        for v in doc["violations"]
        if v["level"] == "mandatory"
        and not any(v["urn"] == u and is_about_subnet(v["message"], n) for u, n in shown)
    ]
    if others:
        lines += ["#### ❌ Other mandatory violations", ""]
        for v in others:
            lines += [code_span(v["policy"]), "", *code_block(v["message"]), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
