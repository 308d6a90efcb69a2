"""What a change does to KMS reachability: two JSON reports in, a typed :class:`Diff` out.

The reports are those of ``kmsguard preview`` or ``kmsguard check`` (``report.schema.json``), so a
base from an audit of the deployed state can be compared with a head from an offline preview.

Subnets are matched by URN first — with the subnet name, because inline subnets share the URN of
the VirtualNetwork that declares them — then, among those left, by VNet and subnet name: a URN
also changes when the project, the stack or a parent component changes, and the subnet is still
the same one. A subnet whose name changed is another subnet (Azure deletes and recreates it), so it
shows as removed plus added.

Verdicts are ranked for the gate: ``reachable`` and ``excluded`` pass, ``unknown`` is doubtful and
``blocked`` fails. A subnet is regressed when its rank rises or when any KMS endpoint present on
both sides rises, from the subnet or from one of its Windows VMs' NICs (a blocked subnet that loses
one more endpoint, or whose NIC gets its own deny, got worse even though its verdict did not move);
improved when its rank falls or, none rising, an endpoint's falls. A NIC a report leaves out is on
its subnet's path, so it is compared as the subnet's endpoints.

The gate fails on a regressed subnet, on an added subnet that is not reachable (unknown is never a
pass: a new subnet nobody can vouch for is as new a risk as a blocked one), and on a mandatory
violation the base does not have that no failing subnet explains (a Windows VM's activation setup,
say): whatever newly makes ``pulumi preview`` fail is a regression of the change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from kmsguard.errors import KmsguardError
from kmsguard.inputs import load_json

REPORT_SCHEMA = Path(__file__).with_name("report") / "report.schema.json"
DIFF_SCHEMA = Path(__file__).with_name("report") / "diff.schema.json"

RANK = {"reachable": 0, "excluded": 0, "unknown": 1, "blocked": 2}
# The sections of the pack's violation messages that list the decisive steps
# (kmsguard.policies.messages): what blocks, or what leaves the verdict open.
BLOCKER_HEADINGS = {"blocked": "Blocked by:", "unknown": "Unknown because:"}


class Change(StrEnum):
    REGRESSED = "regressed"
    IMPROVED = "improved"
    ADDED = "added"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Side:
    """One of the two reports: which stack it describes and whether `pulumi preview` would fail."""

    project: str
    stack: str
    blocked: bool


@dataclass(frozen=True)
class EndpointChange:
    fqdn: str
    ip: str
    before: str | None  # None: the endpoint is not on that side (the subnet's cloud changed)
    after: str | None
    # The NIC whose own path moved (a Windows VM's NIC the report lists under its subnet); None for
    # the subnet's endpoints.
    nic: str | None = None


@dataclass(frozen=True)
class SubnetChange:
    subnet: str
    urn: str | None  # the head's URN, or the base's for a removed subnet
    vnet: str
    before: str | None  # None for an added subnet
    after: str | None  # None for a removed subnet
    change: Change
    endpoints: tuple[EndpointChange, ...]
    # The head's decisive steps and fixes, for a subnet that fails or got worse (else empty).
    blockers: tuple[str, ...]
    fixes: tuple[Mapping[str, Any], ...]
    base_index: int | None  # position in the base report's subnets
    head_index: int | None  # position in the head report's subnets

    @property
    def fails(self) -> bool:
        """What makes the diff fail: a regression, or a new subnet that is blocked or unknown."""
        return self.change is Change.REGRESSED or (
            self.change is Change.ADDED and self.after is not None and RANK[self.after] > 0
        )


@dataclass(frozen=True)
class NewViolation:
    """A mandatory violation of the head that the base does not have and no failing subnet explains."""

    policy: str
    urn: str | None
    message: str


@dataclass(frozen=True)
class Diff:
    base: Side
    head: Side
    changes: tuple[SubnetChange, ...]
    violations: tuple[NewViolation, ...] = ()

    @property
    def regressed(self) -> bool:
        return bool(self.violations) or any(c.fails for c in self.changes)

    def count(self, change: Change) -> int:
        return sum(1 for c in self.changes if c.change is change)


# --- loading --------------------------------------------------------------------------------------


def load_report(path: Path) -> dict[str, Any]:
    """A JSON report from a file, checked against ``report.schema.json`` (exit 2 when it is not one).

    Read like every other input (:func:`kmsguard.inputs.load_json`): size and depth bounded, any
    BOM or UTF-16/32 recognised, each problem one line naming the file and the place."""
    doc = load_json(path, "kmsguard JSON report")
    check_report(doc, str(path))
    return doc  # type: ignore[no-any-return]


def check_report(doc: object, where: str) -> None:
    import jsonschema

    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    if error is not None:
        at = "/".join(str(p) for p in error.absolute_path)
        raise KmsguardError(
            f"{where}: not a kmsguard JSON report (`kmsguard preview|check --format json`): "
            f"{'at ' + at + ': ' if at else ''}{error.message}"
        )


# --- the comparison -------------------------------------------------------------------------------


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> Diff:
    """Subnet by subnet and endpoint by endpoint: what the head does to the base's verdicts."""
    base_subnets: Sequence[Mapping[str, Any]] = base["subnets"]
    head_subnets: Sequence[Mapping[str, Any]] = head["subnets"]
    pairs = _match(base_subnets, head_subnets)
    matched_base = {b for b, _ in pairs.items()}
    head_to_base = {h: b for b, h in pairs.items()}
    by_urn: dict[str | None, list[Mapping[str, Any]]] = {}
    for v in head["violations"]:
        by_urn.setdefault(v["urn"], []).append(v)
    changes: list[SubnetChange] = []
    for h, hs in enumerate(head_subnets):
        b = head_to_base.get(h)
        # Only a violation with the subnet's URN can list its blockers: looked up, not scanned per subnet.
        own = by_urn.get(hs["urn"], ())
        changes.append(_change(base_subnets[b] if b is not None else None, hs, b, h, own))
    for b, bs in enumerate(base_subnets):
        if b not in matched_base:
            changes.append(_change(bs, None, b, None, ()))
    return Diff(_side(base), _side(head), tuple(changes), _new_violations(base, head, changes))


