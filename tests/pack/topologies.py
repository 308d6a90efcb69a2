"""Networks as a Pulumi program registers them, for the pack tests.

Every builder returns a ``Stack`` (see ``bags``) in registration order: a resource is registered
after the ones whose outputs it uses, and every reference to a resource of the stack is an unknown
id plus a property dependency, as in a first ``pulumi preview`` (§1.6, §3.0).
"""

from __future__ import annotations

from typing import Any

from kmsguard.engine import PackResource

from .bags import UNKNOWN, Secret, Stack, arm_id

RG = "rg-net"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
RT = "azure-native:network:RouteTable"
ROUTE = "azure-native:network:Route"
NSG = "azure-native:network:NetworkSecurityGroup"
RULE = "azure-native:network:SecurityRule"
FW = "azure-native:network:AzureFirewall"
POLICY = "azure-native:network:FirewallPolicy"
RCG = "azure-native:network:FirewallPolicyRuleCollectionGroup"
PIP = "azure-native:network:PublicIPAddress"
NAT = "azure-native:network:NatGateway"
GW = "azure-native:network:VirtualNetworkGateway"
LGW = "azure-native:network:LocalNetworkGateway"
ZONE = "azure-native:privatedns:PrivateZone"
RECORD = "azure-native:privatedns:PrivateRecordSet"
LINK = "azure-native:privatedns:VirtualNetworkLink"

PUBLIC_KMS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
USGOV_KMS = ["23.97.0.13", "52.126.105.2"]
NVA_IP = "10.0.100.4"


def default_route(hop: str, ip: Any = None) -> dict[str, Any]:
    route: dict[str, Any] = {"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": hop}
    if ip is not None:
        route["nextHopIpAddress"] = ip
    return route


def kms_routes(ips: list[str]) -> list[dict[str, Any]]:
    return [
        {"name": f"kms-{ip.replace('.', '-')}", "addressPrefix": f"{ip}/32", "nextHopType": "Internet"}
        for ip in ips
    ]


def spoke(
    st: Stack,
    *,
    subnet: dict[str, Any] | None = None,
    deps: list[str] | None = None,
    dns: list[str] | None = None,
    name: str = "spoke",
    extra_subnets: list[dict[str, Any]] | None = None,
) -> PackResource:
    """A VNet 10.1.0.0/16 with the inline subnet ``app`` 10.1.0.0/24 (plus ``subnet`` settings)."""
    props: dict[str, Any] = {
        "resourceGroupName": RG,
        "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        "subnets": [
            {"name": "app", "addressPrefix": "10.1.0.0/24", **(subnet or {})},
            *(extra_subnets or []),
        ],
    }
    if dns is not None:
        props["dhcpOptions"] = {"dnsServers": dns}
    return st.add(VNET, name, props, {"subnets": deps} if deps else None)


def route_table(
    st: Stack, routes: list[dict[str, Any]], deps: list[str] | None = None, name: str = "rt-spoke"
) -> PackResource:
    return st.add(RT, name, {"resourceGroupName": RG, "routes": routes}, {"routes": deps} if deps else None)


# --- the topologies -------------------------------------------------------------------------------


def baseline() -> Stack:
    st = Stack()
    spoke(st)
    return st


def vpn_default_site(*, with_route_table: bool = False) -> Stack:
    """§3.1, scenario 21: a route-based VPN gateway with a Default Site forces the subnet on-premises."""
    st = Stack()
    hub = st.add(
        VNET,
        "hub",
        {
            "resourceGroupName": RG,
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "subnets": [
                {"name": "GatewaySubnet", "addressPrefix": "10.1.255.0/27"},
                {"name": "app", "addressPrefix": "10.1.0.0/24"},
            ],
        },
    )
    pip = st.add(PIP, "gw-pip", {"resourceGroupName": RG, "sku": {"name": "Standard"}})
    site = st.add(LGW, "onprem", {"resourceGroupName": RG, "gatewayIpAddress": "203.0.113.1"})
    st.add(
        GW,
        "vpn",
        {
            "resourceGroupName": RG,
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "enableBgp": False,
            "sku": {"name": "VpnGw1", "tier": "VpnGw1"},
            "gatewayDefaultSite": {"id": UNKNOWN},
            "ipConfigurations": [
                {"name": "ipconfig", "subnet": {"id": UNKNOWN}, "publicIPAddress": {"id": UNKNOWN}}
            ],
        },
        {"gatewayDefaultSite": [site.urn], "ipConfigurations": [hub.urn, pip.urn]},
    )
    return st


