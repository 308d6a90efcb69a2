"""Fails while computing a subnet from a bad prefix in the program's own helper."""

import pulumi_azure_native as azure
from layout import spoke_prefix

azure.network.RouteTable("rt", resource_group_name="rg")
azure.network.VirtualNetwork(
    "vnet",
    resource_group_name="rg",
    address_space={"address_prefixes": [spoke_prefix("10.300.0.0/16")]},
)
