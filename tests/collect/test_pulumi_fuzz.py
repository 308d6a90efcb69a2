"""Property-based: whatever the bags hold, ``collect`` never raises and never shows a secret.

DESIGN quality bar: "malformed or unknown input never … crashes". Bags are drawn from the property
names the collector reads, with values that are right, wrong-typed, unknown (any sentinel) or
secret, at any depth; property dependencies point at other drawn resources.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmsguard.collect.azure_native.arm import TOKENS
from kmsguard.collect.azure_native.values import UNKNOWN_SENTINELS
from kmsguard.collect.pulumi import PulumiResource, collect
from kmsguard.model import Network, Origin

from .preview import SECRET_SIG, arm_id

MARK = "s3cr3t"
KEYS = [
    "id", "name", "type", "location", "resourceGroupName", "virtualNetworkName", "subnetName", "routeTableName",
    "networkSecurityGroupName", "firewallPolicyName", "privateZoneName", "dnsForwardingRulesetName", "virtualHubName",
    "loadBalancerName", "networkGroupName", "ruleCollectionName", "configurationName", "provisioningState", "etag",
    "subnets", "routes", "securityRules", "virtualNetworkPeerings", "ipConfigurations", "subnet", "routeTable",
    "networkSecurityGroup", "natGateway", "publicIPAddress", "addressPrefix", "addressPrefixes", "addressSpace",
    "dhcpOptions", "dnsServers", "nextHopType", "nextHopIpAddress", "priority", "direction", "access", "protocol",
    "destinationAddressPrefix", "destinationPortRanges", "sourceApplicationSecurityGroups", "delegations",
    "serviceName", "defaultOutboundAccess", "remoteVirtualNetwork", "useRemoteGateways", "storageProfile", "osDisk",
    "osType", "imageReference", "publisher", "offer", "osProfile", "windowsConfiguration", "networkProfile",
    "networkInterfaces", "networkInterfaceConfigurations", "virtualMachineProfile", "orchestrationMode",
    "loadBalancerBackendAddressPools", "applicationSecurityGroups", "frontendIPConfigurations", "backendAddressPools",
    "outboundRules", "backendAddressPool", "loadBalancerBackendAddresses", "ipAddress", "sku", "gatewayType",
    "gatewayDefaultSite", "enableBgp", "virtualHub", "hubIPAddresses", "publicIPs", "count", "addresses",
    "managementIpConfiguration", "firewallPolicy", "networkRuleCollections", "applicationRuleCollections", "rules",
    "action", "protocols", "ipProtocols", "destinationAddresses", "destinationPorts", "sourceIpGroups",
    "additionalProperties", "basePolicy", "dnsSettings", "enableProxy", "servers", "snat", "privateRanges",
    "ruleCollections", "ruleCollectionType", "ruleType", "ipAddresses", "virtualWan", "routingPolicies",
    "destinations", "nextHop", "enableInternetSecurity", "hostedSubnet", "appliesToGroups", "networkGroupId",
    "resourceId", "properties", "commitType", "configurationIds", "sources", "relativeRecordSetName", "recordType",
    "aRecords", "ipv4Address", "cnameRecord", "virtualNetwork", "domainName", "forwardingRuleState", "targetDnsServers",
]  # fmt: skip
LEAVES = [
    *UNKNOWN_SENTINELS,
    "[secret]",
    "",
    "0.0.0.0/0",
    "10.0.1.4",
    "10.0.1.0/26",
    "VirtualAppliance",
    "Internet",
    "AzureFirewallSubnet",
    "GatewaySubnet",
    "Windows",
    "Allow",
    "TCP",
    "1688",
    arm_id("rg", "virtualNetworks/v"),
    arm_id("rg", "virtualNetworks/v/subnets/AzureFirewallSubnet"),
    arm_id("rg", "routeTables/rt"),
    arm_id("rg", "azureFirewalls/fw"),
    arm_id("rg", "loadBalancers/lb/backendAddressPools/p"),
    "/subscriptions/x",
]
TYPES = sorted(f"azure-native:{t}" for t in TOKENS)


def _secret(value: Any) -> dict[str, Any]:
    return {**SECRET_SIG, "value": value}


leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(LEAVES),
    st.just(MARK).map(_secret),
)
values = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=6),
        children.map(_secret),
    ),
    max_leaves=40,
)


@st.composite
def stacks(draw: st.DrawFn) -> list[PulumiResource]:
    count = draw(st.integers(1, 7))
    types = [draw(st.sampled_from(TYPES)) for _ in range(count)]
    urns = [f"urn:pulumi:dev::p::{t}::r{i}" for i, t in enumerate(types)]
    out = []
    for i, token in enumerate(types):
        props = draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=10))
        deps = draw(
            st.dictionaries(st.sampled_from(KEYS), st.lists(st.sampled_from(urns), max_size=3), max_size=4)
        )
        parent = draw(st.sampled_from(["", *urns]))
        out.append(
            PulumiResource(
                urns[i],
                token,
                f"r{i}",
                props,
                parent,
                tuple(u for v in deps.values() for u in v),
                {k: tuple(v) for k, v in deps.items()},
            )
        )
    return out


def _origins(net: Network) -> list[Origin]:
    found: list[Origin] = []
    for f in dataclasses.fields(net):
        value = getattr(net, f.name)
        items = value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else ()
        found.extend(o for item in items if isinstance(o := getattr(item, "origin", None), Origin))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_collect_never_raises_and_never_shows_a_secret(resources: list[PulumiResource]) -> None:
    net = collect(resources)
    for problem in net.problems:
        assert isinstance(problem.where, str) and isinstance(problem.prop, str)
        assert MARK not in problem.message
        assert "could not be read" not in problem.message  # no builder hit an unexpected shape
    for origin in _origins(net):
        assert MARK not in origin.name
    for f in dataclasses.fields(net):
        value = getattr(net, f.name)
        if isinstance(value, dict):
            assert all(isinstance(k, str) and MARK not in k for k in value)
