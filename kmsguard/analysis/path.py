"""The KMS path of one endpoint from one source (subnet or NIC): the §0.1 pipeline.

DNS (§7) → filtering at the source (§4) → route selection (§2, §3) → next hop: Internet egress
(§5), Azure Firewall (§6), third-party appliance (§3.5), gateway (§3) or drop. Every stage adds
steps to the trace; the verdict combines them (blocked > unknown > reachable).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import cast

from kmsguard.analysis import dns as dnsmod
from kmsguard.analysis.effective import SubnetRoutes, subnet_routes
from kmsguard.analysis.egress import egress_step
from kmsguard.analysis.filtering import (
    ALLOW,
    ALWAYS_ALLOW,
    DENY,
    Decision,
    FlowSource,
    evaluate_admin_rules,
    evaluate_nsg,
    lkm_denies,
    lkm_fix,
    nsg_allow_fix,
)
from kmsguard.analysis.firewall import firewall_decision, firewall_rule_fix, public_ip_step, snat_applies
from kmsguard.analysis.fixes import change_route_fix, route_fix
from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.match import IPv4Address, Tri, canonical, parse_prefix
from kmsguard.analysis.routes import EffectiveRoute, RouteChoice, Source, default_route_rivals, select
from kmsguard.analysis.settings import Settings
from kmsguard.analysis.verdict import EndpointResult, Fix, Outcome, Step, combine
from kmsguard.catalog import KMS_PORT, Cloud, Endpoint
from kmsguard.findings import Finding
from kmsguard.model import (
    AzureFirewall,
    IpConfiguration,
    NetworkInterface,
    NetworkSecurityGroup,
    Subnet,
    Unknown,
    VirtualNetwork,
)


@dataclass
class SourceContext:
    """Everything about one source that does not depend on the endpoint, computed once."""

    index: NetworkIndex
    settings: Settings
    cloud: Cloud
    subnet: Subnet
    vnet: VirtualNetwork | None
    routes: SubnetRoutes
    src: FlowSource
    nic: NetworkInterface | None = None
    ipc: IpConfiguration | None = None
    scale_set_flexible: Tri = Tri.NO
    forced_tunnel: Tri = Tri.NO
    forced_tunnel_why: str = ""
    forced_tunnel_route: EffectiveRoute | None = None
    dns_cache: dict[str, Step] = field(default_factory=dict)


def build_source(
    index: NetworkIndex,
    settings: Settings,
    cloud: Cloud,
    subnet: Subnet,
    nic: NetworkInterface | None = None,
    ipc: IpConfiguration | None = None,
) -> SourceContext:
    network = index.network
    vnet = network.vnets.get(subnet.vnet) if isinstance(subnet.vnet, str) else None
    routes = subnet_routes(index, subnet)
    prefixes: tuple[ipaddress.IPv4Network, ...] | None = None
    if not isinstance(subnet.address_prefixes, Unknown):
        parsed = [parse_prefix(p) if isinstance(p, str) else None for p in subnet.address_prefixes]
        if parsed and all(p is not None for p in parsed):
            prefixes = tuple(p for p in parsed if p is not None)
    ip = None
    asgs = None
    if ipc is not None:
        if isinstance(ipc.private_ip, str):
            try:
                ip = ipaddress.IPv4Address(ipc.private_ip)
            except ValueError:
                ip = None
        if not isinstance(ipc.asgs, Unknown) and all(isinstance(a, str) for a in ipc.asgs):
            asgs = frozenset(a for a in ipc.asgs if isinstance(a, str))
    ctx = SourceContext(
        index,
        settings,
        cloud,
        subnet,
        vnet,
        routes,
        FlowSource(prefixes, ip, _vnet_space(index, vnet), asgs),
        nic,
        ipc,
    )
    ctx.scale_set_flexible = _flexible_scale_set(index, subnet, nic)
    _forced_tunnel(ctx)
    return ctx


def _flexible_scale_set(index: NetworkIndex, subnet: Subnet, nic: NetworkInterface | None) -> Tri:
    """§5.2/§5.3 (O1): a Flexible-orchestration scale set in the source never gets default outbound
    access. For a NIC, its own scale set; for the subnet (any VM in it), any such scale set there."""
    if nic is not None:
        return index.flexible_by_nic.get(nic.key, Tri.NO)
    found = index.flexible_by_vm_subnet.get(subnet.key, Tri.NO)
    for n, _ in index.nics_by_subnet.get(subnet.key, ()):
        found = max(found, index.flexible_by_nic.get(n.key, Tri.NO))
    return found


def _vnet_space(index: NetworkIndex, vnet: VirtualNetwork | None) -> tuple[ipaddress.IPv4Network, ...] | None:
    """The VirtualNetwork tag: the VNet's and peered VNets' address spaces (§4.2).

    N3 says the tag may also hold UDR prefixes; the doc's scenario 3 expects them not to turn the
    KMS /32s into VirtualNetwork, so they are left out here (UNCONFIRMED #4).
    """
    if vnet is None or isinstance(vnet.address_prefixes, Unknown):
        return None
    out = [n for p in vnet.address_prefixes if isinstance(p, str) and (n := parse_prefix(p)) is not None]
    if not isinstance(vnet.peerings, Unknown):
        for peering in vnet.peerings:
            remote = (
                index.network.vnets.get(peering.remote_vnet) if isinstance(peering.remote_vnet, str) else None
            )
            if remote is not None and not isinstance(remote.address_prefixes, Unknown):
                out.extend(
                    n
                    for p in remote.address_prefixes
                    if isinstance(p, str) and (n := parse_prefix(p)) is not None
                )
    return tuple(out)


def _forced_tunnel(ctx: SourceContext) -> None:
    """R4.1: is a custom 0.0.0.0/0 (user or gateway, next hop not Internet) in effect?"""
    choice = _default_route(ctx.index, ctx.routes.routes)
    candidates = [choice.chosen, *choice.rivals]
    verdicts = {_is_forced(r) for r in candidates}
    ctx.forced_tunnel_route = choice.chosen
    if verdicts == {Tri.YES}:
        ctx.forced_tunnel = Tri.YES
    elif verdicts == {Tri.NO}:
        ctx.forced_tunnel = Tri.NO
    else:
        ctx.forced_tunnel = Tri.MAYBE
        reasons = [r.uncertain for r in choice.rivals if r.uncertain]
        if _is_forced(choice.chosen) is Tri.MAYBE and choice.chosen.next_hop_type == "Internet":
            reasons.insert(
                0,
                f"{choice.chosen.describe()}: whether a user 0.0.0.0/0 → Internet route turns the KMS platform rule off is not documented (docs/rules.md#nsg-platform-rule)",
            )
        ctx.forced_tunnel_why = "; ".join(reasons) or "the 0.0.0.0/0 route is unknown"
        forced = [r for r in candidates if _is_forced(r) is not Tri.NO]
        ctx.forced_tunnel_route = forced[0] if forced else choice.chosen


def _is_forced(route: EffectiveRoute) -> Tri:
    if route.source is Source.DEFAULT:
        return Tri.NO
    if isinstance(route.next_hop_type, Unknown):
        return Tri.MAYBE
    if route.next_hop_type == "Internet":
        return Tri.MAYBE if route.source is Source.USER else Tri.NO
    return Tri.YES


def evaluate_endpoint(ctx: SourceContext, endpoint: Endpoint) -> EndpointResult:
    ip = ipaddress.IPv4Address(endpoint.ip)
    steps: list[Step] = []
    steps.append(_dns(ctx, endpoint.fqdn))
    steps.extend(_filtering(ctx, ip))
    steps.extend(_routing(ctx, ip, endpoint))
    for problem in ctx.routes.problems:
        steps.append(
            Step(
                "input",
                problem.detail,
                Outcome.UNKNOWN,
                problem.urn,
                settle="fix the invalid route",
                finding=Finding.INVALID_INPUT,
            )
        )
    verdict = combine(s.outcome for s in steps)
    return EndpointResult(endpoint.fqdn, endpoint.ip, verdict, tuple(steps))


def _dns(ctx: SourceContext, fqdn: str) -> Step:
    if fqdn not in ctx.dns_cache:
        resolver = dnsmod.resolver_for(ctx.index, ctx.vnet, ctx.subnet.vnet, ctx.nic)
        ctx.dns_cache[fqdn] = dnsmod.resolve(ctx.index, resolver, fqdn, ctx.cloud, ctx.settings)
    return ctx.dns_cache[fqdn]


# --- filtering (§4) ------------------------------------------------------------------------------


def _filtering(ctx: SourceContext, ip: IPv4Address) -> list[Step]:
    steps: list[Step] = []
    admin = _admin(ctx, ip)
    admin_may_always_allow = False
    if admin is not None:
        step, stop, admin_may_always_allow = admin
        steps.append(step)
        if stop:
            return steps
    if ctx.forced_tunnel is Tri.YES:
        steps.append(_ft_note(ctx))
        nsg_steps = _nsg_normal(ctx, ip)
    elif ctx.forced_tunnel is Tri.NO:
        nsg_steps = _nsg_platform(ctx, ip)
    else:
        normal, platform = _nsg_normal(ctx, ip), _nsg_platform(ctx, ip)
        if combine(s.outcome for s in normal) == combine(s.outcome for s in platform):
            nsg_steps = platform if combine(s.outcome for s in platform).value == "reachable" else normal
            nsg_steps = [
                Step(
                    "nsg",
                    f"whether the KMS platform rule applies is unknown ({ctx.forced_tunnel_why}); the NSG outcome is the same either way",
                    Outcome.INFO,
                ),
                *nsg_steps,
            ]
        else:
            nsg_steps = [
                Step(
                    "nsg",
                    f"NSGs decide TCP {KMS_PORT} differently with and without the KMS platform rule, and whether it applies is unknown ({ctx.forced_tunnel_why})",
                    Outcome.UNKNOWN,
                    settle="make the 0.0.0.0/0 route known, or let the NSGs allow TCP 1688 to the KMS IPs",
                    finding=Finding.UNKNOWN_FILTERING,
                ),
                *[s for s in normal if s.outcome is not Outcome.BLOCK],
            ]
    if admin_may_always_allow:
        nsg_steps = [
            Step(
                s.kind,
                s.detail + " (an AVNM AlwaysAllow rule may bypass this)",
                Outcome.UNKNOWN,
                s.urn,
                finding=Finding.UNKNOWN_FILTERING,
            )
            if s.outcome is Outcome.BLOCK
            else s
            for s in nsg_steps
        ]
    steps.extend(nsg_steps)
    return steps


def _ft_note(ctx: SourceContext) -> Step:
    route = ctx.forced_tunnel_route
    desc = route.describe() if route else "custom 0.0.0.0/0 route"
    return Step(
        "nsg",
        f"{desc}: custom 0.0.0.0/0 route in effect, so the KMS platform rule is off and NSGs filter TCP {KMS_PORT} (docs/rules.md#nsg-platform-rule)",
        Outcome.INFO,
        route.urn if route else None,
    )


def _admin(ctx: SourceContext, ip: IPv4Address) -> tuple[Step, bool, bool] | None:
    """§4.1: AVNM admin rules before NSGs. Returns (step, stop evaluation, may AlwaysAllow)."""
    vnet_ref = ctx.subnet.vnet
    rules = (
        [(r, True) for r in ctx.index.admin_rules_by_vnet.get(vnet_ref, ())]
        if isinstance(vnet_ref, str)
        else []
    )
    rules += [(r, False) for r in ctx.index.admin_rules_vnet_unknown]
    if not rules:
        return None
    decision = evaluate_admin_rules(rules, ip, ctx.src, ctx.index.cache("admin-compiled"))
    acts = decision.actions
    if acts == {ALWAYS_ALLOW}:
        return (
            Step(
                "admin-rule",
                f"{decision.rule}: AlwaysAllow; NSGs are not evaluated (docs/rules.md#admin-rules)",
                Outcome.PASS,
            ),
            True,
            True,
        )
    if acts == {DENY}:
        if ctx.forced_tunnel is Tri.YES:
            return (
                Step(
                    "admin-rule",
                    f"{decision.rule}: denied (docs/rules.md#admin-rules)",
                    Outcome.BLOCK,
                    fix=Fix(
                        "change-admin-rule",
                        decision.rule,
                        None,
                        f"{decision.rule}: let outbound TCP {KMS_PORT} to the KMS IPs through (an AlwaysAllow rule with a lower priority number)",
                    ),
                    finding=Finding.ADMIN_RULE_DENY,
                ),
                True,
                False,
            )
        return (
            Step(
                "admin-rule",
                f"{decision.rule}: Deny; how an admin Deny interacts with the KMS platform rule is not documented (docs/rules.md#admin-rules)",
                Outcome.UNKNOWN,
                settle="exclude TCP 1688 to the KMS IPs from the admin Deny rule",
                finding=Finding.UNKNOWN_FILTERING,
            ),
            True,
            False,
        )
    if acts == {ALLOW}:
        if decision.rule:
            return (
                Step(
                    "admin-rule",
                    f"{decision.rule}: Allow; evaluation continues with the NSGs (docs/rules.md#admin-rules)",
                    Outcome.INFO,
                ),
                False,
                False,
            )
        return Step("admin-rule", f"no AVNM admin rule matches TCP {KMS_PORT}", Outcome.INFO), False, False
    return (
        Step(
            "admin-rule",
            f"AVNM admin rules: outcome unknown ({'; '.join(decision.why)})",
            Outcome.UNKNOWN,
            settle="make the admin rules known",
            finding=Finding.UNKNOWN_FILTERING,
        ),
        False,
        ALWAYS_ALLOW in acts,
    )


def _nsgs(ctx: SourceContext) -> list[tuple[str, NetworkSecurityGroup | None, str, str | None]]:
    """(level, NSG or None, problem, urn) for the NIC then the subnet (§4.1: NIC first)."""
    out: list[tuple[str, NetworkSecurityGroup | None, str, str | None]] = []
    for level, ref, owner in (
        ("NIC", ctx.nic.nsg if ctx.nic else None, ctx.nic),
        ("subnet", ctx.subnet.nsg, ctx.subnet),
    ):
        if ref is None:
            continue
        name = owner.origin.name if owner is not None else ""
        urn = owner.origin.urn if owner is not None else None
        if isinstance(ref, Unknown):
            out.append((level, None, f"the NSG of {level} {name} is unknown ({ref.why})", urn))
        elif ref not in ctx.index.network.nsgs:
            out.append((level, None, f"NSG {ref} of {level} {name} is outside the stack", urn))
        else:
            out.append((level, ctx.index.network.nsgs[ref], "", urn))
    return out


def _nsg_normal(ctx: SourceContext, ip: IPv4Address) -> list[Step]:
    steps: list[Step] = []
    nsgs = _nsgs(ctx)
    if not nsgs:
        return [Step("nsg", "no NSG on the NIC or the subnet: nothing filters the flow", Outcome.PASS)]
    for _level, nsg, problem, urn in nsgs:
        if nsg is None:
            steps.append(
                Step(
                    "nsg",
                    f"{problem}; cannot tell whether it allows TCP {KMS_PORT}",
                    Outcome.UNKNOWN,
                    urn,
                    settle="describe the NSG in the stack",
                    finding=Finding.UNKNOWN_FILTERING,
                )
            )
            continue
        decision = _nsg_decision(ctx, nsg, ip)
        act = decision.decided
        if act == DENY:
            fix = nsg_allow_fix(nsg, decision.rule_priority, sorted(ctx.cloud.ips, key=_ip_key))
            steps.append(
                Step(
                    "nsg",
                    f"{decision.rule}: denied",
                    Outcome.BLOCK,
                    nsg.origin.urn,
                    fix=fix,
                    finding=Finding.NSG_DENY,
                )
            )
            return steps  # §4.1: a NIC-level deny ends evaluation.
        if act == ALLOW:
            steps.append(Step("nsg", f"{decision.rule}: allowed", Outcome.PASS, nsg.origin.urn))
        else:
            steps.append(
                Step(
                    "nsg",
                    f"NSG {nsg.origin.name}: cannot tell whether TCP {KMS_PORT} to {ip} is allowed ({'; '.join(decision.why) or 'rules unknown'})",
                    Outcome.UNKNOWN,
                    nsg.origin.urn,
                    settle="make the NSG rules known, or add an explicit Allow for TCP 1688 to the KMS IPs",
                    finding=Finding.UNKNOWN_FILTERING,
                )
            )
    return steps


def _select(index: NetworkIndex, routes: tuple[EffectiveRoute, ...], ip: IPv4Address) -> RouteChoice:
    """``select``, remembered per route list: a subnet's NICs share its effective routes."""
    key = (id(routes), ip)
    cache = index.cache("route-select")
    hit = cache.get(key)
    if isinstance(hit, tuple) and hit[0] is routes:
        return cast(RouteChoice, hit[1])
    choice = select(routes, ip)
    cache[key] = (routes, choice)
    return choice


def _default_route(index: NetworkIndex, routes: tuple[EffectiveRoute, ...]) -> RouteChoice:
    """``default_route_rivals``, remembered per route list: asked once per NIC and endpoint."""
    cache = index.cache("default-route")
    hit = cache.get(id(routes))
    if isinstance(hit, tuple) and hit[0] is routes:
        return cast(RouteChoice, hit[1])
    choice = default_route_rivals(routes)
    cache[id(routes)] = (routes, choice)
    return choice


def _nsg_decision(ctx: SourceContext, nsg: NetworkSecurityGroup, ip: IPv4Address) -> Decision:
    """``evaluate_nsg``, remembered: a subnet and each of its NICs usually ask the same question of
    the same NSG (rules walked in priority order, up to 1,000 of them). The NSG object is part of the
    key and kept in the entry, so the entry stays valid in the repair loop's copies of the network."""
    key = ("nsg-decision", id(nsg), ip, ctx.src)
    hit = ctx.index.cache("nsg-decision").get(key)
    if isinstance(hit, tuple) and hit[0] is nsg:
        return cast(Decision, hit[1])
    decision, _ = evaluate_nsg(nsg, ip, ctx.src, ctx.index.cache("nsg-compiled"))
    ctx.index.cache("nsg-decision")[key] = (nsg, decision)
    return decision


def _nsg_platform(ctx: SourceContext, ip: IPv4Address) -> list[Step]:
    steps: list[Step] = []
    for _level, nsg, problem, urn in _nsgs(ctx):
        if nsg is None:
            steps.append(
                Step(
                    "nsg",
                    f"{problem}; it may deny AzurePlatformLKM",
                    Outcome.UNKNOWN,
                    urn,
                    settle="describe the NSG in the stack",
                    finding=Finding.UNKNOWN_FILTERING,
                )
            )
            continue
        match, desc, rule = lkm_denies(nsg, ip, ctx.src, ctx.index.cache("nsg-compiled"))
        if match is Tri.YES and rule is not None:
            steps.append(
                Step(
                    "nsg",
                    f"{desc}: Deny to AzurePlatformLKM overrides the KMS platform rule (docs/rules.md#nsg-platform-rule)",
                    Outcome.BLOCK,
                    rule.urn or nsg.origin.urn,
                    fix=lkm_fix(nsg, rule),
                    finding=Finding.NSG_LKM_DENY,
                )
            )
        elif match is Tri.MAYBE:
            steps.append(
                Step(
                    "nsg",
                    f"{desc or 'NSG ' + nsg.origin.name}: may deny AzurePlatformLKM",
                    Outcome.UNKNOWN,
                    nsg.origin.urn,
                    settle="make the rule known",
                    finding=Finding.UNKNOWN_FILTERING,
                )
            )
    if not any(s.outcome is not Outcome.PASS for s in steps):
        steps.append(
            Step(
                "nsg",
                f"KMS platform rule: no custom 0.0.0.0/0 route is in effect, so NSGs do not filter TCP {KMS_PORT} to the KMS IPs (docs/rules.md#nsg-platform-rule)",
                Outcome.PASS,
            )
        )
    return steps


# --- routing and next hops -----------------------------------------------------------------------


def _routing(ctx: SourceContext, ip: IPv4Address, endpoint: Endpoint) -> list[Step]:
    choice = _select(ctx.index, ctx.routes.routes, ip)
    chosen_steps = _next_hop(ctx, choice.chosen, ip, endpoint, choice)
    if choice.decided or not choice.rivals:
        return chosen_steps
    outcomes = {combine(s.outcome for s in chosen_steps)}
    # Rivals with the same next hop have the same outcome: with many candidates for one reference
    # (resources sharing a name), each distinct next hop is evaluated once, and two outcomes settle it.
    seen = {_hop_key(choice.chosen)}
    for rival in choice.rivals:
        key = _hop_key(rival)
        if key in seen:
            continue
        seen.add(key)
        outcomes.add(combine(s.outcome for s in _next_hop(ctx, rival, ip, endpoint, None)))
        if len(outcomes) > 1:
            break
    if len(outcomes) == 1:
        return chosen_steps
    reasons = "; ".join(dict.fromkeys(r.uncertain for r in choice.rivals))
    return [
        Step(
            "route",
            f"route for {ip}: {choice.chosen.describe()} unless another route applies ({reasons})",
            Outcome.UNKNOWN,
            choice.chosen.urn,
            settle=f"add a {ip}/32 → Internet route (it wins over any BGP or service-tag route), or make the routes known",
            finding=Finding.UNKNOWN_ROUTE,
        )
    ]


_UNKNOWN_KEY = ("unknown",)


def _hop_key(route: EffectiveRoute) -> tuple[object, ...]:
    """What the outcome of ``_next_hop`` depends on in a route (its texts and fixes aside)."""
    hop = route.next_hop_type
    if not isinstance(hop, str):
        return _UNKNOWN_KEY
    if hop != "VirtualAppliance":
        return (hop,)
    res, nh = route.next_hop_resource, route.next_hop_ip
    return (
        hop,
        _UNKNOWN_KEY if isinstance(res, Unknown) else res,
        _UNKNOWN_KEY if isinstance(nh, Unknown) else nh,
    )


def _route_detail(route: EffectiveRoute, ip: IPv4Address) -> str:
    return f"{route.describe()} (selected for {ip})"


def _fix_for_route(ctx: SourceContext, route: EffectiveRoute, ip: IPv4Address) -> Fix:
    table = ctx.routes.table
    if (
        table is not None
        and route.source is Source.USER
        and route.prefix is not None
        and route.prefix.prefixlen == 32
        and not isinstance(table.routes, Unknown)
    ):
        original = next((r for r in table.routes if r.name == route.route_name), None)
        if original is not None:
            return change_route_fix(table, original)
    return route_fix(table, ctx.subnet.key, ctx.subnet.origin.name, ctx.subnet.origin.urn, [str(ip)])


def _next_hop(
    ctx: SourceContext, route: EffectiveRoute, ip: IPv4Address, endpoint: Endpoint, choice: RouteChoice | None
) -> list[Step]:
    hop = route.next_hop_type
    detail = _route_detail(route, ip)
    if isinstance(hop, Unknown):
        return [
            Step(
                "route",
                f"{detail}: next hop unknown ({hop.why})",
                Outcome.UNKNOWN,
                route.urn,
                settle=f"add a {ip}/32 → Internet route",
                finding=Finding.UNKNOWN_ROUTE,
            )
        ]
    if hop == "Internet":
        return [
            Step("route", detail, Outcome.PASS, route.urn),
            egress_step(ctx.index, ctx.subnet, ctx.nic, ctx.ipc, ctx.settings, ctx.scale_set_flexible),
        ]
    if hop == "None":
        return [
            Step(
                "route",
                f"{detail}: next hop None drops the traffic (docs/rules.md#user-defined-routes)",
                Outcome.BLOCK,
                route.urn,
                fix=_fix_for_route(ctx, route, ip),
                finding=Finding.ROUTE_FORCED_TUNNEL,
            )
        ]
    if hop in ("VnetLocal", "VNetPeering"):
        return [
            Step(
                "route",
                f"{detail}: the KMS IP is routed inside the virtual network and never reaches KMS",
                Outcome.BLOCK,
                route.urn,
                fix=_fix_for_route(ctx, route, ip),
                finding=Finding.ROUTE_FORCED_TUNNEL,
            )
        ]
    if hop == "VirtualNetworkGateway":
        return [
            Step(
                "route",
                f"{detail}: traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP (docs/rules.md#azure-public-source)",
                Outcome.BLOCK,
                route.urn,
                fix=_fix_for_route(ctx, route, ip),
                finding=Finding.ROUTE_FORCED_TUNNEL,
            )
        ]
    if hop == "VirtualAppliance":
        return _appliance(ctx, route, ip, endpoint, detail)
    return [
        Step(
            "route",
            f"{detail}: unexpected next hop",
            Outcome.UNKNOWN,
            route.urn,
            finding=Finding.UNKNOWN_ROUTE,
        )
    ]


def _appliance(
    ctx: SourceContext, route: EffectiveRoute, ip: IPv4Address, endpoint: Endpoint, detail: str
) -> list[Step]:
    network = ctx.index.network
    res = route.next_hop_resource
    settle = f"declare the appliance in egressAppliances if it SNATs to an Azure public IP and allows TCP {KMS_PORT}, or add a {ip}/32 → Internet route"
    if isinstance(res, str):
        fw = network.firewalls.get(res)
        if fw is not None:
            return [
                Step("route", f"{detail} (Azure Firewall {fw.origin.name})", Outcome.INFO, route.urn),
                *_firewall(ctx, fw, ip, endpoint),
            ]
        return [
            Step(
                "route",
                f"{detail}: the appliance {res} is outside the stack",
                Outcome.UNKNOWN,
                route.urn,
                settle=settle,
                finding=Finding.UNKNOWN_APPLIANCE,
            )
        ]
    if isinstance(res, Unknown):
        return [
            Step(
                "route",
                f"{detail}: the appliance is unknown ({res.why})",
                Outcome.UNKNOWN,
                route.urn,
                settle=settle,
                finding=Finding.UNKNOWN_APPLIANCE,
            )
        ]
    nh = route.next_hop_ip
    if isinstance(nh, Unknown):
        return [
            Step(
                "route",
                f"{detail}: next hop IP unknown at preview and not traced to an Azure Firewall ({nh.why})",
                Outcome.UNKNOWN,
                route.urn,
                settle=settle,
                finding=Finding.UNKNOWN_APPLIANCE,
            )
        ]
    if nh is None:
        return [
            Step(
                "route",
                f"{detail}: VirtualAppliance route without nextHopIpAddress (invalid, docs/rules.md#user-defined-routes)",
                Outcome.UNKNOWN,
                route.urn,
                settle="set nextHopIpAddress",
                finding=Finding.INVALID_INPUT,
            )
        ]
    fw = ctx.index.firewall_by_ip.get(nh)
    if fw is not None:
        return [
            Step("route", f"{detail} (Azure Firewall {fw.origin.name})", Outcome.INFO, route.urn),
            *_firewall(ctx, fw, ip, endpoint),
        ]
    if nh in ctx.settings.onprem_appliances:
        return [
            Step(
                "route",
                f"{detail}: appliance {nh} forwards Internet traffic on-premises (config egressAppliances), so KMS sees "
                "a non-Azure source IP (docs/rules.md#third-party-appliances)",
                Outcome.BLOCK,
                route.urn,
                fix=_fix_for_route(ctx, route, ip),
                finding=Finding.ROUTE_FORCED_TUNNEL,
            )
        ]
    if nh in ctx.settings.egress_appliances:
        return [
            Step("route", detail, Outcome.INFO, route.urn),
            Step(
                "appliance",
                f"appliance {nh} is declared in egressAppliances: it SNATs to an Azure public IP and allows TCP {KMS_PORT} (config)",
                Outcome.PASS,
            ),
        ]
    return [
        Step(
            "route",
            f"{detail}: third-party appliance {nh}; what it does with KMS traffic cannot be seen (docs/rules.md#third-party-appliances)",
            Outcome.UNKNOWN,
            route.urn,
            settle=settle,
            finding=Finding.UNKNOWN_APPLIANCE,
        )
    ]


def _ip_key(s: str) -> tuple[int, ...]:
    return tuple(int(p) for p in s.split("."))


def _fqdn_ips(ctx: SourceContext, fw: AzureFirewall, proxy: bool) -> dict[str, tuple[str, ...]] | None:
    """What the firewall resolves the KMS names to (R6.1: only with the DNS proxy on)."""
    if not proxy:
        return None
    return dict(ctx.cloud.resolution)


def _firewall(ctx: SourceContext, fw: AzureFirewall, ip: IPv4Address, endpoint: Endpoint) -> list[Step]:
    steps: list[Step] = []
    index = ctx.index
    proxy = dnsmod.firewall_dns_proxy(index, fw.key)
    variants = [proxy] if isinstance(proxy, bool) else [True, False]
    decisions = [firewall_decision(index, fw, ip, ctx.src, _fqdn_ips(ctx, fw, bool(p))) for p in variants]
    actions = frozenset().union(*(d[0] for d in decisions))
    _, desc, deciding, why = decisions[0]
    src_prefixes = [str(p) for p in ctx.src.prefixes] if ctx.src.prefixes else []
    if actions == {ALLOW}:
        steps.append(
            Step(
                "firewall",
                f"{desc}: TCP {KMS_PORT} to {ip} allowed",
                Outcome.PASS,
                deciding.urn if deciding else fw.origin.urn,
            )
        )
    elif actions == {DENY}:
        fix = firewall_rule_fix(index, fw, deciding, ctx.cloud, src_prefixes)
        notes = "".join(f"; {w}" for w in dict.fromkeys(why) if "#firewall-fqdn-rules" in w)
        if desc:
            steps.append(
                Step(
                    "firewall",
                    f"{desc}: TCP {KMS_PORT} to {ip} denied{notes}",
                    Outcome.BLOCK,
                    deciding.urn if deciding else fw.origin.urn,
                    fix=fix,
                    finding=Finding.FIREWALL_NO_RULE,
                )
            )
        else:
            steps.append(
                Step(
                    "firewall",
                    f"Azure Firewall {fw.origin.name}: no network rule allows TCP {KMS_PORT} to {ip}, so the default deny drops it (docs/rules.md#firewall-default-deny){notes}",
                    Outcome.BLOCK,
                    fw.origin.urn,
                    fix=fix,
                    finding=Finding.FIREWALL_NO_RULE,
                )
            )
    else:
        reasons = "; ".join(dict.fromkeys(w for d in decisions for w in d[3])) or "rules unknown"
        if not isinstance(proxy, bool):
            reasons = f"DNS proxy state unknown; {reasons}"
        steps.append(
            Step(
                "firewall",
                f"Azure Firewall {fw.origin.name}: cannot tell whether TCP {KMS_PORT} to {ip} is allowed ({reasons})",
                Outcome.UNKNOWN,
                fw.origin.urn,
                settle=f"add a network rule allowing TCP {KMS_PORT} to the KMS IPs by address",
                finding=Finding.UNKNOWN_FIREWALL,
            )
        )
    snat, snat_why = snat_applies(index, fw, ip)
    if snat is Tri.NO:
        steps.append(
            Step(
                "firewall",
                snat_why,
                Outcome.BLOCK,
                fw.origin.urn,
                fix=_snat_fix(ctx, fw),
                finding=Finding.FIREWALL_NO_SNAT,
            )
        )
    elif snat is Tri.MAYBE:
        steps.append(
            Step(
                "firewall",
                snat_why,
                Outcome.UNKNOWN,
                fw.origin.urn,
                settle="make the SNAT private ranges known",
                finding=Finding.UNKNOWN_FIREWALL,
            )
        )
    pip = public_ip_step(fw)
    if pip is not None:
        steps.append(pip)
    steps.append(_firewall_egress(ctx, fw, ip))
    return steps


def _snat_fix(ctx: SourceContext, fw: AzureFirewall) -> Fix:
    """One fix per firewall (or policy): drop every private range that covers any KMS IP of the cloud."""
    kms = [ipaddress.IPv4Address(a) for a in sorted(ctx.cloud.ips, key=_ip_key)]
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
    key = ("fw-egress", id(fw), ip)
    hit = ctx.index.cache("fw-egress").get(key)
    if isinstance(hit, tuple) and hit[0] is fw:
        return cast(Step, hit[1])
    step = _firewall_egress_step(ctx.index, fw, ip)
    ctx.index.cache("fw-egress")[key] = (fw, step)
    return step


def _firewall_egress_step(index: NetworkIndex, fw: AzureFirewall, ip: IPv4Address) -> Step:
    if fw.vnet is None:
        return Step(
            "firewall",
            f"Virtual WAN hub firewall {fw.origin.name} egresses from its public IPs (Direct Access, docs/rules.md#virtual-wan)",
            Outcome.PASS,
            fw.origin.urn,
        )
    if isinstance(fw.vnet, Unknown):
        return Step(
            "firewall",
            f"the VNet of firewall {fw.origin.name} is unknown ({fw.vnet.why})",
            Outcome.UNKNOWN,
            fw.origin.urn,
            finding=Finding.UNKNOWN_FIREWALL,
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
                "firewall",
                f"firewall {fw.origin.name} is in forced-tunnel mode and its AzureFirewallSubnet routes are not in the stack",
                Outcome.UNKNOWN,
                fw.origin.urn,
                settle="describe AzureFirewallSubnet and its route table",
                finding=Finding.UNKNOWN_FIREWALL,
            )
        return Step(
            "firewall",
            f"firewall {fw.origin.name} (no management NIC) egresses to the Internet with SNAT to its public IP (docs/rules.md#firewall-snat)",
            Outcome.PASS,
            fw.origin.urn,
        )
    routes = subnet_routes(
        index,
        fw_subnet,
        firewall_forced_tunnel=mgmt
        if isinstance(mgmt, bool)
        else None
        if isinstance(mgmt, Unknown)
        else False,
    )
    choice = _select(index, routes.routes, ip)
    route = choice.chosen
    outcomes = {_fw_hop(route)} | {_fw_hop(r) for r in choice.rivals}
    if len(outcomes) > 1:
        reasons = "; ".join(dict.fromkeys(r.uncertain for r in choice.rivals))
        return Step(
            "firewall",
            f"AzureFirewallSubnet of {fw.origin.name}: route for {ip} uncertain ({reasons})",
            Outcome.UNKNOWN,
            route.urn,
            settle=f"add {ip}/32 → Internet to the AzureFirewallSubnet route table (split tunneling, docs/rules.md#firewall-forced-tunneling)",
            finding=Finding.UNKNOWN_FIREWALL,
        )
    outcome = outcomes.pop()
    text = f"AzureFirewallSubnet of {fw.origin.name}: {route.describe()}"
    if outcome is Outcome.PASS:
        return Step(
            "firewall",
            f"{text}; SNAT to the firewall's public IP (docs/rules.md#firewall-snat)",
            Outcome.PASS,
            route.urn,
        )
    if outcome is Outcome.BLOCK:
        fix = route_fix(routes.table, fw_subnet.key, fw_subnet.origin.name, fw_subnet.origin.urn, [str(ip)])
        return Step(
            "firewall",
            f"{text}: the firewall forwards KMS traffic away from its public IP (forced tunneling, docs/rules.md#firewall-forced-tunneling)",
            Outcome.BLOCK,
            route.urn,
            fix=fix,
            finding=Finding.ROUTE_FORCED_TUNNEL,
        )
    return Step(
        "firewall",
        f"{text}: where that next hop sends KMS traffic cannot be seen",
        Outcome.UNKNOWN,
        route.urn,
        settle=f"add {ip}/32 → Internet to the AzureFirewallSubnet route table (split tunneling, docs/rules.md#firewall-forced-tunneling)",
        finding=Finding.UNKNOWN_FIREWALL,
    )


def _fw_hop(route: EffectiveRoute) -> Outcome:
    if route.next_hop_type == "Internet":
        return Outcome.PASS
    if route.next_hop_type in ("VirtualNetworkGateway", "None", "VnetLocal", "VNetPeering"):
        return Outcome.BLOCK
    return Outcome.UNKNOWN
