"""The typed network the analysis reads: immutable, one class per Azure concept.

Resources refer to each other by *key* (``Ref``): the key of the referenced object in the
``Network`` maps. A key that is not in the map is a resource outside the stack (external); an
``Unknown`` reference is one that could not be resolved at all (for example an id unknown during
preview with no property dependency to follow). The collector decides keys; the analysis only
looks them up.

Lists are tuples; a list that is itself unknown is an ``Unknown``. Enum strings are stored as they
came; comparisons in the analysis are case-insensitive (azure-native accepts any casing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kmsguard.model.values import Unknown

Ref = str
"""Key of another object in the ``Network``."""

MaybeStr = str | Unknown | None
MaybeBool = bool | Unknown | None
MaybeInt = int | Unknown | None
MaybeRef = Ref | Unknown | None
Strs = tuple[str | Unknown, ...] | Unknown
"""A list of strings: each item may be unknown, and so may the list itself."""
MaybeStrs = Strs | None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a model object came from, for traces: its display name and the Pulumi URN."""

    name: str
    urn: str | None = None
    kind: str = ""


# --- Routing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    address_prefix: MaybeStr
    next_hop_type: MaybeStr
    next_hop_ip: MaybeStr = None
    # The appliance behind ``next_hop_ip`` when the collector could tell (e.g. the IP is an output
    # of an Azure Firewall in the stack, found through property dependencies during preview).
    next_hop_resource: MaybeRef = None
    urn: str | None = None  # set for standalone Route resources


@dataclass(frozen=True, slots=True)
class RouteTable:
    key: Ref
    origin: Origin
    location: MaybeStr
    routes: tuple[Route, ...] | Unknown
    disable_bgp_route_propagation: MaybeBool = None


# --- Filtering -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecurityRule:
    """An NSG rule. The single/plural ARM properties are merged into the plural tuples."""

    name: str
    priority: MaybeInt
    direction: MaybeStr
    access: MaybeStr
    protocol: MaybeStr
    source_address_prefixes: Strs = ()
    source_port_ranges: Strs = ()
    destination_address_prefixes: Strs = ()
    destination_port_ranges: Strs = ()
    source_asgs: tuple[MaybeRef, ...] | Unknown = ()
    destination_asgs: tuple[MaybeRef, ...] | Unknown = ()
    urn: str | None = None  # set for standalone SecurityRule resources


@dataclass(frozen=True, slots=True)
class NetworkSecurityGroup:
    key: Ref
    origin: Origin
    rules: tuple[SecurityRule, ...] | Unknown


@dataclass(frozen=True, slots=True)
class AddressMatch:
    """An AVNM admin-rule address item: an IP prefix or a service tag (``kind``)."""

    value: MaybeStr
    kind: MaybeStr = "IPPrefix"  # "IPPrefix" | "ServiceTag"


# The reason an admin rule's VNets start with when no Commit in the stack deploys its configuration.
NOT_DEPLOYED = "not deployed"


@dataclass(frozen=True, slots=True)
class AdminRule:
    """An Azure Virtual Network Manager security admin rule applied to some VNets (§4.1)."""

    origin: Origin
    vnets: tuple[MaybeRef, ...] | Unknown
    priority: MaybeInt
    direction: MaybeStr
    access: MaybeStr  # Allow | AlwaysAllow | Deny
    protocol: MaybeStr
    sources: tuple[AddressMatch, ...] | Unknown = ()
    destinations: tuple[AddressMatch, ...] | Unknown = ()
    source_port_ranges: Strs = ()
    destination_port_ranges: Strs = ()
    # Why the stack does not deploy the rule (no Commit of its configuration, or not to the VNet's
    # region); empty when it does or when that cannot be told. Such a rule does not apply now, but a
    # commit made outside the stack would apply it, so ``vnets`` is unknown and it may still match.
    undeployed: str = ""


# --- Virtual networks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peering:
    name: str
    remote_vnet: MaybeRef
    use_remote_gateways: MaybeBool = None
    allow_gateway_transit: MaybeBool = None
    # Address space of the remote VNet when the remote VNet is outside the stack.
    remote_address_prefixes: MaybeStrs = None


@dataclass(frozen=True, slots=True)
class Subnet:
    key: Ref
    origin: Origin  # name: logical name of a standalone Subnet, or "<vnet>/<subnet>" for inline ones
    subnet_name: MaybeStr  # the Azure name, which decides special-purpose subnets
    vnet: MaybeRef
    address_prefixes: Strs
    route_table: MaybeRef = None
    nsg: MaybeRef = None
    nat_gateway: MaybeRef = None
    default_outbound_access: MaybeBool = None
    delegations: Strs = ()


