"""Classic (pulumi-azure) type tokens: read, irrelevant to the KMS path, or not read yet.

A classic token is ``azure:<module>/<camelName>:<Type>`` (``azure:network/routeTable:RouteTable``).
"""

from __future__ import annotations

from typing import Final

PREFIX: Final = "azure:"

# Read: classic token → the azure-native kind its translated properties are built as (arm.TYPES).
READ: Final[dict[str, str]] = {
    "azure:network/virtualNetwork:VirtualNetwork": "VirtualNetwork",
    "azure:network/subnet:Subnet": "Subnet",
    "azure:network/virtualNetworkPeering:VirtualNetworkPeering": "VirtualNetworkPeering",
    "azure:network/routeTable:RouteTable": "RouteTable",
    "azure:network/route:Route": "Route",
    "azure:network/networkSecurityGroup:NetworkSecurityGroup": "NetworkSecurityGroup",
    "azure:network/networkSecurityRule:NetworkSecurityRule": "SecurityRule",
    "azure:network/applicationSecurityGroup:ApplicationSecurityGroup": "ApplicationSecurityGroup",
    "azure:network/networkInterface:NetworkInterface": "NetworkInterface",
    "azure:network/publicIp:PublicIp": "PublicIPAddress",
    "azure:network/natGateway:NatGateway": "NatGateway",
    "azure:network/virtualNetworkGateway:VirtualNetworkGateway": "VirtualNetworkGateway",
    "azure:network/localNetworkGateway:LocalNetworkGateway": "LocalNetworkGateway",
    "azure:network/firewall:Firewall": "AzureFirewall",
    "azure:network/firewallPolicy:FirewallPolicy": "FirewallPolicy",
    "azure:network/firewallPolicyRuleCollectionGroup:FirewallPolicyRuleCollectionGroup": (
        "FirewallPolicyRuleCollectionGroup"
    ),
    "azure:compute/windowsVirtualMachine:WindowsVirtualMachine": "VirtualMachine",
    "azure:compute/linuxVirtualMachine:LinuxVirtualMachine": "VirtualMachine",
    "azure:compute/virtualMachine:VirtualMachine": "VirtualMachine",
    # Scale sets and load balancers (compute_lb): Windows/Linux/ScaleSet are Uniform, orchestrated
    # is Flexible; a classic BackendAddressPool is a child of its load balancer.
    "azure:compute/windowsVirtualMachineScaleSet:WindowsVirtualMachineScaleSet": "VirtualMachineScaleSet",
    "azure:compute/linuxVirtualMachineScaleSet:LinuxVirtualMachineScaleSet": "VirtualMachineScaleSet",
    "azure:compute/orchestratedVirtualMachineScaleSet:OrchestratedVirtualMachineScaleSet": (
        "VirtualMachineScaleSet"
    ),
    "azure:compute/scaleSet:ScaleSet": "VirtualMachineScaleSet",
    "azure:lb/loadBalancer:LoadBalancer": "LoadBalancer",
    "azure:lb/backendAddressPool:BackendAddressPool": "LoadBalancerBackendAddressPool",
    "azure:privatedns/zone:Zone": "PrivateZone",
    "azure:privatedns/aRecord:ARecord": "PrivateRecordSet",
    "azure:privatedns/cnameRecord:CnameRecord": "PrivateRecordSet",
    "azure:privatedns/zoneVirtualNetworkLink:ZoneVirtualNetworkLink": "VirtualNetworkLink",
    # Firewall classic rule collections, resolver rulesets and AVNM (translate_edge); a classic
    # FirewallNetworkRuleCollection is a child of its firewall (translate_edge.ARM_TYPES).
    "azure:network/firewallNetworkRuleCollection:FirewallNetworkRuleCollection": (
        "AzureFirewallNetworkRuleCollection"
    ),
    "azure:privatedns/resolverDnsForwardingRuleset:ResolverDnsForwardingRuleset": "DnsForwardingRuleset",
    "azure:privatedns/resolverForwardingRule:ResolverForwardingRule": "ForwardingRule",
    "azure:privatedns/resolverVirtualNetworkLink:ResolverVirtualNetworkLink": "PrivateResolverVirtualNetworkLink",
    "azure:network/networkManager:NetworkManager": "NetworkManager",
    "azure:network/networkManagerNetworkGroup:NetworkManagerNetworkGroup": "NetworkGroup",
    "azure:network/networkManagerStaticMember:NetworkManagerStaticMember": "StaticMember",
    "azure:network/networkManagerSecurityAdminConfiguration:NetworkManagerSecurityAdminConfiguration": (
        "SecurityAdminConfiguration"
    ),
    "azure:network/networkManagerAdminRuleCollection:NetworkManagerAdminRuleCollection": "AdminRuleCollection",
    "azure:network/networkManagerAdminRule:NetworkManagerAdminRule": "AdminRule",
    "azure:network/networkManagerDeployment:NetworkManagerDeployment": "Commit",
    "azure:network/virtualNetworkGatewayConnection:VirtualNetworkGatewayConnection": (
        "VirtualNetworkGatewayConnection"
    ),
}

