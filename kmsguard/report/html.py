"""A self-contained HTML report: inline CSS and SVG, no scripts, no external fetches.

Per subnet it draws the path to each KMS endpoint — subnet → route → next hop (firewall, appliance,
gateway, Internet egress) → KMS IP — from the trace. Endpoints whose paths differ only in the IP are
drawn once. Edges after a blocking step are red, edges after an unknown step dashed. Every string
from the stack (resource names, messages) is user input and goes through ``escape``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from kmsguard.analysis import EndpointResult, Outcome, Step, SubnetResult, Verdict
from kmsguard.diff import NewViolation, SubnetChange
from kmsguard.evaluate import Evaluation
from kmsguard.report.document import added_items, catalog_line, describe_added, message_of
from kmsguard.report.text import settle_hints, summary

# Control characters (invalid in HTML, often invisible) a resource name may carry.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# Steps that are hops of the path; other kinds (DNS, NSG, admin rules) appear only when they block or
# leave the question open, since a passing filter is not a place the packet goes through.
PATH_KINDS = frozenset({"route", "firewall", "appliance", "gateway", "egress"})
TITLES = {
    "subnet": "Subnet",
    "route": "Route",
    "firewall": "Azure Firewall",
    "appliance": "Appliance",
    "gateway": "Gateway",
    "egress": "Egress",
    "nsg": "NSG",
    "admin-rule": "Admin rule",
    "dns": "DNS",
    "cloud": "Cloud",
    "input": "Input",
    "kms": "KMS",
    "next-hop": "Next hop",
}
COLOUR = {"pass": "#1a7f37", "block": "#cf222e", "unknown": "#9a6700", "info": "#57606a"}
VERDICT_CLASS = {v: v.value for v in Verdict}

NODE_W, NODE_H, GAP, PAD = 228, 80, 50, 8
LINE = 34  # characters per label line

CSS = """
:root { --ok:#1a7f37; --bad:#cf222e; --unk:#9a6700; --mute:#57606a; --line:#d0d7de; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color:#1f2328;
       margin:0; background:#fff; }
header { padding:20px 32px; border-bottom:1px solid var(--line); background:var(--bg); }
header h1 { margin:0 0 4px; font-size:20px; }
header .meta { color:var(--mute); }
main { padding:16px 32px 48px; max-width:1280px; }
.banner { display:inline-block; margin-top:10px; padding:6px 12px; border-radius:6px; font-weight:600; color:#fff; }
.banner.blocked { background:var(--bad); } .banner.passed { background:var(--ok); }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600;
         color:#fff; vertical-align:middle; text-transform:uppercase; letter-spacing:.03em; }
.badge.reachable { background:var(--ok); } .badge.blocked { background:var(--bad); }
.badge.unknown { background:var(--unk); } .badge.excluded { background:#8c959f; }
.badge.mandatory { background:var(--bad); } .badge.advisory { background:var(--unk); }
section.subnet { border:1px solid var(--line); border-radius:8px; margin:18px 0; padding:14px 18px; }
section.subnet.blocked { border-left:6px solid var(--bad); }
section.subnet.unknown { border-left:6px solid var(--unk); }
section.subnet.reachable { border-left:6px solid var(--ok); }
section.subnet.excluded { border-left:6px solid #8c959f; opacity:.85; }
h2 { font-size:17px; margin:0 0 2px; } h3 { font-size:15px; margin:16px 0 6px; }
.where { color:var(--mute); font-size:13px; } .urn { color:var(--mute); font-size:12px; word-break:break-all; }
.path { margin:10px 0 4px; } .path .ips { font-size:13px; margin-bottom:2px; }
.path svg { display:block; width:100%; height:auto; }
details { margin:4px 0; } summary { cursor:pointer; color:#0969da; }
ol.trace { margin:6px 0; padding-left:22px; } ol.trace li { margin:2px 0; }
.mark { font-weight:700; display:inline-block; width:1.2em; }
.mark.pass { color:var(--ok); } .mark.block { color:var(--bad); } .mark.unknown { color:var(--unk); }
.mark.info { color:var(--mute); }
.kind { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; color:var(--mute); }
.settle { color:var(--unk); font-size:13px; margin-left:1.2em; }
.fixes li { margin:4px 0; }
pre { background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:8px 10px;
      white-space:pre-wrap; word-break:break-word; font-size:12px; margin:4px 0; }
table { border-collapse:collapse; width:100%; margin:8px 0; }
th, td { border:1px solid var(--line); padding:6px 8px; text-align:left; vertical-align:top; }
th { background:var(--bg); font-weight:600; }
td.msg { white-space:pre-wrap; font-size:13px; width:68%; }
td.res { word-break:break-word; }
.legend { color:var(--mute); font-size:12px; margin:6px 0 0; }
.legend span { margin-right:14px; }
nav ul { columns: 2; padding-left:18px; margin:8px 0; }
"""


@dataclass(frozen=True)
class _Node:
    kind: str
    lines: tuple[str, ...]
    outcome: Outcome
    tooltip: str


def render(
    ev: Evaluation,
    *,
    changes: Sequence[SubnetChange] | None = None,
    new_violations: Sequence[NewViolation] = (),
) -> str:
    """The report; with ``changes`` (``kmsguard.diff`` against a baseline) regressed and improved
    subnets are marked, and the subnets only the base had are listed."""
    title = f"kmsguard {ev.mode}: {ev.project}/{ev.stack}"
    marks = _change_marks(changes or ())
    if ev.blocked:
        banner = f'<div class="banner blocked">BLOCKED — {escape(ev.outcome)}</div>'
    else:
        banner = f'<div class="banner passed">PASSED — {escape(ev.outcome)}</div>'
    what = "offline preview of the Pulumi program" if ev.mode == "preview" else "audit of the deployed state"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No script, no fetch: the page must open offline and never run anything from the stack.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{escape(title)}</title><style>{CSS}{CHANGE_CSS if changes is not None else ''}</style></head><body>",
        f"<header><h1>{escape(title)}</h1>",
        f'<div class="meta">{escape(what)} · {escape(summary(ev.result.subnets))} · '
        f"{len(ev.violations)} violation(s) · {len(ev.remediations)} remediation(s) · "
        f"{escape(catalog_line())}</div>{banner}</header>",
        "<main>",
        _baseline_summary(changes, new_violations) if changes is not None else "",
        _toc(ev.result.subnets, marks),
        '<p class="legend"><span style="color:#1a7f37">━ passes</span><span style="color:#cf222e">━ blocked</span>'
        '<span style="color:#9a6700">╍ unknown</span></p>',
    ]
    for i, s in enumerate(ev.result.subnets):
        parts.append(_with_change(_subnet(s, i), marks.get(i)))
    parts.append(_violations(ev))
    parts.append(_notes(ev))
    parts.append(_remediations(ev))
    parts.append("</main></body></html>")
    # Names are data: control characters (invalid in HTML, often invisible) shown as \xNN text.
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", "\n".join(parts) + "\n")


def _toc(subnets: Sequence[SubnetResult], marks: Mapping[int, str] | None = None) -> str:
    if not subnets:
        return "<p>No subnets in the stack.</p>"
    items = "".join(
        f'<li><a href="#subnet-{i}">{escape(s.name)}</a> <span class="badge {VERDICT_CLASS[s.verdict]}">'
        f"{escape(s.verdict.value)}</span>{(marks or {}).get(i, '')}</li>"
        for i, s in enumerate(subnets)
    )
    return f"<nav><ul>{items}</ul></nav>"


# --- against a baseline (kmsguard.diff) -----------------------------------------------------------

CHANGE_CSS = """
.badge.regressed { background:var(--bad); outline:2px solid #82071e; } .badge.improved { background:var(--ok); }
section.subnet.regressed { box-shadow:0 0 0 2px var(--bad); } section.subnet.improved { box-shadow:0 0 0 2px var(--ok); }
.baseline { margin:12px 0; padding:8px 12px; border:1px solid var(--line); border-radius:6px; background:var(--bg); }
"""


def _change_marks(changes: Sequence[SubnetChange]) -> dict[int, str]:
    """Head subnet index → the badge of a regressed or improved subnet, naming the base's verdict."""
    out = {}
    for c in changes:
        if c.head_index is not None and c.change.value in ("regressed", "improved"):
            out[c.head_index] = (
                f' <span class="badge {c.change.value}" title="compared with the baseline">'
                f"{c.change.value} (was {escape(c.before or '')})</span>"
            )
    return out


def _with_change(section: str, mark: str | None) -> str:
    """A subnet's section with its change badge after the name and the change as a class."""
    if mark is None:
        return section
    kind = "regressed" if 'class="badge regressed"' in mark else "improved"
    section = section.replace('<section class="subnet ', f'<section class="subnet {kind} ', 1)
    return section.replace("</h2>", f"{mark}</h2>", 1)


def _baseline_summary(changes: Sequence[SubnetChange], new_violations: Sequence[NewViolation] = ()) -> str:
    counts = {
        k: sum(1 for c in changes if c.change.value == k)
        for k in ("regressed", "improved", "added", "removed")
    }
    text = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no subnet changed"
    if new_violations:
        text += f"; {len(new_violations)} new mandatory violation(s): " + ", ".join(
            dict.fromkeys(v.policy for v in new_violations)
        )
    removed = [c.subnet for c in changes if c.change.value == "removed"]
    gone = f" Only in the baseline: {escape(', '.join(removed))}." if removed else ""
    return f'<p class="baseline">Compared with the baseline: {escape(text)}.{gone}</p>'


def _subnet(s: SubnetResult, i: int) -> str:
    where = ", ".join(
        x
        for x in (f"VNet {s.vnet}" if s.vnet else "", s.location, f"{s.cloud} cloud" if s.cloud else "")
        if x
    )
    out = [
        f'<section class="subnet {VERDICT_CLASS[s.verdict]}" id="subnet-{i}">',
        f'<h2>{escape(s.name)} <span class="badge {VERDICT_CLASS[s.verdict]}">{escape(s.verdict.value)}</span></h2>',
        f'<div class="where">{escape(where)}</div>',
    ]
    if s.urn:
        out.append(f'<div class="urn">{escape(s.urn)}</div>')
    for note in s.notes:
        out.append(f"<p>{_mark(note.outcome)} {escape(note.detail)}</p>")
    for first, members in _groups(s.endpoints):
        out.append(_diagram(s, first, members))
    for e in s.endpoints:
        out.append(
            f"<details{' open' if e.verdict is Verdict.BLOCKED and e is s.endpoints[0] else ''}>"
            f"<summary>trace to {escape(e.fqdn)} {escape(e.ip)}:1688 — {escape(e.verdict.value)}</summary>"
            f'<ol class="trace">{"".join(_step(t) for t in e.trace)}</ol></details>'
        )
    for nic in s.nics:
        out.append(
            f'<p class="where">NIC {escape(nic.name)}: <span class="badge {VERDICT_CLASS[nic.verdict]}">'
            f"{escape(nic.verdict.value)}</span></p>"
        )
    settle = settle_hints(s)
    if settle:
        hints = "".join(f"<li>{escape(t)}</li>" for t in settle)
        out.append(f"<h3>To settle the unknowns</h3><ul>{hints}</ul>")
    if s.fixes:
        checked = "these changes make every KMS endpoint reachable" if s.fixes_verified else "changes needed"
        items = []
        for f in s.fixes:
            code = f"<pre>{escape(f.code)}</pre>" if f.code else ""
            items.append(f"<li>{escape(f.detail)}{code}</li>")
        out.append(f'<h3>Fix ({escape(checked)})</h3><ol class="fixes">{"".join(items)}</ol>')
    out.append("</section>")
    return "\n".join(out)


def _step(t: Step) -> str:
    settle = f'<div class="settle">to settle: {escape(t.settle)}</div>' if t.settle else ""
    return (
        f'<li>{_mark(t.outcome)} <span class="kind">[{escape(t.kind)}]</span> {escape(t.detail)}{settle}</li>'
    )


def _mark(outcome: Outcome) -> str:
    symbol = {Outcome.PASS: "✓", Outcome.BLOCK: "✗", Outcome.UNKNOWN: "?", Outcome.INFO: "·"}[outcome]
    return f'<span class="mark {outcome.value}">{symbol}</span>'


# --- the path diagram ----------------------------------------------------------------------------


def _groups(endpoints: Sequence[EndpointResult]) -> list[tuple[EndpointResult, list[EndpointResult]]]:
    """Endpoints whose paths are the same but for their IP, each group drawn once."""
    order: list[tuple[object, list[EndpointResult]]] = []
    for e in endpoints:
        key = (e.verdict, tuple((t.kind, t.outcome, t.urn, _generic(t.detail, e.ip)) for t in _hops(e)))
        for k, members in order:
            if k == key:
                members.append(e)
                break
        else:
            order.append((key, [e]))
    return [(members[0], members) for _, members in order]


def _generic(detail: str, ip: str) -> str:
    """The detail with the endpoint's IP (and the route names derived from it) as a placeholder."""
    return detail.replace(ip, "‹ip›").replace(ip.replace(".", "-"), "‹ip›")


def _hops(e: EndpointResult) -> list[Step]:
    return [t for t in e.trace if t.kind in PATH_KINDS or t.outcome in (Outcome.BLOCK, Outcome.UNKNOWN)]


_SELECTED = re.compile(r"\s*\(selected for [^)]*\)")
# Citations of the rules ("(docs/rules.md#nsg-platform-rule)", "(forced tunneling, docs/rules.md#...)").
_SECTION = re.compile(r"\s*\((?:§|S\d|docs/rules\.md#)[^)]*\)|,\s*docs/rules\.md#[\w-]+(?=\))")


def _label(detail: str) -> tuple[str, ...]:
    """Up to three short lines: the resource and rule first, then what it does."""
    text = _SECTION.sub("", _SELECTED.sub("", detail))
    head, _, tail = text.partition(": ")
    head_lines = textwrap.wrap(head, LINE) or [""]
    lines = head_lines[:2] if tail else head_lines[:3]
    if tail:
        lines.append(_cut(tail))
    elif len(head_lines) > 3:
        lines[-1] = _cut(lines[-1] + " " + head_lines[3])
    return tuple(_cut(x) for x in lines if x)


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= LINE else text[: LINE - 1].rstrip() + "…"


_NEXT_HOP = re.compile(r"→ (Internet|VirtualAppliance|VirtualNetworkGateway|VnetLocal|None)( [0-9.]+)?")
HOP_WORDS = {
    "Internet": "Internet",
    "VirtualAppliance": "virtual appliance",
    "VirtualNetworkGateway": "VPN/ExpressRoute gateway",
    "VnetLocal": "virtual network",
    "None": "dropped (next hop None)",
}


def _next_hop(route: Step) -> _Node | None:
    """The next hop a selected route sends the flow to, for a path that ends at the route."""
    if "(selected for" not in route.detail:
        return None
    found = _NEXT_HOP.search(route.detail)
    if found is None:
        return None
    hop, ip = found.group(1), (found.group(2) or "").strip()
    lines = [HOP_WORDS[hop]] + ([ip] if ip else [])
    if hop == "VirtualNetworkGateway":
        lines.append("leaves Azure (on-premises)")
    return _Node("next-hop", tuple(lines), route.outcome, f"next hop {hop} {ip}".strip())


def _nodes(s: SubnetResult, e: EndpointResult, members: Sequence[EndpointResult]) -> list[_Node]:
    nodes = [
        _Node(
            "subnet",
            tuple(x for x in (_cut(s.name), _cut(s.vnet and f"VNet {s.vnet}")) if x),
            Outcome.PASS,
            s.name,
        )
    ]
    hops = _hops(e)
    for i, t in enumerate(hops):
        # One drawing stands for every member's IP, so the label names none of them.
        detail = _generic(t.detail, e.ip) if len(members) > 1 else t.detail
        nodes.append(_Node(t.kind, _label(detail), t.outcome, t.detail))
        last = i + 1 == len(hops)
        if t.kind == "route" and (last or hops[i + 1].kind == "route"):
            hop = _next_hop(t)
            if hop is not None:
                nodes.append(hop)
    end = {Verdict.REACHABLE: Outcome.PASS, Verdict.BLOCKED: Outcome.BLOCK}.get(e.verdict, Outcome.UNKNOWN)
    ips = [m.ip for m in members]
    shown = ips if len(ips) <= 3 else [*ips[:2], f"and {len(ips) - 2} more"]
    lines = tuple(shown) if len(shown) == 3 else (*shown, "TCP 1688")
    nodes.append(_Node("kms", lines, end, ", ".join(f"{m.fqdn} {m.ip}:1688" for m in members)))
    return nodes


def _diagram(s: SubnetResult, e: EndpointResult, members: Sequence[EndpointResult]) -> str:
    nodes = _nodes(s, e, members)
    width = PAD * 2 + len(nodes) * NODE_W + (len(nodes) - 1) * GAP
    height = PAD * 2 + NODE_H
    y = PAD
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'style="max-width:{width}px" role="img" aria-label="{escape(_aria(nodes))}">',
        '<defs><marker id="a-pass" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1a7f37"/></marker>'
        '<marker id="a-block" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#cf222e"/></marker>'
        '<marker id="a-unknown" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#9a6700"/></marker></defs>',
    ]
    state = "pass"
    for i, node in enumerate(nodes):
        x = PAD + i * (NODE_W + GAP)
        if i:
            # The edge into a node carries what happened so far; a block is drawn on the edge that
            # leaves the blocking step, so the edge into the KMS node is the red one.
            x0, x1, ym = x - GAP + 2, x - 2, y + NODE_H / 2
            dash = ' stroke-dasharray="6 4"' if state == "unknown" else ""
            svg.append(
                f'<line x1="{x0}" y1="{ym}" x2="{x1}" y2="{ym}" stroke="{COLOUR[state]}" stroke-width="2.5"{dash} '
                f'marker-end="url(#a-{state})"/>'
            )
            if state == "block":
                cx = (x0 + x1) / 2
                svg.append(
                    f'<text x="{cx}" y="{ym - 7}" text-anchor="middle" font-size="15" font-weight="700" '
                    f'fill="{COLOUR["block"]}">✗</text>'
                )
        svg.append(_node_svg(node, x, y))
        if node.outcome is Outcome.BLOCK:
            state = "block"
        elif node.outcome is Outcome.UNKNOWN and state != "block":
            state = "unknown"
    svg.append("</svg>")
    verdict = escape(e.verdict.value)
    names = ", ".join(f"{m.fqdn} {m.ip}" for m in members)
    head = f'<div class="ips">{escape(names)}:1688 — <b>{verdict}</b></div>'
    return f'<div class="path">{head}{"".join(svg)}</div>'


def _node_svg(node: _Node, x: float, y: float) -> str:
    colour = COLOUR[node.outcome.value] if node.kind != "subnet" else "#0969da"
    dash = ' stroke-dasharray="6 4"' if node.outcome is Outcome.UNKNOWN else ""
    fill = {"block": "#ffebe9", "unknown": "#fff8c5", "pass": "#f6fff8", "info": "#f6f8fa"}[
        node.outcome.value
    ]
    if node.kind == "subnet":
        fill = "#ddf4ff"
    title = TITLES.get(node.kind, node.kind)
    parts = [
        f"<g><title>{escape(node.tooltip)}</title>",
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="{fill}" stroke="{colour}" '
        f'stroke-width="{2.5 if node.outcome is Outcome.BLOCK else 1.5}"{dash}/>',
        f'<text x="{x + 10}" y="{y + 18}" font-size="12" font-weight="700" fill="{colour}" '
        f'font-family="Segoe UI, Helvetica, Arial, sans-serif">{escape(title)}</text>',
    ]
    for j, line in enumerate(node.lines[:3]):
        parts.append(
            f'<text x="{x + 10}" y="{y + 36 + j * 15}" font-size="11.5" fill="#1f2328" '
            f'font-family="Segoe UI, Helvetica, Arial, sans-serif">{escape(line)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _aria(nodes: Sequence[_Node]) -> str:
    return " → ".join(f"{TITLES.get(n.kind, n.kind)} {' '.join(n.lines)} ({n.outcome.value})" for n in nodes)


# --- violations and remediations -----------------------------------------------------------------


def _violations(ev: Evaluation) -> str:
    if not ev.violations:
        return "<h3>Violations</h3><p>None.</p>"
    rows = "".join(
        f'<tr><td><span class="badge {escape(v.level)}">{escape(v.level)}</span></td><td>{escape(v.policy)}</td>'
        f'<td class="res">{escape(ev.name_of(v.urn) if v.urn else "(stack)")}</td>'
        f'<td class="msg">{escape(message_of(v))}</td></tr>'
        for v in ev.violations
    )
    return (
        f"<h3>Violations ({len(ev.violations)})</h3><table><thead><tr><th>level</th><th>policy</th>"
        f"<th>resource</th><th>message</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _notes(ev: Evaluation) -> str:
    """check: what the autofix would change at the next `pulumi up`; never a failure."""
    if not ev.notes:
        return ""
    rows = "".join(
        f'<tr><td>{escape(v.policy)}</td><td class="res">{escape(ev.name_of(v.urn) if v.urn else "(stack)")}</td>'
        f'<td class="msg">{escape(message_of(v))}</td></tr>'
        for v in ev.notes
    )
    return (
        f"<h3>Notes: what the next `pulumi up` with this pack would change ({len(ev.notes)})</h3><table><thead>"
        f"<tr><th>policy</th><th>resource</th><th>note</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _remediations(ev: Evaluation) -> str:
    heading = (
        "Remediations applied" if ev.mode == "preview" else "Remediations the next `pulumi up` would apply"
    )
    if not ev.remediations:
        return f"<h3>{escape(heading)}</h3><p>None.</p>"
    rows = []
    for r in ev.remediations:
        added = "".join(f"<li>{escape(describe_added(a))}</li>" for a in added_items(r))
        rows.append(
            f"<tr><td>{escape(r.policy)}</td><td>{escape(ev.name_of(r.urn))}</td><td><ul>{added}</ul></td></tr>"
        )
    return (
        f"<h3>{escape(heading)} ({len(ev.remediations)})</h3><table><thead><tr><th>policy</th><th>resource</th>"
        f"<th>added</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
