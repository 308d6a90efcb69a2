"""Forced tunnelling through the hub firewall, declared with standalone Route resources.

During a preview the route table's Azure name (autonamed) and the firewall's private IP (assigned by
Azure) are unknown: the routes only say where they belong through property dependencies.
"""

import pulumi_azure_native as azure

rg = azure.resources.ResourceGroup("rg", resource_group_name="rg-net")

hub = azure.network.VirtualNetwork(
    "hub",
    resource_group_name=rg.name,
    address_space={"address_prefixes": ["10.0.0.0/16"]},
)
fw_subnet = azure.network.Subnet(
    "fw-subnet",
    resource_group_name=rg.name,
    virtual_network_name=hub.name,
    subnet_name="AzureFirewallSubnet",
    address_prefix="10.0.0.0/26",
)
fw_ip = azure.network.PublicIPAddress(
    "fw-ip",
    resource_group_name=rg.name,
    sku={"name": "Standard"},
    public_ip_allocation_method="Static",
)
fw = azure.network.AzureFirewall(
    "fw",
    resource_group_name=rg.name,
    sku={"name": "AZFW_VNet", "tier": "Standard"},
    ip_configurations=[
        {
            "name": "ipconfig",
            "subnet": {"id": fw_subnet.id},
            "public_ip_address": {"id": fw_ip.id},
        }
    ],
)

rt = azure.network.RouteTable("rt-spoke", resource_group_name=rg.name)
default_route = azure.network.Route(
    "default-via-fw",
    resource_group_name=rg.name,
    route_table_name=rt.name,
    address_prefix="0.0.0.0/0",
    next_hop_type="VirtualAppliance",
    next_hop_ip_address=fw.ip_configurations.apply(lambda c: c[0].private_ip_address),
)
