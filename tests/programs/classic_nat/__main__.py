"""Private subnets on the classic provider (§5.2–§5.3): without default outbound access a subnet
needs an explicit outbound method; ``snet-nat`` has a NAT gateway, ``snet-private`` has none."""

import pulumi_azure as azure

LOCATION = "westeurope"
# The resource group takes its location from the provider's (``azure:location`` in Pulumi.dev.yaml),
# and the VNet, which decides the subnets' cloud, takes the resource group's.
rg = azure.core.ResourceGroup("rg", name="rg-classic")
vnet = azure.network.VirtualNetwork(
    "vnet",
    name="vnet-spoke",
    resource_group_name=rg.name,
    location=rg.location,
    address_spaces=["10.3.0.0/16"],
)
pip = azure.network.PublicIp(
    "nat-ip",
    name="nat-ip",
    resource_group_name=rg.name,
    location=LOCATION,
    allocation_method="Static",
    sku="Standard",
)
nat = azure.network.NatGateway(
    "nat", name="nat", resource_group_name=rg.name, location=LOCATION, sku_name="Standard"
)
azure.network.NatGatewayPublicIpAssociation(
    "nat-ip-assoc", nat_gateway_id=nat.id, public_ip_address_id=pip.id
)

with_nat = azure.network.Subnet(
    "snet-nat",
    name="snet-nat",
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    address_prefixes=["10.3.1.0/24"],
    default_outbound_access_enabled=False,
)
azure.network.SubnetNatGatewayAssociation("snet-nat-nat", subnet_id=with_nat.id, nat_gateway_id=nat.id)
azure.network.Subnet(
    "snet-private",
    name="snet-private",
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    address_prefixes=["10.3.2.0/24"],
    default_outbound_access_enabled=False,
)
