"""Route tables declared after auto_kms_routes(), one per case the transform handles (config ``scenario``)."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import network, resources

from kmsguard.pulumi import KmsRoutes, auto_kms_routes

config = pulumi.Config()
scenario = config.require("scenario")
location = config.get("location") or "westeurope"
cloud = config.get("cloud")

state = auto_kms_routes(cloud=cloud)
rg = resources.ResourceGroup("rg", resource_group_name="rg-kms-transform", location=location)

if scenario == "basic":
    # inline, forced to an appliance: the transform appends the KMS routes
    network.RouteTable(
        "rt-inline",
        resource_group_name=rg.name,
        location=location,
        routes=[
            {
                "name": "default-nva",
                "address_prefix": "0.0.0.0/0",
                "next_hop_type": network.RouteNextHopType.VIRTUAL_APPLIANCE,
                "next_hop_ip_address": "10.0.0.4",
            }
        ],
    )
    # inline, nothing diverts the KMS IPs: left alone
    network.RouteTable(
        "rt-onprem-only",
        resource_group_name=rg.name,
        location=location,
        routes=[{"name": "onprem", "address_prefix": "10.0.0.0/8", "next_hop_type": "VirtualNetworkGateway"}],
    )
    # inline, one KMS route already there (another name): only the two others are added
    network.RouteTable(
        "rt-partial",
        resource_group_name=rg.name,
        location=location,
        routes=[
            {"name": "default", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualNetworkGateway"},
            {"name": "legacy-kms", "address_prefix": "23.102.135.246/32", "next_hop_type": "Internet"},
        ],
    )
    # standalone routes: the forced-tunnel route gets sibling KMS routes on the same table
    table = network.RouteTable("rt-standalone", resource_group_name=rg.name, location=location)
    network.Route(
        "rt-standalone-kms-legacy",
        route_table_name=table.name,
        resource_group_name=rg.name,
        address_prefix="23.102.135.246/32",
        next_hop_type="Internet",
    )
    network.Route(
        "rt-standalone-default",
        route_table_name=table.name,
        resource_group_name=rg.name,
        address_prefix="0.0.0.0/0",
        next_hop_type="VirtualNetworkGateway",
    )
    # a standalone route that does not force anything: no siblings
    network.Route(
        "rt-standalone-onprem",
        route_table_name=table.name,
        resource_group_name=rg.name,
        address_prefix="192.168.0.0/16",
        next_hop_type="VirtualNetworkGateway",
    )
elif scenario == "unknown-location":
    # The location is an output of another resource: unknown until it exists.
    pip = network.PublicIPAddress("pip", resource_group_name=rg.name, location=location)
    network.RouteTable(
        "rt-later",
        resource_group_name=rg.name,
        location=pip.id.apply(lambda _: location),
        routes=[{"name": "default", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualNetworkGateway"}],
    )
elif scenario == "component":
    # KmsRoutes with the location as an Output (known here: the group's location is an input)
    table = network.RouteTable("rt-component", resource_group_name=rg.name, location=rg.location)
    KmsRoutes(
        "rt-component-kms",
        route_table_name=table.name,
        resource_group_name=rg.name,
        location=rg.location,
        cloud=config.get("componentCloud") or "public",
    )
elif scenario == "twice":
    auto_kms_routes()
elif scenario == "conflict":
    network.RouteTable(
        "rt-conflict",
        resource_group_name=rg.name,
        location=location,
        routes=[
            {"name": "default", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualNetworkGateway"},
            {
                "name": "kms-via-nva",
                "address_prefix": "20.118.99.224/32",
                "next_hop_type": "VirtualAppliance",
                "next_hop_ip_address": "10.0.0.4",
            },
        ],
    )
else:
    raise ValueError(f"unknown scenario {scenario!r}")

pulumi.export("declared", state.declared)