def udr_to_vpn_gateway(*, location: str = "westeurope", user_kms: list[str] | None = None) -> Stack:
    """0.0.0.0/0 → VirtualNetworkGateway on the app subnet (S1's forced tunnel), optional user /32s."""
    st = Stack(location=location)
    rt = route_table(st, [default_route("VirtualNetworkGateway"), *kms_routes(user_kms or [])])
    hub = spoke(
        st,
        subnet={"routeTable": {"id": UNKNOWN}},
        deps=[rt.urn],
        extra_subnets=[{"name": "GatewaySubnet", "addressPrefix": "10.1.255.0/27"}],
    )
    pip = st.add(PIP, "gw-pip", {"resourceGroupName": RG, "sku": {"name": "Standard"}})
    st.add(
        GW,
        "vpn",
        {
            "resourceGroupName": RG,
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "enableBgp": False,
            "ipConfigurations": [
                {"name": "ipconfig", "subnet": {"id": UNKNOWN}, "publicIPAddress": {"id": UNKNOWN}}
            ],
        },
        {"ipConfigurations": [hub.urn, pip.urn]},
    )
    return st


def _firewall_stack(rules: list[dict[str, Any]], *, dns_proxy: bool = False) -> Stack:
    """Hub firewall (policy + rule collection group, private IP unknown at preview) and a spoke whose
    0.0.0.0/0 goes to it (scenario 22)."""
    st = Stack()
    hub = st.add(
        VNET,
        "hub",
        {
            "resourceGroupName": RG,
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "AzureFirewallSubnet", "addressPrefix": "10.0.1.0/26"}],
        },
    )
    pip = st.add(PIP, "fw-pip", {"resourceGroupName": RG, "sku": {"name": "Standard"}})
    policy_props: dict[str, Any] = {"resourceGroupName": RG}
    if dns_proxy:
        policy_props["dnsSettings"] = {"enableProxy": True}
    policy = st.add(POLICY, "fw-policy", policy_props)
    st.add(
        RCG,
        "fw-rules",
        {
            "resourceGroupName": RG,
            "firewallPolicyName": UNKNOWN,
            "priority": 200,
            "ruleCollections": [
                {
                    "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "name": "egress",
                    "priority": 100.0,
                    "action": {"type": "Allow"},
                    "rules": rules,
                }
            ],
        },
        {"firewallPolicyName": [policy.urn]},
    )
    fw = st.add(
        FW,
        "fw",
        {
            "resourceGroupName": RG,
            "sku": {"name": "AZFW_VNet", "tier": "Standard"},
            "firewallPolicy": {"id": UNKNOWN},
            "ipConfigurations": [
                {"name": "ipconfig", "subnet": {"id": UNKNOWN}, "publicIPAddress": {"id": UNKNOWN}}
            ],
        },
        {"firewallPolicy": [policy.urn], "ipConfigurations": [hub.urn, pip.urn]},
    )
    # The next hop is the firewall's private IP: an output, unknown during preview (§0 fact 2).
    rt = route_table(st, [default_route("VirtualAppliance", UNKNOWN)], [fw.urn])
    spoke(st, subnet={"routeTable": {"id": UNKNOWN}}, deps=[rt.urn])
    return st


