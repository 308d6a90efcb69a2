"""Stack transforms add a KMS route to every later route table and tag it with its route count; a
component's transform turns BGP propagation off for its children; a resource's own transform leaves it be."""

import pulumi
import pulumi_azure_native as azure

KMS_ROUTE = {"name": "kms-1", "addressPrefix": "20.118.99.224/32", "nextHopType": "Internet"}


def add_kms_route(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if args.type_ != "azure-native:network:RouteTable":
        return None
    routes = [*args.props.get("routes", []), KMS_ROUTE]
    return pulumi.ResourceTransformResult(props={**args.props, "routes": routes}, opts=args.opts)


def count_routes(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if args.type_ != "azure-native:network:RouteTable":
        return None
    tags = {**args.props.get("tags", {}), "routes": str(len(args.props.get("routes", [])))}
    return pulumi.ResourceTransformResult(props={**args.props, "tags": tags}, opts=args.opts)


def bgp_off(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if args.type_ != "azure-native:network:RouteTable":
        return None
    props = {**args.props, "disableBgpRoutePropagation": True, "tags": {"bgp": "off"}}
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


def leave_alone(args: pulumi.ResourceTransformArgs) -> None:
    return None


class Hub(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__("net:index:Hub", name, {}, opts)
        self.table = azure.network.RouteTable(
            f"{name}-rt", resource_group_name="rg-t", opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})


before = azure.network.RouteTable("before", resource_group_name="rg-t")

pulumi.runtime.register_resource_transform(add_kms_route)
pulumi.runtime.register_resource_transform(count_routes)

nva = azure.network.NetworkInterface(
    "nva-nic",
    resource_group_name="rg-t",
    enable_ip_forwarding=True,
    ip_configurations=[
        {
            "name": "ipconfig",
            "subnet": {
                "id": "/subscriptions/0/resourceGroups/rg-t/providers/Microsoft.Network/virtualNetworks/hub/subnets/nva"
            },
        }
    ],
)
after = azure.network.RouteTable(
    "after",
    resource_group_name="rg-t",
    routes=[
        {
            "name": "default",
            "address_prefix": "0.0.0.0/0",
            "next_hop_type": "VirtualAppliance",
            "next_hop_ip_address": nva.ip_configurations.apply(lambda c: c[0].private_ip_address),
        }
    ],
    opts=pulumi.ResourceOptions(transforms=[leave_alone]),
)
hub = Hub("hub", pulumi.ResourceOptions(transforms=[bgp_off]))