@dataclass(frozen=True, slots=True)
class VirtualNetwork:
    key: Ref
    origin: Origin
    location: MaybeStr
    address_prefixes: Strs
    dns_servers: MaybeStrs = None
    peerings: tuple[Peering, ...] | Unknown = ()


# --- Gateways, hubs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LearnedRoute:
    """A route a gateway learned (BGP), as effective-route data would show it."""

    address_prefix: str
    next_hop_type: str = "VirtualNetworkGateway"


@dataclass(frozen=True, slots=True)
class VirtualNetworkGateway:
    key: Ref
    origin: Origin
    vnet: MaybeRef
    gateway_type: MaybeStr  # Vpn | ExpressRoute | LocalGateway
    vpn_type: MaybeStr = None  # RouteBased | PolicyBased
    enable_bgp: MaybeBool = None
    default_site: MaybeRef = None  # gatewayDefaultSite: set means VPN forced tunneling (§3.1)
    # Routes the gateway is known to learn. ``None``: not described, so BGP routes are unknown.
    learned_routes: tuple[LearnedRoute, ...] | None = None


@dataclass(frozen=True, slots=True)
class RouteServer:
    """An Azure Route Server in a VNet: NVAs can inject BGP routes into every subnet (§2.2)."""

    key: Ref
    origin: Origin
    vnet: MaybeRef


@dataclass(frozen=True, slots=True)
class VirtualHub:
    """A Virtual WAN hub and its routing intent (§3.4)."""

    key: Ref
    origin: Origin
    # Next hop of the Internet routing policy (a firewall key): Direct Access mode.
    internet_next_hop: MaybeRef = None
    # Private routing policy with 0.0.0.0/0 as additional prefix: Forced Tunnel mode.
    forced_tunnel: MaybeBool = None


@dataclass(frozen=True, slots=True)
class HubConnection:
    key: Ref
    origin: Origin
    hub: MaybeRef
    vnet: MaybeRef
    enable_internet_security: MaybeBool = None


# --- Outbound ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NatGateway:
    key: Ref
    origin: Origin


@dataclass(frozen=True, slots=True)
class BackendPool:
    key: Ref
    name: str
    by_ip_address: MaybeBool = None


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    key: Ref
    origin: Origin
    sku: MaybeStr  # Basic | Standard | Gateway
    public: MaybeBool  # a frontend with a public IP
    backend_pools: tuple[BackendPool, ...] | Unknown = ()
    outbound_rule_pools: tuple[MaybeRef, ...] | Unknown = ()


# --- Compute -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IpConfiguration:
    name: str
    subnet: MaybeRef
    private_ip: MaybeStr = None
    public_ip: MaybeRef = None  # present: an instance-level public IP (§5.1)
    backend_pools: tuple[MaybeRef, ...] | Unknown = ()
    asgs: tuple[MaybeRef, ...] | Unknown = ()
    primary: MaybeBool = None
    # The VNet when the subnet is unknown but its VNet is not (the property depends on one VNet with
    # several subnets): the configuration may be in that VNet's subnets only.
    vnet: MaybeRef = None


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    key: Ref
    origin: Origin
    ip_configurations: tuple[IpConfiguration, ...] | Unknown
    nsg: MaybeRef = None
    dns_servers: MaybeStrs = None


@dataclass(frozen=True, slots=True)
class ImageReference:
    publisher: MaybeStr = None
    offer: MaybeStr = None
    sku: MaybeStr = None
    id: MaybeStr = None  # custom or gallery image


@dataclass(frozen=True, slots=True)
class VirtualMachine:
    key: Ref
    origin: Origin
    os_type: MaybeStr  # Windows | Linux
    nics: tuple[MaybeRef, ...] | Unknown = ()
    image: ImageReference | Unknown | None = None
    # Scale sets: NICs are templates, so their subnets are given directly.
    scale_set: bool = False
    orchestration_mode: MaybeStr = None  # Uniform | Flexible


# --- Azure Firewall ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirewallNetworkRule:
    name: str
    protocols: Strs
    source_addresses: Strs = ()
    source_ip_groups: tuple[MaybeRef, ...] | Unknown = ()
    destination_addresses: Strs = ()
    destination_ip_groups: tuple[MaybeRef, ...] | Unknown = ()
    destination_fqdns: Strs = ()
    destination_ports: Strs = ()


@dataclass(frozen=True, slots=True)
class FirewallRuleCollection:
    name: str
    priority: MaybeInt
    kind: MaybeStr  # "network" | "application" | "nat" (filter collections hold network/app rules)
    action: MaybeStr  # Allow | Deny | Dnat
    # Network rules; application rules never match TCP 1688 (§6.2) so only their count is kept.
    rules: tuple[FirewallNetworkRule, ...] | Unknown = ()
    application_rules: int = 0


@dataclass(frozen=True, slots=True)
class FirewallRuleCollectionGroup:
    name: str
    priority: MaybeInt
    collections: tuple[FirewallRuleCollection, ...] | Unknown
    urn: str | None = None