KMS_NETWORK_RULE = {
    "ruleType": "NetworkRule",
    "name": "allow-kms",
    "ipProtocols": ["TCP"],
    "sourceAddresses": ["10.1.0.0/16"],
    "destinationAddresses": PUBLIC_KMS,
    "destinationPorts": ["1688"],
}
DNS_RULE = {
    "ruleType": "NetworkRule",
    "name": "allow-dns",
    "ipProtocols": ["UDP"],
    "sourceAddresses": ["*"],
    "destinationAddresses": ["*"],
    "destinationPorts": ["53"],
}
FQDN_NETWORK_RULE = {
    "ruleType": "NetworkRule",
    "name": "allow-kms-fqdn",
    "ipProtocols": ["TCP"],
    "sourceAddresses": ["10.1.0.0/16"],
    "destinationFqdns": ["azkms.core.windows.net", "kms.core.windows.net"],
    "destinationPorts": ["1688"],
}
KMS_APPLICATION_RULE = {
    "ruleType": "ApplicationRule",
    "name": "allow-kms-app",
    "sourceAddresses": ["10.1.0.0/16"],
    "protocols": [{"protocolType": "Https", "port": 443}],
    "targetFqdns": ["azkms.core.windows.net"],
}


def firewall_allows_kms() -> Stack:
    return _firewall_stack([KMS_NETWORK_RULE])


def firewall_without_kms_rule() -> Stack:
    return _firewall_stack([DNS_RULE])


def firewall_fqdn_rules_without_dns_proxy() -> Stack:
    return _firewall_stack([FQDN_NETWORK_RULE, KMS_APPLICATION_RULE])


def _nsg_deny_internet(st: Stack, *, standalone_rule: bool) -> PackResource:
    deny = {
        "name": "deny-internet",
        "priority": 100,
        "direction": "Outbound",
        "access": "Deny",
        "protocol": "*",
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "Internet",
        "destinationPortRange": "*",
    }
    if not standalone_rule:
        return st.add(NSG, "nsg-app", {"resourceGroupName": RG, "securityRules": [deny]})
    nsg = st.add(NSG, "nsg-app", {"resourceGroupName": RG})
    rule = {k: v for k, v in deny.items() if k != "name"}
    st.add(
        RULE,
        "deny-internet",
        {"resourceGroupName": RG, "networkSecurityGroupName": UNKNOWN, **rule},
        {"networkSecurityGroupName": [nsg.urn]},
    )
    return nsg


def nsg_deny_internet_without_forced_tunnel() -> Stack:
    """Scenario 2: the KMS platform rule bypasses the NSG (§4.5 R4.1)."""
    st = Stack()
    nsg = _nsg_deny_internet(st, standalone_rule=False)
    spoke(st, subnet={"networkSecurityGroup": {"id": UNKNOWN}}, deps=[nsg.urn])
    return st


def nsg_deny_internet_with_forced_tunnel() -> Stack:
    """Scenario 3: 0/0 → gateway (with the user's /32 KMS routes) turns the platform rule off (R4.2);
    standalone Subnet, Route and SecurityRule resources."""
    st = Stack()
    vnet = st.add(
        VNET,
        "spoke",
        {
            "resourceGroupName": RG,
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        },
    )
    rt = st.add(RT, "rt-spoke", {"resourceGroupName": RG})
    for i, route in enumerate([default_route("VirtualNetworkGateway"), *kms_routes(PUBLIC_KMS)]):
        name = route.pop("name")
        st.add(
            ROUTE,
            name if i else "default",
            {"resourceGroupName": RG, "routeTableName": UNKNOWN, "routeName": name, **route},
            {"routeTableName": [rt.urn]},
            autoname=False,
        )
    nsg = _nsg_deny_internet(st, standalone_rule=True)
    st.add(
        SUBNET,
        "app",
        {
            "resourceGroupName": RG,
            "virtualNetworkName": UNKNOWN,
            "addressPrefix": "10.1.0.0/24",
            "routeTable": {"id": UNKNOWN},
            "networkSecurityGroup": {"id": UNKNOWN},
            "privateEndpointNetworkPolicies": "Disabled",
            "privateLinkServiceNetworkPolicies": "Enabled",
        },
        {"virtualNetworkName": [vnet.urn], "routeTable": [rt.urn], "networkSecurityGroup": [nsg.urn]},
    )
    return st


def nsg_denies_platform_lkm() -> Stack:
    """Scenario 16: a Deny to the AzurePlatformLKM tag overrides the platform rule."""
    st = Stack()
    nsg = st.add(
        NSG,
        "nsg-app",
        {
            "resourceGroupName": RG,
            "securityRules": [
                {
                    "name": "deny-lkm",
                    "priority": 100.0,
                    "direction": "Outbound",
                    "access": "Deny",
                    "protocol": "Tcp",
                    "sourceAddressPrefix": "*",
                    "sourcePortRange": "*",
                    "destinationAddressPrefix": "AzurePlatformLKM",
                    "destinationPortRange": "1688",
                }
            ],
        },
    )
    spoke(st, subnet={"networkSecurityGroup": {"id": UNKNOWN}}, deps=[nsg.urn])
    return st


