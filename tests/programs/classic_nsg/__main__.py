"""NSG deny on the classic provider (§4.1–§4.2): the KMS platform rule lets TCP 1688 through an NSG
that denies Internet (``snet-platform``) unless a custom 0.0.0.0/0 route is in effect (``snet-custom``,
inline rules) or (``snet-standalone``, the rules are NetworkSecurityRule resources)."""

import pulumi_azure as azure

from kmsguard.pulumi import with_kms_routes

LOCATION = "westeurope"
rg = azure.core.ResourceGroup("rg", name="rg-classic", location=LOCATION)
vnet = azure.network.VirtualNetwork(
    "vnet", name="vnet-spoke", resource_group_name=rg.name, location=LOCATION, address_spaces=["10.2.0.0/16"]
)
deny = {
    "name": "deny-internet",
    "priority": 4000,
    "direction": "Outbound",
    "access": "Deny",
    "protocol": "*",
    "source_address_prefix": "*",
    "source_port_range": "*",
    "destination_address_prefix": "Internet",
    "destination_port_range": "*",
}
nsg = azure.network.NetworkSecurityGroup(
    "nsg-inline", name="nsg-inline", resource_group_name=rg.name, location=LOCATION, security_rules=[deny]
)
nsg_rules = azure.network.NetworkSecurityGroup(
    "nsg-rules", name="nsg-rules", resource_group_name=rg.name, location=LOCATION
)
azure.network.NetworkSecurityRule(
    "nsg-rules-deny", resource_group_name=rg.name, network_security_group_name=nsg_rules.name, **deny
)
# Forced tunnel with the KMS /32 → Internet routes: routing is fine, but the custom 0.0.0.0/0 turns
# the KMS platform rule off (§4.2), so the NSG's deny decides.
rt = azure.network.RouteTable(
    "rt-custom",
    name="rt-custom",
    resource_group_name=rg.name,
    location=LOCATION,
    routes=with_kms_routes(
        [{"name": "default-onprem", "address_prefix": "0.0.0.0/0", "next_hop_type": "VirtualNetworkGateway"}],
        location=LOCATION,
    ),
)

for name, prefix, group, table in (
    ("snet-platform", "10.2.1.0/24", nsg, None),
    ("snet-custom", "10.2.2.0/24", nsg, rt),
    ("snet-standalone", "10.2.3.0/24", nsg_rules, rt),
):
    sub = azure.network.Subnet(
        name,
        name=name,
        resource_group_name=rg.name,
        virtual_network_name=vnet.name,
        address_prefixes=[prefix],
    )
    azure.network.SubnetNetworkSecurityGroupAssociation(
        f"{name}-nsg", subnet_id=sub.id, network_security_group_id=group.id
    )
    if table is not None:
        azure.network.SubnetRouteTableAssociation(f"{name}-rt", subnet_id=sub.id, route_table_id=table.id)
