"""Outbound filtering of the KMS flow at the source: AVNM admin rules, NIC NSG, subnet NSG (§4).

The flow is (VM private IP, any source port) → (KMS IP, TCP 1688). Matching is tri-state; a rule
list is walked in priority order and the first rule that surely matches ends it (§4.2). Rules that
might match before it add their action to the possible outcomes, so an outcome is decided only when
every possibility agrees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from kmsguard.analysis.fixes import free_name, nsg_rule_code
from kmsguard.analysis.match import (
    IPv4Address,
    IPv4Network,
    Tri,
    canonical,
    covers_all,
    looks_like_address,
    parse_prefix,
    port_matches,
    source_ports_cover_ephemeral,
    tri_all,
    tri_any,
)
from kmsguard.analysis.trace import RuleKind, RuleRef
from kmsguard.analysis.verdict import Fix
from kmsguard.analysis.wording import rule_text
from kmsguard.catalog import KMS_PORT
from kmsguard.model import (
    AddressMatch,
    AdminRule,
    NetworkSecurityGroup,
    Ref,
    SecurityRule,
    Unknown,
)
from kmsguard.model.network import Strs

ALLOW = "Allow"
DENY = "Deny"
ALWAYS_ALLOW = "AlwaysAllow"

# §4.3 default outbound rules, present in every NSG.
DEFAULT_OUTBOUND = (
    SecurityRule(
        "AllowVnetOutBound",
        65000,
        "Outbound",
        "Allow",
        "*",
        ("VirtualNetwork",),
        ("*",),
        ("VirtualNetwork",),
        ("*",),
    ),
    SecurityRule(
        "AllowInternetOutBound",
        65001,
        "Outbound",
        "Allow",
        "*",
        ("0.0.0.0/0",),
        ("*",),
        ("Internet",),
        ("*",),
    ),
    SecurityRule(
        "DenyAllOutBound", 65500, "Outbound", "Deny", "*", ("0.0.0.0/0",), ("*",), ("0.0.0.0/0",), ("*",)
    ),
)

# §4.2/§4.5: tags that contain the KMS IPs for sure, tags that surely do not, everything else unknown.
TAGS_CONTAINING_KMS = frozenset({"internet", "azureplatformlkm"})
TAGS_NOT_CONTAINING_KMS = frozenset({"azureloadbalancer", "azureplatformdns", "azureplatformimds"})
ANY = frozenset({"*", "any", "0.0.0.0/0"})


@dataclass(frozen=True, slots=True)
class FlowSource:
    """Where the KMS flow starts: a subnet (any VM in it) or one NIC's IP configuration."""

    prefixes: tuple[IPv4Network, ...] | None  # None: the subnet's prefixes are unknown
    ip: IPv4Address | None = None  # the NIC's private IP when known
    vnet_space: tuple[IPv4Network, ...] | None = ()  # VirtualNetwork tag (VNet + peered), None: unknown
    asgs: frozenset[Ref] | None = None  # the NIC's ASGs; None: any VM of the subnet (unknown)


@dataclass(frozen=True, slots=True)
class Decision:
    """Possible actions of a first-match walk and the rule that surely decided it, if any."""

    actions: frozenset[str]
    rule: str  # description of the deciding rule ("" when undecided)
    rule_priority: int | None
    why: tuple[str, ...]  # reasons for uncertainty
    ref: RuleRef | None = None  # the deciding rule, when the walk was given references

    @property
    def decided(self) -> str | None:
        return next(iter(self.actions)) if len(self.actions) == 1 else None


def _access(value: object) -> frozenset[str]:
    if isinstance(value, str):
        c = canonical(value)
        if c == "allow":
            return frozenset({ALLOW})
        if c == "deny":
            return frozenset({DENY})
        if c == "alwaysallow":
            return frozenset({ALWAYS_ALLOW})
    return frozenset({ALLOW, DENY})


