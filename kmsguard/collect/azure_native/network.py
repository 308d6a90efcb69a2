"""Virtual networks, subnets, peerings, route tables and NSGs (inline and standalone).

Inline collections and standalone child resources are both read (pulumi-mechanics §3.3): a VNet's
``subnets`` and ``Subnet`` resources naming it, a route table's ``routes`` and ``Route`` resources,
an NSG's ``securityRules`` and ``SecurityRule`` resources, a VNet's ``virtualNetworkPeerings`` and
``VirtualNetworkPeering`` resources. Declaring both on the same parent makes the provider and ARM
overwrite one with the other ("Do not mix inline and standalone resource", §3.3), so that is a
Problem naming both, and both sets are kept (either may be what Azure ends up with).
"""

from __future__ import annotations

from collections.abc import Mapping

from kmsguard.collect.azure_native.refs import appliance_by_deps, ref_list
from kmsguard.collect.azure_native.stack import InlineList, Res, Stack
from kmsguard.collect.azure_native.values import SECRET_PLACEHOLDER, UNK, Node, Secret
from kmsguard.model import (
    NetworkSecurityGroup,
    Origin,
    Peering,
    Problem,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    Unknown,
    VirtualNetwork,
)
from kmsguard.model.network import MaybeRef, MaybeStr, Strs


def location(r: Res) -> MaybeStr:
    """§0 fact 1: azure-native's Check fills ``location`` from provider config or the resource
    group; a bag without it (mocks, a projection) leaves the provider default to apply."""
    value = r.reader.text(r.props, "location", "location")
    return Unknown("location not set; the provider default applies") if value is None else value


def _mixing(r: Res, prop: str, entry: InlineList, child: str) -> Problem | None:
    if not entry.children or not isinstance(entry.items, list) or not entry.items:
        return None
    # pulumi-mechanics §3.3: "Do not mix inline and standalone resource as they will conflict with
    # each other, leading to resources deletion."
    urns = ", ".join(c.urn for c in entry.children)
    return Problem(
        r.name,
        prop,
        f"{r.urn} declares {prop} inline and as standalone {child} resources ({urns}): each deployment "
        f"overwrites the other and can delete them; declare them in one place only (both sets are checked here)",
        r.urn,
    )


def _orphans(stack: Stack, r: Res, kind: str) -> Unknown | None:
    orphans = stack.orphans_of(r.urn, kind)
    if not orphans:
        return None
    names = ", ".join(sorted(o.name for o in orphans))
    return Unknown(f"standalone {kind} {names} may belong to {r.kind} {r.name}")


# --- subnets -------------------------------------------------------------------------------------


def _delegations(r: Res, obj: Mapping[str, Node], prefix: str) -> Strs:
    rd = r.reader
    items = rd.seq(obj, "delegations", f"{prefix}delegations")
    if items is None:
        return ()
    if isinstance(items, Unknown):
        return items
    out: list[str | Unknown] = []
    for i, item in enumerate(items):
        path = f"{prefix}delegations[{i}]"
        d = rd.to_dict(item, path)
        if isinstance(d, Unknown):
            out.append(d)
            continue
        service = rd.text(d, "serviceName", f"{path}.serviceName", "leaf")
        if service is None:
            service = rd.text(d, "name", f"{path}.name", "leaf")
        out.append(service if service is not None else rd.problem(f"{path}.serviceName", "missing"))
    return tuple(out)


# DESIGN: the subnet names the analysis treats specially; any other name only matters for display.
SPECIAL_SUBNETS = frozenset(
    {
        "gatewaysubnet",
        "azurefirewallsubnet",
        "azurefirewallmanagementsubnet",
        "azurebastionsubnet",
        "routeserversubnet",
    }
)


def _subnet_name(obj: Mapping[str, Node], key: str, value: MaybeStr) -> MaybeStr:
    """A secret subnet name stays out of the model unless it is a special-purpose name (public)."""
    if isinstance(obj.get(key), Secret) and isinstance(value, str) and value.lower() not in SPECIAL_SUBNETS:
        return SECRET_PLACEHOLDER
    return value