def violation_key(policy: str, urn: str | None, message: str) -> tuple[str, str, str]:
    """What makes two violations the same finding: the policy, the resource (its URN without the
    stack and project, which a rename changes while the resource stays) and the subject the message
    starts with when it has one (``Subnet vnet/app (westeurope, public cloud): …``: a VNet's inline
    subnets share its URN). The rest of the message (IPs, images, blockers, fixes) may change while
    the finding stays."""
    first = message.split("\n", 1)[0]
    subject = first.split(": ", 1)[0] if ": " in first else ""
    return (policy, resource_key(urn), subject)


def resource_key(urn: str | None) -> str:
    """A URN without its stack and project (``<qualified type>::<name>``): the same resource in a
    renamed stack or project, or in a ``check`` of another stack of the same program."""
    if not urn:
        return ""
    parts = urn.split("::", 2)
    return parts[2] if len(parts) == 3 else urn


def _new_violations(
    base: Mapping[str, Any], head: Mapping[str, Any], changes: Sequence[SubnetChange]
) -> tuple[NewViolation, ...]:
    before = {
        violation_key(v["policy"], v["urn"], v["message"])
        for v in base["violations"]
        if v["level"] == "mandatory"
    }
    # A failing subnet already says why: its own violation, and those on the resources its trace and
    # fixes name (the route table whose KMS route conflicts, say), would only repeat it.
    failing = [c for c in changes if c.fails]
    explained: dict[str | None, list[str]] = {}
    for c in failing:
        explained.setdefault(c.urn, []).append(c.subnet)
    involved: set[str] = set()
    for c in failing:
        involved.update(f["urn"] for f in c.fixes if f.get("urn"))
        if c.head_index is not None:
            shown = head["subnets"][c.head_index]
            for e in [*shown["endpoints"], *(x for n in shown.get("nics", ()) for x in n["endpoints"])]:
                involved.update(s["urn"] for s in e["trace"] if s.get("urn"))
    out = []
    for v in head["violations"]:
        if v["level"] != "mandatory" or violation_key(v["policy"], v["urn"], v["message"]) in before:
            continue
        if any(is_about_subnet(v["message"], n) for n in explained.get(v["urn"], ())) or (
            v["urn"] and v["urn"] in involved
        ):
            continue
        out.append(NewViolation(v["policy"], v["urn"], v["message"]))
    return tuple(out)


