"""A mixed hub-spoke: an azure-native hub (Azure Firewall whose policy allows TCP 1688) and classic
(pulumi-azure) spokes peered to it. ``snet-app`` routes 0.0.0.0/0 to the native firewall through a
classic route table (reachable); ``snet-tunnel`` is a classic subnet attached (classic association) to
an azure-native route table whose 0.0.0.0/0 goes to a VPN gateway: kms-route-autofix appends the KMS
routes to it, but an azure-native NSG (classic association) denies Internet and the custom 0.0.0.0/0
turns the KMS platform rule off (blocked: the fix is azure-native code, its NSG is); ``snet-legacy``'s classic table has a standalone classic /32 Route sending a
KMS IP on-premises (blocked: the decisive resource is classic, so the fix prints pulumi-azure code)."""

import pulumi_azure as azure
import pulumi_azure_native as native

from kmsguard.pulumi import kms_network_rule_collection

LOCATION = "westeurope"
rg = native.resources.ResourceGroup("rg", resource_group_name="rg-mixed", location=LOCATION)
hub = native.network.VirtualNetwork(
    "hub",
    virtual_network_name="vnet-hub",
    resource_group_name=rg.name,
    location=LOCATION,
    address_space={"address_prefixes": ["10.0.0.0/16"]},
)
fw_subnet = native.network.Subnet(
    "fw-subnet",
    subnet_name="AzureFirewallSubnet",
    resource_group_name=rg.name,
    virtual_network_name=hub.name,
    address_prefix="10.0.0.0/26",
)
fw_ip = native.network.PublicIPAddress(
    "fw-ip",
    resource_group_name=rg.name,
    location=LOCATION,
    sku={"name": "Standard"},
    public_ip_allocation_method="Static",
)
policy = native.network.FirewallPolicy(
    "policy", firewall_policy_name="fw-policy", resource_group_name=rg.name, location=LOCATION
)
native.network.FirewallPolicyRuleCollectionGroup(
    "kms",
    rule_collection_group_name="kms",
    firewall_policy_name=policy.name,
    resource_group_name=rg.name,
    priority=100,
    rule_collections=[kms_network_rule_collection("public")],
)
fw = native.network.AzureFirewall(
    "fw",
    azure_firewall_name="fw",
    resource_group_name=rg.name,
    location=LOCATION,
    sku={"name": "AZFW_VNet", "tier": "Standard"},
    firewall_policy={"id": policy.id},
    ip_configurations=[
        {"name": "ipconfig", "subnet": {"id": fw_subnet.id}, "public_ip_address": {"id": fw_ip.id}}
    ],
)
native_rt = native.network.RouteTable(
    "rt-native",
    route_table_name="rt-native",
    resource_group_name=rg.name,
    location=LOCATION,
    routes=[
        {"name": "default-onprem", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualNetworkGateway"}
    ],
)

spoke = azure.network.VirtualNetwork(
    "spoke",
    name="vnet-spoke",
    resource_group_name="rg-mixed",
    location=LOCATION,
    address_spaces=["10.1.0.0/16"],
)
azure.network.VirtualNetworkPeering(
    "spoke-to-hub",
    name="spoke-to-hub",
    resource_group_name="rg-mixed",
    virtual_network_name=spoke.name,
    remote_virtual_network_id=hub.id,
)
native.network.VirtualNetworkPeering(
    "hub-to-spoke",
    virtual_network_peering_name="hub-to-spoke",
    resource_group_name=rg.name,
    virtual_network_name=hub.name,
    remote_virtual_network={"id": spoke.id},
)
classic_rt = azure.network.RouteTable(
    "rt-app",
    name="rt-app",
    resource_group_name="rg-mixed",
    location=LOCATION,
    routes=[
        {
            "name": "default-fw",
            "address_prefix": "0.0.0.0/0",
            "next_hop_type": "VirtualAppliance",
            "next_hop_in_ip_address": fw.ip_configurations.apply(lambda c: c[0].private_ip_address),
        }
    ],
)
app = azure.network.Subnet(
    "snet-app",
    name="snet-app",
    resource_group_name="rg-mixed",
    virtual_network_name=spoke.name,
    address_prefixes=["10.1.1.0/24"],
)
azure.network.SubnetRouteTableAssociation("snet-app-rt", subnet_id=app.id, route_table_id=classic_rt.id)

legacy = azure.network.Subnet(
    "snet-legacy",
    name="snet-legacy",
    resource_group_name="rg-mixed",
    virtual_network_name=spoke.name,
    address_prefixes=["10.1.2.0/24"],
)
legacy_rt = azure.network.RouteTable(
    "rt-legacy",
    name="rt-legacy",
    resource_group_name="rg-mixed",
    location=LOCATION,
)
azure.network.Route(
    "rt-legacy-kms",
    name="kms-onprem",
    resource_group_name="rg-mixed",
    route_table_name=legacy_rt.name,
    address_prefix="20.118.99.224/32",
    next_hop_type="VirtualNetworkGateway",
)
azure.network.SubnetRouteTableAssociation("snet-legacy-rt", subnet_id=legacy.id, route_table_id=legacy_rt.id)

tunnel = azure.network.Subnet(
    "snet-tunnel",
    name="snet-tunnel",
    resource_group_name="rg-mixed",
    virtual_network_name=spoke.name,
    address_prefixes=["10.1.3.0/24"],
)
azure.network.SubnetRouteTableAssociation("snet-tunnel-rt", subnet_id=tunnel.id, route_table_id=native_rt.id)
deny = native.network.NetworkSecurityGroup(
    "nsg-deny",
    network_security_group_name="nsg-deny",
    resource_group_name=rg.name,
    location=LOCATION,
    security_rules=[
        {
            "name": "deny-internet",
            "priority": 4000,
            "direction": "Outbound",
            "access": "Deny",
            "protocol": "*",
            "source_address_prefix": "*",
            "source_port_range": "*",
            "destination_address_prefix": "Internet",
            "destination_port_range": "*",
        }
    ],
)
azure.network.SubnetNetworkSecurityGroupAssociation(
    "snet-tunnel-nsg", subnet_id=tunnel.id, network_security_group_id=deny.id
)