# Associations: attach one resource to another; applied to the model after it is built.
# token → (kind, the property holding the target, the property holding the attached resource)
ASSOCIATIONS: Final[dict[str, tuple[str, str, str]]] = {
    "azure:network/subnetRouteTableAssociation:SubnetRouteTableAssociation": (
        "SubnetRouteTableAssociation",
        "subnetId",
        "routeTableId",
    ),
    "azure:network/subnetNetworkSecurityGroupAssociation:SubnetNetworkSecurityGroupAssociation": (
        "SubnetNetworkSecurityGroupAssociation",
        "subnetId",
        "networkSecurityGroupId",
    ),
    "azure:network/subnetNatGatewayAssociation:SubnetNatGatewayAssociation": (
        "SubnetNatGatewayAssociation",
        "subnetId",
        "natGatewayId",
    ),
    "azure:network/networkInterfaceSecurityGroupAssociation:NetworkInterfaceSecurityGroupAssociation": (
        "NetworkInterfaceSecurityGroupAssociation",
        "networkInterfaceId",
        "networkSecurityGroupId",
    ),
    "azure:network/virtualNetworkDnsServers:VirtualNetworkDnsServers": (
        "VirtualNetworkDnsServers",
        "virtualNetworkId",
        "dnsServers",
    ),
    # Load balancer parts azure-native keeps inline, applied by compute_lb.apply.
    "azure:lb/outboundRule:OutboundRule": (
        "LoadBalancerOutboundRule",
        "loadbalancerId",
        "backendAddressPoolId",
    ),
    "azure:lb/backendAddressPoolAddress:BackendAddressPoolAddress": (
        "LoadBalancerBackendAddress",
        "backendAddressPoolId",
        "ipAddress",
    ),
    "azure:network/networkInterfaceBackendAddressPoolAssociation:NetworkInterfaceBackendAddressPoolAssociation": (
        "NetworkInterfaceBackendAddressPoolAssociation",
        "networkInterfaceId",
        "backendAddressPoolId",
    ),
}

# Read and deliberately without effect on the model: the model only asks whether a NAT gateway is
# attached to a subnet (semantics §5.3), not which public IP it has.
NO_EFFECT: Final = frozenset(
    {
        "azure:network/natGatewayPublicIpAssociation:NatGatewayPublicIpAssociation",
        # A load-balancing rule's SNAT (disableOutboundSnat false) as an outbound method is UNCONFIRMED
        # (semantics §5.3, open question 13); the model never counts it, for azure-native's inline
        # loadBalancingRules neither, so ignoring it can only turn a pass into a block, never the reverse.
        "azure:lb/rule:Rule",
    }
)

# Modules whose resources can change a subnet's KMS path (routing, filtering, egress, DNS).
NETWORK_MODULES: Final = frozenset({"network", "lb", "privatedns", "compute"})