def private_subnet(*, nat_gateway: bool) -> Stack:
    """§5.2 O1: defaultOutboundAccess false needs an explicit outbound method (scenarios 6, 7)."""
    st = Stack()
    if not nat_gateway:
        spoke(st, subnet={"defaultOutboundAccess": False})
        return st
    pip = st.add(PIP, "nat-pip", {"resourceGroupName": RG, "sku": {"name": "Standard"}})
    nat = st.add(
        NAT,
        "nat",
        {"resourceGroupName": RG, "sku": {"name": "Standard"}, "publicIpAddresses": [{"id": UNKNOWN}]},
        {"publicIpAddresses": [pip.urn]},
    )
    spoke(st, subnet={"defaultOutboundAccess": False, "natGateway": {"id": UNKNOWN}}, deps=[nat.urn])
    return st


def private_dns_zone(*, records: bool) -> Stack:
    """Scenario 12: a linked private zone ``core.windows.net`` shadows the KMS names."""
    st = Stack()
    vnet = spoke(st)
    zone = st.add(
        ZONE, "core", {"resourceGroupName": RG, "privateZoneName": "core.windows.net", "location": "global"}
    )
    if records:
        st.add(
            RECORD,
            "azkms",
            {
                "resourceGroupName": RG,
                "privateZoneName": UNKNOWN,
                "recordType": "A",
                "relativeRecordSetName": "azkms",
                "ttl": 300,
                "aRecords": [{"ipv4Address": "20.118.99.224"}, {"ipv4Address": "40.83.235.53"}],
            },
            {"privateZoneName": [zone.urn]},
        )
        st.add(
            RECORD,
            "kms",
            {
                "resourceGroupName": RG,
                "privateZoneName": UNKNOWN,
                "recordType": "A",
                "relativeRecordSetName": "kms",
                "ttl": 300,
                "aRecords": [{"ipv4Address": "20.118.99.224"}],
            },
            {"privateZoneName": [zone.urn]},
        )
    st.add(
        LINK,
        "core-link",
        {
            "resourceGroupName": RG,
            "privateZoneName": UNKNOWN,
            "location": "global",
            "virtualNetwork": {"id": UNKNOWN},
            "registrationEnabled": False,
        },
        {"privateZoneName": [zone.urn], "virtualNetwork": [vnet.urn]},
    )
    return st


def third_party_appliance(*, ip: Any = NVA_IP, kms_route: dict[str, Any] | None = None) -> Stack:
    """§3.5: 0.0.0.0/0 → an appliance that is not an Azure Firewall of the stack (its IP may be a
    ``Secret`` read from stack config); the tags are a secret too."""
    st = Stack()
    rt = st.add(
        RT,
        "rt-spoke",
        {
            "resourceGroupName": RG,
            "tags": Secret({"costCenter": "42"}),
            "routes": [default_route("VirtualAppliance", ip), *([kms_route] if kms_route else [])],
        },
    )
    spoke(st, subnet={"routeTable": {"id": UNKNOWN}}, deps=[rt.urn])
    return st


def out_of_stack_route_table() -> Stack:
    """The subnet uses a route table managed elsewhere, known only by its ARM id."""
    st = Stack()
    spoke(st, subnet={"routeTable": {"id": arm_id("rg-hub", "routeTables/rt-shared")}})
    return st


def inline_route_table_with_standalone_routes() -> Stack:
    """A table whose routes are standalone Route resources (autofix must leave it alone)."""
    st = Stack()
    rt = st.add(RT, "rt-spoke", {"resourceGroupName": RG})
    st.add(
        ROUTE,
        "default",
        {"resourceGroupName": RG, "routeTableName": UNKNOWN, **default_route("VirtualNetworkGateway")},
        {"routeTableName": [rt.urn]},
    )
    spoke(
        st,
        subnet={"routeTable": {"id": UNKNOWN}},
        deps=[rt.urn],
        extra_subnets=[{"name": "GatewaySubnet", "addressPrefix": "10.1.255.0/27"}],
    )
    return st


