"""Secrets marked on single values. The engine marks a whole output property secret when its input holds
a secret anywhere (the route table's ``routes``, the VNet's ``subnets``); the report must still name the
plain routes and subnets, and the fix must change the route that blackholes the KMS IP, not another."""

import pulumi
import pulumi_azure_native as azure_native

rg = azure_native.resources.ResourceGroup("rg", resource_group_name="rg-secret-names")
rt = azure_native.network.RouteTable(
    "rt-secret",
    resource_group_name=rg.name,
    routes=[
        {"name": "default-gw", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualNetworkGateway"},
        {
            "name": "blackhole-kms",
            "address_prefix": pulumi.Output.secret("20.118.99.224/32"),
            "next_hop_type": "None",
        },
        {"name": "onprem", "address_prefix": "172.16.0.0/12", "next_hop_type": "VirtualNetworkGateway"},
    ],
)
azure_native.network.VirtualNetwork(
    "vnet-secret",
    resource_group_name=rg.name,
    address_space={"address_prefixes": ["10.42.0.0/16"]},
    subnets=[
        {
            "name": pulumi.Output.secret("snet-hidden"),
            "address_prefix": "10.42.1.0/24",
            "route_table": {"id": rt.id},
        },
        {"name": "snet-plain", "address_prefix": "10.42.2.0/24", "route_table": {"id": rt.id}},
    ],
)