def match_source(items: Strs, src: FlowSource, why: list[str], what: str) -> Tri:
    if isinstance(items, Unknown):
        why.append(f"{what} unknown")
        return Tri.MAYBE
    results = []
    for item in items:
        if isinstance(item, Unknown):
            why.append(f"{what} item unknown")
            results.append(Tri.MAYBE)
            continue
        c = canonical(item)
        if c in ANY or c == "virtualnetwork":
            results.append(Tri.YES)
            continue
        net = parse_prefix(item)
        if net is None:
            if looks_like_address(item):
                why.append(f"{what} {item!r} is not a valid address prefix")
                results.append(Tri.MAYBE)
            else:
                # Private VM addresses are in no service tag but VirtualNetwork.
                results.append(Tri.NO)
            continue
        if src.ip is not None:
            results.append(Tri.YES if src.ip in net else Tri.NO)
        elif src.prefixes is None:
            why.append("the subnet's address prefixes are unknown")
            results.append(Tri.MAYBE)
        else:
            t = covers_all(net, src.prefixes)
            if t is Tri.MAYBE:
                why.append(f"{what} {item} covers only part of the subnet")
            results.append(t)
    return tri_any(results)


def match_destination(items: Strs, ip: IPv4Address, src: FlowSource, why: list[str], what: str) -> Tri:
    if isinstance(items, Unknown):
        why.append(f"{what} unknown")
        return Tri.MAYBE
    results = []
    for item in items:
        if isinstance(item, Unknown):
            why.append(f"{what} item unknown")
            results.append(Tri.MAYBE)
            continue
        c = canonical(item)
        if c in ANY or c in TAGS_CONTAINING_KMS:
            results.append(Tri.YES)
        elif c in TAGS_NOT_CONTAINING_KMS:
            results.append(Tri.NO)
        elif c == "virtualnetwork":
            if src.vnet_space is None:
                why.append("the VNet address space is unknown")
                results.append(Tri.MAYBE)
            else:
                results.append(Tri.YES if any(ip in n for n in src.vnet_space) else Tri.NO)
        elif (net := parse_prefix(item)) is not None:
            results.append(Tri.YES if ip in net else Tri.NO)
        elif looks_like_address(item):
            why.append(f"{what} {item!r} is not a valid address prefix")
            results.append(Tri.MAYBE)
        else:
            why.append(
                f"whether service tag {item!r} contains {ip} is not documented (docs/rules.md#service-tags)"
            )
            results.append(Tri.MAYBE)
    return tri_any(results)


def _protocol(value: object, why: list[str]) -> Tri:
    if not isinstance(value, str):
        why.append("protocol unknown")
        return Tri.MAYBE
    c = canonical(value)
    if c in ("*", "tcp", "any"):
        return Tri.YES
    if c in ("udp", "icmp", "esp", "ah"):
        return Tri.NO
    why.append(f"protocol {value!r} is not a known protocol")
    return Tri.MAYBE


def _outbound(value: object, why: list[str]) -> Tri:
    if not isinstance(value, str):
        why.append("direction unknown")
        return Tri.MAYBE
    c = canonical(value)
    if c == "outbound":
        return Tri.YES
    if c == "inbound":
        return Tri.NO
    why.append(f"direction {value!r} is not Inbound or Outbound")
    return Tri.MAYBE


def match_security_rule(rule: SecurityRule, ip: IPv4Address, src: FlowSource, why: list[str]) -> Tri:
    parts = [_outbound(rule.direction, why)]
    if parts[0] is Tri.NO:
        return Tri.NO
    parts.append(_protocol(rule.protocol, why))
    parts.append(port_matches(rule.destination_port_ranges, KMS_PORT, why, "destination port"))
    parts.append(source_ports_cover_ephemeral(rule.source_port_ranges, why))
    parts.append(_rule_source(rule, src, why))
    parts.append(_rule_destination(rule, ip, src, why))
    return tri_all(parts)


def _rule_source(rule: SecurityRule, src: FlowSource, why: list[str]) -> Tri:
    prefixes, asgs = rule.source_address_prefixes, rule.source_asgs
    if isinstance(asgs, Unknown):
        why.append("source application security groups unknown")
        return Tri.MAYBE
    if asgs:
        if isinstance(prefixes, tuple) and not prefixes:
            return _asg_member(asgs, src, why)
        return tri_any([match_source(prefixes, src, why, "source"), _asg_member(asgs, src, why)])
    if isinstance(prefixes, tuple) and not prefixes:
        why.append("rule has no source")
        return Tri.MAYBE
    return match_source(prefixes, src, why, "source")


