"""The regional KMS routes for Pulumi programs: ``KmsRoutes``, ``with_kms_routes`` and ``auto_kms_routes``.

Microsoft's fix for forced tunneling is one ``/32 → Internet`` route per KMS IP of the VM's cloud
(semantics §3.0 R3.0, [S1]). Three ways to get them, all planned by ``kmsguard.remediate`` (the
same plan, names and 400-route limit as the pack's ``kms-route-autofix``, so none of them ever
adds a route twice, whichever runs first):

* ``with_kms_routes(routes, location=...)`` — an inline route list with the KMS routes appended;
* ``KmsRoutes(name, route_table_name=..., ...)`` — standalone ``Route`` children for a table
  whose routes are separate resources (never mix the two styles on one table, §3.3 of the
  mechanics doc: each deployment would overwrite the other);
* ``auto_kms_routes()`` — a stack transform: every RouteTable declared afterwards gets its inline
  KMS routes, and every forced-tunnel standalone Route (``0.0.0.0/0 → VirtualAppliance`` or
  ``→ VirtualNetworkGateway``) gets sibling KMS Route resources.

Where next hop Internet is not allowed (a landing-zone policy), the documented alternative is an
Azure Firewall network rule for TCP 1688 to the KMS IPs (§3.3, §6.2): ``kms_network_rule_collection``
builds it, and ``auto_kms_routes(internet_next_hop_denied=True, firewall_policy=...)`` declares it.

The cloud comes from the location (§1.3). A location that is an ``Output`` (not known while the
program runs) needs an explicit ``cloud=``, checked against the location once it is known: the
wrong cloud's IPs would leave every KMS IP of the real cloud on the tunnel (§11 #10 variation).

Programs on the classic ``azure`` provider (pulumi-azure) get the same: ``with_kms_routes`` reads
and returns route dicts both SDKs accept (``RouteTableRouteArgs`` as input too), ``KmsRoutes(...,
classic=True)`` declares ``pulumi_azure.network.Route`` children, and ``auto_kms_routes()`` handles
``pulumi_azure.network.RouteTable``/``Route`` as it does azure-native's (same plan, names and limit).

``pulumi_azure_native`` (or ``pulumi_azure``) is imported only when a resource is declared, never by
the policy pack.
"""

from __future__ import annotations

import asyncio
import enum
import importlib
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.output import UNKNOWN, Unknown

from kmsguard.analysis.fixes import kms_route_name
from kmsguard.catalog import KMS_PORT, load_catalog
from kmsguard.errors import ValidationError
from kmsguard.remediate import UNKNOWN_SENTINEL, RoutePlan, plan_kms_routes

if TYPE_CHECKING:
    from pulumi_azure_native.network import (
        FirewallPolicyFilterRuleCollectionArgs,
        FirewallPolicyRuleCollectionGroup,
    )

__all__ = [
    "COMPONENT_TYPE",
    "AutoKmsRoutes",
    "KmsRoutes",
    "auto_kms_routes",
    "kms_ips",
    "kms_network_rule_collection",
    "resolve_cloud",
    "with_kms_routes",
]

COMPONENT_TYPE = "kmsguard:network:KmsRoutes"
ROUTE_TABLE = "azure-native:network:RouteTable"
ROUTE = "azure-native:network:Route"
CLASSIC_ROUTE_TABLE = "azure:network/routeTable:RouteTable"
CLASSIC_ROUTE = "azure:network/route:Route"
_ROUTE_TABLES = frozenset({ROUTE_TABLE, CLASSIC_ROUTE_TABLE})
_ROUTES = frozenset({ROUTE, CLASSIC_ROUTE})
_FORCED_HOPS = frozenset({"virtualappliance", "virtualnetworkgateway"})
_DEFAULT_ROUTE = ipaddress.IPv4Network("0.0.0.0/0")


# --- cloud and IPs -----------------------------------------------------------------------------


