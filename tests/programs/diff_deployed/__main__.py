"""The deployed network of ``tests/data/export-blocked.json`` (project ``network``, stack ``prod``) as a
program, as a pull request changes it: nsg-app now denies outbound TCP 1688.

Against the audit of the deployed state (``kmsguard check``): the preview's kms-route-autofix adds the
KMS routes to rt-spoke, so snet-data improves (blocked → reachable), while vnet-spoke/snet-app stays
blocked — by the new NSG rule instead of the route — so it is unchanged and nothing regressed.
"""

from __future__ import annotations

import pulumi_azure_native as azure

rt = azure.network.RouteTable(
    "rt-spoke",
    resource_group_name="rg-net",
    route_table_name="rt-spoke",
    routes=[
        {"name": "default-to-onprem", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualNetworkGateway"}
    ],
)
nsg = azure.network.NetworkSecurityGroup(
    "nsg-app",
    resource_group_name="rg-net",
    network_security_group_name="nsg-app",
    security_rules=[
        {
            "name": "deny-kms",
            "priority": 200,
            "direction": "Outbound",
            "access": "Deny",
            "protocol": "Tcp",
            "source_address_prefix": "*",
            "source_port_range": "*",
            "destination_address_prefix": "Internet",
            "destination_port_range": "1688",
        }
    ],
)
azure.network.VirtualNetwork(
    "vnet-spoke",
    resource_group_name="rg-net",
    virtual_network_name="vnet-spoke",
    address_space={"address_prefixes": ["10.1.0.0/16"]},
    subnets=[
        {
            "name": "snet-app",
            "address_prefix": "10.1.0.0/24",
            "route_table": {"id": rt.id},
            "network_security_group": {"id": nsg.id},
        },
        {"name": "GatewaySubnet", "address_prefix": "10.1.255.0/27"},
    ],
)
shared = azure.network.VirtualNetwork(
    "vnet-shared",
    resource_group_name="rg-net",
    virtual_network_name="vnet-shared",
    address_space={"address_prefixes": ["10.2.0.0/16"]},
)
azure.network.Subnet(
    "snet-data",
    resource_group_name="rg-net",
    virtual_network_name=shared.name,
    subnet_name="snet-data",
    address_prefix="10.2.1.0/24",
    route_table={"id": rt.id},
)
