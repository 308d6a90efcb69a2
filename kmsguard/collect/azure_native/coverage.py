"""azure-native type tokens: read, irrelevant to the KMS path, or not read yet (reported).

A closed classification of the modules whose resources can change a subnet's KMS path — its routes
(docs/rules.md#user-defined-routes, #bgp-routes), its filtering (#admin-rules, #nsg-platform-rule),
its egress source IP (#azure-public-source, #explicit-outbound) or how the KMS names resolve
(#private-dns-zones, #dns-forwarding-rulesets):

* ``read``: the kinds ``arm.TYPES`` builds (with the v1/v2 aliases ``arm`` maps);
* ``irrelevant``: the types listed in ``IRRELEVANT``, each with the reason it cannot change any of
  the four;
* ``unread``: every other type of ``NETWORK_MODULES`` — the ones listed in ``UNREAD`` and any type a
  later SDK adds — is reported and makes the verdicts unknown (DESIGN "unknown is never a pass"),
  as for the classic provider (``azure_classic.types.unread``). In ``compute`` only virtual machines
  and scale sets can carry a NIC, so there the default is irrelevant.

Tokens are compared in canonical form ``<module>:<Type>``: an API-version module
(``azure-native:network/v20240501:RoutingRule``) is its module, as in ``arm.kind_of``; the old
``network:*`` tokens the 3.x classes of ``dns``, ``dnsresolver``, ``frontdoor`` and
``trafficmanager`` still declare as aliases are classified under ``network`` like their 3.x types.
"""

from __future__ import annotations

from typing import Final, Literal

from kmsguard.collect.azure_native.arm import TOKENS

PREFIX: Final = "azure-native:"

Coverage = Literal["read", "irrelevant", "unread", "other"]

# Modules whose resources can change a subnet's KMS path; the types of every other module (storage,
# key vault, the resource group …) are "other": never read, never reported.
NETWORK_MODULES: Final = frozenset({"network", "compute", "dnsresolver", "privatedns"})


def _each(reason: str, names: str) -> dict[str, str]:
    """``names``: the module, then its types, separated by spaces."""
    module, *types = names.split()
    return {f"{module}:{n}": reason for n in types}


_INBOUND: Final = (
    "inbound only: it receives connections into the network; a VM's outbound TCP 1688 flow never uses "
    "it (a route to it is read as a VirtualAppliance next hop, docs/rules.md#third-party-appliances)"
)
_RESOLVER: Final = (
    "the resolver and its endpoints answer only queries sent to them: a VNet that sends its queries to "
    "an inbound endpoint has it as a custom DNS server (docs/rules.md#custom-dns), and an outbound "
    "endpoint carries only what a linked forwarding ruleset (read) forwards"
)
_PUBLIC_DNS: Final = (
    "public DNS hosting: a zone hosted in Azure DNS answers only the queries delegated to it, and "
    "Azure-provided DNS resolves the KMS names from the public delegation (docs/rules.md#private-dns-zones)"
)

