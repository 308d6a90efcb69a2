"""Azure Firewall as the KMS next hop (§6): network rules, DNS proxy for FQDNs, SNAT, egress.

Rule order (§6.1, F2): network rules are walked over every rule collection group, parent policies'
groups first, then groups by priority, then collections by priority; the first matching rule ends
processing and no match is the default deny. Application rules never match TCP 1688 (§6.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from kmsguard.analysis.filtering import ALLOW, DENY, FlowSource, match_source
from kmsguard.analysis.fixes import firewall_classic_code, firewall_policy_code, free_name
from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.match import IPv4Address, Tri, canonical, parse_prefix, port_matches, tri_all, tri_any
from kmsguard.analysis.trace import RuleKind, RuleRef, Say, Sentence, StepKind
from kmsguard.analysis.verdict import Fix, Outcome, Step
from kmsguard.analysis.wording import rule_text
from kmsguard.catalog import KMS_PORT, Cloud
from kmsguard.findings import Finding
from kmsguard.model import (
    AzureFirewall,
    FirewallNetworkRule,
    FirewallPolicy,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    Unknown,
)
from kmsguard.model.network import MaybeRef, Strs

# §6.2, N3: service tags Azure Firewall does not accept; they never match there.
TAGS_UNUSABLE_IN_FIREWALL = frozenset({"internet", "azureplatformlkm"})


class ProxyOffNote(str):
    """A reason worth showing even when its rule does not decide the flow: the rule names
    ``destinationFqdns`` but the firewall's DNS proxy is off, so it never matches (R6.1,
    docs/rules.md#firewall-fqdn-rules); the deny step lists it as the likely cause."""


@dataclass(frozen=True, slots=True)
class OrderedCollection:
    policy: str  # policy (or firewall) display name
    urn: str | None
    group: str
    group_priority: int | None
    collection: FirewallRuleCollection
    # The model key of the policy holding the group ("" for classic collections): a fix for a rule
    # in a parent policy must go to that parent (§6.1, F2: parent groups come first).
    policy_key: str = ""


def policy_chain(index: NetworkIndex, ref: MaybeRef) -> tuple[list[FirewallPolicy], str]:
    """The policy and its bases, base first (F2: parent rule collection groups come first)."""
    chain: list[FirewallPolicy] = []
    seen: set[str] = set()
    while ref is not None:
        if isinstance(ref, Unknown):
            return chain, f"firewall policy reference unknown ({ref.why})"
        if ref in seen:
            return chain, f"firewall policy {ref} has a basePolicy cycle"
        seen.add(ref)
        policy = index.network.firewall_policies.get(ref)
        if policy is None:
            return chain, f"firewall policy {ref} is outside the stack"
        chain.append(policy)
        ref = policy.base_policy
    chain.reverse()
    return chain, ""


def ordered_network_collections(
    index: NetworkIndex, fw: AzureFirewall
) -> tuple[list[OrderedCollection], list[str]]:
    problems: list[str] = []
    out: list[OrderedCollection] = []
    if fw.policy is None:
        if isinstance(fw.classic_collections, Unknown):
            return out, [f"classic rule collections of {fw.origin.name} unknown"]
        cols = [c for c in fw.classic_collections if _is_network(c)]
        cols.sort(key=lambda c: _prio(c.priority, problems, f"collection {c.name}"))
        return [OrderedCollection(fw.origin.name, fw.origin.urn, "classic", None, c) for c in cols], problems
    chain, problem = policy_chain(index, fw.policy)
    if problem:
        problems.append(problem)
    for policy in chain:
        if isinstance(policy.rule_collection_groups, Unknown):
            problems.append(f"rule collection groups of policy {policy.origin.name} unknown")
            continue
        groups = sorted(
            policy.rule_collection_groups,
            key=lambda g: _prio(g.priority, problems, f"rule collection group {g.name}"),
        )
        for group in groups:
            out.extend(_group_collections(policy, group, problems))
    return out, problems


def _group_collections(
    policy: FirewallPolicy, group: FirewallRuleCollectionGroup, problems: list[str]
) -> list[OrderedCollection]:
    if isinstance(group.collections, Unknown):
        problems.append(f"rule collections of group {group.name} in policy {policy.origin.name} unknown")
        return []
    cols = sorted(
        (c for c in group.collections if _is_network(c)),
        key=lambda c: _prio(c.priority, problems, f"collection {c.name}"),
    )
    gp = group.priority if isinstance(group.priority, int) else None
    return [
        OrderedCollection(
            policy.origin.name, group.urn or policy.origin.urn, group.name, gp, c, str(policy.key)
        )
        for c in cols
    ]


