"""Spokes built by a ComponentResource, forced-tunnelled to on-premises through inline routes.

``spoke-app`` and ``spoke-web`` only need the KMS routes, which ``kms-route-autofix`` adds during
the preview; ``spoke-data`` also has an NSG rule denying outbound TCP 1688, which no remediation
touches; ``spoke-ops`` resolves names through a custom DNS server nobody vouched for (unknown).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

config = pulumi.Config()


class Spoke(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        cidr: str,
        *,
        rg: azure.resources.ResourceGroup,
        deny_kms: bool = False,
        dns_servers: list[str] | None = None,
    ) -> None:
        super().__init__("spokes:index:Spoke", name)
        opts = pulumi.ResourceOptions(parent=self)
        rules = []
        if deny_kms:
            rules.append(
                {
                    "name": "deny-kms",
                    "priority": 200,
                    "direction": "Outbound",
                    "access": "Deny",
                    "protocol": "Tcp",
                    "source_address_prefix": "*",
                    "source_port_range": "*",
                    "destination_address_prefix": "Internet",
                    "destination_port_range": "1688",
                }
            )
        nsg = azure.network.NetworkSecurityGroup(
            f"{name}-nsg", resource_group_name=rg.name, security_rules=rules, opts=opts
        )
        rt = azure.network.RouteTable(
            f"{name}-rt",
            resource_group_name=rg.name,
            routes=[
                {
                    "name": "default-to-onprem",
                    "address_prefix": "0.0.0.0/0",
                    "next_hop_type": "VirtualNetworkGateway",
                }
            ],
            opts=opts,
        )
        self.vnet = azure.network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=rg.name,
            address_space={"address_prefixes": [cidr]},
            dhcp_options={"dns_servers": dns_servers} if dns_servers else None,
            subnets=[
                {
                    "name": "workload",
                    "address_prefix": cidr.replace("/16", "/24"),
                    "route_table": {"id": rt.id},
                    "network_security_group": {"id": nsg.id},
                }
            ],
            opts=opts,
        )
        self.register_outputs({"vnet": self.vnet.id})


rg = azure.resources.ResourceGroup("rg", resource_group_name="rg-spokes")
Spoke("spoke-app", "10.1.0.0/16", rg=rg)
Spoke("spoke-data", "10.2.0.0/16", rg=rg, deny_kms=True)
Spoke("spoke-web", "10.3.0.0/16", rg=rg)
Spoke("spoke-ops", "10.4.0.0/16", rg=rg, dns_servers=["10.4.0.10"])
