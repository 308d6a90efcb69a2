"""Build property bags exactly as a policy pack receives them.

``preview(...)`` reproduces azure-native's ``PreviewOutputs`` (provider/pkg/convert/previewOutputs.go,
pulumi-mechanics §1.6) for the response properties the collector reads: every response property
that is not an input becomes the unknown sentinel, nested objects and arrays of objects recurse,
union-typed values (firewall policy rule collections) pass through unchanged, and inputs that are
not outputs (path parameters such as ``resourceGroupName``, ``virtualNetworkName``) disappear.

``inputs(...)`` is the runner's / Analyze's view: the inputs as given (no projection).
"""

from __future__ import annotations

from typing import Any

from kmsguard.collect.pulumi import PulumiResource

U = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"


def secret(value: Any) -> dict[str, Any]:
    return {**SECRET_SIG, "value": value}


def urn(kind: str, name: str, stack: str = "dev", project: str = "net") -> str:
    return f"urn:pulumi:{stack}::{project}::{kind}::{name}"


def arm_id(rg: str, *pairs: str, provider: str = "Microsoft.Network") -> str:
    return f"{SUB}/resourceGroups/{rg}/providers/{provider}/" + "/".join(pairs)


# --- output shapes (subset of the azure-native response types) -----------------------------------

ANY = "any"  # a oneOf/union property: PreviewOutputs returns the input unchanged
REF = {"id": None}
BASE = {"id": None, "etag": None, "name": None, "type": None, "provisioningState": None}
ROUTE = {**BASE, "addressPrefix": None, "nextHopType": None, "nextHopIpAddress": None, "hasBgpOverride": None}
RULE = {
    **BASE,
    "description": None,
    "priority": None,
    "direction": None,
    "access": None,
    "protocol": None,
    "sourceAddressPrefix": None,
    "sourceAddressPrefixes": None,
    "sourcePortRange": None,
    "sourcePortRanges": None,
    "destinationAddressPrefix": None,
    "destinationAddressPrefixes": None,
    "destinationPortRange": None,
    "destinationPortRanges": None,
    "sourceApplicationSecurityGroups": [REF],
    "destinationApplicationSecurityGroups": [REF],
}
SUBNET = {
    **BASE,
    "addressPrefix": None,
    "addressPrefixes": None,
    "routeTable": {**REF, "etag": None, "routes": [ROUTE], "disableBgpRoutePropagation": None},
    "networkSecurityGroup": {**REF, "etag": None, "securityRules": [RULE]},
    "natGateway": REF,
    "defaultOutboundAccess": None,
    "delegations": [{**BASE, "serviceName": None, "actions": None}],
    "ipConfigurations": [REF],
    "privateEndpointNetworkPolicies": None,
    "privateLinkServiceNetworkPolicies": None,
    "purpose": None,
}
SPACE = {"addressPrefixes": None}
PEERING = {
    **BASE,
    "remoteVirtualNetwork": REF,
    "useRemoteGateways": None,
    "allowGatewayTransit": None,
    "allowForwardedTraffic": None,
    "allowVirtualNetworkAccess": None,
    "peeringState": None,
    "remoteAddressSpace": SPACE,
    "remoteVirtualNetworkAddressSpace": SPACE,
}
IPCONFIG = {
    **BASE,
    "subnet": {**REF, "addressPrefix": None},
    "privateIPAddress": None,
    "privateIPAllocationMethod": None,
    "publicIPAddress": {**REF, "ipAddress": None},
    "loadBalancerBackendAddressPools": [REF],
    "applicationSecurityGroups": [REF],
    "primary": None,
}
RESOURCE = {**BASE, "location": None, "tags": None, "azureApiVersion": None}

