"""Standalone subnets of one VNet, each described by stack config ``spokes: [{name, tunnel}]``.

``tunnel``: ``none`` (system routes: reachable), ``gateway`` (a standalone Route 0.0.0.0/0 →
VirtualNetworkGateway, which kms-route-autofix never touches: blocked) or ``gateway+kms`` (the
same plus standalone /32 → Internet routes for the KMS IPs: reachable). The diff tests write two
stack files (base and head) and compare the previews.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]

spokes = pulumi.Config().require_object("spokes")
rg = azure.resources.ResourceGroup("rg", resource_group_name="rg-spokes")
vnet = azure.network.VirtualNetwork(
    "spokes-vnet", resource_group_name=rg.name, address_space={"address_prefixes": ["10.0.0.0/16"]}
)
for number, spoke in enumerate(spokes, 1):
    name, tunnel = spoke["name"], spoke["tunnel"]
    route_table = None
    if tunnel != "none":
        rt = azure.network.RouteTable(f"rt-{name}", resource_group_name=rg.name)
        azure.network.Route(
            f"{name}-default",
            resource_group_name=rg.name,
            route_table_name=rt.name,
            address_prefix="0.0.0.0/0",
            next_hop_type="VirtualNetworkGateway",
        )
        if tunnel == "gateway+kms":
            for ip in KMS_IPS:
                azure.network.Route(
                    f"{name}-kms-{ip.replace('.', '-')}",
                    resource_group_name=rg.name,
                    route_table_name=rt.name,
                    address_prefix=f"{ip}/32",
                    next_hop_type="Internet",
                )
        route_table = {"id": rt.id}
    azure.network.Subnet(
        f"snet-{name}",
        resource_group_name=rg.name,
        virtual_network_name=vnet.name,
        subnet_name=name,
        address_prefix=f"10.0.{number}.0/24",
        route_table=route_table,
    )