# Canonical token → why it cannot change a subnet's route, filtering, egress source IP or the
# resolution of the KMS names.
IRRELEVANT: Final[dict[str, str]] = {
    **_each(
        "monitoring and verification: it observes traffic or checks reachability, and changes no "
        "route, rule or DNS answer",
        "network NetworkWatcher FlowLog ConnectionMonitor PacketCapture VerifierWorkspace "
        "ReachabilityAnalysisIntent ReachabilityAnalysisRun",
    ),
    **_each(
        "traffic mirroring: a copy of the flow goes to the collector, the flow itself keeps its route, "
        "filtering and source IP",
        "network VirtualNetworkTap NetworkInterfaceTapConfiguration",
    ),
    **_each(
        "protects inbound traffic only (DDoS mitigation, web application firewall)",
        "network DdosProtectionPlan DdosCustomPolicy WebApplicationFirewallPolicy",
    ),
    **_each(
        _INBOUND,
        "network ApplicationGateway ApplicationGatewayPrivateEndpointConnection BastionHost "
        "InboundNatRule PrivateLinkService PrivateLinkServicePrivateEndpointConnection",
    ),
    **_each(
        "a private endpoint adds only the /32 route of its own private IP, never a public KMS IP "
        "(docs/rules.md#kms-endpoints), and filters no outbound flow",
        "network PrivateEndpoint InterfaceEndpoint",
    ),
    "network:PrivateDnsZoneGroup": (
        "writes its private endpoint's records, named after the endpoint's target resource, into the "
        "zones it names; which zones shadow the KMS names is decided by the zones and their links (read, "
        "docs/rules.md#private-dns-zones)"
    ),
    **_each(
        "AVNM scope and IP address management: they change no route, rule or DNS answer",
        "network ScopeConnection ManagementGroupNetworkManagerConnection "
        "SubscriptionNetworkManagerConnection IpamPool StaticCidr IpAllocation",
    ),
    **_each(
        "a network security perimeter governs the public access of the PaaS resources associated with "
        "it, never a VM's outbound flow",
        "network NetworkSecurityPerimeter NetworkSecurityPerimeterAccessRule "
        "NetworkSecurityPerimeterAssociation NetworkSecurityPerimeterLink "
        "NetworkSecurityPerimeterLoggingConfiguration NetworkSecurityPerimeterProfile "
        "NspAccessRule NspAssociation NspLink NspProfile",
    ),
    **_each(
        "a service endpoint policy filters only traffic sent through a service endpoint (Azure Storage and "
        "similar services); KMS is not reached through one",
        "network ServiceEndpointPolicy ServiceEndpointPolicyDefinition",
    ),
    "network:PublicIPPrefix": (
        "a block of public IPs: the source IP comes from the NAT gateway, public IP or load balancer that "
        "uses it, which is what is read (docs/rules.md#explicit-outbound)"
    ),
    "network:DscpConfiguration": "quality-of-service marking: it changes no route, rule or source IP",
    "network:NetworkProfile": "container network profiles (container instances): no Windows VM uses one",
    **_each(
        "a draft takes effect only when it is deployed, which rewrites the firewall policy and rule "
        "collection groups that are read",
        "network FirewallPolicyDraft FirewallPolicyRuleCollectionGroupDraft",
    ),
    **_each(
        "ExpressRoute physical ports and authorization keys: the routes come with circuits, gateways "
        "and connections (not read: reported)",
        "network ExpressRoutePort ExpressRoutePortAuthorization ExpressRouteCircuitAuthorization",
    ),
    **_each(
        "a route filter selects the Microsoft service prefixes an ExpressRoute circuit's Microsoft "
        "peering advertises to on-premises; it installs no route in a VNet",
        "network RouteFilter RouteFilterRule",
    ),
    **_each(
        "point-to-site authentication and user-group policy: the client address pools that become routes "
        "are on the P2S gateway (not read: reported)",
        "network VpnServerConfiguration P2sVpnServerConfiguration ConfigurationPolicyGroup",
    ),
    **_each(
        "the container of Virtual WAN hubs: routing is decided by the hubs, their connections, routing "
        "intent and route tables (docs/rules.md#virtual-wan)",
        "network VirtualWan VirtualWAN",  # VirtualWAN: the 2018 API version's spelling
    ),
    # v1/v2 tokens of types that moved out of ``network`` in 3.x (aliases of the 3.x classes).
    **_each(_PUBLIC_DNS, "network Zone RecordSet DnssecConfig"),
    **_each(
        "Traffic Manager: DNS-based distribution of inbound requests for its own domain",
        "network Profile Endpoint TrafficManagerUserMetricsKey",
    ),
    **_each(
        "Front Door: an inbound edge service for its own domains",
        "network FrontDoor Experiment NetworkExperimentProfile Policy RulesEngine",
    ),
    **_each(_RESOLVER, "network DnsResolver InboundEndpoint OutboundEndpoint"),
    **_each(_RESOLVER, "dnsresolver DnsResolver InboundEndpoint OutboundEndpoint"),
    **_each(
        "compute resources other than virtual machines and scale sets (disks, images, galleries, "
        "extensions, run commands, placement and capacity) have no NIC, route, rule or DNS setting",
        "compute AvailabilitySet CapacityReservation CapacityReservationGroup DedicatedHost "
        "DedicatedHostGroup Disk DiskAccess DiskAccessAPrivateEndpointConnection "
        "DiskEncryptionSet Gallery GalleryApplication GalleryApplicationVersion GalleryImage "
        "GalleryImageVersion GalleryInVMAccessControlProfile "
        "GalleryInVMAccessControlProfileVersion GalleryScript GalleryScriptVersion Image "
        "ProximityPlacementGroup RestorePoint RestorePointCollection Snapshot SshPublicKey "
        "VirtualMachineExtension VirtualMachineRunCommandByVirtualMachine "
        "VirtualMachineScaleSetExtension VirtualMachineScaleSetVMExtension "
        "VirtualMachineScaleSetVMRunCommand",
    ),
}