SHAPES: dict[str, dict[str, Any]] = {
    "azure-native:network:VirtualNetwork": {
        **RESOURCE,
        "addressSpace": SPACE,
        "dhcpOptions": {"dnsServers": None},
        "subnets": [SUBNET],
        "virtualNetworkPeerings": [PEERING],
        "enableDdosProtection": None,
        "resourceGuid": None,
    },
    "azure-native:network:Subnet": {**SUBNET, "azureApiVersion": None},
    "azure-native:network:VirtualNetworkPeering": {**PEERING, "azureApiVersion": None},
    "azure-native:network:RouteTable": {
        **RESOURCE,
        "routes": [ROUTE],
        "disableBgpRoutePropagation": None,
        "subnets": [REF],
        "resourceGuid": None,
    },
    "azure-native:network:Route": {**ROUTE, "azureApiVersion": None},
    "azure-native:network:NetworkSecurityGroup": {
        **RESOURCE,
        "securityRules": [RULE],
        "defaultSecurityRules": [RULE],
        "subnets": [REF],
        "networkInterfaces": [REF],
    },
    "azure-native:network:SecurityRule": {**RULE, "azureApiVersion": None},
    "azure-native:network:NetworkInterface": {
        **RESOURCE,
        "ipConfigurations": [IPCONFIG],
        "networkSecurityGroup": REF,
        "dnsSettings": {"dnsServers": None, "appliedDnsServers": None},
        "macAddress": None,
        "virtualMachine": REF,
    },
    "azure-native:compute:VirtualMachine": {
        **RESOURCE,
        "licenseType": None,
        "storageProfile": {
            "imageReference": {"publisher": None, "offer": None, "sku": None, "version": None, "id": None},
            "osDisk": {"osType": None, "createOption": None, "name": None},
        },
        "osProfile": {
            "computerName": None,
            "adminUsername": None,
            "windowsConfiguration": {"enableAutomaticUpdates": None},
            "linuxConfiguration": {"disablePasswordAuthentication": None},
        },
        "networkProfile": {
            "networkInterfaces": [{"id": None, "primary": None}],
            "networkInterfaceConfigurations": ANY,
        },
        "vmId": None,
    },
    "azure-native:compute:VirtualMachineScaleSet": {
        **RESOURCE,
        "orchestrationMode": None,
        "virtualMachineProfile": ANY,
        "sku": ANY,
    },
    "azure-native:network:AzureFirewall": {
        **RESOURCE,
        "sku": {"name": None, "tier": None},
        "ipConfigurations": [{**BASE, "subnet": REF, "publicIPAddress": REF, "privateIPAddress": None}],
        "managementIpConfiguration": {
            **BASE,
            "subnet": REF,
            "publicIPAddress": REF,
            "privateIPAddress": None,
        },
        "firewallPolicy": REF,
        "virtualHub": REF,
        "hubIPAddresses": {"privateIPAddress": None, "publicIPs": {"count": None, "addresses": ANY}},
        "networkRuleCollections": ANY,
        "applicationRuleCollections": ANY,
        "natRuleCollections": ANY,
        "additionalProperties": ANY,
        "threatIntelMode": None,
    },
    "azure-native:network:FirewallPolicy": {
        **RESOURCE,
        "basePolicy": REF,
        "dnsSettings": {"enableProxy": None, "servers": None, "requireProxyForNetworkRules": None},
        "snat": {"privateRanges": None, "autoLearnPrivateRanges": None},
        "ruleCollectionGroups": [REF],
        "firewalls": [REF],
        "childPolicies": [REF],
    },
    "azure-native:network:FirewallPolicyRuleCollectionGroup": {
        **BASE,
        "priority": None,
        "ruleCollections": ANY,
        "azureApiVersion": None,
    },
    "azure-native:network:NatGateway": {
        **RESOURCE,
        "sku": {"name": None},
        "publicIpAddresses": [REF],
        "subnets": [REF],
    },
    "azure-native:network:PublicIPAddress": {
        **RESOURCE,
        "sku": {"name": None, "tier": None},
        "ipAddress": None,
    },
    "azure-native:network:VirtualNetworkGateway": {
        **RESOURCE,
        "gatewayType": None,
        "vpnType": None,
        "enableBgp": None,
        "gatewayDefaultSite": REF,
        "sku": {"name": None, "tier": None},
        "ipConfigurations": [
            {**BASE, "subnet": REF, "publicIPAddress": REF, "privateIPAllocationMethod": None}
        ],
    },
    "azure-native:network:LocalNetworkGateway": {**RESOURCE, "gatewayIpAddress": None},
    "azure-native:network:LoadBalancer": {
        **RESOURCE,
        "sku": {"name": None, "tier": None},
        "frontendIPConfigurations": [
            {**BASE, "subnet": REF, "publicIPAddress": REF, "publicIPPrefix": REF, "privateIPAddress": None}
        ],
        "backendAddressPools": [
            {**BASE, "loadBalancerBackendAddresses": [{"name": None, "ipAddress": None}]}
        ],
        "outboundRules": [
            {**BASE, "backendAddressPool": REF, "frontendIPConfigurations": [REF], "protocol": None}
        ],
        "loadBalancingRules": ANY,
        "probes": ANY,
    },
}


def project(shape: Any, value: Any) -> Any:
    """One PreviewOutputs step: ``value`` (an input, or ``_MISSING``) onto ``shape``."""
    if shape is ANY:
        return U if value is _MISSING else value
    if value is _MISSING or value == U:
        return U
    if isinstance(shape, dict) and isinstance(value, dict):
        return {k: project(s, value.get(k, _MISSING)) for k, s in shape.items()}
    if isinstance(shape, list) and isinstance(value, list):
        return [project(shape[0], v) for v in value]
    if shape is None:
        return value
    return U  # mismatched type: PreviewOutputs marks it computed


_MISSING = object()


def preview(
    token: str,
    name: str,
    props: dict[str, Any],
    deps: dict[str, list[str]] | None = None,
    parent: str = "",
) -> PulumiResource:
    """A resource being created, as AnalyzeStack sees it during ``pulumi preview``."""
    shape = SHAPES[token]
    projected = {k: project(s, props.get(k, _MISSING)) for k, s in shape.items()}
    return _resource(token, name, projected, deps, parent)


def inputs(
    token: str,
    name: str,
    props: dict[str, Any],
    deps: dict[str, list[str]] | None = None,
    parent: str = "",
) -> PulumiResource:
    """A resource as the runner or Analyze sees it: its inputs."""
    return _resource(token, name, props, deps, parent)


def _resource(
    token: str, name: str, props: dict[str, Any], deps: dict[str, list[str]] | None, parent: str
) -> PulumiResource:
    kind = token
    pdeps = {k: tuple(v) for k, v in (deps or {}).items()}
    all_deps = tuple(dict.fromkeys(u for v in pdeps.values() for u in v))
    return PulumiResource(urn(kind, name), token, name, props, parent, all_deps, pdeps)
