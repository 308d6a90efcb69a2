"""A stack transformation tags every resource; a resource transformation rewrites a route."""

import pulumi
import pulumi_azure_native as azure


def tag_everything(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    if "tags" not in args.props:  # only resource types that take tags
        return None
    props = dict(args.props)
    props["tags"] = {**(props.get("tags") or {}), "managed-by": "legacy"}
    return pulumi.ResourceTransformationResult(props, args.opts)


def via_internet(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
    props = dict(args.props)
    props["next_hop_type"] = "Internet"
    props.pop("next_hop_ip_address", None)
    return pulumi.ResourceTransformationResult(props, args.opts)


pulumi.runtime.register_stack_transformation(tag_everything)

table = azure.network.RouteTable("rt", resource_group_name="rg-legacy")
azure.network.Route(
    "kms",
    resource_group_name="rg-legacy",
    route_table_name=table.name,
    address_prefix="20.118.99.224/32",
    next_hop_type="VirtualAppliance",
    next_hop_ip_address="10.0.0.4",
    opts=pulumi.ResourceOptions(transformations=[via_internet]),
)