def _subnet(
    stack: Stack,
    r: Res,
    obj: Mapping[str, Node],
    prefix: str,
    key: str,
    origin: Origin,
    subnet_name: MaybeStr,
    vnet: MaybeRef,
) -> Subnet:
    rd = r.reader
    return Subnet(
        key=key,
        origin=origin,
        subnet_name=subnet_name,
        vnet=vnet,
        address_prefixes=rd.merged(obj, "addressPrefix", "addressPrefixes", prefix),
        route_table=stack.ref_field(r, obj, "routeTable", f"{prefix}routeTable", ("RouteTable",)),
        nsg=stack.ref_field(
            r, obj, "networkSecurityGroup", f"{prefix}networkSecurityGroup", ("NetworkSecurityGroup",)
        ),
        # Only whether a NAT gateway is attached matters (§5.3), so a set but unresolvable id still counts.
        nat_gateway=stack.ref_field(
            r, obj, "natGateway", f"{prefix}natGateway", ("NatGateway",), presence_only=True
        ),
        default_outbound_access=rd.flag(obj, "defaultOutboundAccess", f"{prefix}defaultOutboundAccess"),
        delegations=_delegations(r, obj, prefix),
    )


def standalone_subnet(stack: Stack, r: Res) -> Subnet:
    rd = r.reader
    name: MaybeStr = _subnet_name(
        r.props, "subnetName", rd.text(r.props, "subnetName", "subnetName")
    ) or _subnet_name(r.props, "name", rd.text(r.props, "name", "name"))
    if name is None:
        # §2.6: Check names an unnamed Subnet after its logical name; a preview projection has no
        # path parameters (§3.0), so there the name is simply not visible.
        name = (
            Unknown(f"the Azure name of subnet {r.name} is not in its preview outputs")
            if rd.projected
            else r.name
        )
    return _subnet(stack, r, r.props, "", r.urn, r.origin, name, stack.parents.get(r.urn))


def vnet(stack: Stack, r: Res) -> tuple[VirtualNetwork, list[Subnet], list[Problem]]:
    rd = r.reader
    p = r.props
    problems: list[Problem] = []
    space = rd.mapping(p, "addressSpace", "addressSpace")
    prefixes: Strs = ()
    if isinstance(space, Unknown):
        prefixes = space
    elif space is not None:
        prefixes = rd.strs(space, "addressPrefixes", "addressSpace.addressPrefixes") or ()
    dhcp = rd.mapping(p, "dhcpOptions", "dhcpOptions")
    dns = (
        dhcp
        if isinstance(dhcp, Unknown)
        else None
        if dhcp is None
        else rd.strs(dhcp, "dnsServers", "dhcpOptions.dnsServers")
    )

    subnets: list[Subnet] = []
    entry = stack.inline(r, "subnets", "Subnet")
    if isinstance(entry.items, Unknown) and p.get("subnets") is UNK:
        problems.append(
            Problem(
                r.name,
                "subnets",
                "the inline subnet list is not known during preview, so its subnets cannot be checked",
                r.urn,
            )
        )
    for item in entry.items if isinstance(entry.items, list) else ():
        obj = rd.to_dict(item.node, item.path)
        if isinstance(obj, Unknown):
            continue
        name = _subnet_name(obj, "name", rd.text(obj, "name", f"{item.path}.name", "required"))
        origin = Origin(f"{r.name}/{item.label}", r.urn, "Subnet")
        subnets.append(_subnet(stack, r, obj, f"{item.path}.", item.key, origin, name, r.urn))
    mixing = _mixing(r, "subnets", entry, "Subnet")
    if mixing:
        problems.append(mixing)

    peerings: tuple[Peering, ...] | Unknown
    pentry = stack.inline(r, "virtualNetworkPeerings", "VirtualNetworkPeering")
    orphan = _orphans(stack, r, "VirtualNetworkPeering")
    if isinstance(pentry.items, Unknown):
        peerings = pentry.items
    elif orphan is not None:
        peerings = orphan
    else:
        found: list[Peering] = []
        unknown_item: Unknown | None = None
        for item in pentry.items or ():
            obj = rd.to_dict(item.node, item.path)
            # An unknown element may be anything (a 0.0.0.0/0 route, a deny rule): the list is unknown.
            if isinstance(obj, Unknown):
                unknown_item = unknown_item or obj
            else:
                found.append(_peering(stack, r, obj, f"{item.path}.", item.label))
        for child in pentry.children:
            label = child.reader.label(child.props, "name", "name", child.name)
            found.append(_peering(stack, child, child.props, "", label))
        peerings = unknown_item if unknown_item is not None else tuple(found)
    mixing = _mixing(r, "virtualNetworkPeerings", pentry, "VirtualNetworkPeering")
    if mixing:
        problems.append(mixing)
    model = VirtualNetwork(r.urn, r.origin, location(r), prefixes, dns, peerings)
    return model, subnets, problems