def resolve_cloud(location: object, cloud: str | None, where: str) -> str:
    """The cloud whose KMS IPs to route: from a known ``location`` (§1.3), else the explicit ``cloud``.

    Raises ``ValidationError`` naming ``where`` when the two disagree, when the location's KMS
    endpoints are undocumented, or when neither is known: guessing would route the wrong IPs.
    """
    catalog = load_catalog()
    if cloud is not None and cloud not in catalog.clouds:
        known = ", ".join(catalog.clouds)
        raise ValidationError(where, "cloud", f"{cloud!r} is not a known cloud (known: {known})")
    if isinstance(location, str) and location.strip():
        found = catalog.cloud_of_location(location)
        if found is None:
            raise ValidationError(
                where,
                "location",
                f"the KMS endpoints of location {location!r} are not documented (docs/rules.md#location-to-cloud); "
                "kmsguard cannot say which routes it needs",
            )
        if cloud is not None and cloud != found:
            raise ValidationError(
                where,
                "cloud",
                f"cloud {cloud!r} does not match location {location!r}, which is in the {found!r} cloud",
            )
        return found
    if cloud is None:
        raise ValidationError(
            where,
            "location",
            "is not known while the program runs (an Output or unset); pass cloud='public', 'usgov' or "
            "'china' so the KMS routes of the right cloud can be planned before deployment",
        )
    return cloud


def kms_ips(cloud: str) -> tuple[str, ...]:
    """Every KMS IP of ``cloud`` in catalog order (R1.1: all of them must be routed)."""
    return tuple(dict.fromkeys(e.ip for e in load_catalog().cloud(cloud).endpoints))


def _checked_location(location: pulumi.Output[Any], cloud: str, where: str) -> pulumi.Output[str]:
    """An Output that fails the deployment if ``location`` turns out to be in another cloud."""

    def check(value: Any) -> str:
        return resolve_cloud(value, cloud, where)

    return location.apply(check)


# --- reading route lists written by program authors ----------------------------------------------

_ALIASES = {
    "name": ("name",),
    "addressPrefix": ("addressPrefix", "address_prefix"),
    "nextHopType": ("nextHopType", "next_hop_type"),
    # classic (pulumi-azure) RouteTableRouteArgs: next_hop_in_ip_address
    "nextHopIpAddress": (
        "nextHopIpAddress",
        "next_hop_ip_address",
        "nextHopInIpAddress",
        "next_hop_in_ip_address",
    ),
}


def _plain(value: Any) -> Any:
    """A value as ``plan_kms_routes`` reads it: Outputs and unknowns become the unknown sentinel."""
    if isinstance(value, pulumi.Output | Unknown) or asyncio.isfuture(value):
        return UNKNOWN_SENTINEL
    if isinstance(value, enum.Enum):
        return value.value  # RouteNextHopType.INTERNET -> "Internet" (str() would give the member name)
    return value


def _route_view(route: Any) -> Any:
    """A route given as a dict (snake_case or camelCase keys) or a ``RouteArgs`` → camelCase dict."""
    if isinstance(route, pulumi.Output | Unknown):
        return UNKNOWN_SENTINEL
    view: dict[str, Any] = {}
    for key, names in _ALIASES.items():
        for name in names:
            if isinstance(route, Mapping):
                value = route.get(name)
            else:
                try:
                    value = pulumi.get(route, name)
                except (AttributeError, KeyError, TypeError):
                    value = None
            if value is not None:
                view[key] = _plain(value)
                break
    return view


def _plan(routes: object, cloud: str, where: str) -> RoutePlan:
    # The plan takes a location; any location of the cloud gives the same IPs.
    location = _SAMPLE_LOCATION[cloud]
    listed: Any = routes
    if isinstance(routes, pulumi.Output | Unknown):
        listed = UNKNOWN_SENTINEL
    elif isinstance(routes, Sequence) and not isinstance(routes, str):
        listed = [_route_view(r) for r in routes]
    plan = plan_kms_routes(listed, location)
    if plan.over_limit:
        raise ValidationError(
            where,
            "routes",
            "adding the KMS routes would exceed the 400-route limit (docs/rules.md#route-limits); consolidate routes or allow "
            "TCP 1688 to the KMS IPs on the firewall (kms_network_rule_collection)",
        )
    if plan.conflicts:
        raise ValidationError(
            where,
            "routes",
            f"a /32 route sends KMS IP {plan.conflicts[0]} to another next hop; kmsguard never rewrites a "
            "user route: change its nextHopType to Internet",
        )
    return plan


def _sample_locations() -> dict[str, str]:
    catalog = load_catalog()
    out: dict[str, str] = {}
    for location in catalog.locations.values():
        if location.cloud is not None:
            out.setdefault(location.cloud, location.name)
    out.setdefault(catalog.default_cloud, "eastus")
    return out


