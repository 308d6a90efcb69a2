"""A private DNS zone ``core.windows.net`` linked to the VNet shadows the KMS names (§7.3): the names
without a record in the zone are NXDOMAIN (``azkms``); the one with a record (``kms``) resolves."""

import pulumi_azure as azure

LOCATION = "westeurope"
rg = azure.core.ResourceGroup("rg", name="rg-classic", location=LOCATION)
vnet = azure.network.VirtualNetwork(
    "vnet", name="vnet-spoke", resource_group_name=rg.name, location=LOCATION, address_spaces=["10.4.0.0/16"]
)
azure.network.Subnet(
    "snet-app",
    name="snet-app",
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    address_prefixes=["10.4.1.0/24"],
)
zone = azure.privatedns.Zone("zone", name="core.windows.net", resource_group_name=rg.name)
azure.privatedns.ARecord(
    "kms", name="kms", zone_name=zone.name, resource_group_name=rg.name, ttl=300, records=["23.102.135.246"]
)
azure.privatedns.ZoneVirtualNetworkLink(
    "link",
    name="link",
    resource_group_name=rg.name,
    private_dns_zone_name=zone.name,
    virtual_network_id=vnet.id,
)
