"""A spoke forced through the hub's Azure Firewall on the classic provider (§6.2): stack ``dev`` has no
network rule for TCP 1688 (blocked), stack ``allowed`` has one (reachable)."""

import pulumi
import pulumi_azure as azure

LOCATION = "westeurope"
allow_kms = pulumi.Config().get_bool("allowKms") or False
rg = azure.core.ResourceGroup("rg", name="rg-classic", location=LOCATION)
vnet = azure.network.VirtualNetwork(
    "vnet", name="vnet-hub", resource_group_name=rg.name, location=LOCATION, address_spaces=["10.0.0.0/16"]
)
fw_subnet = azure.network.Subnet(
    "AzureFirewallSubnet",
    name="AzureFirewallSubnet",
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    address_prefixes=["10.0.0.0/26"],
)
fw_ip = azure.network.PublicIp(
    "fw-ip",
    name="fw-ip",
    resource_group_name=rg.name,
    location=LOCATION,
    allocation_method="Static",
    sku="Standard",
)
policy = azure.network.FirewallPolicy(
    "policy", name="fw-policy", resource_group_name=rg.name, location=LOCATION
)
network_rule_collections = [
    {
        "name": "web",
        "priority": 200,
        "action": "Allow",
        "rules": [
            {
                "name": "https",
                "protocols": ["TCP"],
                "source_addresses": ["10.0.0.0/8"],
                "destination_addresses": ["*"],
                "destination_ports": ["443"],
            }
        ],
    }
]
if allow_kms:
    network_rule_collections.append(
        {
            "name": "kms",
            "priority": 100,
            "action": "Allow",
            "rules": [
                {
                    "name": "kms-tcp-1688",
                    "protocols": ["TCP"],
                    "source_addresses": ["*"],
                    "destination_addresses": ["20.118.99.224", "40.83.235.53", "23.102.135.246"],
                    "destination_ports": ["1688"],
                }
            ],
        }
    )
azure.network.FirewallPolicyRuleCollectionGroup(
    "rules",
    name="rules",
    firewall_policy_id=policy.id,
    priority=500,
    network_rule_collections=network_rule_collections,
)
fw = azure.network.Firewall(
    "fw",
    name="fw",
    resource_group_name=rg.name,
    location=LOCATION,
    sku_name="AZFW_VNet",
    sku_tier="Standard",
    firewall_policy_id=policy.id,
    ip_configurations=[{"name": "ipconfig", "subnet_id": fw_subnet.id, "public_ip_address_id": fw_ip.id}],
)
rt = azure.network.RouteTable(
    "rt-app",
    name="rt-app",
    resource_group_name=rg.name,
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
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    address_prefixes=["10.0.1.0/24"],
)
azure.network.SubnetRouteTableAssociation("snet-app-rt", subnet_id=app.id, route_table_id=rt.id)
