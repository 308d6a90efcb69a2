"""One source of the KMS flow (a subnet, or one NIC in it) and what does not depend on the endpoint:
its routes, its filter source, whether a custom 0.0.0.0/0 turns the KMS platform rule off (R4.1),
and the trace hop its steps happen on. Also route selection, remembered per route list.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kmsguard.analysis.effective import SubnetRoutes, subnet_routes
from kmsguard.analysis.filtering import FlowSource
from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.match import IPv4Address, Tri, parse_prefix
from kmsguard.analysis.routes import EffectiveRoute, RouteChoice, Source, default_route_rivals, select
from kmsguard.analysis.settings import Settings
from kmsguard.analysis.verdict import Step
from kmsguard.catalog import Cloud
from kmsguard.model import IpConfiguration, NetworkInterface, Subnet, Unknown, VirtualNetwork


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
    # The source as a trace hop: the NIC's model key, else the subnet's (see ``Step.hop``).
    hop: str = ""


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
    ctx.hop = nic.key if nic is not None else subnet.key
    ctx.scale_set_flexible = _flexible_scale_set(index, subnet, nic)
    _forced_tunnel(ctx)
    return ctx


def _flexible_scale_set(index: NetworkIndex, subnet: Subnet, nic: NetworkInterface | None) -> Tri:
    """§5.2/§5.3 (O1): a Flexible-orchestration scale set's VMs never get default outbound access.
    For a NIC, its own scale set. For the subnet (any VM in it, a new standalone one included), only a
    scale set placed there whose NICs are not judged one by one: those that are carry their own
    verdicts (a load balancer's outbound rule may give them egress), which the subnet's counts."""
    if nic is not None:
        return index.flexible_by_nic.get(nic.key, Tri.NO)
    return index.flexible_by_vm_subnet.get(subnet.key, Tri.NO)


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
    choice = default_route(ctx.index, ctx.routes.routes)
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


def select_route(index: NetworkIndex, routes: tuple[EffectiveRoute, ...], ip: IPv4Address) -> RouteChoice:
    """``select``, remembered per route list: a subnet's NICs share its effective routes."""
    return index.remember("route-select", (id(routes), ip), routes, lambda: select(routes, ip))


def default_route(index: NetworkIndex, routes: tuple[EffectiveRoute, ...]) -> RouteChoice:
    """``default_route_rivals``, remembered per route list: asked once per NIC and endpoint."""
    return index.remember("default-route", id(routes), routes, lambda: default_route_rivals(routes))
