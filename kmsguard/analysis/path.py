"""The KMS path of one endpoint from one source (subnet or NIC): the §0.1 pipeline.

DNS (§7) → filtering at the source (§4) → route selection (§2, §3) → next hop: Internet egress
(§5), Azure Firewall (§6), third-party appliance (§3.5), gateway (§3) or drop. Every stage adds
steps to the trace; the verdict combines them (blocked > unknown > reachable).

The source is built in ``source``; filtering and the firewall hop are ``steps.filtering`` and
``steps.firewall``. Route selection and next hops stay here, with the pipeline that calls them.
"""

from __future__ import annotations

import ipaddress

from kmsguard.analysis import dns as dnsmod
from kmsguard.analysis.egress import egress_step
from kmsguard.analysis.fixes import change_route_fix, route_fix
from kmsguard.analysis.match import IPv4Address
from kmsguard.analysis.routes import EffectiveRoute, RouteChoice, Source
from kmsguard.analysis.source import SourceContext, select_route
from kmsguard.analysis.steps.filtering import filtering_steps
from kmsguard.analysis.steps.firewall import firewall_steps
from kmsguard.analysis.trace import Say, Sentence, StepKind
from kmsguard.analysis.verdict import EndpointResult, Fix, Outcome, Step, combine
from kmsguard.catalog import KMS_PORT, Endpoint
from kmsguard.findings import Finding
from kmsguard.model import Unknown


def evaluate_endpoint(ctx: SourceContext, endpoint: Endpoint) -> EndpointResult:
    ip = ipaddress.IPv4Address(endpoint.ip)
    steps: list[Step] = []
    steps.append(_dns(ctx, endpoint.fqdn))
    steps.extend(filtering_steps(ctx, ip))
    steps.extend(_routing(ctx, ip))
    for problem in ctx.routes.problems:
        steps.append(
            Step(
                StepKind.INPUT,
                Sentence(Say.INVALID_ROUTE, reason=problem.detail),
                Outcome.UNKNOWN,
                problem.urn,
                settle="fix the invalid route",
                finding=Finding.INVALID_INPUT,
                hop=ctx.hop,
            )
        )
    verdict = combine(s.outcome for s in steps)
    return EndpointResult(endpoint.fqdn, endpoint.ip, verdict, tuple(steps))


def _dns(ctx: SourceContext, fqdn: str) -> Step:
    if fqdn not in ctx.dns_cache:
        resolver = dnsmod.resolver_for(ctx.index, ctx.vnet, ctx.subnet.vnet, ctx.nic)
        s = dnsmod.resolve(ctx.index, resolver, fqdn, ctx.cloud, ctx.settings)
        # The resolver answers for the source, whichever resource configures it.
        ctx.dns_cache[fqdn] = Step(s.kind, s.what, s.outcome, s.urn, s.settle, s.fix, s.finding, ctx.hop)
    return ctx.dns_cache[fqdn]


# --- routing and next hops -----------------------------------------------------------------------


def _routing(ctx: SourceContext, ip: IPv4Address) -> list[Step]:
    choice = select_route(ctx.index, ctx.routes.routes, ip)
    chosen_steps = _next_hop(ctx, choice.chosen, ip, choice)
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
        outcomes.add(combine(s.outcome for s in _next_hop(ctx, rival, ip, None)))
        if len(outcomes) > 1:
            break
    if len(outcomes) == 1:
        return chosen_steps
    reasons = tuple(dict.fromkeys(r.uncertain for r in choice.rivals))
    return [
        Step(
            StepKind.ROUTE,
            Sentence(Say.ROUTE_UNCERTAIN, route=choice.chosen.ref, ip=str(ip), values=reasons),
            Outcome.UNKNOWN,
            choice.chosen.urn,
            settle=f"add a {ip}/32 → Internet route (it wins over any BGP or service-tag route), or make the routes known",
            finding=Finding.UNKNOWN_ROUTE,
            hop=ctx.hop,
        )
    ]


_UNKNOWN_KEY = ("unknown",)

# Next hops that never reach KMS from an Azure public IP, and what the trace says of each.
_BLOCKING_HOPS = {
    "None": Say.ROUTE_DROP,
    "VnetLocal": Say.ROUTE_VNET,
    "VNetPeering": Say.ROUTE_VNET,
    "VirtualNetworkGateway": Say.ROUTE_GATEWAY,
}


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


def _route_step(
    ctx: SourceContext,
    say: Say,
    route: EffectiveRoute,
    ip: IPv4Address,
    outcome: Outcome = Outcome.INFO,
    *,
    other: str = "",
    reason: str = "",
    settle: str = "",
    fix: Fix | None = None,
    finding: Finding | None = None,
) -> Step:
    """A step about the route selected for ``ip`` at the source."""
    return Step(
        StepKind.ROUTE,
        Sentence(say, route=route.ref, ip=str(ip), other=other, reason=reason),
        outcome,
        route.urn,
        settle=settle,
        fix=fix,
        finding=finding,
        hop=ctx.hop,
    )


