"""``auto_kms_routes()`` on the classic provider: inline routes of a classic RouteTable get the KMS
routes, a classic forced-tunnel Route gets sibling classic Routes; both subnets reachable, nothing left
for kms-route-autofix."""

import pulumi_azure as azure

from kmsguard.pulumi import auto_kms_routes

auto_kms_routes()

LOCATION = "westeurope"
rg = azure.core.ResourceGroup("rg", name="rg-classic", location=LOCATION)
vnet = azure.network.VirtualNetwork(
    "vnet", name="vnet-spoke", resource_group_name=rg.name, location=LOCATION, address_spaces=["10.5.0.0/16"]
)
inline = azure.network.RouteTable(
    "rt-inline",
    name="rt-inline",
    resource_group_name=rg.name,
    location=LOCATION,
    routes=[
        {
            "name": "default-nva",
            "address_prefix": "0.0.0.0/0",
            "next_hop_type": "VirtualAppliance",
            "next_hop_in_ip_address": "10.0.0.4",
        }
    ],
)
standalone = azure.network.RouteTable("rt-routes", name="rt-routes", resource_group_name=rg.name)
azure.network.Route(
    "default-onprem",
    name="default-onprem",
    resource_group_name=rg.name,
    route_table_name=standalone.name,
    address_prefix="0.0.0.0/0",
    next_hop_type="VirtualNetworkGateway",
)
for name, prefix, table in (
    ("snet-inline", "10.5.1.0/24", inline),
    ("snet-routes", "10.5.2.0/24", standalone),
):
    sub = azure.network.Subnet(
        name,
        name=name,
        resource_group_name=rg.name,
        virtual_network_name=vnet.name,
        address_prefixes=[prefix],
    )
    azure.network.SubnetRouteTableAssociation(f"{name}-rt", subnet_id=sub.id, route_table_id=table.id)