def _is_network(c: FirewallRuleCollection) -> bool:
    return not isinstance(c.kind, str) or canonical(c.kind) == "network"


def _prio(value: object, problems: list[str], what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    problems.append(f"priority of {what} unknown")
    return 0  # Unknown priorities sort first: they may come before everything.


def _protocols(items: Strs, why: list[str]) -> Tri:
    if isinstance(items, Unknown):
        why.append("protocols unknown")
        return Tri.MAYBE
    results = []
    for p in items:
        if isinstance(p, Unknown):
            results.append(Tri.MAYBE)
        elif canonical(p) in ("tcp", "any"):
            results.append(Tri.YES)
        elif canonical(p) in ("udp", "icmp"):
            results.append(Tri.NO)
        else:
            why.append(f"protocol {p!r} unknown")
            results.append(Tri.MAYBE)
    return tri_any(results) if results else Tri.MAYBE


def _ip_group_addresses(index: NetworkIndex, refs: object, why: list[str]) -> Strs:
    if isinstance(refs, Unknown):
        why.append("IP groups unknown")
        return refs
    out: list[str | Unknown] = []
    for ref in refs:  # type: ignore[attr-defined]
        group = index.network.ip_groups.get(ref) if isinstance(ref, str) else None
        if group is None:
            why.append(f"IP group {ref} unknown or outside the stack")
            out.append(Unknown("IP group"))
        elif isinstance(group.ip_addresses, Unknown):
            why.append(f"addresses of IP group {group.origin.name} unknown")
            out.append(group.ip_addresses)
        else:
            out.extend(group.ip_addresses)
    return tuple(out)


def _destination(
    index: NetworkIndex,
    fw: AzureFirewall,
    rule: FirewallNetworkRule,
    ip: IPv4Address,
    fqdn_ips: dict[str, tuple[str, ...]] | None,
    why: list[str],
) -> Tri:
    results = []
    addresses = rule.destination_addresses
    groups = _ip_group_addresses(index, rule.destination_ip_groups, why)
    for items in (addresses, groups):
        if isinstance(items, Unknown):
            results.append(Tri.MAYBE)
            continue
        for a in items:
            if isinstance(a, Unknown):
                results.append(Tri.MAYBE)
                continue
            c = canonical(a)
            if c in ("*", "0.0.0.0/0"):
                results.append(Tri.YES)
            elif (net := parse_prefix(a)) is not None:
                results.append(Tri.YES if ip in net else Tri.NO)
            elif c in TAGS_UNUSABLE_IN_FIREWALL:
                why.append(
                    f"service tag {a!r} is not usable in Azure Firewall (docs/rules.md#firewall-network-rules)"
                )
                results.append(Tri.NO)
            else:
                why.append(
                    f"whether service tag {a!r} contains {ip} is not documented (docs/rules.md#service-tags)"
                )
                results.append(Tri.MAYBE)
    fqdns = rule.destination_fqdns
    if isinstance(fqdns, Unknown):
        results.append(Tri.MAYBE)
    elif fqdns:
        if fqdn_ips is None:
            # R6.1: FQDNs in network rules work only with the DNS proxy on.
            why.append(
                ProxyOffNote(
                    f"rule {rule.name} uses destinationFqdns but the DNS proxy of {fw.origin.name} is off (docs/rules.md#firewall-fqdn-rules)"
                )
            )
            results.append(Tri.NO)
        else:
            for f in fqdns:
                if isinstance(f, Unknown):
                    results.append(Tri.MAYBE)
                    continue
                resolved = fqdn_ips.get(f.lower().rstrip("."))
                results.append(Tri.YES if resolved is not None and str(ip) in resolved else Tri.NO)
    return tri_any(results)


@dataclass(frozen=True, slots=True)
class _PlannedRule:
    """A rule with the parts of its match that do not depend on the flow's source, worked out once."""

    collection: OrderedCollection
    acts: frozenset[str]
    rule: FirewallNetworkRule
    pre: Tri  # protocol, port and destination together
    pre_why: tuple[str, ...]  # protocol and port reasons (they come before the source's)
    dest: Tri
    dest_why: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _UnknownRules:
    acts: frozenset[str]
    why: str


# One step of the walk: a collection whose rules are unknown, the R6.1 reasons of rules that cannot
# match whatever the source, or a rule whose match depends on the source.
_PlanStep = _UnknownRules | tuple[str, ...] | _PlannedRule


def _plan(
    index: NetworkIndex, fw: AzureFirewall, ip: IPv4Address, fqdn_ips: dict[str, tuple[str, ...]] | None
) -> tuple[list[str], list[_PlanStep]]:
    """The rule walk of ``firewall_decision`` minus the source, shared by every subnet behind ``fw``.

    Protocol, port and destination depend only on the rule and the KMS IP; computing them once per
    firewall and IP keeps the per-subnet cost to the rules that can match at all (hub firewalls
    carry thousands of rules in large estates)."""
    # Keyed by the identity of everything the walk reads (the firewall, its policy chain, the IP
    # groups), so a plan stays valid in the repair loop's copies of the network (NetworkIndex.derive).
    chain = policy_chain(index, fw.policy)[0] if fw.policy is not None else []
    ip_groups = index.network.ip_groups
    fqdn_key = None if fqdn_ips is None else tuple(sorted(fqdn_ips.items()))
    key = ("firewall-plan", id(fw), tuple(id(p) for p in chain), id(ip_groups), ip, fqdn_key)
    cached = index.cache("firewall-plan").get(key)
    if cached is not None:
        return cast(tuple[list[str], list[_PlanStep]], cast(tuple[object, ...], cached)[1:])
    collections, problems = ordered_network_collections(index, fw)
    steps: list[_PlanStep] = []
    for oc in collections:
        # Per collection too: the repair loop adds a rule collection group to a policy, which
        # changes the chain (a new plan) but leaves every other collection as it was.
        ckey = (
            "firewall-plan",
            id(oc.collection),
            oc.policy,
            oc.urn,
            oc.group,
            oc.group_priority,
            id(fw),
            id(ip_groups),
            ip,
            fqdn_key,
        )
        hit = index.cache("firewall-plan").get(ckey)
        if isinstance(hit, tuple) and hit[0][0] is oc.collection:
            steps.extend(cast(list[_PlanStep], hit[1]))
            continue
        part = _collection_plan(index, fw, oc, ip, fqdn_ips)
        index.cache("firewall-plan")[ckey] = ((oc.collection, fw, ip_groups), part)
        steps.extend(part)
    index.cache("firewall-plan")[key] = (
        (fw, chain, ip_groups),
        problems,
        steps,
    )  # the pins keep the ids unique
    return problems, steps


def _collection_plan(
    index: NetworkIndex,
    fw: AzureFirewall,
    oc: OrderedCollection,
    ip: IPv4Address,
    fqdn_ips: dict[str, tuple[str, ...]] | None,
) -> list[_PlanStep]:
    steps: list[_PlanStep] = []
    action = oc.collection.action
    acts = (
        frozenset({ALLOW})
        if isinstance(action, str) and canonical(action) == "allow"
        else (
            frozenset({DENY})
            if isinstance(action, str) and canonical(action) == "deny"
            else frozenset({ALLOW, DENY})
        )
    )
    if isinstance(oc.collection.rules, Unknown):
        return [_UnknownRules(acts, f"rules of collection {oc.collection.name} unknown")]
    for rule in oc.collection.rules:
        pre_why: list[str] = []
        dest_why: list[str] = []
        proto = _protocols(rule.protocols, pre_why)
        port = port_matches(rule.destination_ports, KMS_PORT, pre_why, "destination port")
        dest = _destination(index, fw, rule, ip, fqdn_ips, dest_why)
        pre = tri_all([proto, port, dest])
        if pre is Tri.NO:
            r61 = tuple(w for w in (*pre_why, *dest_why) if isinstance(w, ProxyOffNote))
            if r61:
                steps.append(r61)
            continue
        steps.append(_PlannedRule(oc, acts, rule, pre, tuple(pre_why), dest, tuple(dest_why)))
    return steps


def firewall_decision(
    index: NetworkIndex,
    fw: AzureFirewall,
    ip: IPv4Address,
    src: FlowSource,
    fqdn_ips: dict[str, tuple[str, ...]] | None,
) -> tuple[frozenset[str], RuleRef | None, OrderedCollection | None, list[str]]:
    """Possible actions for the KMS flow, the deciding rule, its collection, and uncertainty reasons."""
    problems, steps = _plan(index, fw, ip, fqdn_ips)
    possible: set[str] = set()
    why = list(problems)
    if problems:
        possible |= {ALLOW, DENY}
    for step in steps:
        if isinstance(step, _UnknownRules):
            possible |= step.acts
            why.append(step.why)
            continue
        if isinstance(step, tuple):
            why.extend(step)
            continue
        rule, oc = step.rule, step.collection
        local = list(step.pre_why)
        source = (
            tri_any([match_source(rule.source_addresses, src, local, "source"), Tri.NO])
            if not rule.source_ip_groups
            else tri_any(
                [
                    match_source(rule.source_addresses, src, local, "source"),
                    match_source(
                        _ip_group_addresses(index, rule.source_ip_groups, local),
                        src,
                        local,
                        "source IP group",
                    ),
                ]
            )
        )
        local.extend(step.dest_why)
        m = tri_all([step.pre, source])
        if m is Tri.NO:
            why.extend(w for w in local if isinstance(w, ProxyOffNote))
            continue
        possible |= step.acts
        ref = RuleRef(
            RuleKind.FIREWALL_POLICY if oc.group != "classic" else RuleKind.FIREWALL_CLASSIC,
            oc.policy,
            rule.name,
            oc.group_priority,
            "Allow" if step.acts == {ALLOW} else "Deny" if step.acts == {DENY} else None,
            group=oc.group if oc.group != "classic" else "",
            collection=oc.collection.name,
        )
        if m is Tri.YES:
            return frozenset(possible), ref, oc, why
        why.append(f"{rule_text(ref)} may match ({', '.join(local)})")
    possible.add(DENY)
    return frozenset(possible), None, None, why


def snat_applies(index: NetworkIndex, fw: AzureFirewall, ip: IPv4Address) -> tuple[Tri, Sentence | None]:
    """§6.4: the firewall SNATs public destinations unless snat.privateRanges covers them."""
    ranges: object = fw.snat_private_ranges
    origin = f"firewall {fw.origin.name}"
    if isinstance(fw.policy, str):
        policy = index.network.firewall_policies.get(fw.policy)
        if policy is not None:
            ranges, origin = policy.snat_private_ranges, f"firewall policy {policy.origin.name}"
    if ranges is None:
        return Tri.YES, None
    if isinstance(ranges, Unknown):
        return Tri.MAYBE, Sentence(Say.SNAT_UNCERTAIN, subject=origin, reason="unknown")
    for r in ranges:  # type: ignore[attr-defined]
        if isinstance(r, Unknown):
            return Tri.MAYBE, Sentence(Say.SNAT_UNCERTAIN, subject=origin, reason="item unknown")
        if canonical(r) == "ianaprivateranges":
            continue
        net = parse_prefix(r)
        if net is None:
            return Tri.MAYBE, Sentence(Say.SNAT_UNCERTAIN, subject=origin, reason=f"{r!r} is not a prefix")
        if ip in net:
            return Tri.NO, Sentence(Say.SNAT_EXCLUDED, subject=origin, ip=str(ip), values=(str(net),))
    return Tri.YES, None


# §6.1 [F2]: rule collection groups, and classic rule collections, have priorities 100–65000, lower
# first; parent-policy groups come before the child's whatever their numbers.
PRIORITY_MIN, PRIORITY_MAX = 100, 65000


def firewall_rule_fix(
    index: NetworkIndex,
    fw: AzureFirewall,
    deciding: OrderedCollection | None,
    cloud: Cloud,
    src_prefixes: Sequence[str],
) -> Fix:
    """A network rule collection allowing TCP 1688 to every KMS IP of the cloud (§6.2, S3), in the
    policy whose rule decides, sorting strictly before the denying group (collection, for classic
    rules): an equal priority leaves the order to Azure, which documents none for ties."""
    ips = sorted(cloud.ips, key=lambda s: tuple(int(p) for p in s.split(".")))
    sources = list(src_prefixes) or ["*"]
    rule = f"rule allow-kms: TCP {KMS_PORT} from {', '.join(sources)} to {', '.join(ips)}"
    if fw.policy is None or not isinstance(fw.policy, str):
        before = deciding.collection.priority if deciding is not None else None
        used = (
            {c.priority for c in fw.classic_collections if _is_network(c) and isinstance(c.priority, int)}
            if not isinstance(fw.classic_collections, Unknown)
            else set()
        )
        priority = _free_priority(before if isinstance(before, int) else None, used)
        name = free_name(
            "kms-activation",
            () if isinstance(fw.classic_collections, Unknown) else (c.name for c in fw.classic_collections),
        )
        data: dict[str, object] = {
            "firewall": fw.key,
            "policy": None,
            "priority": priority,
            "ips": ips,
            "sources": sources,
            "name": name,
        }
        if priority is None:
            detail = (
                f"firewall {fw.origin.name}: no free priority before the denying network rule collection "
                f"{deciding.collection.name if deciding else ''} (priority {before}); renumber it, then add a network "
                f"rule collection {name} (Allow) with {rule}"
            )
            return Fix("add-firewall-rule", fw.origin.name, fw.origin.urn, detail, data=data)
        detail = (
            f"firewall {fw.origin.name}: add a network rule collection {name} (Allow, priority "
            f"{priority}) with {rule}"
        )
        code = firewall_classic_code(fw.origin.name, priority, sources, ips, name)
        return Fix("add-firewall-rule", fw.origin.name, fw.origin.urn, detail, code, data)
    # The rule that decides may sit in a base (parent) policy, whose groups come before the child's:
    # no group in the child can sort before it, so the allow goes where the deny is (§6.1, F2).
    target_key = deciding.policy_key if deciding is not None and deciding.policy_key else fw.policy
    policy = index.network.firewall_policies.get(target_key)
    pname = policy.origin.name if policy else target_key
    purn = policy.origin.urn if policy else None
    used = (
        {g.priority for g in policy.rule_collection_groups if isinstance(g.priority, int)}
        if policy is not None and not isinstance(policy.rule_collection_groups, Unknown)
        else set()
    )
    before = deciding.group_priority if deciding is not None else None
    priority = _free_priority(before, used)
    inherited = ""
    if target_key != fw.policy:
        own = index.network.firewall_policies.get(fw.policy)
        inherited = (
            f" (the base policy of {own.origin.name if own else fw.policy}, whose rule collection groups come "
            f"before the child's; the new group applies to every policy based on {pname})"
        )
    name = free_name(
        "kms-activation",
        (g.name for g in policy.rule_collection_groups)
        if policy is not None and not isinstance(policy.rule_collection_groups, Unknown)
        else (),
    )
    data = {
        "firewall": fw.key,
        "policy": target_key,
        "priority": priority,
        "ips": ips,
        "sources": sources,
        "name": name,
    }
    if priority is None:
        detail = (
            f"firewall policy {pname}{inherited}: no free priority before the denying rule collection group "
            f"{deciding.group if deciding else ''} (priority {before}); renumber it, then add a rule collection group "
            f"{name} with a network rule collection (Allow) and {rule}"
        )
        return Fix("add-firewall-rule", pname, purn, detail, data=data)
    detail = (
        f"firewall policy {pname}{inherited}: add rule collection group {name} (priority {priority}) with "
        f"a network rule collection (Allow) and {rule}"
    )
    return Fix(
        "add-firewall-rule",
        pname,
        purn,
        detail,
        firewall_policy_code(pname, priority, sources, ips, name),
        data,
    )


def _free_priority(before: int | None, used: set[int]) -> int | None:
    """The highest priority number that sorts strictly before ``before`` (lower is first) and no
    other group or collection uses; None when there is none (then renumbering is the fix, as for
    NSG rules). With no denying rule (the default deny) any number works: the lowest free one."""
    if before is None:
        return next((p for p in range(PRIORITY_MIN, PRIORITY_MAX + 1) if p not in used), None)
    ceiling = min(before, PRIORITY_MAX + 1)
    return next((p for p in range(ceiling - 1, PRIORITY_MIN - 1, -1) if p not in used), None)


def public_ip_step(fw: AzureFirewall) -> Step | None:
    if isinstance(fw.public_ip_count, Unknown):
        return Step(
            StepKind.FIREWALL,
            Sentence(Say.FIREWALL_PIP_UNKNOWN, subject=fw.origin.name),
            Outcome.UNKNOWN,
            fw.origin.urn,
            settle="make the firewall's IP configurations known",
            finding=Finding.UNKNOWN_FIREWALL,
            hop=fw.key,
        )
    if fw.public_ip_count == 0:
        return Step(
            StepKind.FIREWALL,
            Sentence(Say.FIREWALL_NO_PIP, subject=fw.origin.name),
            Outcome.UNKNOWN,
            fw.origin.urn,
            settle="give the firewall a public IP, or route KMS IPs to Internet on AzureFirewallSubnet",
            finding=Finding.UNKNOWN_FIREWALL,
            hop=fw.key,
        )
    return None
