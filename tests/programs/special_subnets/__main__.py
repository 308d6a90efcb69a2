"""Special-purpose subnets are excluded from the KMS question whichever way they get their Azure name.

* inline in a VNet (``subnets=[{"name": "AzureBastionSubnet", ...}]``);
* a standalone ``Subnet`` with ``subnet_name``;
* a standalone ``Subnet`` without ``subnet_name``: azure-native's Check names a child resource after its
  logical name (no random suffix), so ``Subnet("GatewaySubnet", ...)`` is the VNet's GatewaySubnet.

The one ordinary subnet of each VNet goes to the Internet by the system routes, so the stack passes.
"""

from __future__ import annotations

import pulumi_azure_native as azure

rg = azure.resources.ResourceGroup("rg", resource_group_name="rg-special")
hub = azure.network.VirtualNetwork(
    "hub",
    resource_group_name=rg.name,
    address_space={"address_prefixes": ["10.0.0.0/16"]},
    subnets=[
        {"name": "AzureBastionSubnet", "address_prefix": "10.0.1.0/26"},
        {"name": "app", "address_prefix": "10.0.2.0/24"},
    ],
)
edge = azure.network.VirtualNetwork(
    "edge", resource_group_name=rg.name, address_space={"address_prefixes": ["10.1.0.0/16"]}
)
azure.network.Subnet(
    "GatewaySubnet", resource_group_name=rg.name, virtual_network_name=edge.name, address_prefix="10.1.0.0/27"
)
azure.network.Subnet(
    "RouteServerSubnet",
    resource_group_name=rg.name,
    virtual_network_name=edge.name,
    address_prefix="10.1.0.32/27",
)
azure.network.Subnet(
    "fw-mgmt",
    resource_group_name=rg.name,
    virtual_network_name=edge.name,
    subnet_name="AzureFirewallManagementSubnet",
    address_prefix="10.1.0.64/26",
)
azure.network.Subnet(
    "workload",
    resource_group_name=rg.name,
    virtual_network_name=edge.name,
    address_prefix="10.1.1.0/24",
)