_SAMPLE_LOCATION = _sample_locations()


# A stand-in for a default route the table does not show (Default Site, BGP): only for planning.
_UNSEEN_DEFAULT = {"name": "", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"}


# --- inline routes -----------------------------------------------------------------------------


def with_kms_routes(
    routes: Sequence[Any] = (),
    *,
    location: pulumi.Input[str] | None = None,
    cloud: str | None = None,
    forced_tunnel: bool = False,
) -> list[Any]:
    """``routes`` plus the ``/32 → Internet`` KMS routes they are missing, for ``RouteTable(routes=...)``.

    Routes that already send a KMS IP to Internet are not repeated; nothing is added when no route
    diverts the KMS IPs, unless ``forced_tunnel`` says the subnet is forced-tunneled by something
    the table does not show (a VPN Default Site, a BGP or ExpressRoute default route, §3.1/§3.2).
    With an Output ``location`` pass ``cloud=``; the added routes' names then carry a check that
    fails the deployment if the location is in another cloud.
    """
    where = "with_kms_routes"
    known = location if isinstance(location, str) else None
    chosen = resolve_cloud(known, cloud, where)
    planned = [*routes, _UNSEEN_DEFAULT] if forced_tunnel else list(routes)
    plan = _plan(planned, chosen, where)
    check = _checked_location(location, chosen, where) if isinstance(location, pulumi.Output) else None
    added: list[Any] = []
    for route in plan.added:
        name: pulumi.Input[str] = route["name"]
        if check is not None:
            name = check.apply(_constant(route["name"]))
        added.append(
            {"name": name, "address_prefix": route["addressPrefix"], "next_hop_type": route["nextHopType"]}
        )
    return [*routes, *added]


def _constant(value: str) -> Callable[[object], str]:
    return lambda _ignored: value


# --- standalone routes: the component ----------------------------------------------------------


class KmsRoutes(pulumi.ComponentResource):
    """Standalone ``/32 → Internet`` KMS routes for a route table whose routes are separate resources.

    ``existing_routes`` are the table's other routes (dicts or ``RouteArgs``), so routes that already
    send a KMS IP to Internet are not repeated; by default every KMS IP of the cloud gets a route,
    which is what a table built for forced tunneling needs. The Azure route names are the ones the
    pack's autofix uses (``kms-20-118-99-224``). ``classic=True``: the table is a classic
    ``pulumi_azure.network.RouteTable`` and the children are ``pulumi_azure.network.Route``.
    """

    def __init__(
        self,
        name: str,
        *,
        route_table_name: pulumi.Input[str],
        resource_group_name: pulumi.Input[str],
        location: pulumi.Input[str] | None = None,
        cloud: str | None = None,
        existing_routes: Sequence[Any] | None = None,
        classic: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, {}, opts)
        where = f"KmsRoutes {name}"
        self.cloud: str = resolve_cloud(location if isinstance(location, str) else None, cloud, where)
        if existing_routes is None:
            wanted = [
                {"name": kms_route_name(ip), "addressPrefix": f"{ip}/32", "nextHopType": "Internet"}
                for ip in kms_ips(self.cloud)
            ]
        else:
            wanted = list(_plan([*existing_routes, _UNSEEN_DEFAULT], self.cloud, where).added)
        self.ips: tuple[str, ...] = tuple(r["addressPrefix"].removesuffix("/32") for r in wanted)
        self.routes: list[pulumi.CustomResource] = [
            _route_resource(
                classic,
                f"{name}-{route['name']}",
                route["name"],
                route_table_name,
                resource_group_name,
                route["addressPrefix"],
                pulumi.ResourceOptions(parent=self),
            )
            for route in wanted
        ]
        outputs: dict[str, Any] = {"cloud": self.cloud, "ips": list(self.ips)}
        if isinstance(location, pulumi.Output):
            outputs["location"] = _checked_location(location, self.cloud, where)
        self.register_outputs(outputs)


def _route_resource(
    classic: bool,
    logical: str,
    azure_name: str,
    route_table_name: pulumi.Input[str] | None,
    resource_group_name: pulumi.Input[str] | None,
    address_prefix: str,
    opts: pulumi.ResourceOptions,
) -> pulumi.CustomResource:
    """A standalone ``/32 → Internet`` Route of either SDK (the classic one names the route ``name``)."""
    if classic:
        # By name: the classic SDK is an optional extra (and mypy need not walk its 2,000 modules).
        classic_network: Any = importlib.import_module("pulumi_azure.network")
        route: pulumi.CustomResource = classic_network.Route(
            logical,
            name=azure_name,
            route_table_name=route_table_name,
            resource_group_name=resource_group_name,
            address_prefix=address_prefix,
            next_hop_type="Internet",
            opts=opts,
        )
        return route
    from pulumi_azure_native import network

    return network.Route(
        logical,
        route_name=azure_name,
        route_table_name=route_table_name,
        resource_group_name=resource_group_name,
        address_prefix=address_prefix,
        next_hop_type="Internet",
        opts=opts,
    )


# --- the firewall alternative --------------------------------------------------------------------


def kms_network_rule_collection(
    cloud: str,
    *,
    source_addresses: Sequence[str] = ("*",),
    name: str = "kms-activation",
    priority: int = 100,
) -> FirewallPolicyFilterRuleCollectionArgs:
    """An Azure Firewall Policy network rule collection allowing TCP 1688 to every KMS IP of ``cloud``.

    §6.2: only a network rule can allow KMS (application rules and FQDN tags never match TCP 1688);
    IP destinations need no DNS proxy (R6.1). For ``FirewallPolicyRuleCollectionGroup(rule_collections=[...])``.
    Typed args, not a dict: the rule collections are a union type, whose dict keys the SDK would
    send untranslated.
    """
    from pulumi_azure_native import network

    return network.FirewallPolicyFilterRuleCollectionArgs(
        rule_collection_type="FirewallPolicyFilterRuleCollection",
        name=name,
        priority=priority,
        action=network.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"),
        rules=[
            network.NetworkRuleArgs(
                rule_type="NetworkRule",
                name="kms-tcp-1688",
                description=f"Windows activation: Azure KMS ({cloud} cloud)",
                ip_protocols=["TCP"],
                source_addresses=list(source_addresses),
                destination_addresses=list(kms_ips(cloud)),
                destination_ports=[str(KMS_PORT)],
            )
        ],
    )


# --- the transform -------------------------------------------------------------------------------


@dataclass
class _Capture:
    """What the SDK saw when a standalone Route was constructed (Outputs intact)."""

    opts: pulumi.ResourceOptions
    route_table_name: Any
    resource_group_name: Any


@dataclass
class AutoKmsRoutes:
    """The state of one ``auto_kms_routes()`` registration (for inspection in tests and programs)."""

    cloud: str | None
    internet_next_hop_denied: bool
    # route table logical name -> location as the transform saw it: a str, None (not set: the
    # provider default applies) or an ``Unknown`` (an Output not known yet)
    tables: dict[str, object] = field(default_factory=dict)
    # the same, by Azure name (lower case) for tables whose routeTableName is a plain string
    table_names: dict[str, object] = field(default_factory=dict)
    # logical names of the Route resources the transform declared
    declared: list[str] = field(default_factory=list)
    captures: dict[str, list[_Capture]] = field(default_factory=dict)
    # (route table identity, ip) already routed to Internet by a standalone route
    routed: set[tuple[object, str]] = field(default_factory=set)

    # --- legacy observer: keeps the Outputs of standalone routes' parent-name inputs ---------------
    #
    # A resource transform sees a standalone Route's routeTableName as a plain value, unknown during
    # preview when it comes from the table's (autonamed) name, and its parent only as a URN. Sibling
    # routes declared with that would name no table in preview (the pack could not attribute them,
    # turning every table's verdict unknown) and could not inherit the route's parent. The SDK-side
    # stack transformation sees the same construction with the Outputs and resources intact; it only
    # records them (never changes anything), and the resource transform does the work.

    def observe(self, args: pulumi.ResourceTransformationArgs) -> None:
        if args.type_ not in _ROUTES:
            return None
        props = args.props if isinstance(args.props, Mapping) else {}
        given = args.opts or pulumi.ResourceOptions()
        opts = pulumi.ResourceOptions(
            parent=given.parent,
            provider=given.provider,
            providers=given.providers
            if isinstance(given.providers, Mapping) or given.providers is None
            else list(given.providers),
            depends_on=given.depends_on,
            protect=given.protect,
        )
        self.captures.setdefault(args.name, []).append(
            _Capture(opts, props.get("route_table_name"), props.get("resource_group_name"))
        )
        return None

    # --- the resource transform ------------------------------------------------------------------

    async def transform(self, args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ in _ROUTE_TABLES:
            return self._route_table(args, classic=args.type_ == CLASSIC_ROUTE_TABLE)
        if args.type_ in _ROUTES:
            await self._route(args, classic=args.type_ == CLASSIC_ROUTE)
        return None

    def _route_table(
        self, args: pulumi.ResourceTransformArgs, classic: bool = False
    ) -> pulumi.ResourceTransformResult | None:
        props = dict(args.props)
        location = props.get("location")
        self.tables[args.name] = location
        # The classic RouteTable's Azure name is ``name``; azure-native's ``name`` is an output.
        azure_name = props.get("name" if classic else "routeTableName")
        if isinstance(azure_name, str):
            self.table_names[azure_name.lower()] = location
        routes = props.get("routes")
        if isinstance(routes, list) and self.internet_next_hop_denied:
            self._warn_gateway(f"RouteTable {args.name}", [_route_view(r) for r in routes])
        if not isinstance(routes, list) or self.internet_next_hop_denied:
            # None: the routes are standalone resources (handled per Route); Unknown: an Output the
            # pack reports as unknown; denied: the firewall rule is the alternative (module doc).
            return None
        where = f"RouteTable {args.name}"
        cloud = self._cloud(location, where, classic)
        plan = _plan(routes, cloud, where)
        if not plan.added:
            return None
        props["routes"] = [*routes, *(dict(r) for r in plan.added)]
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    def _cloud(self, location: object, where: str, classic: bool = False) -> str:
        if location is None:
            # Not set: the provider's Check fills in its default location (mechanics §0 fact 1);
            # the classic provider's is ``azure:location``.
            location = pulumi.Config("azure" if classic else "azure-native").get("location")
        if isinstance(location, str):
            return resolve_cloud(location, self.cloud, where)
        return resolve_cloud(None, self.cloud, where)  # raises unless cloud= settles it

    async def _route(self, args: pulumi.ResourceTransformArgs, classic: bool = False) -> None:
        props = args.props
        prefix = _network(props.get("addressPrefix"))
        hop = props.get("nextHopType")
        hop = hop.lower() if isinstance(hop, str) else None
        capture = self._capture(args.name)
        table_key, table_location = await self._table_of(props, capture)
        if prefix is not None and prefix.prefixlen == 32 and hop == "internet":
            self.routed.add((table_key, str(prefix.network_address)))
            return
        if self.internet_next_hop_denied:
            self._warn_gateway(f"Route {args.name}", [dict(props)])
            return
        if prefix != _DEFAULT_ROUTE or hop not in _FORCED_HOPS:
            return
        where = f"Route {args.name}"
        cloud = self._cloud(table_location, where, classic)
        table_name = capture.route_table_name if capture else props.get("routeTableName")
        group_name = capture.resource_group_name if capture else props.get("resourceGroupName")
        # The SDK's own options (real resources): the transform's carry only URN stand-ins, which
        # cannot parent a resource.
        opts = capture.opts if capture is not None else pulumi.ResourceOptions()
        for ip in kms_ips(cloud):
            if (table_key, ip) in self.routed:
                continue
            self.routed.add((table_key, ip))
            logical = f"{args.name}-{kms_route_name(ip)}"
            _route_resource(classic, logical, kms_route_name(ip), table_name, group_name, f"{ip}/32", opts)
            self.declared.append(logical)

    def _warn_gateway(self, where: str, routes: Sequence[Any]) -> None:
        """With next hop Internet denied, the firewall rule is the fix only for traffic that reaches
        the firewall: a route sending KMS IPs to a VPN/ExpressRoute gateway tunnels them on-premises,
        where KMS refuses the source (§1.2, §3.1), whatever the firewall allows."""
        kms = [
            ipaddress.IPv4Address(ip)
            for ip in dict.fromkeys(e.ip for c in load_catalog().clouds.values() for e in c.endpoints)
        ]
        for route in routes:
            if not isinstance(route, Mapping):
                continue
            hop = route.get("nextHopType")
            prefix = _network(route.get("addressPrefix"))
            if not isinstance(hop, str) or hop.lower() != "virtualnetworkgateway" or prefix is None:
                continue
            if any(ip in prefix for ip in kms):
                pulumi.log.warn(
                    f"auto_kms_routes: {where} sends the KMS IPs ({prefix}) to a VirtualNetworkGateway: next hop "
                    "Internet is denied, and the firewall rule cannot help because the tunnel goes to the gateway, "
                    "not the firewall; KMS refuses the on-premises source (0xC004F074). Route the KMS traffic to "
                    "the hub firewall (VirtualAppliance) or egress it from on-premises through an Azure public IP"
                )
                return

    def _capture(self, name: str) -> _Capture | None:
        found = self.captures.get(name) or []
        return found.pop(0) if found else None

    async def _table_of(self, props: Mapping[str, Any], capture: _Capture | None) -> tuple[object, object]:
        """Which table a standalone route belongs to, and that table's location when the transform saw it."""
        value = capture.route_table_name if capture else props.get("routeTableName")
        if isinstance(value, pulumi.Output):
            for resource in await value.resources():
                name = getattr(resource, "_name", None)
                if getattr(resource, "_type", None) in _ROUTE_TABLES and isinstance(name, str):
                    return ("table", name), self.tables.get(name)
        if isinstance(value, str):
            return ("name", str(props.get("resourceGroupName")), value.lower()), self.table_names.get(
                value.lower()
            )
        return ("unknown", id(value)), UNKNOWN


def _network(value: object) -> ipaddress.IPv4Network | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.IPv4Network(value.strip(), strict=False)
    except ValueError:
        return None


# The registration of the running program (keyed by its root Stack resource).
_ACTIVE: dict[int, AutoKmsRoutes] = {}


def auto_kms_routes(
    *,
    cloud: str | None = None,
    internet_next_hop_denied: bool = False,
    firewall_policy: pulumi.Resource | None = None,
    firewall_policy_name: pulumi.Input[str] | None = None,
    resource_group_name: pulumi.Input[str] | None = None,
    source_addresses: Sequence[str] = ("*",),
    rule_collection_group_priority: int = 200,
) -> AutoKmsRoutes:
    """Add the KMS routes to every route table and forced-tunnel route declared after this call.

    ``cloud`` settles tables whose location is an Output (checked when known); without it such a
    table stops the program with a message. With ``internet_next_hop_denied`` (a landing-zone policy
    that forbids next hop Internet) no route is added; pass the hub's Firewall Policy
    (``firewall_policy_name`` + ``resource_group_name``, and the resource as ``firewall_policy`` for
    ordering) to declare the TCP 1688 allow rule instead (§3.3, §6.2).
    """
    where = "auto_kms_routes"
    if cloud is not None:
        resolve_cloud(None, cloud, where)
    root = pulumi.runtime.settings.get_root_resource()
    if _ACTIVE.get(id(root)) is not None:
        # A second transform would declare the sibling routes of every forced-tunnel route again.
        raise ValidationError(
            where, "", "is already active in this program; call it once, before the route tables"
        )
    state = AutoKmsRoutes(cloud, internet_next_hop_denied)
    _ACTIVE[id(root)] = state
    if internet_next_hop_denied:
        if firewall_policy_name is None or resource_group_name is None:
            pulumi.log.warn(
                "auto_kms_routes: next hop Internet is denied and no firewall policy was given; the KMS "
                "traffic must be allowed (TCP 1688 to the KMS IPs) by the firewall that egresses it"
            )
        else:
            _firewall_rules(
                state,
                cloud,
                firewall_policy,
                firewall_policy_name,
                resource_group_name,
                source_addresses,
                rule_collection_group_priority,
            )
    pulumi.runtime.register_stack_transformation(state.observe)
    pulumi.runtime.register_resource_transform(state.transform)
    return state


def _firewall_rules(
    state: AutoKmsRoutes,
    cloud: str | None,
    policy: pulumi.Resource | None,
    policy_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    source_addresses: Sequence[str],
    priority: int,
) -> FirewallPolicyRuleCollectionGroup:
    from pulumi_azure_native import network

    chosen = state._cloud(None, "auto_kms_routes") if cloud is None else cloud
    group = network.FirewallPolicyRuleCollectionGroup(
        "kms-activation",
        firewall_policy_name=policy_name,
        resource_group_name=resource_group_name,
        rule_collection_group_name="kms-activation",
        priority=priority,
        rule_collections=[kms_network_rule_collection(chosen, source_addresses=source_addresses)],
        opts=pulumi.ResourceOptions(depends_on=[policy] if policy is not None else None),
    )
    state.declared.append("kms-activation")
    return group
