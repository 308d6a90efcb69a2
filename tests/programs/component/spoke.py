"""A spoke VNet as a component; its routing lives in a nested component."""

import pulumi
import pulumi_azure_native as azure


class SpokeRouting(pulumi.ComponentResource):
    def __init__(
        self, name: str, resource_group_name: pulumi.Input[str], opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__("net:index:SpokeRouting", name, {}, opts)
        self.table = azure.network.RouteTable(
            f"{name}-rt",
            resource_group_name=resource_group_name,
            routes=[
                {
                    "name": "default",
                    "address_prefix": "0.0.0.0/0",
                    "next_hop_type": "VirtualAppliance",
                    "next_hop_ip_address": "10.0.0.4",
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"routeTableId": self.table.id})


class Spoke(pulumi.ComponentResource):
    def __init__(self, name: str, resource_group_name: pulumi.Input[str], prefix: str) -> None:
        super().__init__("net:index:Spoke", name, {}, None)
        self.routing = SpokeRouting(name, resource_group_name, pulumi.ResourceOptions(parent=self))
        self.vnet = azure.network.VirtualNetwork(
            name,
            resource_group_name=resource_group_name,
            address_space={"address_prefixes": [prefix]},
            subnets=[
                {
                    "name": "app",
                    "address_prefix": prefix,
                    "route_table": {"id": self.routing.table.id},
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