def _peering(stack: Stack, r: Res, obj: Mapping[str, Node], prefix: str, label: str) -> Peering:
    rd = r.reader
    remote = stack.ref_field(
        r, obj, "remoteVirtualNetwork", f"{prefix}remoteVirtualNetwork", ("VirtualNetwork",)
    )
    remote_prefixes: Strs | None = None
    if not (isinstance(remote, str) and remote in stack.res):
        # model: the remote address space only matters when the remote VNet is not in the stack.
        for key in ("remoteVirtualNetworkAddressSpace", "remoteAddressSpace"):
            space = rd.mapping(obj, key, f"{prefix}{key}")
            if isinstance(space, Unknown):
                remote_prefixes = space
            elif space is not None:
                remote_prefixes = rd.strs(space, "addressPrefixes", f"{prefix}{key}.addressPrefixes")
            if remote_prefixes is not None:
                break
    return Peering(
        name=label,
        remote_vnet=remote,
        use_remote_gateways=rd.flag(obj, "useRemoteGateways", f"{prefix}useRemoteGateways"),
        allow_gateway_transit=rd.flag(obj, "allowGatewayTransit", f"{prefix}allowGatewayTransit"),
        remote_address_prefixes=remote_prefixes,
    )


# --- route tables --------------------------------------------------------------------------------


def _route(stack: Stack, r: Res, obj: Mapping[str, Node], prefix: str, name: str, urn: str | None) -> Route:
    rd = r.reader
    hop = rd.text(obj, "nextHopType", f"{prefix}nextHopType", "leaf")
    ip_path = f"{prefix}nextHopIpAddress"
    ip = rd.text(obj, "nextHopIpAddress", ip_path, "leaf")
    appliance = isinstance(hop, Unknown) or (isinstance(hop, str) and hop.lower() == "virtualappliance")
    if isinstance(ip, Unknown) and isinstance(hop, str) and not appliance:
        ip = None  # ARM allows nextHopIpAddress only with VirtualAppliance (§2.3); this is a projection gap
    resource: MaybeRef = None
    if isinstance(ip, Unknown) and appliance:
        resource = appliance_by_deps(stack, r, ip_path)
    return Route(
        name=name,
        address_prefix=rd.text(obj, "addressPrefix", f"{prefix}addressPrefix", "leaf"),
        next_hop_type=hop,
        next_hop_ip=ip,
        next_hop_resource=resource,
        urn=urn,
    )