def is_about_subnet(message: str, name: str) -> bool:
    """Whether a pack message is about subnet ``name`` (``Subnet <name> (<location>…): …`` or
    ``Subnet <name>: …``): a VNet's inline subnets share its URN, so the URN alone does not say."""
    return message.startswith((f"Subnet {name} (", f"Subnet {name}:"))


def _side(doc: Mapping[str, Any]) -> Side:
    return Side(doc["project"], doc["stack"], bool(doc["blocked"]))


def _match(base: Sequence[Mapping[str, Any]], head: Sequence[Mapping[str, Any]]) -> dict[int, int]:
    """base index → head index."""
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for key in (_urn_key, _name_key):
        free: dict[tuple[str, ...], list[int]] = {}
        for h, s in enumerate(head):
            k = key(s)
            if k is not None and h not in taken:
                free.setdefault(k, []).append(h)
        for b, s in enumerate(base):
            k = key(s)
            if b in pairs or k is None or not free.get(k):
                continue
            # Same key twice on one side (should not happen): paired in order.
            pairs[b] = free[k].pop(0)
            taken.add(pairs[b])
    return pairs


def _urn_key(s: Mapping[str, Any]) -> tuple[str, ...] | None:
    return (s["urn"], s["name"]) if s["urn"] else None


def _name_key(s: Mapping[str, Any]) -> tuple[str, ...]:
    return (s["vnet"], s["name"])


def _change(
    base: Mapping[str, Any] | None,
    head: Mapping[str, Any] | None,
    base_index: int | None,
    head_index: int | None,
    violations: Sequence[Mapping[str, Any]],
) -> SubnetChange:
    endpoints = _endpoints(base, head)
    if base is None:
        assert head is not None
        change = Change.ADDED
    elif head is None:
        change = Change.REMOVED
    else:
        change = _classify(base["verdict"], head["verdict"], endpoints)
    shown = head if head is not None else base
    assert shown is not None
    after = head["verdict"] if head is not None else None
    explain = head is not None and (
        change is Change.REGRESSED or (change is Change.ADDED and after in BLOCKER_HEADINGS)
    )
    return SubnetChange(
        subnet=shown["name"],
        urn=shown["urn"],
        vnet=shown["vnet"],
        before=base["verdict"] if base is not None else None,
        after=after,
        change=change,
        endpoints=endpoints,
        blockers=tuple(blockers(head, violations)) if explain and head is not None else (),
        fixes=tuple(head["fixes"]) if explain and head is not None else (),
        base_index=base_index,
        head_index=head_index,
    )


def _classify(before: str, after: str, endpoints: Iterable[EndpointChange]) -> Change:
    if RANK[after] > RANK[before]:
        return Change.REGRESSED
    if RANK[after] < RANK[before]:
        return Change.IMPROVED
    moves = [
        RANK[e.after] - RANK[e.before] for e in endpoints if e.before is not None and e.after is not None
    ]
    if any(m > 0 for m in moves):
        return Change.REGRESSED
    if any(m < 0 for m in moves):
        return Change.IMPROVED
    return Change.UNCHANGED


