"""A VNet whose every setting comes from stack config."""

import ipaddress

import pulumi
import pulumi_azure_native as azure

config = pulumi.Config()
prefix = ipaddress.ip_network(config.require("prefix"))
count = config.require_int("subnetCount")
subnets = list(prefix.subnets(new_prefix=24))[:count]

vnet = azure.network.VirtualNetwork(
    "vnet",
    resource_group_name="rg-config",
    address_space={"address_prefixes": [str(prefix)]},
    dhcp_options={"dns_servers": config.require_object("dnsServers")},
    subnets=[{"name": f"s{i}", "address_prefix": str(net)} for i, net in enumerate(subnets)],
    tags={**config.require_object("tags"), "owner": config.require("owner")},
)
gateway_key = config.require_secret("sharedKey")
connection = azure.network.LocalNetworkGateway(
    "onprem",
    resource_group_name="rg-config",
    gateway_ip_address="203.0.113.10",
    local_network_address_space={"address_prefixes": ["192.168.0.0/16"]},
    tags={"key": gateway_key},
)