# The types of ``NETWORK_MODULES`` known not to be read yet, by what they can change. Listing them is
# documentation (and lets the SDK meta-test tell "decided" from "new"): any type of those modules
# that is neither read nor irrelevant is reported whether it is listed or not.
UNREAD: Final = frozenset(
    {
        # AVNM connectivity (peerings, hub-and-spoke with the hub's gateway), routing (UDRs), security
        # user rules (NSG-like) and the default rules of a security configuration.
        "network:ConnectivityConfiguration",
        "network:RoutingConfiguration",
        "network:NetworkManagerRoutingConfiguration",
        "network:RoutingRuleCollection",
        "network:RoutingRule",
        "network:SecurityUserConfiguration",
        "network:SecurityUserRuleCollection",
        "network:SecurityUserRule",
        "network:UserRuleCollection",
        "network:UserRule",
        "network:DefaultUserRule",
        "network:DefaultAdminRule",
        # Firewall policy rules of the pre-2020 API (rule groups): they may allow or drop TCP 1688.
        "network:FirewallPolicyRuleGroup",
        # Virtual WAN routing: BGP peers, route tables, route maps, connection policies, third-party
        # security (Internet traffic to the partner), NVAs in the hub.
        "network:VirtualHubBgpConnection",
        "network:VirtualHubRouteTableV2",
        "network:RouteMap",
        "network:ConnectionPolicy",
        "network:SecurityPartnerProvider",
        "network:NetworkVirtualAppliance",
        "network:NetworkVirtualApplianceConnection",
        "network:VirtualApplianceSite",
        # Route Server BGP peers: an NVA may advertise 0.0.0.0/0 (docs/rules.md#bgp-routes).
        "network:VirtualRouterPeering",
        # ExpressRoute and VPN: BGP routes, branch address spaces and NAT mappings become gateway routes.
        "network:ExpressRouteCircuit",
        "network:ExpressRouteCircuitPeering",
        "network:ExpressRouteCircuitConnection",
        "network:ExpressRouteCrossConnectionPeering",
        "network:ExpressRouteConnection",
        "network:ExpressRouteGateway",
        "network:VpnGateway",
        "network:VpnConnection",
        "network:VpnSite",
        "network:P2sVpnGateway",
        "network:NatRule",
        "network:VirtualNetworkGatewayNatRule",
        "network:InterconnectGroup",
        # Egress: customer-owned (BYOIP) public addresses, service gateways and appliances attached to a
        # VNet may change the source IP of the KMS flow (docs/rules.md#azure-public-source).
        "network:CustomIPPrefix",
        "network:ServiceGateway",
        "network:VirtualNetworkAppliance",
        # DNS security policies may block or rewrite the KMS names' queries (docs/rules.md#custom-dns).
        "dnsresolver:DnsResolverPolicy",
        "dnsresolver:DnsResolverPolicyVirtualNetworkLink",
        "dnsresolver:DnsSecurityRule",
        "dnsresolver:DnsResolverDomainList",
        "network:DnsResolverPolicy",
        "network:DnsResolverPolicyVirtualNetworkLink",
        "network:DnsSecurityRule",
        "network:DnsResolverDomainList",
        # A scale set instance has its own network profile, which the scale set's model does not show.
        "compute:VirtualMachineScaleSetVM",
    }
)


def canonical(token: str) -> str | None:
    """``azure-native:network/v20240501:RoutingRule`` → ``network:RoutingRule``; ``None`` for a token
    that is not an azure-native resource type."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native" or not parts[2]:
        return None
    return f"{parts[1].split('/', 1)[0]}:{parts[2]}"


def classify(token: object) -> Coverage:
    if not isinstance(token, str):
        return "other"
    name = canonical(token)
    if name is None:
        return "other"
    if name in TOKENS:
        return "read"
    if name in IRRELEVANT:
        return "irrelevant"
    module = name.split(":", 1)[0]
    if module not in NETWORK_MODULES:
        return "other"
    if module == "compute" and name not in UNREAD:
        return "irrelevant"  # only virtual machines and scale sets carry NICs (module doc)
    return "unread"


def unread(token: object) -> bool:
    """An azure-native network-relevant type that kmsguard does not read (yet): it must be reported."""
    return classify(token) == "unread"


__all__ = ["IRRELEVANT", "NETWORK_MODULES", "UNREAD", "canonical", "classify", "unread"]
