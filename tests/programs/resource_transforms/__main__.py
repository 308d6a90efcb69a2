"""Stack transforms add a KMS route to every later route table and tag it with its route count; a
component's transform turns BGP propagation off for its children; a resource's own transform leaves it be.

A transform's props are Inputs. Most resources' props arrive as plain values (an unknown nested where an
Output was), but the engine upgrades the top-level properties that have dependencies of a resource with
transforms of its own to Outputs carrying those dependencies, for every transform that resource meets
(``upgradeOutputValues``, pkg/resource/deploy/source_eval.go), so the transforms apply through them."""

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_azure_native as azure

KMS_ROUTE = {"name": "kms-1", "addressPrefix": "20.118.99.224/32", "nextHopType": "Internet"}


def lift(fn: Callable[..., Any], *values: Any) -> Any:
    """``fn`` of the values, through ``Output.all`` when one of them is an Output (then unknown in a
    preview if any part of them is)."""
    if any(isinstance(value, pulumi.Output) for value in values):
        return pulumi.Output.all(*values).apply(lambda resolved: fn(*resolved))
    return fn(*values)


def add_kms_route(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if args.type_ != "azure-native:network:RouteTable":
        return None
    routes = lift(lambda given: [*(given or []), KMS_ROUTE], args.props.get("routes"))
    return pulumi.ResourceTransformResult(props={**args.props, "routes": routes}, opts=args.opts)


def _count(tags: Any, routes: Any) -> dict[str, Any]:
    # A route list unknown as a whole (the Output above, unknown in a preview) gives an unknown count.
    count = str(len(routes)) if isinstance(routes, list) else routes if routes is not None else "0"
    return {**(tags or {}), "routes": count}


def count_routes(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if args.type_ != "azure-native:network:RouteTable":
        return None
    tags = lift(_count, args.props.get("tags"), args.props.get("routes"))
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
via_nva = [
    {
        "name": "default",
        "address_prefix": "0.0.0.0/0",
        "next_hop_type": "VirtualAppliance",
        "next_hop_ip_address": nva.ip_configurations.apply(lambda c: c[0].private_ip_address),
    }
]
# Only stack transforms: plain props, the NVA's unknown address nested in the list.
later = azure.network.RouteTable("later", resource_group_name="rg-t", routes=via_nva)
# Its own transform too: ``routes`` (which depends on the NIC) reaches every transform as an Output.
after = azure.network.RouteTable(
    "after",
    resource_group_name="rg-t",
    routes=via_nva,
    opts=pulumi.ResourceOptions(transforms=[leave_alone]),
)
hub = Hub("hub", pulumi.ResourceOptions(transforms=[bgp_off]))