def deployed_forced_tunnel() -> list[PackResource]:
    """A preview with nothing to change: AnalyzeStack gets state outputs (ids and names known,
    read-back fields, the table's ``subnets``), Analyze the inputs with their autonames."""
    st = Stack()
    rt_name, vnet_name = "rt-spoke3f2a9c1b", "spoke8d0e4b7a"
    rt_id = arm_id(RG, f"routeTables/{rt_name}")
    vnet_id = arm_id(RG, f"virtualNetworks/{vnet_name}")
    subnet_id = f"{vnet_id}/subnets/app"
    routes = [default_route("VirtualNetworkGateway")]
    state = {"etag": 'W/"7"', "provisioningState": "Succeeded"}
    rt = PackResource(
        RT,
        st.urn(RT, "rt-spoke"),
        "rt-spoke",
        {"resourceGroupName": RG, "routeTableName": rt_name, "location": "westeurope",
         "azureApiVersion": "2024-05-01", "routes": routes},
        {"id": rt_id, "name": rt_name, "type": "Microsoft.Network/routeTables", "location": "westeurope",
         "azureApiVersion": "2024-05-01", "disableBgpRoutePropagation": False, "resourceGuid": "5c1d",
         "routes": [{**r, **state, "id": f"{rt_id}/routes/{r['name']}", "hasBgpOverride": False,
                     "type": "Microsoft.Network/routeTables/routes"} for r in routes],
         "subnets": [{"id": subnet_id}], **state},
        parent=st.root,
        provider_urn=st.provider,
    )  # fmt: skip
    subnet = {"name": "app", "addressPrefix": "10.1.0.0/24", "routeTable": {"id": rt_id}}
    vnet = PackResource(
        VNET,
        st.urn(VNET, "spoke"),
        "spoke",
        {"resourceGroupName": RG, "virtualNetworkName": vnet_name, "location": "westeurope",
         "azureApiVersion": "2024-05-01", "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
         "subnets": [subnet]},
        {"id": vnet_id, "name": vnet_name, "type": "Microsoft.Network/virtualNetworks", "location": "westeurope",
         "azureApiVersion": "2024-05-01", "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
         "subnets": [{**subnet, **state, "id": subnet_id, "type": "Microsoft.Network/virtualNetworks/subnets",
                      "privateEndpointNetworkPolicies": "Disabled", "privateLinkServiceNetworkPolicies": "Enabled"}],
         "virtualNetworkPeerings": [], "enableDdosProtection": False, **state},
        parent=st.root,
        dependencies=(rt.urn,),
        property_dependencies={"subnets": (rt.urn,)},
        provider_urn=st.provider,
    )  # fmt: skip
    return [*st.resources, rt, vnet]


NIC = "azure-native:network:NetworkInterface"
VM = "azure-native:compute:VirtualMachine"


def windows_vm_behind_default_site() -> Stack:
    """``vpn_default_site`` plus a Windows Server VM whose NIC sits in ``hub/app`` (the subnet id is
    unknown at preview and linked by property dependency), password a secret."""
    st = vpn_default_site()
    hub = st.resources[2]
    nic = st.add(
        NIC,
        "vm-nic",
        {
            "resourceGroupName": RG,
            "ipConfigurations": [
                {"name": "ipconfig", "subnet": {"id": UNKNOWN}, "privateIPAllocationMethod": "Dynamic"}
            ],
        },
        {"ipConfigurations": [hub.urn]},
    )
    st.add(
        VM,
        "vm",
        {
            "resourceGroupName": RG,
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "osProfile": {
                "computerName": "vm",
                "adminUsername": "azureuser",
                "adminPassword": Secret("S3cret!pass"),
            },
            "storageProfile": {
                "imageReference": {
                    "publisher": "MicrosoftWindowsServer",
                    "offer": "WindowsServer",
                    "sku": "2022-datacenter-azure-edition",
                    "version": "latest",
                },
                "osDisk": {"createOption": "FromImage"},
            },
            "networkProfile": {"networkInterfaces": [{"id": UNKNOWN, "primary": True}]},
        },
        {"networkProfile": [nic.urn]},
    )
    return st


