"""The Azure Firewall next hop (§6): rule walk, SNAT and public IP on the firewall, then the
firewall's own AzureFirewallSubnet routes (§6.4)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Final

from kmsguard.analysis import dns as dnsmod
from kmsguard.analysis.effective import subnet_routes
from kmsguard.analysis.filtering import ALLOW, DENY
from kmsguard.analysis.firewall import (
    ProxyOffNote,
    firewall_decision,
    firewall_rule_fix,
    public_ip_step,
    snat_applies,
)
from kmsguard.analysis.fixes import route_fix
from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.match import IPv4Address, Tri, canonical, ip_sort_key, parse_prefix
from kmsguard.analysis.routes import EffectiveRoute
from kmsguard.analysis.source import SourceContext, select_route
from kmsguard.analysis.trace import Say, Sentence, StepKind
from kmsguard.analysis.verdict import Fix, Outcome, Step
from kmsguard.catalog import KMS_PORT
from kmsguard.findings import Finding
from kmsguard.model import AzureFirewall, Unknown


def _fqdn_ips(ctx: SourceContext, fw: AzureFirewall, proxy: bool) -> dict[str, tuple[str, ...]] | None:
    """What the firewall resolves the KMS names to (R6.1: only with the DNS proxy on)."""
    if not proxy:
        return None
    return dict(ctx.cloud.resolution)


def firewall_steps(ctx: SourceContext, fw: AzureFirewall, ip: IPv4Address) -> list[Step]:
    """§6: the firewall's rules for the KMS flow, its SNAT, its public IP, and where it sends the
    packet next; the rule steps happen on the firewall, the last one on its AzureFirewallSubnet."""
    steps: list[Step] = []
    index = ctx.index
    proxy = dnsmod.firewall_dns_proxy(index, fw.key)
    variants = [proxy] if isinstance(proxy, bool) else [True, False]
    decisions = [firewall_decision(index, fw, ip, ctx.src, _fqdn_ips(ctx, fw, bool(p))) for p in variants]
    actions = frozenset().union(*(d[0] for d in decisions))
    _, ref, deciding, why = decisions[0]
    src_prefixes = [str(p) for p in ctx.src.prefixes] if ctx.src.prefixes else []
    here = fw.key
    if actions == {ALLOW}:
        steps.append(
            Step(
                StepKind.FIREWALL,
                Sentence(Say.FIREWALL_ALLOW, rule=ref, ip=str(ip)),
                Outcome.PASS,
                deciding.urn if deciding else fw.origin.urn,
                hop=here,
            )
        )
    elif actions == {DENY}:
        fix = firewall_rule_fix(index, fw, deciding, ctx.cloud, src_prefixes)
        notes = tuple(w for w in dict.fromkeys(why) if isinstance(w, ProxyOffNote))
        if ref is not None:
            steps.append(
                Step(
                    StepKind.FIREWALL,
                    Sentence(Say.FIREWALL_DENY, rule=ref, ip=str(ip), values=notes),
                    Outcome.BLOCK,
                    deciding.urn if deciding else fw.origin.urn,
                    fix=fix,
                    finding=Finding.FIREWALL_NO_RULE,
                    hop=here,
                )
            )
        else:
            steps.append(
                Step(
                    StepKind.FIREWALL,
                    Sentence(Say.FIREWALL_DEFAULT_DENY, subject=fw.origin.name, ip=str(ip), values=notes),
                    Outcome.BLOCK,
                    fw.origin.urn,
                    fix=fix,
                    finding=Finding.FIREWALL_NO_RULE,
                    hop=here,
                )
            )
    else:
        reasons = "; ".join(dict.fromkeys(w for d in decisions for w in d[3])) or "rules unknown"
        if not isinstance(proxy, bool):
            reasons = f"DNS proxy state unknown; {reasons}"
        steps.append(
            Step(
                StepKind.FIREWALL,
                Sentence(Say.FIREWALL_UNDECIDED, subject=fw.origin.name, ip=str(ip), reason=reasons),
                Outcome.UNKNOWN,
                fw.origin.urn,
                settle=f"add a network rule allowing TCP {KMS_PORT} to the KMS IPs by address",
                finding=Finding.UNKNOWN_FIREWALL,
                hop=here,
            )
        )
    snat, snat_why = snat_applies(index, fw, ip)
    if snat is Tri.NO and snat_why is not None:
        steps.append(
            Step(
                StepKind.FIREWALL,
                snat_why,
                Outcome.BLOCK,
                fw.origin.urn,
                fix=_snat_fix(ctx, fw),
                finding=Finding.FIREWALL_NO_SNAT,
                hop=here,
            )
        )
    elif snat is Tri.MAYBE and snat_why is not None:
        steps.append(
            Step(
                StepKind.FIREWALL,
                snat_why,
                Outcome.UNKNOWN,
                fw.origin.urn,
                settle="make the SNAT private ranges known",
                finding=Finding.UNKNOWN_FIREWALL,
                hop=here,
            )
        )
    pip = public_ip_step(fw)
    if pip is not None:
        steps.append(pip)
    steps.append(_without_snat(_firewall_egress(ctx, fw, ip), snat))
    return steps


# The egress sentences that say the firewall SNATs, and what they say when it does not (§6.4).
_UNSNATED: Final = {
    Say.FIREWALL_DIRECT: Say.FIREWALL_DIRECT_UNSNATED,
    Say.FIREWALL_SUBNET_INTERNET: Say.FIREWALL_SUBNET_INTERNET_UNSNATED,
}


def _without_snat(egress: Step, snat: Tri) -> Step:
    """The egress step, no longer claiming SNAT to the public IP where the SNAT step says it does not
    happen or may not (the egress step is shared by every flow through the firewall, SNAT is not)."""
    what = egress.what
    if snat is Tri.YES or not isinstance(what, Sentence) or what.say not in _UNSNATED:
        return egress
    return replace(egress, what=replace(what, say=_UNSNATED[what.say]))


def _snat_fix(ctx: SourceContext, fw: AzureFirewall) -> Fix:
    """One fix per firewall (or policy): drop every private range that covers any KMS IP of the cloud."""
    kms = [ipaddress.IPv4Address(a) for a in sorted(ctx.cloud.ips, key=ip_sort_key)]
    index = ctx.index
    owner, ranges = fw.key, fw.snat_private_ranges
    name, urn = fw.origin.name, fw.origin.urn
    if isinstance(fw.policy, str) and fw.policy in index.network.firewall_policies:
        policy = index.network.firewall_policies[fw.policy]
        owner, ranges, name, urn = (
            policy.key,
            policy.snat_private_ranges,
            policy.origin.name,
            policy.origin.urn,
        )
    kept = [
        r
        for r in (ranges if isinstance(ranges, tuple) else ())
        if isinstance(r, str) and not ((n := parse_prefix(r)) is not None and any(a in n for a in kms))
    ]
    return Fix(
        "remove-snat-range",
        name,
        urn,
        f"{name}: remove the ranges containing KMS IPs from snat.privateRanges (keep {kept or ['IANAPrivateRanges']}) so the firewall SNATs KMS traffic to its public IP (docs/rules.md#firewall-snat)",
        data={"owner": owner, "ranges": kept},
    )


def _firewall_egress(ctx: SourceContext, fw: AzureFirewall, ip: IPv4Address) -> Step:
    """Where the firewall sends the packet next: its own subnet's routes (§6.4, §3.3).

    The same for every subnet behind the firewall, and the hub's routes hold a peering route per
    spoke, so it is remembered per index (and carried into repair copies with the routes)."""
    index = ctx.index
    return index.remember(
        "fw-egress", ("fw-egress", id(fw), ip), fw, lambda: _firewall_egress_step(index, fw, ip)
    )


def _firewall_egress_step(index: NetworkIndex, fw: AzureFirewall, ip: IPv4Address) -> Step:
    here = fw.key
    if fw.vnet is None:
        return Step(
            StepKind.FIREWALL,
            Sentence(Say.FIREWALL_VWAN, subject=fw.origin.name),
            Outcome.PASS,
            fw.origin.urn,
            hop=here,
        )
    if isinstance(fw.vnet, Unknown):
        return Step(
            StepKind.FIREWALL,
            Sentence(Say.FIREWALL_VNET_UNKNOWN, subject=fw.origin.name, reason=fw.vnet.why),
            Outcome.UNKNOWN,
            fw.origin.urn,
            finding=Finding.UNKNOWN_FIREWALL,
            hop=here,
        )
    mgmt = fw.management_ip_configuration
    fw_subnet = next(
        (
            s
            for s in index.subnets_by_vnet.get(fw.vnet, ())
            if isinstance(s.subnet_name, str) and canonical(s.subnet_name) == "azurefirewallsubnet"
        ),
        None,
    )
    if fw_subnet is None:
        if mgmt is True or isinstance(mgmt, Unknown):
            return Step(
                StepKind.FIREWALL,
                Sentence(Say.FIREWALL_SUBNET_MISSING, subject=fw.origin.name),
                Outcome.UNKNOWN,
                fw.origin.urn,
                settle="describe AzureFirewallSubnet and its route table",
                finding=Finding.UNKNOWN_FIREWALL,
                hop=here,
            )
        return Step(
            StepKind.FIREWALL,
            Sentence(Say.FIREWALL_DIRECT, subject=fw.origin.name),
            Outcome.PASS,
            fw.origin.urn,
            hop=here,
        )
    # From here on the firewall's own subnet routes the packet: that subnet is the hop.
    here = fw_subnet.key
    routes = subnet_routes(
        index,
        fw_subnet,
        firewall_forced_tunnel=mgmt
        if isinstance(mgmt, bool)
        else None
        if isinstance(mgmt, Unknown)
        else False,
    )
    choice = select_route(index, routes.routes, ip)
    route = choice.chosen
    outcomes = {_fw_hop(route)} | {_fw_hop(r) for r in choice.rivals}
    if len(outcomes) > 1:
        reasons = tuple(dict.fromkeys(r.uncertain for r in choice.rivals))
        return Step(
            StepKind.FIREWALL,
            Sentence(Say.FIREWALL_SUBNET_UNCERTAIN, subject=fw.origin.name, ip=str(ip), values=reasons),
            Outcome.UNKNOWN,
            route.urn,
            settle=f"add {ip}/32 → Internet to the AzureFirewallSubnet route table (split tunneling, docs/rules.md#firewall-forced-tunneling)",
            finding=Finding.UNKNOWN_FIREWALL,
            hop=here,
        )
    outcome = outcomes.pop()
    if outcome is Outcome.PASS:
        return Step(
            StepKind.FIREWALL,
            Sentence(Say.FIREWALL_SUBNET_INTERNET, subject=fw.origin.name, route=route.ref),
            Outcome.PASS,
            route.urn,
            hop=here,
        )
    if outcome is Outcome.BLOCK:
        fix = route_fix(routes.table, fw_subnet.key, fw_subnet.origin.name, fw_subnet.origin.urn, [str(ip)])
        return Step(
            StepKind.FIREWALL,
            Sentence(Say.FIREWALL_SUBNET_FORCED, subject=fw.origin.name, route=route.ref),
            Outcome.BLOCK,
            route.urn,
            fix=fix,
            finding=Finding.ROUTE_FORCED_TUNNEL,
            hop=here,
        )
    return Step(
        StepKind.FIREWALL,
        Sentence(Say.FIREWALL_SUBNET_UNSEEN, subject=fw.origin.name, route=route.ref),
        Outcome.UNKNOWN,
        route.urn,
        settle=f"add {ip}/32 → Internet to the AzureFirewallSubnet route table (split tunneling, docs/rules.md#firewall-forced-tunneling)",
        finding=Finding.UNKNOWN_FIREWALL,
        hop=here,
    )


def _fw_hop(route: EffectiveRoute) -> Outcome:
    if route.next_hop_type == "Internet":
        return Outcome.PASS
    if route.next_hop_type in ("VirtualNetworkGateway", "None", "VnetLocal", "VNetPeering"):
        return Outcome.BLOCK
    return Outcome.UNKNOWN