def route_table(stack: Stack, r: Res) -> tuple[RouteTable, list[Problem]]:
    rd = r.reader
    entry = stack.inline(r, "routes", "Route")
    routes: tuple[Route, ...] | Unknown
    orphan = _orphans(stack, r, "Route")
    if isinstance(entry.items, Unknown):
        routes = entry.items
    elif orphan is not None:
        routes = orphan
    else:
        found: list[Route] = []
        unknown_route: Unknown | None = None
        for item in entry.items or ():
            obj = rd.to_dict(item.node, item.path)
            # An unknown element may be anything (a 0.0.0.0/0 route, a deny rule): the list is unknown.
            if isinstance(obj, Unknown):
                unknown_route = unknown_route or obj
            else:
                found.append(_route(stack, r, obj, f"{item.path}.", item.label, None))
        for child in entry.children:
            label = child.reader.label(child.props, "routeName", "routeName", "") or child.reader.label(
                child.props, "name", "name", child.name
            )
            found.append(_route(stack, child, child.props, "", label, child.urn))
        routes = unknown_route if unknown_route is not None else tuple(found)
    problems = [p for p in (_mixing(r, "routes", entry, "Route"),) if p]
    model = RouteTable(
        key=r.urn,
        origin=r.origin,
        location=location(r),
        routes=routes,
        disable_bgp_route_propagation=rd.flag(
            r.props, "disableBgpRoutePropagation", "disableBgpRoutePropagation"
        ),
    )
    return model, problems


# --- NSGs ----------------------------------------------------------------------------------------


def _asgs(
    stack: Stack, r: Res, obj: Mapping[str, Node], key: str, prefix: str
) -> tuple[MaybeRef, ...] | Unknown:
    # Most rules name no ASG: an absent list reads as empty without building its path.
    if obj.get(key) is None:
        return ()
    return ref_list(stack, r, obj, key, f"{prefix}{key}", ("ApplicationSecurityGroup",))


def _rule(
    stack: Stack, r: Res, obj: Mapping[str, Node], prefix: str, name: str, urn: str | None
) -> SecurityRule:
    rd = r.reader
    return SecurityRule(
        name=name,
        priority=rd.number_at(obj, "priority", prefix, "leaf"),
        direction=rd.text_at(obj, "direction", prefix, "leaf"),
        access=rd.text_at(obj, "access", prefix, "leaf"),
        protocol=rd.text_at(obj, "protocol", prefix, "leaf"),
        source_address_prefixes=rd.merged_at(obj, "sourceAddressPrefix", "sourceAddressPrefixes", prefix),
        source_port_ranges=rd.merged_at(obj, "sourcePortRange", "sourcePortRanges", prefix),
        destination_address_prefixes=rd.merged_at(
            obj, "destinationAddressPrefix", "destinationAddressPrefixes", prefix
        ),
        destination_port_ranges=rd.merged_at(obj, "destinationPortRange", "destinationPortRanges", prefix),
        source_asgs=_asgs(stack, r, obj, "sourceApplicationSecurityGroups", prefix),
        destination_asgs=_asgs(stack, r, obj, "destinationApplicationSecurityGroups", prefix),
        urn=urn,
    )


def nsg(stack: Stack, r: Res) -> tuple[NetworkSecurityGroup, list[Problem]]:
    rd = r.reader
    entry = stack.inline(r, "securityRules", "SecurityRule")
    rules: tuple[SecurityRule, ...] | Unknown
    orphan = _orphans(stack, r, "SecurityRule")
    if isinstance(entry.items, Unknown):
        rules = entry.items
    elif orphan is not None:
        rules = orphan
    else:
        found: list[SecurityRule] = []
        unknown_rule: Unknown | None = None
        for item in entry.items or ():
            obj = rd.to_dict(item.node, item.path)
            # An unknown element may be anything (a 0.0.0.0/0 route, a deny rule): the list is unknown.
            if isinstance(obj, Unknown):
                unknown_rule = unknown_rule or obj
            else:
                found.append(_rule(stack, r, obj, f"{item.path}.", item.label, None))
        for child in entry.children:
            label = child.reader.label(
                child.props, "securityRuleName", "securityRuleName", ""
            ) or child.reader.label(child.props, "name", "name", child.name)
            found.append(_rule(stack, child, child.props, "", label, child.urn))
        rules = unknown_rule if unknown_rule is not None else tuple(found)
    problems = [p for p in (_mixing(r, "securityRules", entry, "SecurityRule"),) if p]
    return NetworkSecurityGroup(r.urn, r.origin, rules), problems
