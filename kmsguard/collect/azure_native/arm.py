"""azure-native type tokens and ARM resource ids.

Tokens are canonicalised to ``<module>:<Type>`` (version suffixes of the module dropped, v2
aliases such as ``network:PrivateZone`` mapped to their 3.x module). Each handled type records
the ARM type segment its ids use, the input that holds its Azure name (pulumi-mechanics §3.0: path
parameters such as ``routeTableName`` are inputs only) and, for child resources, the parent type
and the input naming the parent. Names and tokens come from docs/azure-native-input-props.txt.

ARM ids are compared case-insensitively (ARM treats them so); the normalised form is the
lower-cased id without empty segments, which is also the model key of a resource outside the stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from kmsguard.collect.azure_native.values import UNKNOWN_SENTINELS


@dataclass(frozen=True, slots=True)
class ArmType:
    kind: str  # short type name, e.g. "RouteTable"; also Origin.kind
    module: str  # azure-native module of the 3.x token
    segment: str  # lower-case ARM type segment of the last id pair
    name_prop: str  # input holding the Azure name
    parent: str | None = None  # kind of the parent resource
    parent_prop: str | None = None  # input naming the parent


def _t(kind: str, segment: str, name_prop: str, parent: str | None = None, parent_prop: str | None = None,
       module: str = "network") -> ArmType:  # fmt: skip
    return ArmType(kind, module, segment, name_prop, parent, parent_prop)


TYPES: Final[dict[str, ArmType]] = {
    t.kind: t
    for t in (
        _t("VirtualNetwork", "virtualnetworks", "virtualNetworkName"),
        _t("Subnet", "subnets", "subnetName", "VirtualNetwork", "virtualNetworkName"),
        _t(
            "VirtualNetworkPeering",
            "virtualnetworkpeerings",
            "virtualNetworkPeeringName",
            "VirtualNetwork",
            "virtualNetworkName",
        ),
        _t("RouteTable", "routetables", "routeTableName"),
        _t("Route", "routes", "routeName", "RouteTable", "routeTableName"),
        _t("NetworkSecurityGroup", "networksecuritygroups", "networkSecurityGroupName"),
        _t(
            "SecurityRule",
            "securityrules",
            "securityRuleName",
            "NetworkSecurityGroup",
            "networkSecurityGroupName",
        ),
        _t("ApplicationSecurityGroup", "applicationsecuritygroups", "applicationSecurityGroupName"),
        _t("NetworkInterface", "networkinterfaces", "networkInterfaceName"),
        _t("PublicIPAddress", "publicipaddresses", "publicIpAddressName"),
        _t("NatGateway", "natgateways", "natGatewayName"),
        _t("LoadBalancer", "loadbalancers", "loadBalancerName"),
        _t(
            "LoadBalancerBackendAddressPool",
            "backendaddresspools",
            "backendAddressPoolName",
            "LoadBalancer",
            "loadBalancerName",
        ),
        _t("VirtualMachine", "virtualmachines", "vmName", module="compute"),
        _t("VirtualMachineScaleSet", "virtualmachinescalesets", "vmScaleSetName", module="compute"),
        _t("VirtualNetworkGateway", "virtualnetworkgateways", "virtualNetworkGatewayName"),
        _t("LocalNetworkGateway", "localnetworkgateways", "localNetworkGatewayName"),
        # Read for the static routes it adds (passes.mark_connections), not built into the model.
        _t("VirtualNetworkGatewayConnection", "connections", "virtualNetworkGatewayConnectionName"),
        _t("AzureFirewall", "azurefirewalls", "azureFirewallName"),
        _t("FirewallPolicy", "firewallpolicies", "firewallPolicyName"),
        _t(
            "FirewallPolicyRuleCollectionGroup",
            "rulecollectiongroups",
            "ruleCollectionGroupName",
            "FirewallPolicy",
            "firewallPolicyName",
        ),
        _t("IpGroup", "ipgroups", "ipGroupsName"),
        _t("VirtualHub", "virtualhubs", "virtualHubName"),
        _t(
            "HubVirtualNetworkConnection",
            "hubvirtualnetworkconnections",
            "connectionName",
            "VirtualHub",
            "virtualHubName",
        ),
        _t("RoutingIntent", "routingintent", "routingIntentName", "VirtualHub", "virtualHubName"),
        _t("HubRouteTable", "hubroutetables", "routeTableName", "VirtualHub", "virtualHubName"),
        _t("VirtualHubIpConfiguration", "ipconfigurations", "ipConfigName", "VirtualHub", "virtualHubName"),
        _t("VirtualRouter", "virtualrouters", "virtualRouterName"),
        _t("NetworkManager", "networkmanagers", "networkManagerName"),
        _t("NetworkGroup", "networkgroups", "networkGroupName", "NetworkManager", "networkManagerName"),
        _t("StaticMember", "staticmembers", "staticMemberName", "NetworkGroup", "networkGroupName"),
        _t(
            "SecurityAdminConfiguration",
            "securityadminconfigurations",
            "configurationName",
            "NetworkManager",
            "networkManagerName",
        ),
        _t(
            "AdminRuleCollection",
            "rulecollections",
            "ruleCollectionName",
            "SecurityAdminConfiguration",
            "configurationName",
        ),
        _t("AdminRule", "rules", "ruleName", "AdminRuleCollection", "ruleCollectionName"),
        _t("Commit", "commits", "commitName", "NetworkManager", "networkManagerName"),
        _t("PrivateZone", "privatednszones", "privateZoneName", module="privatedns"),
        # Record set ids end in /<record type>/<name>; they are never matched by id here.
        _t(
            "PrivateRecordSet",
            "",
            "relativeRecordSetName",
            "PrivateZone",
            "privateZoneName",
            module="privatedns",
        ),
        _t(
            "VirtualNetworkLink",
            "virtualnetworklinks",
            "virtualNetworkLinkName",
            "PrivateZone",
            "privateZoneName",
            module="privatedns",
        ),
        _t("DnsForwardingRuleset", "dnsforwardingrulesets", "dnsForwardingRulesetName", module="dnsresolver"),
        _t(
            "ForwardingRule",
            "forwardingrules",
            "forwardingRuleName",
            "DnsForwardingRuleset",
            "dnsForwardingRulesetName",
            module="dnsresolver",
        ),
        _t(
            "PrivateResolverVirtualNetworkLink",
            "virtualnetworklinks",
            "virtualNetworkLinkName",
            "DnsForwardingRuleset",
            "dnsForwardingRulesetName",
            module="dnsresolver",
        ),
    )
}

# Canonical token (module:Type) → kind (§3.1). The network:* DNS tokens are the v1/v2 tokens the
# 3.x classes still declare as aliases, so older stacks and exports keep working.
_ALIASES: Final = {
    "network:PrivateZone": "PrivateZone",
    "network:PrivateRecordSet": "PrivateRecordSet",
    "network:VirtualNetworkLink": "VirtualNetworkLink",
    "network:DnsForwardingRuleset": "DnsForwardingRuleset",
    "network:ForwardingRule": "ForwardingRule",
    "network:PrivateResolverVirtualNetworkLink": "PrivateResolverVirtualNetworkLink",
}
TOKENS: Final[dict[str, str]] = {**{f"{t.module}:{t.kind}": t.kind for t in TYPES.values()}, **_ALIASES}


def kind_of(token: str) -> str | None:
    """``azure-native:network/v20240301:RouteTable`` → ``RouteTable``; ``None`` for other types."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native":
        return None
    module = parts[1].split("/", 1)[0]
    return TOKENS.get(f"{module}:{parts[2]}")


