"""Random property bags for every resource type the collector reads, through the pack over gRPC.

Unlike ``test_pack_fuzz`` (edits of a coherent estate), these bags are drawn from the property names
the collector reads with values of any shape: right, wrong-typed, unknown (any typed sentinel),
secret, empty, unicode, deep, long. Every example is one stack holding one bag of every type, with
property dependencies between them, run as one preview (Remediate + Analyze each, AnalyzeStack).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmsguard.collect.azure_native.arm import TOKENS
from kmsguard.engine import PackProcess, PackResource, Secret, Unknown
from kmsguard.engine.wire import UNKNOWN_SENTINELS

from .estate import arm_id
from .support import MARKER_PREFIX, marker, scaled, texts
from .test_pack_fuzz import check_pack_run

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
TYPES = sorted(f"azure-native:{t}" for t in TOKENS)
KEYS = sorted(
    {
        "id", "name", "type", "location", "resourceGroupName", "virtualNetworkName", "subnetName", "routeTableName",
        "networkSecurityGroupName", "azureFirewallName", "firewallPolicyName", "privateZoneName", "virtualHubName",
        "dnsForwardingRulesetName", "loadBalancerName", "networkManagerName", "networkGroupName", "configurationName",
        "ruleCollectionName", "subnets", "routes", "securityRules", "virtualNetworkPeerings", "ipConfigurations",
        "subnet", "routeTable", "networkSecurityGroup", "natGateway", "publicIPAddress", "addressPrefix",
        "addressPrefixes", "addressSpace", "dhcpOptions", "dnsServers", "nextHopType", "nextHopIpAddress", "priority",
        "direction", "access", "protocol", "sourceAddressPrefix", "destinationAddressPrefix",
        "destinationAddressPrefixes", "destinationPortRange", "destinationPortRanges", "delegations", "serviceName",
        "defaultOutboundAccess", "remoteVirtualNetwork", "useRemoteGateways", "allowForwardedTraffic",
        "storageProfile", "osDisk", "osType", "imageReference", "publisher", "offer", "sku", "osProfile",
        "windowsConfiguration", "networkProfile", "networkInterfaces", "networkInterfaceConfigurations",
        "virtualMachineProfile", "orchestrationMode", "loadBalancerBackendAddressPools", "frontendIPConfigurations",
        "backendAddressPools", "outboundRules", "backendAddressPool", "gatewayType", "gatewayDefaultSite",
        "enableBgp", "virtualHub", "hubIPAddresses", "publicIPs", "count", "managementIpConfiguration",
        "firewallPolicy", "networkRuleCollections", "applicationRuleCollections", "rules", "action", "ipProtocols",
        "destinationAddresses", "destinationPorts", "destinationIpGroups", "sourceAddresses", "additionalProperties",
        "basePolicy", "dnsSettings", "enableProxy", "servers", "snat", "privateRanges", "ruleCollections",
        "ruleCollectionType", "ruleType", "ipAddresses", "virtualWan", "routingPolicies", "destinations", "nextHop",
        "enableInternetSecurity", "hostedSubnet", "appliesToGroups", "networkGroupId", "resourceId", "properties",
        "commitType", "configurationIds", "sources", "relativeRecordSetName", "recordType", "aRecords",
        "ipv4Address", "virtualNetwork", "domainName", "forwardingRuleState", "targetDnsServers", "ipAddress",
        "kind", "disableBgpRoutePropagation", "privateIPAddress", "publicIpAddresses", "enableIpForwarding",
    }
)  # fmt: skip
LEAVES = [
    "", " ", "0.0.0.0/0", "10.0.1.4", "10.0.1.0/26", "10.0.0.0/33", "VirtualAppliance", "virtualappliance",
    "INTERNET", "Internet", "None", "AzureFirewallSubnet", "gatewaysubnet", "Windows", "Allow", "Deny", "Outbound",
    "TCP", "*", "1688", "1-65535", "70000", "eastus", "usgovvirginia", "chinanorth3", "Mars", "global", "[secret]",
    arm_id("virtualNetworks/v"), arm_id("virtualNetworks/v/subnets/AzureFirewallSubnet"), arm_id("routeTables/rt"),
    arm_id("azureFirewalls/fw"), arm_id("networkSecurityGroups/nsg"), "/subscriptions/x", "Ünïcødé", "x" * 2000,
]  # fmt: skip

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(LEAVES),
    st.sampled_from(sorted(UNKNOWN_SENTINELS)).map(Unknown),
    st.builds(lambda: Secret(marker())),
)
values = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=6),
        children.map(Secret),
    ),
    max_leaves=30,
)


@st.composite
def stacks(draw: st.DrawFn) -> list[PackResource]:
    urns = [f"urn:pulumi:dev::p::{t}::r{i}" for i, t in enumerate(TYPES)]
    out: list[PackResource] = []
    for i, token in enumerate(TYPES):
        props: dict[str, Any] = draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=8))
        deps = draw(
            st.dictionaries(st.sampled_from(KEYS), st.lists(st.sampled_from(urns), max_size=2), max_size=3)
        )
        out.append(
            PackResource(
                type=token,
                urn=urns[i],
                name=f"r{i}",
                inputs=props,
                parent=draw(st.sampled_from(["", *urns])),
                dependencies=tuple(dict.fromkeys(u for v in deps.values() for u in v)),
                property_dependencies={k: tuple(v) for k, v in deps.items()},
            )
        )
    return out


@settings(max_examples=scaled(25), deadline=None, suppress_health_check=SLOW)
@given(stacks())
def test_random_bags_of_every_type_through_the_pack(pack: PackProcess, resources: list[PackResource]) -> None:
    run = check_pack_run(pack, resources)
    for text in texts(run, pack):
        assert MARKER_PREFIX not in text