def _endpoints(base: Mapping[str, Any] | None, head: Mapping[str, Any] | None) -> tuple[EndpointChange, ...]:
    """Endpoints by FQDN and IP: the head's in its order, then those only the base has; then, for a
    subnet on both sides, each NIC endpoint whose verdict moved."""
    before = {(e["fqdn"], e["ip"]): e["verdict"] for e in (base or {}).get("endpoints", ())}
    out = []
    seen = set()
    for e in (head or {}).get("endpoints", ()):
        key = (e["fqdn"], e["ip"])
        seen.add(key)
        out.append(EndpointChange(e["fqdn"], e["ip"], before.get(key), e["verdict"]))
    for e in (base or {}).get("endpoints", ()):
        if (e["fqdn"], e["ip"]) not in seen:
            out.append(EndpointChange(e["fqdn"], e["ip"], e["verdict"], None))
    if base is not None and head is not None:
        out += _nic_moves(base, head)
    return tuple(out)


def _nic_moves(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[EndpointChange]:
    """The NIC endpoints whose verdict differs between the sides. A report lists only the NICs whose
    path differs from their subnet's, so a NIC missing on one side has its subnet's verdicts there."""
    (before, base_own), (after, head_own) = _nic_verdicts(base), _nic_verdicts(head)
    out = []
    # A VM's NIC templates share the VM's URN: a NIC is its resource (without stack and project, which
    # a rename changes) with its name.
    for nic in dict.fromkeys([*after, *before]):
        b, a = before.get(nic, {}), after.get(nic, {})
        for key in dict.fromkeys([*a, *b]):
            was = b.get(key, base_own.get(key))
            now = a.get(key, head_own.get(key))
            if was is not None and now is not None and was != now:
                out.append(EndpointChange(key[0], key[1], was, now, nic=nic[1]))
    return out


Endpoints = dict[tuple[str, str], str]  # (FQDN, IP) → verdict


def _nic_verdicts(subnet: Mapping[str, Any]) -> tuple[dict[tuple[str, str], Endpoints], Endpoints]:
    """The subnet's NICs by (resource, name) with their endpoints, and the subnet's own endpoints."""
    nics = {
        (resource_key(n["urn"]), n["name"]): {(e["fqdn"], e["ip"]): e["verdict"] for e in n["endpoints"]}
        for n in subnet.get("nics", ())
    }
    return nics, {(e["fqdn"], e["ip"]): e["verdict"] for e in subnet["endpoints"]}


def blockers(subnet: Mapping[str, Any], violations: Sequence[Mapping[str, Any]]) -> list[str]:
    """The decisive steps of a blocked or unknown subnet, as the pack's violation lists them.

    The JSON trace does not say which step decided, the violation does: ``Blocked by:`` (or
    ``Unknown because:``) followed by one ``- `` line per step. The violation is the subnet's when
    it has the subnet's URN and names the subnet first (a VNet's inline subnets share its URN).
    Without one (a report made with another pack), the last step of each endpoint that does not
    reach KMS stands in: the analysis stops a path at the step that decides it.
    """
    heading = BLOCKER_HEADINGS.get(subnet["verdict"])
    if heading is None:
        return []
    name = subnet["name"]
    for v in violations:
        message: str = v["message"]
        if v["urn"] != subnet["urn"] or not is_about_subnet(message, name):
            continue
        lines = message.splitlines()
        if heading not in lines:
            continue
        out = []
        for line in lines[lines.index(heading) + 1 :]:
            if not line.startswith("- "):
                break
            out.append(line[2:])
        if out:
            return out
    last = [
        e["trace"][-1]["detail"] for e in subnet["endpoints"] if e["verdict"] != "reachable" and e["trace"]
    ]
    return list(dict.fromkeys(last))


# --- JSON and text --------------------------------------------------------------------------------


def document(diff: Diff) -> dict[str, Any]:
    """The diff as JSON-ready data (``diff.schema.json``)."""
    return {
        "base": _side_doc(diff.base),
        "head": _side_doc(diff.head),
        "regressed": diff.regressed,
        "changes": [
            {
                "subnet": c.subnet,
                "urn": c.urn,
                "vnet": c.vnet,
                "before": c.before,
                "after": c.after,
                "change": c.change.value,
                "endpoints": [_endpoint_doc(e) for e in c.endpoints],
                "blockers": list(c.blockers),
                "fixes": [dict(f) for f in c.fixes],
            }
            for c in diff.changes
        ],
        "violations": [{"policy": v.policy, "urn": v.urn, "message": v.message} for v in diff.violations],
    }


def _endpoint_doc(e: EndpointChange) -> dict[str, Any]:
    doc: dict[str, Any] = {"fqdn": e.fqdn, "ip": e.ip, "before": e.before, "after": e.after}
    if e.nic is not None:
        doc["nic"] = e.nic
    return doc


def _side_doc(side: Side) -> dict[str, Any]:
    return {"project": side.project, "stack": side.stack, "blocked": side.blocked}


def render_json(diff: Diff) -> str:
    return json.dumps(document(diff), indent=2, ensure_ascii=False) + "\n"


# Order in which people read the changes: what fails first.
ORDER = (Change.REGRESSED, Change.ADDED, Change.IMPROVED, Change.REMOVED, Change.UNCHANGED)


def headline(diff: Diff) -> str:
    """One line: the verdict on the change and the counts behind it."""
    counts = ", ".join(f"{diff.count(c)} {c.value}" for c in ORDER if diff.count(c))
    failing = [c for c in diff.changes if c.fails]
    if failing or diff.violations:
        regressed = sum(1 for c in failing if c.change is Change.REGRESSED)
        blocked = sum(1 for c in failing if c.change is Change.ADDED and c.after == "blocked")
        unknown = len(failing) - regressed - blocked
        parts = [f"{regressed} subnet(s) lose KMS reachability"] if regressed else []
        parts += [f"{blocked} new subnet(s) blocked"] if blocked else []
        parts += [f"{unknown} new subnet(s) unknown"] if unknown else []
        parts += [f"{len(diff.violations)} new mandatory violation(s)"] if diff.violations else []
        verdict = "this change breaks Windows activation: " + " and ".join(parts)
    else:
        verdict = "no subnet loses KMS reachability"
    return f"{verdict} ({counts or 'no subnets'})"


def verdict_change(c: SubnetChange) -> str:
    """``before → after``, with the endpoints that moved when the subnet's verdict did not."""
    text = f"{c.before or '(none)'} → {c.after or '(none)'}"
    if c.before == c.after and c.change in (Change.REGRESSED, Change.IMPROVED):
        moved = [
            f"{e.nic + ' ' if e.nic else ''}{e.ip}: {e.before} → {e.after}"
            for e in c.endpoints
            if e.before is not None and e.after is not None and e.before != e.after
        ]
        text += f" ({'; '.join(moved)})"
    return text


def render_text(diff: Diff) -> str:
    """The diff for a terminal or a CI log. Names and messages come from the stack (and from a fork's
    pull request): each is shown on its own line with its control characters escaped, so none can
    start a line of its own ("OK — ...") or drive the terminal."""
    b, h = diff.base, diff.head
    lines = [
        f"kmsguard diff: {_shown(b.project)}/{_shown(b.stack)} (base) → {_shown(h.project)}/{_shown(h.stack)} (head)",
        ("REGRESSED — " if diff.regressed else "OK — ") + _shown(headline(diff)),
        "",
    ]
    for kind in ORDER:
        for c in diff.changes:
            if c.change is not kind:
                continue
            lines.append(f"{c.change.value:10} {_shown(c.subnet)}: {_shown(verdict_change(c))}")
            for blocker in c.blockers:
                lines.append(f"    {'blocked by' if c.after == 'blocked' else 'unknown'}: {_shown(blocker)}")
            for i, f in enumerate(c.fixes, 1):
                lines.append(f"    fix {i}: {_shown(f['detail'])}")
                if f["code"]:
                    lines.append(f"      Pulumi: {_shown(f['code'])}")
    for v in diff.violations:
        subject, _, rest = v.message.partition("\n")
        lines.append(f"{'new':10} {_shown(v.policy)}: {_shown(subject)}")
        lines += [f"    {_shown(line)}" for line in rest.splitlines()]
    return "\n".join(lines) + "\n"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _shown(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
