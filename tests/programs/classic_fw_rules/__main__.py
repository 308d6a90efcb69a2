"""A spoke forced through a classic Azure Firewall without policy (§6.3): its rules are standalone
``FirewallNetworkRuleCollection`` resources. Stack ``dev`` allows only HTTPS (blocked), stack ``allowed``
adds a TCP 1688 collection (reachable). An application rule collection (HTTP/HTTPS only), a DNS
forwarding ruleset for another domain, an AVNM admin rule that only allows and a site-to-site VPN to a
private range are read and change nothing."""

import pulumi
import pulumi_azure as azure

LOCATION = "westeurope"
KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
allow_kms = pulumi.Config().get_bool("allowKms") or False
rg = azure.core.ResourceGroup("rg", name="rg-classic", location=LOCATION)
vnet = azure.network.VirtualNetwork(
    "vnet", name="vnet-hub", resource_group_name=rg.name, location=LOCATION, address_spaces=["10.0.0.0/16"]
)
fw_subnet = azure.network.Subnet(
    "AzureFirewallSubnet",
    name="AzureFirewallSubnet",
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    address_prefixes=["10.0.0.0/26"],
)
app = azure.network.Subnet(
    "snet-app",
    name="snet-app",
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    address_prefixes=["10.0.1.0/24"],
)
fw_ip = azure.network.PublicIp(
    "fw-ip",
    name="fw-ip",
    resource_group_name=rg.name,
    location=LOCATION,
    allocation_method="Static",
    sku="Standard",
)
fw = azure.network.Firewall(
    "fw",
    name="fw",
    resource_group_name=rg.name,
    location=LOCATION,
    sku_name="AZFW_VNet",
    sku_tier="Standard",
    ip_configurations=[{"name": "ipconfig", "subnet_id": fw_subnet.id, "public_ip_address_id": fw_ip.id}],
)
azure.network.FirewallNetworkRuleCollection(
    "web",
    name="web",
    azure_firewall_name=fw.name,
    resource_group_name=rg.name,
    priority=200,
    action="Allow",
    rules=[
        {
            "name": "https",
            "protocols": ["TCP"],
            "source_addresses": ["10.0.0.0/16"],
            "destination_addresses": ["*"],
            "destination_ports": ["443"],
        }
    ],
)
if allow_kms:
    azure.network.FirewallNetworkRuleCollection(
        "kms",
        name="kms",
        azure_firewall_name=fw.name,
        resource_group_name=rg.name,
        priority=100,
        action="Allow",
        rules=[
            {
                "name": "kms-tcp-1688",
                "protocols": ["TCP"],
                "source_addresses": ["10.0.1.0/24"],
                "destination_addresses": KMS_IPS,
                "destination_ports": ["1688"],
            }
        ],
    )
azure.network.FirewallApplicationRuleCollection(
    "fqdn",
    name="fqdn",
    azure_firewall_name=fw.name,
    resource_group_name=rg.name,
    priority=300,
    action="Allow",
    rules=[
        {
            "name": "windows-update",
            "source_addresses": ["10.0.1.0/24"],
            "fqdn_tags": ["WindowsUpdate"],
        }
    ],
)
rt = azure.network.RouteTable(
    "rt",
    name="rt-app",
    resource_group_name=rg.name,
    location=LOCATION,
    routes=[
        {
            "name": "default",
            "address_prefix": "0.0.0.0/0",
            "next_hop_type": "VirtualAppliance",
            "next_hop_in_ip_address": "10.0.0.4",
        }
    ],
)
azure.network.SubnetRouteTableAssociation("rta", subnet_id=app.id, route_table_id=rt.id)

# A forwarding ruleset for another domain: the KMS names still resolve through Azure DNS.
ruleset = azure.privatedns.ResolverDnsForwardingRuleset(
    "ruleset",
    name="ruleset",
    resource_group_name=rg.name,
    location=LOCATION,
    private_dns_resolver_outbound_endpoint_ids=[
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-dns/providers/"
        "Microsoft.Network/dnsResolvers/resolver/outboundEndpoints/out"
    ],
)
azure.privatedns.ResolverForwardingRule(
    "contoso",
    name="contoso",
    dns_forwarding_ruleset_id=ruleset.id,
    domain_name="contoso.com.",
    target_dns_servers=[{"ip_address": "10.9.9.9", "port": 53}],
)
azure.privatedns.ResolverVirtualNetworkLink(
    "ruleset-link", name="hub", dns_forwarding_ruleset_id=ruleset.id, virtual_network_id=vnet.id
)

# AVNM: an admin rule that allows TCP 1688, deployed: the NSGs (none here) and the firewall decide.
nm = azure.network.NetworkManager(
    "avnm",
    name="avnm",
    resource_group_name=rg.name,
    location=LOCATION,
    scope={"subscription_ids": ["/subscriptions/00000000-0000-0000-0000-000000000000"]},
    scope_accesses=["SecurityAdmin"],
)
group = azure.network.NetworkManagerNetworkGroup("group", name="hub", network_manager_id=nm.id)
azure.network.NetworkManagerStaticMember(
    "member", name="hub", network_group_id=group.id, target_virtual_network_id=vnet.id
)
sac = azure.network.NetworkManagerSecurityAdminConfiguration("sac", name="sac", network_manager_id=nm.id)
coll = azure.network.NetworkManagerAdminRuleCollection(
    "coll", name="coll", security_admin_configuration_id=sac.id, network_group_ids=[group.id]
)
azure.network.NetworkManagerAdminRule(
    "allow-kms",
    name="allow-kms",
    admin_rule_collection_id=coll.id,
    action="Allow",
    direction="Outbound",
    priority=10,
    protocol="Tcp",
    destination_port_ranges=["1688"],
    destinations=[{"address_prefix": "*", "address_prefix_type": "IPPrefix"}],
    sources=[{"address_prefix": "*", "address_prefix_type": "IPPrefix"}],
)
azure.network.NetworkManagerDeployment(
    "deploy",
    network_manager_id=nm.id,
    location=LOCATION,
    scope_access="SecurityAdmin",
    configuration_ids=[sac.id],
)

# A static site-to-site VPN to a private on-premises range: its gateway routes never carry KMS traffic.
gw_subnet = azure.network.Subnet(
    "GatewaySubnet",
    name="GatewaySubnet",
    resource_group_name=rg.name,
    virtual_network_name=vnet.name,
    address_prefixes=["10.0.255.0/27"],
)
gw_ip = azure.network.PublicIp(
    "gw-ip",
    name="gw-ip",
    resource_group_name=rg.name,
    location=LOCATION,
    allocation_method="Static",
    sku="Standard",
)
gateway = azure.network.VirtualNetworkGateway(
    "vpn",
    name="vpn",
    resource_group_name=rg.name,
    location=LOCATION,
    type="Vpn",
    vpn_type="RouteBased",
    sku="VpnGw1",
    bgp_enabled=False,
    ip_configurations=[{"name": "ipc", "subnet_id": gw_subnet.id, "public_ip_address_id": gw_ip.id}],
)
onprem = azure.network.LocalNetworkGateway(
    "onprem",
    name="onprem",
    resource_group_name=rg.name,
    location=LOCATION,
    gateway_address="198.51.100.1",
    address_spaces=["192.168.0.0/16"],
)
azure.network.VirtualNetworkGatewayConnection(
    "to-onprem",
    name="to-onprem",
    resource_group_name=rg.name,
    location=LOCATION,
    type="IPsec",
    virtual_network_gateway_id=gateway.id,
    local_network_gateway_id=onprem.id,
    shared_key="not-a-secret",
)