def _fix_for_route(ctx: SourceContext, route: EffectiveRoute, ip: IPv4Address) -> Fix:
    table = ctx.routes.table
    if (
        table is not None
        and route.source is Source.USER
        and route.prefix is not None
        and route.prefix.prefixlen == 32
        and not isinstance(table.routes, Unknown)
    ):
        # By its place in the table: names may repeat, or read "[secret]" for more than one route.
        at = route.route_index
        original = (
            table.routes[at]
            if 0 <= at < len(table.routes) and table.routes[at].name == route.route_name
            else next((r for r in table.routes if r.name == route.route_name), None)
        )
        if original is not None:
            return change_route_fix(table, original)
    return route_fix(table, ctx.subnet.key, ctx.subnet.origin.name, ctx.subnet.origin.urn, [str(ip)])


def _next_hop(
    ctx: SourceContext, route: EffectiveRoute, ip: IPv4Address, choice: RouteChoice | None
) -> list[Step]:
    hop = route.next_hop_type
    if isinstance(hop, Unknown):
        return [
            _route_step(
                ctx,
                Say.ROUTE_HOP_UNKNOWN,
                route,
                ip,
                Outcome.UNKNOWN,
                reason=hop.why,
                settle=f"add a {ip}/32 → Internet route",
                finding=Finding.UNKNOWN_ROUTE,
            )
        ]
    if hop == "Internet":
        return [
            _route_step(ctx, Say.ROUTE_SELECTED, route, ip, Outcome.PASS),
            egress_step(ctx.index, ctx.subnet, ctx.nic, ctx.ipc, ctx.settings, ctx.scale_set_flexible),
        ]
    if hop in _BLOCKING_HOPS:
        return [
            _route_step(
                ctx,
                _BLOCKING_HOPS[hop],
                route,
                ip,
                Outcome.BLOCK,
                fix=_fix_for_route(ctx, route, ip),
                finding=Finding.ROUTE_FORCED_TUNNEL,
            )
        ]
    if hop == "VirtualAppliance":
        return _appliance(ctx, route, ip)
    return [_route_step(ctx, Say.ROUTE_UNEXPECTED, route, ip, Outcome.UNKNOWN, finding=Finding.UNKNOWN_ROUTE)]


def _appliance(ctx: SourceContext, route: EffectiveRoute, ip: IPv4Address) -> list[Step]:
    network = ctx.index.network
    res = route.next_hop_resource
    settle = f"declare the appliance in egressAppliances if it SNATs to an Azure public IP and allows TCP {KMS_PORT}, or add a {ip}/32 → Internet route"
    if isinstance(res, str):
        fw = network.firewalls.get(res)
        if fw is not None:
            return [
                _route_step(ctx, Say.ROUTE_TO_FIREWALL, route, ip, other=fw.origin.name),
                *firewall_steps(ctx, fw, ip),
            ]
        return [
            _route_step(
                ctx,
                Say.ROUTE_APPLIANCE_OUTSIDE,
                route,
                ip,
                Outcome.UNKNOWN,
                other=res,
                settle=settle,
                finding=Finding.UNKNOWN_APPLIANCE,
            )
        ]
    if isinstance(res, Unknown):
        return [
            _route_step(
                ctx,
                Say.ROUTE_APPLIANCE_UNKNOWN,
                route,
                ip,
                Outcome.UNKNOWN,
                reason=res.why,
                settle=settle,
                finding=Finding.UNKNOWN_APPLIANCE,
            )
        ]
    nh = route.next_hop_ip
    if isinstance(nh, Unknown):
        return [
            _route_step(
                ctx,
                Say.ROUTE_NEXT_HOP_IP_UNKNOWN,
                route,
                ip,
                Outcome.UNKNOWN,
                reason=nh.why,
                settle=settle,
                finding=Finding.UNKNOWN_APPLIANCE,
            )
        ]
    if nh is None:
        return [
            _route_step(
                ctx,
                Say.ROUTE_NO_NEXT_HOP_IP,
                route,
                ip,
                Outcome.UNKNOWN,
                settle="set nextHopIpAddress",
                finding=Finding.INVALID_INPUT,
            )
        ]
    fw = ctx.index.firewall_by_ip.get(nh)
    if fw is not None:
        return [
            _route_step(ctx, Say.ROUTE_TO_FIREWALL, route, ip, other=fw.origin.name),
            *firewall_steps(ctx, fw, ip),
        ]
    if nh in ctx.settings.onprem_appliances:
        return [
            _route_step(
                ctx,
                Say.ROUTE_ONPREM_APPLIANCE,
                route,
                ip,
                Outcome.BLOCK,
                other=nh,
                fix=_fix_for_route(ctx, route, ip),
                finding=Finding.ROUTE_FORCED_TUNNEL,
            )
        ]
    if nh in ctx.settings.egress_appliances:
        return [
            _route_step(ctx, Say.ROUTE_SELECTED, route, ip),
            Step(StepKind.APPLIANCE, Sentence(Say.APPLIANCE_DECLARED, subject=nh), Outcome.PASS, hop=ctx.hop),
        ]
    return [
        _route_step(
            ctx,
            Say.ROUTE_THIRD_PARTY,
            route,
            ip,
            Outcome.UNKNOWN,
            other=nh,
            settle=settle,
            finding=Finding.UNKNOWN_APPLIANCE,
        )
    ]
