"""A spoke subnet whose 0.0.0.0/0 goes to the hub Azure Firewall, through standalone Route resources.

During a preview the route table's Azure name (autonamed) and the firewall's private IP (assigned by
Azure) are unknown: the route reaches its table and its next hop only through property
dependencies. The firewall policy allows TCP 1688 to the KMS IPs, so the path is reachable.
"""

from __future__ import annotations

import pulumi_azure_native as azure

KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]

rg = azure.resources.ResourceGroup("rg", resource_group_name="rg-hub")
hub = azure.network.VirtualNetwork(
    "hub", resource_group_name=rg.name, address_space={"address_prefixes": ["10.0.0.0/16"]}
)
fw_subnet = azure.network.Subnet(
    "fw-subnet",
    resource_group_name=rg.name,
    virtual_network_name=hub.name,
    subnet_name="AzureFirewallSubnet",
    address_prefix="10.0.0.0/26",
)
fw_ip = azure.network.PublicIPAddress(
    "fw-ip", resource_group_name=rg.name, sku={"name": "Standard"}, public_ip_allocation_method="Static"
)
policy = azure.network.FirewallPolicy("fwp", resource_group_name=rg.name)
azure.network.FirewallPolicyRuleCollectionGroup(
    "fwp-platform",
    resource_group_name=rg.name,
    firewall_policy_name=policy.name,
    priority=100,
    # Args classes, not dicts: the SDK cannot translate snake_case keys inside a union-typed list.
    rule_collections=[
        azure.network.FirewallPolicyFilterRuleCollectionArgs(
            rule_collection_type="FirewallPolicyFilterRuleCollection",
            name="windows-activation",
            priority=100,
            action=azure.network.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"),
            rules=[
                azure.network.NetworkRuleArgs(
                    rule_type="NetworkRule",
                    name="kms",
                    ip_protocols=["TCP"],
                    source_addresses=["10.0.0.0/8"],
                    destination_addresses=KMS_IPS,
                    destination_ports=["1688"],
                )
            ],
        )
    ],
)
fw = azure.network.AzureFirewall(
    "fw",
    resource_group_name=rg.name,
    sku={"name": "AZFW_VNet", "tier": "Standard"},
    firewall_policy={"id": policy.id},
    ip_configurations=[
        {"name": "ipconfig", "subnet": {"id": fw_subnet.id}, "public_ip_address": {"id": fw_ip.id}}
    ],
)

spoke = azure.network.VirtualNetwork(
    "spoke", resource_group_name=rg.name, address_space={"address_prefixes": ["10.1.0.0/16"]}
)
rt = azure.network.RouteTable("rt-spoke", resource_group_name=rg.name)
azure.network.Route(
    "default-via-fw",
    resource_group_name=rg.name,
    route_table_name=rt.name,
    address_prefix="0.0.0.0/0",
    next_hop_type="VirtualAppliance",
    next_hop_ip_address=fw.ip_configurations.apply(lambda c: c[0].private_ip_address),
)
azure.network.Subnet(
    "snet-app",
    resource_group_name=rg.name,
    virtual_network_name=spoke.name,
    subnet_name="app",
    address_prefix="10.1.0.0/24",
    route_table={"id": rt.id},
)