@dataclass(frozen=True, slots=True)
class FirewallPolicy:
    key: Ref
    origin: Origin
    base_policy: MaybeRef = None
    dns_proxy: MaybeBool = None
    dns_servers: MaybeStrs = None
    snat_private_ranges: MaybeStrs = None
    rule_collection_groups: tuple[FirewallRuleCollectionGroup, ...] | Unknown = ()


@dataclass(frozen=True, slots=True)
class AzureFirewall:
    key: Ref
    origin: Origin
    vnet: MaybeRef  # of AzureFirewallSubnet; None for a Virtual WAN hub firewall
    private_ip: MaybeStr
    public_ip_count: int | Unknown  # data-path public IPs (ipConfigurations or hubIPAddresses)
    sku_name: MaybeStr = None  # AZFW_VNet | AZFW_Hub
    management_ip_configuration: MaybeBool = None  # forced-tunnel mode (§3.3)
    policy: MaybeRef = None
    # Classic rules on the firewall itself (used when there is no policy).
    classic_collections: tuple[FirewallRuleCollection, ...] | Unknown = ()
    dns_proxy: MaybeBool = None  # classic "Network.DNS.EnableProxy"
    snat_private_ranges: MaybeStrs = None  # classic "Network.SNAT.PrivateRanges"


@dataclass(frozen=True, slots=True)
class IpGroup:
    key: Ref
    origin: Origin
    ip_addresses: Strs


# --- DNS -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """A record set in a private zone: ``name`` relative to the zone ("@" for the apex)."""

    name: str
    type: str  # A | CNAME | ...
    values: Strs


@dataclass(frozen=True, slots=True)
class PrivateDnsZone:
    key: Ref
    origin: Origin
    zone_name: MaybeStr
    records: tuple[DnsRecord, ...] | Unknown = ()


@dataclass(frozen=True, slots=True)
class PrivateDnsZoneLink:
    key: Ref
    origin: Origin
    zone: MaybeRef
    vnet: MaybeRef
    resolution_policy: MaybeStr = None  # Default | NxDomainRedirect


@dataclass(frozen=True, slots=True)
class ForwardingRule:
    name: str
    domain_name: MaybeStr  # dot-terminated; "." is the wildcard rule
    enabled: MaybeBool = True
    target_servers: Strs = ()


@dataclass(frozen=True, slots=True)
class DnsForwardingRuleset:
    key: Ref
    origin: Origin
    rules: tuple[ForwardingRule, ...] | Unknown = ()
    vnets: tuple[MaybeRef, ...] | Unknown = ()


# --- The whole network ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    """Everything the analysis may look at, keyed by ``Ref``."""

    vnets: Mapping[Ref, VirtualNetwork] = field(default_factory=dict)
    subnets: Mapping[Ref, Subnet] = field(default_factory=dict)
    route_tables: Mapping[Ref, RouteTable] = field(default_factory=dict)
    nsgs: Mapping[Ref, NetworkSecurityGroup] = field(default_factory=dict)
    admin_rules: tuple[AdminRule, ...] = ()
    gateways: Mapping[Ref, VirtualNetworkGateway] = field(default_factory=dict)
    route_servers: Mapping[Ref, RouteServer] = field(default_factory=dict)
    hubs: Mapping[Ref, VirtualHub] = field(default_factory=dict)
    hub_connections: Mapping[Ref, HubConnection] = field(default_factory=dict)
    nat_gateways: Mapping[Ref, NatGateway] = field(default_factory=dict)
    load_balancers: Mapping[Ref, LoadBalancer] = field(default_factory=dict)
    nics: Mapping[Ref, NetworkInterface] = field(default_factory=dict)
    vms: Mapping[Ref, VirtualMachine] = field(default_factory=dict)
    # Scale sets and other compute whose NICs are templates: subnets they place VMs in.
    vm_subnets: Mapping[Ref, tuple[Ref, ...]] = field(default_factory=dict)
    firewalls: Mapping[Ref, AzureFirewall] = field(default_factory=dict)
    firewall_policies: Mapping[Ref, FirewallPolicy] = field(default_factory=dict)
    ip_groups: Mapping[Ref, IpGroup] = field(default_factory=dict)
    dns_zones: Mapping[Ref, PrivateDnsZone] = field(default_factory=dict)
    dns_zone_links: Mapping[Ref, PrivateDnsZoneLink] = field(default_factory=dict)
    dns_rulesets: Mapping[Ref, DnsForwardingRuleset] = field(default_factory=dict)
    # Problems found while building the model (bad input), each naming resource and property.
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """A bad input value found while building the model; it makes the affected verdicts unknown."""

    where: str  # resource name
    prop: str  # property path
    message: str
    urn: str | None = None