@dataclass(frozen=True, slots=True)
class ArmId:
    """A parsed ARM id; ``None`` parts were the unknown sentinel (e.g. built from an unknown name)."""

    subscription: str | None
    resource_group: str | None
    provider: str | None
    pairs: tuple[tuple[str, str | None], ...]  # (lower-case type segment, name)

    @property
    def name(self) -> str | None:
        return self.pairs[-1][1]

    @property
    def segment(self) -> str:
        return self.pairs[-1][0]

    @property
    def complete(self) -> bool:
        return (
            self.subscription is not None
            and self.resource_group is not None
            and all(n is not None for _, n in self.pairs)
        )

    def ancestor(self, depth: int) -> ArmId:
        return ArmId(self.subscription, self.resource_group, self.provider, self.pairs[:depth])

    def normalised(self) -> str:
        sub = (self.subscription or "*").lower()
        rg = (self.resource_group or "*").lower()
        tail = "/".join(f"{t}/{(n or '*').lower()}" for t, n in self.pairs)
        return f"/subscriptions/{sub}/resourcegroups/{rg}/providers/{self.provider or '*'}/{tail}"


def _part(text: str) -> str | None:
    return None if text in UNKNOWN_SENTINELS else text


def parse_id(text: str) -> ArmId | None:
    """``/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a``.

    Returns ``None`` when the text is not shaped like an ARM resource id."""
    parts = [p for p in text.strip().split("/") if p]
    if len(parts) < 8 or len(parts) % 2 != 0:
        return None
    if parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
        return None
    if parts[4].lower() != "providers":
        return None
    rest = parts[6:]
    pairs = tuple((rest[i].lower(), _part(rest[i + 1])) for i in range(0, len(rest), 2))
    return ArmId(_part(parts[1]), _part(parts[3]), parts[5].lower(), pairs)


def normalise(text: str) -> str:
    """The model key of a resource known only by its id (outside the stack)."""
    parsed = parse_id(text)
    if parsed is not None:
        return parsed.normalised()
    return "/" + "/".join(p for p in text.strip().lower().split("/") if p)
