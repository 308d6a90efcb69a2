"""A hub with an Azure Firewall and N spokes, each with a subnet, an NSG and a route table whose default
route goes through the firewall (5 + 5 × N resources)."""

import pulumi
import pulumi_azure_native as azure

config = pulumi.Config()
rg = azure.resources.ResourceGroup("rg", resource_group_name="rg-twenty")
hub = azure.network.VirtualNetwork(
    "hub", resource_group_name=rg.name, address_space={"address_prefixes": ["10.0.0.0/16"]}
)
fw_subnet = azure.network.Subnet(
    "hub-fw",
    resource_group_name=rg.name,
    virtual_network_name=hub.name,
    subnet_name="AzureFirewallSubnet",
    address_prefix="10.0.0.0/26",
)
fw_ip = azure.network.PublicIPAddress(
    "fw-ip", resource_group_name=rg.name, sku={"name": "Standard"}, public_ip_allocation_method="Static"
)
fw = azure.network.AzureFirewall(
    "fw",
    resource_group_name=rg.name,
    sku={"name": "AZFW_VNet", "tier": "Standard"},
    ip_configurations=[{"name": "ip", "subnet": {"id": fw_subnet.id}, "public_ip_address": {"id": fw_ip.id}}],
)
fw_private_ip = fw.ip_configurations.apply(lambda c: c[0].private_ip_address)

for i in range(1, config.require_int("spokes") + 1):
    vnet = azure.network.VirtualNetwork(
        f"spoke{i}", resource_group_name=rg.name, address_space={"address_prefixes": [f"10.{i}.0.0/16"]}
    )
    table = azure.network.RouteTable(f"spoke{i}-rt", resource_group_name=rg.name)
    azure.network.Route(
        f"spoke{i}-default",
        resource_group_name=rg.name,
        route_table_name=table.name,
        address_prefix="0.0.0.0/0",
        next_hop_type="VirtualAppliance",
        next_hop_ip_address=fw_private_ip,
    )
    nsg = azure.network.NetworkSecurityGroup(f"spoke{i}-nsg", resource_group_name=rg.name)
    azure.network.Subnet(
        f"spoke{i}-app",
        resource_group_name=rg.name,
        virtual_network_name=vnet.name,
        address_prefix=f"10.{i}.0.0/24",
        route_table={"id": table.id},
        network_security_group={"id": nsg.id},
    )