def _rule_destination(rule: SecurityRule, ip: IPv4Address, src: FlowSource, why: list[str]) -> Tri:
    prefixes, asgs = rule.destination_address_prefixes, rule.destination_asgs
    if isinstance(prefixes, tuple) and not prefixes:
        # §4.2: the KMS IPs are never members of an application security group.
        if isinstance(asgs, Unknown) or asgs:
            return Tri.NO
        why.append("rule has no destination")
        return Tri.MAYBE
    return match_destination(prefixes, ip, src, why, "destination")


def _asg_member(asgs: Sequence[Ref | Unknown | None], src: FlowSource, why: list[str]) -> Tri:
    if src.asgs is None:
        why.append("source application security group membership of the VMs is unknown")
        return Tri.MAYBE
    results = []
    for a in asgs:
        if isinstance(a, str):
            results.append(Tri.YES if a in src.asgs else Tri.NO)
        else:
            results.append(Tri.MAYBE)
    return tri_any(results)


def _priority(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A rule that may match the KMS flow from some source: the parts of the match that depend on
    neither the source nor the destination (direction, protocol, ports) are already decided."""

    rule: SecurityRule
    label: RuleRef | str  # how a trace names the rule
    priority: int | None
    access: frozenset[str]
    fixed: Tri  # direction, protocol, destination port, source ports (never NO: those are dropped)
    fixed_why: tuple[str, ...]

    # Named only when the walk reaches the rule: most rules of a large NSG never are.
    @property
    def desc(self) -> str:
        return rule_text(self.label) if isinstance(self.label, RuleRef) else self.label

    @property
    def ref(self) -> RuleRef | None:
        return self.label if isinstance(self.label, RuleRef) else None


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """A rule list in walk order, computed once per list: unknown priorities first (they may come
    first), then by priority; rules that cannot match TCP 1688 outbound from any source are left out,
    which is most of a large NSG (§4.2: a rule that does not match is skipped whatever its action)."""

    unordered: tuple[_Candidate, ...]
    ordered: tuple[_Candidate, ...]


def compile_rules(rules: Iterable[tuple[SecurityRule, RuleRef | str]]) -> CompiledRules:
    """``rules`` pairs each rule with how a trace names it: a reference, or a ready description."""
    unordered: list[_Candidate] = []
    ordered: list[_Candidate] = []
    for rule, label in rules:
        why: list[str] = []
        fixed = _fixed_part(rule, why)
        if fixed is Tri.NO:
            continue
        priority = _priority(rule.priority)
        candidate = _Candidate(rule, label, priority, _access(rule.access), fixed, tuple(why))
        (unordered if priority is None else ordered).append(candidate)
    ordered.sort(key=lambda c: c.priority or 0)  # stable: equal priorities keep the list order
    return CompiledRules(tuple(unordered), tuple(ordered))


def _fixed_part(rule: SecurityRule, why: list[str]) -> Tri:
    """The part of ``match_security_rule`` that does not depend on the flow's ends, same order."""
    direction = _outbound(rule.direction, why)
    if direction is Tri.NO:
        return Tri.NO
    return tri_all(
        [
            direction,
            _protocol(rule.protocol, why),
            port_matches(rule.destination_port_ranges, KMS_PORT, why, "destination port"),
            source_ports_cover_ephemeral(rule.source_port_ranges, why),
        ]
    )


# (candidate, destination match, its reasons) for one destination IP and VirtualNetwork tag
_Reachable = tuple[tuple[_Candidate, Tri, tuple[str, ...]], ...]


def _toward(compiled: CompiledRules, ip: IPv4Address, src: FlowSource) -> tuple[_Reachable, _Reachable]:
    """The candidates whose destination may hold ``ip``: the destination depends on the source only
    through its VirtualNetwork tag, so this is shared by every source of a VNet."""

    def keep(candidates: tuple[_Candidate, ...]) -> _Reachable:
        out = []
        for c in candidates:
            why: list[str] = []
            t = _rule_destination(c.rule, ip, src, why)
            if t is not Tri.NO:
                out.append((c, t, tuple(why)))
        return tuple(out)

    return keep(compiled.unordered), keep(compiled.ordered)


def _walk(reachable: tuple[_Reachable, _Reachable], src: FlowSource) -> Decision:
    unordered, ordered = reachable
    possible: set[str] = set()
    why: list[str] = []
    for c, dest, _ in unordered:
        local: list[str] = []
        if tri_all([c.fixed, _rule_source(c.rule, src, local), dest]) is not Tri.NO:
            possible |= c.access
            why.append(f"{c.desc}: priority unknown")
    for c, dest, dest_why in ordered:
        local = list(c.fixed_why)
        m = tri_all([c.fixed, _rule_source(c.rule, src, local), dest])
        if m is Tri.NO:
            continue
        local.extend(dest_why)
        acts = c.access
        if acts != {ALLOW} and acts != {DENY}:
            local.append("access unknown")
        possible |= acts
        if m is Tri.YES:
            why.extend(f"{c.desc}: {w}" for w in local)
            return Decision(frozenset(possible), c.desc, c.priority, tuple(why), c.ref)
        why.append(f"{c.desc} may match ({', '.join(local) or 'unknown field'})")
    return Decision(frozenset(possible), "", None, tuple(why))


def first_match(
    rules: Iterable[tuple[SecurityRule, RuleRef | str]], ip: IPv4Address, src: FlowSource
) -> Decision:
    """Walk (rule, description) pairs; unknown priorities are checked first since they may come first."""
    return _walk(_toward(compile_rules(rules), ip, src), src)


def nsg_rules(nsg: NetworkSecurityGroup) -> list[tuple[SecurityRule, RuleRef | str]] | Unknown:
    if isinstance(nsg.rules, Unknown):
        return nsg.rules
    custom: list[tuple[SecurityRule, RuleRef | str]] = [(r, nsg_rule_ref(nsg, r)) for r in nsg.rules]
    return custom + [(r, nsg_rule_ref(nsg, r, default=True)) for r in DEFAULT_OUTBOUND]


def nsg_rule_ref(nsg: NetworkSecurityGroup, rule: SecurityRule, default: bool = False) -> RuleRef:
    return RuleRef(
        RuleKind.NSG_DEFAULT if default else RuleKind.NSG,
        nsg.origin.name,
        rule.name,
        _priority(rule.priority),
        rule.access if isinstance(rule.access, str) else None,
    )


def _prio_text(rule: SecurityRule) -> str:
    p = _priority(rule.priority)
    return str(p) if p is not None else "?"


@dataclass(frozen=True, slots=True)
class CompiledFilter:
    """What every question to one rule list (an NSG, or the admin rules of a VNet) shares, computed
    on its first question."""

    rules: CompiledRules | Unknown
    # The rules that may deny AzurePlatformLKM, in list order, with the source-independent part of
    # the match (§4.5).
    lkm: tuple[tuple[SecurityRule, Tri], ...]
    toward: dict[tuple[IPv4Address, tuple[IPv4Network, ...] | None], tuple[_Reachable, _Reachable]]


Memo = dict[object, object]
"""Where compiled NSGs are kept between questions: keyed by the NSG's identity and holding the NSG,
so an entry stays valid in any copy of the network that shares the NSG object."""


def compiled_nsg(nsg: NetworkSecurityGroup, memo: Memo | None = None) -> CompiledFilter:
    if memo is not None:
        hit = memo.get(id(nsg))
        if isinstance(hit, tuple) and hit[0] is nsg:
            return cast(CompiledFilter, hit[1])
    rules = nsg_rules(nsg)
    compiled = CompiledFilter(
        rules if isinstance(rules, Unknown) else compile_rules(rules),
        () if isinstance(nsg.rules, Unknown) else _lkm_candidates(nsg.rules),
        {},
    )
    if memo is not None:
        memo[id(nsg)] = (nsg, compiled)
    return compiled


def evaluate_nsg(
    nsg: NetworkSecurityGroup, ip: IPv4Address, src: FlowSource, memo: Memo | None = None
) -> tuple[Decision, str]:
    compiled = compiled_nsg(nsg, memo)
    if isinstance(compiled.rules, Unknown):
        return Decision(frozenset({ALLOW, DENY}), "", None, (f"rules unknown: {compiled.rules.why}",)), ""
    key = (ip, src.vnet_space)
    reachable = compiled.toward.get(key)
    if reachable is None:
        reachable = compiled.toward[key] = _toward(compiled.rules, ip, src)
    return _walk(reachable, src), ""


def lkm_denies(
    nsg: NetworkSecurityGroup, ip: IPv4Address, src: FlowSource, memo: Memo | None = None
) -> tuple[Tri, RuleRef | None, SecurityRule | None, str]:
    """§4.5: an outbound Deny to AzurePlatformLKM overrides the KMS platform rule (R4.1).

    Per the doc, any such Deny that matches the flow counts, whether or not it is the first match.
    Returns the match, the rule that may deny (as a trace names it, and as written), and why the
    answer is unknown when no rule can be named.
    """
    if isinstance(nsg.rules, Unknown):
        return Tri.MAYBE, None, None, f"rules unknown ({nsg.rules.why})"
    result: Tri = Tri.NO
    found: RuleRef | None = None
    rule_found: SecurityRule | None = None
    for rule, fixed in compiled_nsg(nsg, memo).lkm:
        why: list[str] = []
        m = tri_all([fixed, match_source(rule.source_address_prefixes, src, why, "source")])
        if m > result:
            result = m
            found = nsg_rule_ref(nsg, rule)
            rule_found = rule
            if m is Tri.YES:
                break
    return result, found, rule_found, ""


def _lkm_candidates(rules: tuple[SecurityRule, ...]) -> tuple[tuple[SecurityRule, Tri], ...]:
    out = []
    for rule in rules:
        dests = rule.destination_address_prefixes
        if isinstance(dests, Unknown):
            targets_lkm = Tri.MAYBE
        else:
            targets_lkm = tri_any(
                Tri.MAYBE
                if isinstance(d, Unknown)
                else (Tri.YES if canonical(d) == "azureplatformlkm" else Tri.NO)
                for d in dests
            )
        if targets_lkm is Tri.NO:
            continue
        access = _access(rule.access)
        if DENY not in access:
            continue
        fixed = tri_all([targets_lkm, Tri.YES if access == {DENY} else Tri.MAYBE, _fixed_part(rule, [])])
        if fixed is not Tri.NO:
            out.append((rule, fixed))
    return tuple(out)


# --- AVNM security admin rules (§4.1) -----------------------------------------------------------


def _address_matches(items: tuple[AddressMatch, ...] | Unknown) -> Strs:
    if isinstance(items, Unknown):
        return items
    out: list[str | Unknown] = []
    for item in items:
        out.append(item.value if item.value is not None else Unknown("address missing"))
    return tuple(out)


def admin_as_security_rule(rule: AdminRule) -> SecurityRule:
    return SecurityRule(
        name=rule.origin.name,
        priority=rule.priority,
        direction=rule.direction,
        access=rule.access,
        protocol=rule.protocol,
        source_address_prefixes=_address_matches(rule.sources) or ("*",),
        source_port_ranges=rule.source_port_ranges or ("*",),
        destination_address_prefixes=_address_matches(rule.destinations) or ("*",),
        destination_port_ranges=rule.destination_port_ranges or ("*",),
    )


def evaluate_admin_rules(
    rules: Sequence[tuple[AdminRule, bool]], ip: IPv4Address, src: FlowSource, memo: Memo | None = None
) -> Decision:
    """First match over admin rules; rules that may not apply to the VNet count as may-match.

    ``memo`` keeps the compiled rule list per list of rules (by identity): every source of a VNet,
    and every VNet a rule may apply to, asks about the same rules."""
    compiled = _compiled_admin(rules, memo)
    key = (ip, src.vnet_space)
    reachable = compiled.toward.get(key)
    if reachable is None:
        reachable = compiled.toward[key] = _toward(cast(CompiledRules, compiled.rules), ip, src)
    decision = _walk(reachable, src)
    if not decision.rule:
        # No admin rule matched for sure: "continue to NSGs" is always possible.
        return Decision(decision.actions | {ALLOW}, "", None, decision.why)
    return decision


def _compiled_admin(rules: Sequence[tuple[AdminRule, bool]], memo: Memo | None) -> CompiledFilter:
    key = ("admin", tuple((id(rule), certain) for rule, certain in rules))
    if memo is not None:
        hit = memo.get(key)
        # The entry holds the rules, so their ids cannot be reused while it is cached.
        if isinstance(hit, tuple) and all(a is b for (a, _), b in zip(rules, hit[0], strict=True)):
            return cast(CompiledFilter, hit[1])
    pairs: list[tuple[SecurityRule, RuleRef | str]] = []
    for rule, certain in rules:
        sr = admin_as_security_rule(rule)
        if not certain:
            sr = SecurityRule(
                sr.name,
                None,
                sr.direction,
                sr.access,
                sr.protocol,
                sr.source_address_prefixes,
                sr.source_port_ranges,
                sr.destination_address_prefixes,
                sr.destination_port_ranges,
            )
        note = ""
        if not certain and rule.undeployed:
            # Not deployed by this stack: it does not apply now, but a commit outside the stack (CLI,
            # portal) would apply it, so it still may match (unknown is never a pass).
            note = rule.undeployed
        ref = RuleRef(
            RuleKind.ADMIN,
            "",
            rule.origin.name,
            _priority(sr.priority),
            sr.access if isinstance(sr.access, str) else None,
            note=note,
        )
        pairs.append((sr, ref))
    compiled = CompiledFilter(compile_rules(pairs), (), {})
    if memo is not None:
        memo[key] = (tuple(rule for rule, _ in rules), compiled)
    return compiled


def nsg_allow_fix(nsg: NetworkSecurityGroup, before: int | None, ips: Sequence[str]) -> Fix:
    """The NSG rule that lets the KMS flow through ahead of the rule that denied it (§4.2)."""
    used: set[int] = set()
    if not isinstance(nsg.rules, Unknown):
        for r in nsg.rules:
            p = _priority(r.priority)
            if p is not None and isinstance(r.direction, str) and canonical(r.direction) == "outbound":
                used.add(p)
    ceiling = min(before if before is not None else 4097, 4097)
    priority = next((p for p in range(ceiling - 1, 99, -1) if p not in used), None)
    prefixes = [f"{ip}/32" for ip in ips]
    if priority is None:
        detail = (
            f"NSG {nsg.origin.name}: no free priority before the denying rule {before}; renumber it, then add an "
            f"outbound Allow rule for TCP {KMS_PORT} to {', '.join(prefixes)}"
        )
        return Fix(
            "add-nsg-rule", nsg.origin.name, nsg.origin.urn, detail, data={"nsg": nsg.key, "priority": None}
        )
    name = free_name(
        "allow-kms-activation", () if isinstance(nsg.rules, Unknown) else (r.name for r in nsg.rules)
    )
    detail = (
        f"NSG {nsg.origin.name}: add outbound rule {name}, priority {priority}: Allow TCP "
        f"{KMS_PORT} to {', '.join(prefixes)}"
    )
    code = nsg_rule_code(nsg, name, priority, prefixes)
    return Fix(
        "add-nsg-rule",
        nsg.origin.name,
        nsg.origin.urn,
        detail,
        code,
        {
            "nsg": nsg.key,
            "priority": priority,
            "name": name,
            "destinationAddressPrefixes": prefixes,
        },
    )


def lkm_fix(nsg: NetworkSecurityGroup, rule: SecurityRule) -> Fix:
    detail = (
        f"NSG {nsg.origin.name}: remove rule {rule.name} (priority {_prio_text(rule)}), which denies "
        "AzurePlatformLKM and so turns off the KMS platform rule (docs/rules.md#nsg-platform-rule)"
    )
    return Fix(
        "remove-nsg-rule",
        nsg.origin.name,
        rule.urn or nsg.origin.urn,
        detail,
        data={"nsg": nsg.key, "rule": rule.name},
    )
