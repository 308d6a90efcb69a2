"""The effective route table of a subnet: system + gateway + user routes (§2, §3)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import cast

from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.match import canonical
from kmsguard.analysis.routes import (
    ZERO,
    EffectiveRoute,
    RouteProblem,
    Source,
    _unknown_user_route,
    system_routes,
    user_routes,
)
from kmsguard.model import RouteTable, Subnet, Unknown, VirtualNetworkGateway
from kmsguard.model.network import MaybeBool


@dataclass(frozen=True, slots=True)
class SubnetRoutes:
    routes: tuple[EffectiveRoute, ...]
    problems: tuple[RouteProblem, ...]
    table: RouteTable | None
    # True: gateway routes not installed; None: propagation state unknown.
    propagation_disabled: bool | None


def route_table_of(index: NetworkIndex, subnet: Subnet) -> RouteTable | None:
    ref = subnet.route_table
    return index.network.route_tables.get(ref) if isinstance(ref, str) else None


def subnet_routes(
    index: NetworkIndex, subnet: Subnet, *, firewall_forced_tunnel: bool | None = None
) -> SubnetRoutes:
    """Build the effective routes; ``firewall_forced_tunnel`` is set for an AzureFirewallSubnet.

    A firewall without a management NIC cannot be forced-tunneled: Azure disables default routes on
    its subnet that do not go to the Internet (§3.3, F1), so those are dropped for it.

    Memoised per index: a hub's firewall subnet is asked once per spoke subnet and endpoint, and
    its system routes hold one peering route per spoke. An entry holds the subnet and route table it
    was built from, so it stays valid in a repair copy that changed other tables
    (``NetworkIndex.derive``).
    """
    key = ("subnet-routes", subnet.key, firewall_forced_tunnel)
    cached = index.cache("subnet-routes").get(key)
    table = route_table_of(index, subnet)
    if isinstance(cached, tuple) and cached[0] is subnet and cached[1] is table:
        return cast(SubnetRoutes, cached[2])
    result = _subnet_routes(index, subnet, firewall_forced_tunnel)
    index.cache("subnet-routes")[key] = (subnet, table, result)
    return result


def _subnet_routes(index: NetworkIndex, subnet: Subnet, firewall_forced_tunnel: bool | None) -> SubnetRoutes:
    network = index.network
    vnet = network.vnets.get(subnet.vnet) if isinstance(subnet.vnet, str) else None
    routes = system_routes(network, vnet)
    problems: list[RouteProblem] = []

    table = route_table_of(index, subnet)
    ref = subnet.route_table
    propagation_disabled: bool | None = False
    user: list[EffectiveRoute] = []
    if isinstance(ref, Unknown):
        user.append(
            _unknown_user_route(f"route table of subnet {subnet.origin.name}", ref.why, subnet.origin.urn)
        )
        propagation_disabled = None
    elif isinstance(ref, str) and table is None:
        user.append(
            _unknown_user_route(
                f"route table {ref}",
                "it is outside the stack; describe it or check its routes",
                subnet.origin.urn,
            )
        )
        propagation_disabled = None
    elif table is not None:
        user = user_routes(table, problems, index.cache("user-route"))
        propagation_disabled = _propagation_disabled(table.disable_bgp_route_propagation)

    routes.extend(_gateway_routes(index, subnet, propagation_disabled))
    vwan = _vwan_routes(index, subnet, propagation_disabled)
    routes.extend(vwan)
    if vwan:
        # §3.4 UNCONFIRMED: whether spoke route tables are honoured when a secured Virtual WAN hub
        # propagates its 0.0.0.0/0, so the spoke's user routes may or may not apply.
        why = "whether spoke route tables are honoured behind a secured Virtual WAN hub is not documented (docs/rules.md#virtual-wan)"
        user = [r if r.uncertain else dataclasses.replace(r, uncertain=why) for r in user]
    routes.extend(user)

    if firewall_forced_tunnel is False:
        routes = [
            r
            for r in routes
            if not (r.prefix == ZERO and r.source is not Source.DEFAULT and r.next_hop_type != "Internet")
        ]
    return SubnetRoutes(tuple(routes), tuple(problems), table, propagation_disabled)


def _propagation_disabled(value: MaybeBool) -> bool | None:
    if isinstance(value, Unknown):
        return None
    return bool(value)


def _gateways_for(index: NetworkIndex, subnet: Subnet) -> list[tuple[VirtualNetworkGateway | None, str, str]]:
    """Gateways whose routes reach the subnet: its VNet's own, and a hub's through gateway transit.

    Returns (gateway or None when only its existence is known, how it is reached, why uncertain).
    """
    network = index.network
    out: list[tuple[VirtualNetworkGateway | None, str, str]] = []
    vnet_ref = subnet.vnet
    if isinstance(vnet_ref, str):
        out.extend((g, "", "") for g in index.gateways_by_vnet.get(vnet_ref, ()))
        vnet = network.vnets.get(vnet_ref)
        if vnet is not None and not isinstance(vnet.peerings, Unknown):
            for peering in vnet.peerings:
                transit = peering.use_remote_gateways
                if not transit:
                    continue
                maybe = "" if transit is True else f"useRemoteGateways of peering {peering.name} unknown"
                remote = peering.remote_vnet
                if isinstance(remote, str) and remote in network.vnets:
                    for g in index.gateways_by_vnet.get(remote, ()):
                        out.append((g, f"through peering {peering.name} (gateway transit)", maybe))
                else:
                    # §2.2: the hub's gateway routes reach spokes that use remote gateways.
                    out.append(
                        (
                            None,
                            f"through peering {peering.name} (gateway transit)",
                            maybe or f"the remote VNet of peering {peering.name} is outside the stack",
                        )
                    )
    for g in index.gateways_vnet_unknown:
        out.append((g, "", f"the VNet of gateway {g.origin.name} is unknown"))
    return out


def _gateway_routes(index: NetworkIndex, subnet: Subnet, disabled: bool | None) -> list[EffectiveRoute]:
    routes: list[EffectiveRoute] = []
    for gateway, via, maybe in _gateways_for(index, subnet):
        suffix = f" {via}" if via else ""
        if gateway is None:
            if disabled is not True:
                routes.append(
                    _possible_default(
                        f"VNet gateway{suffix}",
                        f"{maybe}; its gateway may advertise 0.0.0.0/0 (docs/rules.md#bgp-routes)",
                        None,
                    )
                )
            continue
        name = gateway.origin.name
        kind = canonical(gateway.gateway_type) if isinstance(gateway.gateway_type, str) else None
        # §3.1: a Default Site on a VPN gateway is an implicit 0/0 → gateway on every subnet.
        if gateway.default_site is not None and kind in ("vpn", None):
            origin = f"VPN gateway {name} Default Site (forced tunneling){suffix}"
            why = ""
            if isinstance(gateway.default_site, Unknown):
                why = f"whether gatewayDefaultSite is set is unknown ({gateway.default_site.why})"
            elif disabled is not False:
                # §3.1 UNCONFIRMED: whether disabled propagation suppresses the Default Site route.
                why = (
                    "route propagation is disabled on the subnet's route table; whether that suppresses the "
                    "Default Site route is not documented (docs/rules.md#vpn-default-site)"
                    if disabled
                    else "route propagation state unknown"
                )
            elif via:
                why = "whether a hub's Default Site forces spoke traffic through transit is not documented (docs/rules.md#vpn-default-site)"
            elif maybe:
                why = maybe
            routes.append(
                EffectiveRoute(
                    ZERO,
                    "0.0.0.0/0",
                    Source.GATEWAY,
                    "VirtualNetworkGateway",
                    None,
                    gateway.key,
                    origin,
                    gateway.origin.urn,
                    uncertain=why,
                )
            )
        if disabled is True:
            continue  # §2.5: no gateway routes on this subnet.
        if gateway.learned_routes is not None:
            for learned in gateway.learned_routes:
                from kmsguard.analysis.match import parse_prefix
                from kmsguard.analysis.routes import canonical_next_hop

                prefix = parse_prefix(learned.address_prefix)
                hop = canonical_next_hop(learned.next_hop_type) or Unknown("invalid next hop")
                routes.append(
                    EffectiveRoute(
                        prefix,
                        learned.address_prefix,
                        Source.GATEWAY,
                        hop,
                        None,
                        gateway.key,
                        f"BGP route learned by {name}{suffix}",
                        gateway.origin.urn,
                        uncertain=""
                        if (prefix is not None and not maybe and disabled is False)
                        else "route uncertain",
                    )
                )
            continue
        bgp = _bgp_reason(gateway, kind)
        if bgp:
            why = f"{bgp}{suffix}; its BGP routes are not in ARM data, so an on-premises 0.0.0.0/0 may be learned (docs/rules.md#bgp-routes)"
            if disabled is None:
                why += "; route propagation state unknown"
            routes.append(_possible_default(f"BGP routes of gateway {name}{suffix}", why, gateway))
    if isinstance(subnet.vnet, str) and disabled is not True:
        # A Route Server whose VNet is unknown may be in this subnet's VNet (unknown is never a pass).
        servers = [
            *index.route_servers_by_vnet.get(subnet.vnet, ()),
            *index.route_servers_vnet_unknown,
        ]
        for server in servers:
            maybe = "; its VNet is unknown" if isinstance(server.vnet, Unknown) else ""
            routes.append(
                EffectiveRoute(
                    ZERO,
                    "0.0.0.0/0",
                    Source.GATEWAY,
                    "VirtualAppliance",
                    Unknown("NVA next hop advertised through Route Server"),
                    None,
                    f"Route Server {server.origin.name}",
                    server.origin.urn,
                    uncertain=(
                        f"Route Server {server.origin.name}: NVAs may advertise 0.0.0.0/0 to every subnet (docs/rules.md#bgp-routes){maybe}"
                    ),
                )
            )
    return routes


def _bgp_reason(gateway: VirtualNetworkGateway, kind: str | None) -> str:
    name = gateway.origin.name
    if kind == "expressroute":
        return f"ExpressRoute gateway {name}"
    if kind is None:
        return f"gateway {name} of unknown type"
    if kind == "vpn" and gateway.enable_bgp is True:
        return f"BGP-enabled VPN gateway {name}"
    if kind == "vpn" and isinstance(gateway.enable_bgp, Unknown):
        return f"VPN gateway {name} (enableBgp unknown)"
    return ""


def _possible_default(origin: str, why: str, gateway: VirtualNetworkGateway | None) -> EffectiveRoute:
    return EffectiveRoute(
        ZERO,
        "0.0.0.0/0",
        Source.GATEWAY,
        "VirtualNetworkGateway",
        None,
        gateway.key if gateway else None,
        origin,
        gateway.origin.urn if gateway else None,
        uncertain=why,
    )


def _vwan_routes(index: NetworkIndex, subnet: Subnet, disabled: bool | None) -> list[EffectiveRoute]:
    """§3.4: a spoke connection with internet security learns the hub's 0.0.0.0/0."""
    if not isinstance(subnet.vnet, str):
        return []
    network = index.network
    routes = []
    connections = list(index.hub_connections_by_vnet.get(subnet.vnet, ())) + list(
        index.hub_connections_vnet_unknown
    )
    for conn in connections:
        eis = conn.enable_internet_security
        if eis is False:
            continue
        why = ""
        if eis is None:
            # The REST specification declares no default for it (virtualWan.json,
            # HubVirtualNetworkConnectionProperties.enableInternetSecurity: type boolean, no
            # "default"), so an unset flag is not known to be false: unknown is never a pass.
            why = (
                f"enableInternetSecurity of {conn.origin.name} is not set and the REST specification "
                "declares no default for it (docs/rules.md#virtual-wan)"
            )
        elif isinstance(eis, Unknown):
            why = f"enableInternetSecurity of {conn.origin.name} unknown"
        elif isinstance(conn.vnet, Unknown):
            why = f"the VNet of hub connection {conn.origin.name} is unknown"
        elif disabled is not False:
            why = "route propagation is disabled or unknown on the subnet's route table; its effect on Virtual WAN routes is not documented"
        hub = network.hubs.get(conn.hub) if isinstance(conn.hub, str) else None
        base = f"Virtual WAN hub connection {conn.origin.name}"
        if hub is None:
            routes.append(
                _possible_default(
                    base,
                    (why + "; " if why else "") + "the hub is outside the stack (docs/rules.md#virtual-wan)",
                    None,
                )
            )
            continue
        if isinstance(hub.internet_next_hop, str):
            routes.append(
                EffectiveRoute(
                    ZERO,
                    "0.0.0.0/0",
                    Source.GATEWAY,
                    "VirtualAppliance",
                    None,
                    hub.internet_next_hop,
                    f"{base}: hub {hub.origin.name} routing intent sends Internet traffic to its firewall",
                    conn.origin.urn,
                    uncertain=why,
                )
            )
        elif hub.forced_tunnel is True:
            routes.append(
                EffectiveRoute(
                    ZERO,
                    "0.0.0.0/0",
                    Source.GATEWAY,
                    "VirtualNetworkGateway",
                    None,
                    None,
                    f"{base}: hub {hub.origin.name} Forced Tunnel mode (0.0.0.0/0 learned from on-premises)",
                    conn.origin.urn,
                    uncertain=why,
                )
            )
        else:
            routes.append(
                _possible_default(
                    base,
                    (why + "; " if why else "")
                    + f"hub {hub.origin.name} has no known Internet routing policy; it may propagate a learned 0.0.0.0/0",
                    None,
                )
            )
    return routes