# Types of those modules that cannot change any subnet's KMS path (monitoring, disks, images,
# inbound-only services, public DNS zones that Azure DNS never consults for the KMS names).
IRRELEVANT: Final = frozenset(
    {
        "azure:network/networkWatcher:NetworkWatcher",
        "azure:network/networkWatcherFlowLog:NetworkWatcherFlowLog",
        "azure:network/networkConnectionMonitor:NetworkConnectionMonitor",
        "azure:network/ddosProtectionPlan:DdosProtectionPlan",
        "azure:network/trafficManagerProfile:TrafficManagerProfile",
        "azure:network/trafficManagerAzureEndpoint:TrafficManagerAzureEndpoint",
        "azure:network/trafficManagerExternalEndpoint:TrafficManagerExternalEndpoint",
        "azure:network/trafficManagerNestedEndpoint:TrafficManagerNestedEndpoint",
        "azure:network/publicIpPrefix:PublicIpPrefix",
        "azure:network/natGatewayPublicIpPrefixAssociation:NatGatewayPublicIpPrefixAssociation",
        "azure:dns/zone:Zone",
        "azure:dns/aRecord:ARecord",
        "azure:dns/cnameRecord:CnameRecord",
        "azure:dns/txtRecord:TxtRecord",
        "azure:dns/mxRecord:MxRecord",
        # Inbound only: NAT rules and pools forward traffic from a frontend port to a VM, probes
        # check backend health; none is an outbound method or a pool membership (§5.1).
        "azure:lb/natRule:NatRule",
        "azure:lb/natPool:NatPool",
        "azure:lb/probe:Probe",
        # Application rules match HTTP/HTTPS/MSSQL only and DNAT rules translate inbound traffic to
        # the firewall's public IP: neither matches a VM's TCP 1688 flow to KMS, which only a network
        # rule can allow (docs/rules.md#firewall-network-rules, #firewall-default-deny).
        "azure:network/firewallApplicationRuleCollection:FirewallApplicationRuleCollection",
        "azure:network/firewallNatRuleCollection:FirewallNatRuleCollection",
        # The resolver and its endpoints answer only queries sent to them: a VNet that sends its
        # queries to an inbound endpoint has it as a custom DNS server (docs/rules.md#custom-dns),
        # and the outbound endpoints only carry what a linked ruleset forwards (read above).
        "azure:privatedns/resolver:Resolver",
        "azure:privatedns/resolverInboundEndpoint:ResolverInboundEndpoint",
        "azure:privatedns/resolverOutboundEndpoint:ResolverOutboundEndpoint",
        # AVNM scope, IP address management and verification: they change no route, rule or DNS
        # answer. (Connectivity and routing configurations can, and are not read: unknown.)
        "azure:network/networkManagerManagementGroupConnection:NetworkManagerManagementGroupConnection",
        "azure:network/networkManagerSubscriptionConnection:NetworkManagerSubscriptionConnection",
        "azure:network/networkManagerScopeConnection:NetworkManagerScopeConnection",
        "azure:network/networkManagerIpamPool:NetworkManagerIpamPool",
        "azure:network/networkManagerIpamPoolStaticCidr:NetworkManagerIpamPoolStaticCidr",
        "azure:network/networkManagerVerifierWorkspace:NetworkManagerVerifierWorkspace",
        (
            "azure:network/networkManagerVerifierWorkspaceReachabilityAnalysisIntent:"
            "NetworkManagerVerifierWorkspaceReachabilityAnalysisIntent"
        ),
    }
)
# In ``compute`` only the virtual machines and scale sets matter (scope, NICs, activation).
_COMPUTE_RELEVANT: Final = frozenset(
    {
        "VirtualMachine",
        "WindowsVirtualMachine",
        "LinuxVirtualMachine",
        "WindowsVirtualMachineScaleSet",
        "LinuxVirtualMachineScaleSet",
        "OrchestratedVirtualMachineScaleSet",
        "ScaleSet",
    }
)


def is_classic(token: object) -> bool:
    return isinstance(token, str) and token.startswith(PREFIX)


def module_of(token: str) -> str:
    parts = token.split(":")
    return parts[1].split("/", 1)[0] if len(parts) == 3 else ""


def unread(token: str) -> bool:
    """A classic network-relevant type that kmsguard does not read (yet): it must be reported."""
    if not is_classic(token) or token in READ or token in ASSOCIATIONS or token in NO_EFFECT:
        return False
    if token in IRRELEVANT or token.startswith("pulumi:providers:"):
        return False
    module = module_of(token)
    if module == "compute":
        return token.rsplit(":", 1)[-1] in _COMPUTE_RELEVANT
    return module in NETWORK_MODULES