def expressroute_gateway(*, disable_bgp: bool) -> Stack:
    """Scenario 20: an ExpressRoute gateway may learn 0.0.0.0/0 over BGP, invisible in ARM; a route
    table with gateway route propagation off keeps BGP routes out of the subnet."""
    st = Stack()
    rt_props: dict[str, Any] = {
        "resourceGroupName": RG,
        "routes": [],
        "disableBgpRoutePropagation": disable_bgp,
    }
    rt = st.add(RT, "rt-spoke", rt_props)
    vnet = spoke(
        st,
        subnet={"routeTable": {"id": UNKNOWN}},
        deps=[rt.urn],
        extra_subnets=[{"name": "GatewaySubnet", "addressPrefix": "10.1.255.0/27"}],
    )
    st.add(
        GW,
        "er",
        {
            "resourceGroupName": RG,
            "gatewayType": "ExpressRoute",
            "sku": {"name": "Standard", "tier": "Standard"},
            "ipConfigurations": [{"name": "ipconfig", "subnet": {"id": UNKNOWN}}],
        },
        {"ipConfigurations": [vnet.urn]},
    )
    return st


def vpn_default_site_with_internet_escape() -> Stack:
    """§3.1 per-subnet escape: a route table 0.0.0.0/0 → Internet on the subnet beats the Default Site."""
    st = vpn_default_site()
    rt = route_table(st, [default_route("Internet")])
    hub = st.resources[2]
    subnets = [
        {**s, "routeTable": {"id": UNKNOWN}} if s["name"] == "app" else s for s in hub.inputs["subnets"]
    ]
    inputs = {k: v for k, v in hub.inputs.items() if k not in ("virtualNetworkName", "__createBeforeDelete")}
    st.resources.remove(hub)
    rebuilt = st.add(VNET, "hub", {**inputs, "subnets": subnets}, {"subnets": [rt.urn]})
    # Keep registration order sensible: the VNet after its route table, the gateway after the VNet.
    st.resources.remove(rebuilt)
    st.resources.insert(st.resources.index(rt) + 1, rebuilt)
    return st


def nic_and_subnet_nsgs(*, subnet_allows: bool) -> Stack:
    """Scenario 18: forced tunnel with the user's /32 KMS routes; the NIC NSG allows TCP 1688 to the
    KMS IPs, the subnet NSG denies Internet at 200 (and allows 1688 at 150 in the variation)."""
    st = Stack()
    rt = route_table(st, [default_route("VirtualNetworkGateway"), *kms_routes(PUBLIC_KMS)])
    allow = {
        "name": "allow-kms",
        "direction": "Outbound",
        "access": "Allow",
        "protocol": "Tcp",
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
        "destinationAddressPrefixes": PUBLIC_KMS,
        "destinationPortRanges": ["1680-1690"],
    }
    deny = {
        "name": "deny-internet",
        "priority": 200,
        "direction": "Outbound",
        "access": "Deny",
        "protocol": "*",
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "Internet",
        "destinationPortRange": "*",
    }
    subnet_rules = [deny, {**allow, "priority": 150.0}] if subnet_allows else [deny]
    nsg = st.add(NSG, "nsg-subnet", {"resourceGroupName": RG, "securityRules": subnet_rules})
    nic_nsg = st.add(NSG, "nsg-nic", {"resourceGroupName": RG, "securityRules": [{**allow, "priority": 100}]})
    vnet = spoke(
        st,
        subnet={"routeTable": {"id": UNKNOWN}, "networkSecurityGroup": {"id": UNKNOWN}},
        deps=[rt.urn, nsg.urn],
    )
    st.add(
        NIC,
        "vm-nic",
        {
            "resourceGroupName": RG,
            "networkSecurityGroup": {"id": UNKNOWN},
            "ipConfigurations": [{"name": "ipconfig", "subnet": {"id": UNKNOWN}}],
        },
        {"networkSecurityGroup": [nic_nsg.urn], "ipConfigurations": [vnet.urn]},
    )
    return st
