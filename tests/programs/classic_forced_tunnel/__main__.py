"""Forced tunnelling on the classic provider (semantics §3.1, §3.3).

* ``snet-site``: no route table; the VNet's VPN gateway has a Default Site, so 0.0.0.0/0 goes
  on-premises: blocked, the fix is a new route table (classic code);
* ``snet-inline``: inline 0.0.0.0/0 → VirtualNetworkGateway; kms-route-autofix appends the KMS routes;
* ``snet-routes``: standalone 0.0.0.0/0 → VirtualNetworkGateway Route; ``KmsRoutes(classic=True)``;
* ``snet-with``: inline 0.0.0.0/0 → VirtualNetworkGateway with ``with_kms_routes``;
* ``snet-full``: 399 inline routes: the autofix cannot add three without passing the 400-route limit;
* ``snet-conflict``: a user /32 sends one KMS IP to the gateway: never rewritten, the others are added.
"""

import pulumi_azure as azure

from kmsguard.pulumi import KmsRoutes, with_kms_routes

LOCATION = "westeurope"
rg = azure.core.ResourceGroup("rg", name="rg-classic", location=LOCATION)
vnet = azure.network.VirtualNetwork(
    "vnet", name="vnet-spoke", resource_group_name=rg.name, location=LOCATION, address_spaces=["10.1.0.0/16"]
)


def subnet(name: str, prefix: str) -> azure.network.Subnet:
    return azure.network.Subnet(
        name,
        name=name,
        resource_group_name=rg.name,
        virtual_network_name=vnet.name,
        address_prefixes=[prefix],
    )


gw_subnet = subnet("GatewaySubnet", "10.1.255.0/27")
gw_ip = azure.network.PublicIp(
    "gw-ip",
    name="gw-ip",
    resource_group_name=rg.name,
    location=LOCATION,
    allocation_method="Static",
    sku="Standard",
)
onprem = azure.network.LocalNetworkGateway(
    "onprem",
    name="onprem",
    resource_group_name=rg.name,
    location=LOCATION,
    gateway_address="203.0.113.10",
    address_spaces=["192.168.0.0/16"],
)
gateway = azure.network.VirtualNetworkGateway(
    "vpn",
    name="vpn",
    resource_group_name=rg.name,
    location=LOCATION,
    type="Vpn",
    vpn_type="RouteBased",
    sku="VpnGw1",
    default_local_network_gateway_id=onprem.id,
    ip_configurations=[{"name": "gw", "public_ip_address_id": gw_ip.id, "subnet_id": gw_subnet.id}],
)

subnet("snet-site", "10.1.1.0/24")

default = {"name": "default-onprem", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualNetworkGateway"}
inline = subnet("snet-inline", "10.1.2.0/24")
rt_inline = azure.network.RouteTable(
    "rt-inline", name="rt-inline", resource_group_name=rg.name, location=LOCATION, routes=[default]
)
azure.network.SubnetRouteTableAssociation("snet-inline-rt", subnet_id=inline.id, route_table_id=rt_inline.id)

routed = subnet("snet-routes", "10.1.3.0/24")
rt_routes = azure.network.RouteTable(
    "rt-routes", name="rt-routes", resource_group_name=rg.name, location=LOCATION
)
azure.network.Route(
    "rt-routes-default",
    name="default-onprem",
    resource_group_name=rg.name,
    route_table_name=rt_routes.name,
    address_prefix="0.0.0.0/0",
    next_hop_type="VirtualNetworkGateway",
)
KmsRoutes(
    "rt-routes-kms",
    route_table_name=rt_routes.name,
    resource_group_name=rg.name,
    location=LOCATION,
    classic=True,
)
azure.network.SubnetRouteTableAssociation("snet-routes-rt", subnet_id=routed.id, route_table_id=rt_routes.id)

with_ = subnet("snet-with", "10.1.4.0/24")
rt_with = azure.network.RouteTable(
    "rt-with",
    name="rt-with",
    resource_group_name=rg.name,
    location=LOCATION,
    routes=with_kms_routes([azure.network.RouteTableRouteArgs(**default)], location=LOCATION),
)
azure.network.SubnetRouteTableAssociation("snet-with-rt", subnet_id=with_.id, route_table_id=rt_with.id)

full = subnet("snet-full", "10.1.5.0/24")
rt_full = azure.network.RouteTable(
    "rt-full",
    name="rt-full",
    resource_group_name=rg.name,
    location=LOCATION,
    routes=[
        default,
        *(
            {
                "name": f"onprem-{i}",
                "address_prefix": f"172.{16 + i // 256}.{i % 256}.0/24",
                "next_hop_type": "VnetLocal",
            }
            for i in range(398)
        ),
    ],
)
azure.network.SubnetRouteTableAssociation("snet-full-rt", subnet_id=full.id, route_table_id=rt_full.id)

conflict = subnet("snet-conflict", "10.1.6.0/24")
rt_conflict = azure.network.RouteTable(
    "rt-conflict",
    name="rt-conflict",
    resource_group_name=rg.name,
    location=LOCATION,
    routes=[
        default,
        {
            "name": "kms-onprem",
            "address_prefix": "20.118.99.224/32",
            "next_hop_type": "VirtualNetworkGateway",
        },
    ],
)
azure.network.SubnetRouteTableAssociation(
    "snet-conflict-rt", subnet_id=conflict.id, route_table_id=rt_conflict.id
)
