"""Programs on the classic ``azure`` provider (pulumi-azure) through ``kmsguard preview --engine mocks``.

Each program under ``tests/programs/classic_*`` mirrors a semantics scenario the classic provider can
express; the tests pin, per program and stack, the exit code, every subnet's verdict, every fix with
its printed Pulumi code (pulumi-azure code where the decisive resource is classic, azure-native code
where it is azure-native), every violation with its full message, and every route the autofix added.
The stand-in runs the programs with ``PULUMI_PYTHON_CMD`` (tests/conftest.py), whose interpreter has
``pulumi_azure`` (a test extra). The real engine runs them on kmsguard's offline classic provider
(``pulumi-resource-azure``) with the same report; tests/realengine/test_programs.py compares all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from cli.support import REPO, assert_no_traceback, kmsguard

from kmsguard.engine.pulumi_cli.install import find_pulumi

PROGRAMS = REPO / "tests" / "programs"

Fix = tuple[str, str, str, str]  # subnet, kind, target, code
Violation = tuple[str, str, str | None, str]  # policy, level, resource name, message
Added = tuple[str, str, list[tuple[str, str, str]]]  # policy, route table, [(name, prefix, next hop)]


@dataclass(frozen=True)
class Expected:
    exit_code: int
    verdicts: dict[str, str]
    fixes: list[Fix]
    violations: list[Violation]
    remediations: list[Added]


CASES: dict[tuple[str, str], Expected] = {
    ("forced_tunnel", "dev"): Expected(
        exit_code=1,
        verdicts={
            "GatewaySubnet": "excluded",
            "snet-conflict": "blocked",
            "snet-full": "blocked",
            "snet-inline": "reachable",
            "snet-routes": "reachable",
            "snet-site": "blocked",
            "snet-with": "reachable",
        },
        fixes=[
            (
                "snet-conflict",
                "change-route",
                "rt-conflict",
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-onprem", address_prefix="20.118.99.224/32", '
                'next_hop_type="Internet")  # in place of route kms-onprem in routes=[...] of route table '
                "rt-conflict",
            ),
            (
                "snet-full",
                "add-routes",
                "rt-full",
                'routes=[..., pulumi_azure.network.RouteTableRouteArgs(name="kms-20-118-99-224", '
                'address_prefix="20.118.99.224/32", next_hop_type="Internet"), '
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-23-102-135-246", '
                'address_prefix="23.102.135.246/32", next_hop_type="Internet"), '
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-40-83-235-53", '
                'address_prefix="40.83.235.53/32", next_hop_type="Internet")]  # on route table rt-full',
            ),
            (
                "snet-site",
                "add-routes",
                "snet-site",
                'kms_routes = pulumi_azure.network.RouteTable("snet-site-kms-routes", '
                "resource_group_name=rg.name, location=vnet.location, "
                'routes=[pulumi_azure.network.RouteTableRouteArgs(name="kms-20-118-99-224", '
                'address_prefix="20.118.99.224/32", next_hop_type="Internet"), '
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-23-102-135-246", '
                'address_prefix="23.102.135.246/32", next_hop_type="Internet"), '
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-40-83-235-53", '
                'address_prefix="40.83.235.53/32", next_hop_type="Internet")]); '
                'pulumi_azure.network.SubnetRouteTableAssociation("snet-site-kms-routes", subnet_id=subnet.id, '
                "route_table_id=kms_routes.id)  # subnet, rg, vnet: Subnet snet-site, its resource group and "
                "virtual network",
            ),
        ],
        violations=[
            (
                "kms-route-autofix",
                "mandatory",
                "rt-conflict",
                "route table rt-conflict: a user /32 route sends KMS IP 20.118.99.224 to another next hop; "
                "kmsguard never rewrites user routes: change its nextHopType to Internet.\n"
                "Docs: docs/findings.md#kms-route-conflict (KMS-ROUTE-CONFLICT)",
            ),
            (
                "kms-route-autofix",
                "mandatory",
                "rt-full",
                "route table rt-full: the KMS routes cannot be added without exceeding the 400-route limit "
                "(docs/rules.md#route-limits); KMS traffic still goes 20.118.99.224 → route default-onprem "
                "(0.0.0.0/0 → VirtualNetworkGateway); 40.83.235.53 → route default-onprem (0.0.0.0/0 → "
                "VirtualNetworkGateway); 23.102.135.246 → route default-onprem (0.0.0.0/0 → "
                "VirtualNetworkGateway). Consolidate routes, or allow TCP 1688 to the KMS IPs on the appliance.\n"
                "Docs: docs/findings.md#kms-route-limit (KMS-ROUTE-LIMIT)",
            ),
            (
                "kms-reachability",
                "mandatory",
                "snet-conflict",
                "Subnet snet-conflict (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
                "blocked to 20.118.99.224; VMs will fail with 0xC004F074 (no Key Management Service could be "
                "contacted).\n"
                "Blocked by:\n"
                "- route table rt-conflict route kms-onprem: 20.118.99.224/32 → VirtualNetworkGateway (selected "
                "for 20.118.99.224): traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP "
                "(docs/rules.md#azure-public-source)\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. route table rt-conflict: change route kms-onprem (20.118.99.224/32) to nextHopType Internet\n"
                '   Pulumi: pulumi_azure.network.RouteTableRouteArgs(name="kms-onprem", '
                'address_prefix="20.118.99.224/32", next_hop_type="Internet")  # in place of route kms-onprem in '
                "routes=[...] of route table rt-conflict\n"
                "Docs: docs/findings.md#kms-route-forced-tunnel (KMS-ROUTE-FORCED-TUNNEL)",
            ),
            (
                "kms-reachability",
                "mandatory",
                "snet-full",
                "Subnet snet-full (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked "
                "to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key "
                "Management Service could be contacted).\n"
                "Blocked by:\n"
                "- route table rt-full route default-onprem: 0.0.0.0/0 → VirtualNetworkGateway (selected for "
                "20.118.99.224): traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP "
                "(docs/rules.md#azure-public-source)\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. route table rt-full: add 20.118.99.224/32 → Internet, 23.102.135.246/32 → Internet, "
                "40.83.235.53/32 → Internet (one /32 route per KMS IP, docs/rules.md#kms-routes)\n"
                '   Pulumi: routes=[..., pulumi_azure.network.RouteTableRouteArgs(name="kms-20-118-99-224", '
                'address_prefix="20.118.99.224/32", next_hop_type="Internet"), '
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-23-102-135-246", '
                'address_prefix="23.102.135.246/32", next_hop_type="Internet"), '
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-40-83-235-53", '
                'address_prefix="40.83.235.53/32", next_hop_type="Internet")]  # on route table rt-full\n'
                "Docs: docs/findings.md#kms-route-forced-tunnel (KMS-ROUTE-FORCED-TUNNEL)",
            ),
            (
                "kms-reachability",
                "mandatory",
                "snet-site",
                "Subnet snet-site (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked "
                "to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key "
                "Management Service could be contacted).\n"
                "Blocked by:\n"
                "- VPN gateway vpn Default Site (forced tunneling): 0.0.0.0/0 → VirtualNetworkGateway (selected "
                "for 20.118.99.224): traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP "
                "(docs/rules.md#azure-public-source)\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. subnet snet-site: associate a route table with 20.118.99.224/32 → Internet, "
                "23.102.135.246/32 → Internet, 40.83.235.53/32 → Internet (one /32 route per KMS IP, "
                "docs/rules.md#kms-routes)\n"
                '   Pulumi: kms_routes = pulumi_azure.network.RouteTable("snet-site-kms-routes", '
                "resource_group_name=rg.name, location=vnet.location, "
                'routes=[pulumi_azure.network.RouteTableRouteArgs(name="kms-20-118-99-224", '
                'address_prefix="20.118.99.224/32", next_hop_type="Internet"), '
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-23-102-135-246", '
                'address_prefix="23.102.135.246/32", next_hop_type="Internet"), '
                'pulumi_azure.network.RouteTableRouteArgs(name="kms-40-83-235-53", '
                'address_prefix="40.83.235.53/32", next_hop_type="Internet")]); '
                'pulumi_azure.network.SubnetRouteTableAssociation("snet-site-kms-routes", subnet_id=subnet.id, '
                "route_table_id=kms_routes.id)  # subnet, rg, vnet: Subnet snet-site, its resource group and "
                "virtual network\n"
                "Docs: docs/findings.md#kms-route-forced-tunnel (KMS-ROUTE-FORCED-TUNNEL)",
            ),
        ],
        remediations=[
            (
                "kms-route-autofix",
                "rt-conflict",
                [
                    ("kms-40-83-235-53", "40.83.235.53/32", "Internet"),
                    ("kms-23-102-135-246", "23.102.135.246/32", "Internet"),
                ],
            ),
            (
                "kms-route-autofix",
                "rt-inline",
                [
                    ("kms-20-118-99-224", "20.118.99.224/32", "Internet"),
                    ("kms-40-83-235-53", "40.83.235.53/32", "Internet"),
                    ("kms-23-102-135-246", "23.102.135.246/32", "Internet"),
                ],
            ),
        ],
    ),
    ("nsg", "dev"): Expected(
        exit_code=1,
        verdicts={"snet-custom": "blocked", "snet-platform": "reachable", "snet-standalone": "blocked"},
        fixes=[
            (
                "snet-custom",
                "add-nsg-rule",
                "nsg-inline",
                "security_rules=[..., "
                'pulumi_azure.network.NetworkSecurityGroupSecurityRuleArgs(name="allow-kms-activation", '
                'priority=3999, direction="Outbound", access="Allow", protocol="Tcp", source_address_prefix="*", '
                'source_port_range="*", destination_address_prefixes=["20.118.99.224/32", "23.102.135.246/32", '
                '"40.83.235.53/32"], destination_port_range="1688")]  # on NSG nsg-inline',
            ),
            (
                "snet-standalone",
                "add-nsg-rule",
                "nsg-rules",
                'pulumi_azure.network.NetworkSecurityRule("nsg-rules-allow-kms-activation", '
                'resource_group_name=rg.name, network_security_group_name=nsg.name, name="allow-kms-activation", '
                'priority=3999, direction="Outbound", access="Allow", protocol="Tcp", source_address_prefix="*", '
                'source_port_range="*", destination_address_prefixes=["20.118.99.224/32", "23.102.135.246/32", '
                '"40.83.235.53/32"], destination_port_range="1688")  # nsg, rg: NSG nsg-rules and its resource '
                "group",
            ),
        ],
        violations=[
            (
                "kms-reachability",
                "mandatory",
                "snet-custom",
                "Subnet snet-custom (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked "
                "to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key "
                "Management Service could be contacted).\n"
                "Blocked by:\n"
                "- NSG nsg-inline rule 4000 deny-internet: denied\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. NSG nsg-inline: add outbound rule allow-kms-activation, priority 3999: Allow TCP 1688 to "
                "20.118.99.224/32, 23.102.135.246/32, 40.83.235.53/32\n"
                "   Pulumi: security_rules=[..., "
                'pulumi_azure.network.NetworkSecurityGroupSecurityRuleArgs(name="allow-kms-activation", '
                'priority=3999, direction="Outbound", access="Allow", protocol="Tcp", source_address_prefix="*", '
                'source_port_range="*", destination_address_prefixes=["20.118.99.224/32", "23.102.135.246/32", '
                '"40.83.235.53/32"], destination_port_range="1688")]  # on NSG nsg-inline\n'
                "Docs: docs/findings.md#kms-nsg-deny (KMS-NSG-DENY)",
            ),
            (
                "kms-reachability",
                "mandatory",
                "snet-standalone",
                "Subnet snet-standalone (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
                "blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key "
                "Management Service could be contacted).\n"
                "Blocked by:\n"
                "- NSG nsg-rules rule 4000 deny-internet: denied\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. NSG nsg-rules: add outbound rule allow-kms-activation, priority 3999: Allow TCP 1688 to "
                "20.118.99.224/32, 23.102.135.246/32, 40.83.235.53/32\n"
                '   Pulumi: pulumi_azure.network.NetworkSecurityRule("nsg-rules-allow-kms-activation", '
                'resource_group_name=rg.name, network_security_group_name=nsg.name, name="allow-kms-activation", '
                'priority=3999, direction="Outbound", access="Allow", protocol="Tcp", source_address_prefix="*", '
                'source_port_range="*", destination_address_prefixes=["20.118.99.224/32", "23.102.135.246/32", '
                '"40.83.235.53/32"], destination_port_range="1688")  # nsg, rg: NSG nsg-rules and its resource '
                "group\n"
                "Docs: docs/findings.md#kms-nsg-deny (KMS-NSG-DENY)",
            ),
        ],
        remediations=[],
    ),
    # Classic firewall rule collections (standalone resources) on a firewall without policy; a
    # resolver ruleset for another domain and a deployed AVNM Allow rule change nothing.
    ("fw_rules", "dev"): Expected(
        exit_code=1,
        verdicts={"AzureFirewallSubnet": "excluded", "GatewaySubnet": "excluded", "snet-app": "blocked"},
        fixes=[
            (
                "snet-app",
                "add-firewall-rule",
                "fw",
                'pulumi_azure.network.FirewallNetworkRuleCollection("fw-kms-activation", azure_firewall_name=fw.name, '
                'resource_group_name=rg.name, name="kms-activation", priority=100, action="Allow", '
                'rules=[pulumi_azure.network.FirewallNetworkRuleCollectionRuleArgs(name="allow-kms", protocols=["TCP"], '
                'source_addresses=["10.0.1.0/24"], destination_addresses=["20.118.99.224", "23.102.135.246", '
                '"40.83.235.53"], destination_ports=["1688"])])  # fw, rg: Azure Firewall fw and its resource group',
            )
        ],
        violations=[
            (
                "kms-reachability",
                "mandatory",
                "snet-app",
                "Subnet snet-app (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked "
                "to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key "
                "Management Service could be contacted).\n"
                "Blocked by:\n"
                "- Azure Firewall fw: no network rule allows TCP 1688 to 20.118.99.224, so the default deny "
                "drops it (docs/rules.md#firewall-default-deny)\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. firewall fw: add a network rule collection kms-activation (Allow, priority 100) with rule "
                "allow-kms: TCP 1688 from 10.0.1.0/24 to 20.118.99.224, 23.102.135.246, 40.83.235.53\n"
                '   Pulumi: pulumi_azure.network.FirewallNetworkRuleCollection("fw-kms-activation", '
                'azure_firewall_name=fw.name, resource_group_name=rg.name, name="kms-activation", priority=100, '
                'action="Allow", rules=[pulumi_azure.network.FirewallNetworkRuleCollectionRuleArgs(name="allow-kms", '
                'protocols=["TCP"], source_addresses=["10.0.1.0/24"], destination_addresses=["20.118.99.224", '
                '"23.102.135.246", "40.83.235.53"], destination_ports=["1688"])])  # fw, rg: Azure Firewall fw and '
                "its resource group\n"
                "Docs: docs/findings.md#kms-firewall-no-rule (KMS-FIREWALL-NO-RULE)",
            )
        ],
        remediations=[],
    ),
    ("fw_rules", "allowed"): Expected(
        exit_code=0,
        verdicts={"AzureFirewallSubnet": "excluded", "GatewaySubnet": "excluded", "snet-app": "reachable"},
        fixes=[],
        violations=[],
        remediations=[],
    ),
    ("nat", "dev"): Expected(
        exit_code=1,
        verdicts={"snet-nat": "reachable", "snet-private": "blocked"},
        fixes=[
            (
                "snet-private",
                "add-nat-gateway",
                "snet-private",
                'kms_nat_ip = pulumi_azure.network.PublicIp("snet-private-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-private-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-private-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-private-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-private, its resource group and "
                "virtual network",
            )
        ],
        violations=[
            (
                "kms-reachability",
                "mandatory",
                "snet-private",
                "Subnet snet-private (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
                "blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key "
                "Management Service could be contacted).\n"
                "Blocked by:\n"
                "- subnet snet-private is private (defaultOutboundAccess: false) with no NAT gateway or public "
                "IP: Windows activation needs explicit outbound (docs/rules.md#explicit-outbound)\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. subnet snet-private: associate a NAT gateway with a public IP (explicit outbound; Windows "
                "activation needs it in a private subnet or behind a Standard load balancer, "
                "docs/rules.md#explicit-outbound)\n"
                '   Pulumi: kms_nat_ip = pulumi_azure.network.PublicIp("snet-private-nat-ip", '
                'resource_group_name=rg.name, location=vnet.location, sku="Standard", '
                'allocation_method="Static"); kms_nat = pulumi_azure.network.NatGateway("snet-private-nat", '
                'resource_group_name=rg.name, location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-private-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-private-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-private, its resource group and "
                "virtual network\n"
                "Docs: docs/findings.md#kms-no-outbound (KMS-NO-OUTBOUND)",
            )
        ],
        remediations=[],
    ),
    ("firewall", "dev"): Expected(
        exit_code=1,
        verdicts={"AzureFirewallSubnet": "excluded", "snet-app": "blocked"},
        fixes=[
            (
                "snet-app",
                "add-firewall-rule",
                "policy",
                'pulumi_azure.network.FirewallPolicyRuleCollectionGroup("policy-kms-activation", '
                'firewall_policy_id=policy.id, name="kms-activation", priority=100, '
                'network_rule_collections=[pulumi_azure.network.FirewallPolicyRuleCollectionGroupNetworkRuleCollectionArgs(name="kms-activation", '
                'priority=100, action="Allow", '
                'rules=[pulumi_azure.network.FirewallPolicyRuleCollectionGroupNetworkRuleCollectionRuleArgs(name="allow-kms", '
                'protocols=["TCP"], source_addresses=["10.0.1.0/24"], destination_addresses=["20.118.99.224", '
                '"23.102.135.246", "40.83.235.53"], destination_ports=["1688"])])])  # policy: firewall policy '
                "policy",
            )
        ],
        violations=[
            (
                "kms-reachability",
                "mandatory",
                "snet-app",
                "Subnet snet-app (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked to "
                "20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key Management "
                "Service could be contacted).\n"
                "Blocked by:\n"
                "- Azure Firewall fw: no network rule allows TCP 1688 to 20.118.99.224, so the default deny "
                "drops it (docs/rules.md#firewall-default-deny)\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. firewall policy policy: add rule collection group kms-activation (priority 100) with a "
                "network rule collection (Allow) and rule allow-kms: TCP 1688 from 10.0.1.0/24 to 20.118.99.224, "
                "23.102.135.246, 40.83.235.53\n"
                '   Pulumi: pulumi_azure.network.FirewallPolicyRuleCollectionGroup("policy-kms-activation", '
                'firewall_policy_id=policy.id, name="kms-activation", priority=100, '
                'network_rule_collections=[pulumi_azure.network.FirewallPolicyRuleCollectionGroupNetworkRuleCollectionArgs(name="kms-activation", '
                'priority=100, action="Allow", '
                'rules=[pulumi_azure.network.FirewallPolicyRuleCollectionGroupNetworkRuleCollectionRuleArgs(name="allow-kms", '
                'protocols=["TCP"], source_addresses=["10.0.1.0/24"], destination_addresses=["20.118.99.224", '
                '"23.102.135.246", "40.83.235.53"], destination_ports=["1688"])])])  # policy: firewall policy '
                "policy\n"
                "Docs: docs/findings.md#kms-firewall-no-rule (KMS-FIREWALL-NO-RULE)",
            )
        ],
        remediations=[],
    ),
    ("firewall", "allowed"): Expected(
        exit_code=0,
        verdicts={"AzureFirewallSubnet": "excluded", "snet-app": "reachable"},
        fixes=[],
        violations=[],
        remediations=[],
    ),
    ("private_dns", "dev"): Expected(
        exit_code=1,
        verdicts={"snet-app": "blocked"},
        fixes=[
            (
                "snet-app",
                "add-dns-records",
                "zone",
                'pulumi_azure.privatedns.ARecord("zone-azkms", resource_group_name=rg.name, zone_name=zone.name, '
                'name="azkms", ttl=3600, records=["20.118.99.224", "40.83.235.53"])  # zone, rg: private DNS '
                "zone core.windows.net and its resource group",
            )
        ],
        violations=[
            (
                "kms-reachability",
                "mandatory",
                "snet-app",
                "Subnet snet-app (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked to "
                "20.118.99.224, 40.83.235.53; VMs will fail with 0xC004F074 (no KMS could be contacted) or "
                "0x800705B4 (timeout).\n"
                "Blocked by:\n"
                "- private DNS zone core.windows.net linked to VNet vnet has no record azkms: "
                "azkms.core.windows.net is NXDOMAIN (no fallback for non-privatelink zones, "
                "docs/rules.md#private-dns-zones)\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. private DNS zone core.windows.net: add A record azkms → 20.118.99.224, 40.83.235.53 (or "
                "unlink the zone from VNet vnet)\n"
                '   Pulumi: pulumi_azure.privatedns.ARecord("zone-azkms", resource_group_name=rg.name, '
                'zone_name=zone.name, name="azkms", ttl=3600, records=["20.118.99.224", "40.83.235.53"])  # '
                "zone, rg: private DNS zone core.windows.net and its resource group\n"
                "Docs: docs/findings.md#kms-dns-shadowed (KMS-DNS-SHADOWED)",
            )
        ],
        remediations=[],
    ),
    ("mixed", "dev"): Expected(
        exit_code=1,
        verdicts={
            "fw-subnet": "excluded",
            "snet-app": "reachable",
            "snet-legacy": "blocked",
            "snet-tunnel": "blocked",
        },
        fixes=[
            (
                "snet-legacy",
                "change-route",
                "rt-legacy",
                'next_hop_type="Internet", next_hop_in_ip_address=None  # on Route kms-onprem',
            ),
            (
                "snet-tunnel",
                "add-nsg-rule",
                "nsg-deny",
                'security_rules=[..., azure_native.network.SecurityRuleArgs(name="allow-kms-activation", '
                'priority=3999, direction="Outbound", access="Allow", protocol="Tcp", source_address_prefix="*", '
                'source_port_range="*", destination_address_prefixes=["20.118.99.224/32", "23.102.135.246/32", '
                '"40.83.235.53/32"], destination_port_range="1688")]  # on NSG nsg-deny',
            ),
        ],
        violations=[
            (
                "kms-reachability",
                "mandatory",
                "snet-legacy",
                "Subnet snet-legacy (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked "
                "to 20.118.99.224; VMs will fail with 0xC004F074 (no Key Management Service could be "
                "contacted).\n"
                "Blocked by:\n"
                "- route table rt-legacy route kms-onprem: 20.118.99.224/32 → VirtualNetworkGateway (selected "
                "for 20.118.99.224): traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP "
                "(docs/rules.md#azure-public-source)\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. route table rt-legacy: change route kms-onprem (20.118.99.224/32) to nextHopType Internet\n"
                '   Pulumi: next_hop_type="Internet", next_hop_in_ip_address=None  # on Route kms-onprem\n'
                "Docs: docs/findings.md#kms-route-forced-tunnel (KMS-ROUTE-FORCED-TUNNEL)",
            ),
            (
                "kms-reachability",
                "mandatory",
                "snet-tunnel",
                "Subnet snet-tunnel (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked "
                "to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key "
                "Management Service could be contacted).\n"
                "Blocked by:\n"
                "- NSG nsg-deny rule 4000 deny-internet: denied\n"
                "Fix (checked: these changes make every KMS endpoint reachable):\n"
                "1. NSG nsg-deny: add outbound rule allow-kms-activation, priority 3999: Allow TCP 1688 to "
                "20.118.99.224/32, 23.102.135.246/32, 40.83.235.53/32\n"
                "   Pulumi: security_rules=[..., "
                'azure_native.network.SecurityRuleArgs(name="allow-kms-activation", priority=3999, '
                'direction="Outbound", access="Allow", protocol="Tcp", source_address_prefix="*", '
                'source_port_range="*", destination_address_prefixes=["20.118.99.224/32", "23.102.135.246/32", '
                '"40.83.235.53/32"], destination_port_range="1688")]  # on NSG nsg-deny\n'
                "Docs: docs/findings.md#kms-nsg-deny (KMS-NSG-DENY)",
            ),
        ],
        remediations=[
            (
                "kms-route-autofix",
                "rt-native",
                [
                    ("kms-20-118-99-224", "20.118.99.224/32", "Internet"),
                    ("kms-40-83-235-53", "40.83.235.53/32", "Internet"),
                    ("kms-23-102-135-246", "23.102.135.246/32", "Internet"),
                ],
            )
        ],
    ),
    # Classic scale sets behind a Standard public load balancer (outbound rule in stack outbound)
    # and a Flexible (orchestrated) scale set; the load-balancing rule and probe are inbound only.
    ("scale_set", "dev"): Expected(
        exit_code=1,
        verdicts={"snet-app": "blocked", "snet-flex": "blocked", "snet-web": "blocked"},
        fixes=[
            (
                "snet-app",
                "add-nat-gateway",
                "snet-app",
                'kms_nat_ip = pulumi_azure.network.PublicIp("snet-app-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-app-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-app-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-app-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-app, its resource group and "
                "virtual network",
            ),
            (
                "snet-flex",
                "add-nat-gateway",
                "snet-flex",
                'kms_nat_ip = pulumi_azure.network.PublicIp("snet-flex-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-flex-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-flex-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-flex-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-flex, its resource group and "
                "virtual network",
            ),
            (
                "snet-web",
                "add-nat-gateway",
                "snet-web",
                'kms_nat_ip = pulumi_azure.network.PublicIp("snet-web-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-web-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-web-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-web-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-web, its resource group and "
                "virtual network",
            ),
        ],
        violations=[
            (
                "kms-reachability",
                "mandatory",
                "snet-app",
                "Subnet snet-app (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
                "blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no "
                "Key Management Service could be contacted).\nBlocked by:\n- subnet snet-app is private "
                "(defaultOutboundAccess: false) with no NAT gateway or public IP: Windows activation needs "
                "explicit outbound (docs/rules.md#explicit-outbound)\n- Internet next hop: the VM is in "
                "Standard public load balancer lb without an outbound rule, so the VM has no outbound access "
                "(docs/rules.md#explicit-outbound)\nFix (checked: these changes make every KMS endpoint "
                "reachable):\n1. subnet snet-app: associate a NAT gateway with a public IP (explicit "
                "outbound; Windows activation needs it in a private subnet or behind a Standard load "
                "balancer, docs/rules.md#explicit-outbound)\n   Pulumi: kms_nat_ip = "
                'pulumi_azure.network.PublicIp("snet-app-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-app-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-app-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-app-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-app, its resource group and "
                "virtual network\nDocs: docs/findings.md#kms-no-outbound (KMS-NO-OUTBOUND)",
            ),
            (
                "kms-reachability",
                "mandatory",
                "snet-flex",
                "Subnet snet-flex (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
                "blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no "
                "Key Management Service could be contacted).\nBlocked by:\n- Flexible-orchestration scale sets "
                "never get default outbound access (docs/rules.md#explicit-outbound)\nFix (checked: these "
                "changes make every KMS endpoint reachable):\n1. subnet snet-flex: associate a NAT gateway "
                "with a public IP (explicit outbound; Windows activation needs it in a private subnet or "
                "behind a Standard load balancer, docs/rules.md#explicit-outbound)\n   Pulumi: kms_nat_ip = "
                'pulumi_azure.network.PublicIp("snet-flex-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-flex-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-flex-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-flex-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-flex, its resource group and "
                "virtual network\nDocs: docs/findings.md#kms-no-outbound (KMS-NO-OUTBOUND)",
            ),
            (
                "kms-reachability",
                "mandatory",
                "snet-web",
                "Subnet snet-web (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
                "blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no "
                "Key Management Service could be contacted).\nBlocked by:\n- Internet next hop: the VM is in "
                "Standard public load balancer lb without an outbound rule, so the VM has no outbound access "
                "(docs/rules.md#explicit-outbound)\nFix (checked: these changes make every KMS endpoint "
                "reachable):\n1. subnet snet-web: associate a NAT gateway with a public IP (explicit "
                "outbound; Windows activation needs it in a private subnet or behind a Standard load "
                "balancer, docs/rules.md#explicit-outbound)\n   Pulumi: kms_nat_ip = "
                'pulumi_azure.network.PublicIp("snet-web-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-web-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-web-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-web-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-web, its resource group and "
                "virtual network\nDocs: docs/findings.md#kms-no-outbound (KMS-NO-OUTBOUND)",
            ),
        ],
        remediations=[],
    ),
    ("scale_set", "outbound"): Expected(
        exit_code=1,
        verdicts={"snet-app": "blocked", "snet-flex": "blocked", "snet-web": "reachable"},
        fixes=[
            (
                "snet-app",
                "add-nat-gateway",
                "snet-app",
                'kms_nat_ip = pulumi_azure.network.PublicIp("snet-app-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-app-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-app-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-app-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-app, its resource group and "
                "virtual network",
            ),
            (
                "snet-flex",
                "add-nat-gateway",
                "snet-flex",
                'kms_nat_ip = pulumi_azure.network.PublicIp("snet-flex-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-flex-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-flex-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-flex-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-flex, its resource group and "
                "virtual network",
            ),
        ],
        violations=[
            (
                "kms-reachability",
                "mandatory",
                "snet-app",
                "Subnet snet-app (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
                "blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no "
                "Key Management Service could be contacted).\nBlocked by:\n- subnet snet-app is private "
                "(defaultOutboundAccess: false) with no NAT gateway or public IP: Windows activation needs "
                "explicit outbound (docs/rules.md#explicit-outbound)\nFix (checked: these changes make every "
                "KMS endpoint reachable):\n1. subnet snet-app: associate a NAT gateway with a public IP "
                "(explicit outbound; Windows activation needs it in a private subnet or behind a Standard "
                "load balancer, docs/rules.md#explicit-outbound)\n   Pulumi: kms_nat_ip = "
                'pulumi_azure.network.PublicIp("snet-app-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-app-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-app-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-app-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-app, its resource group and "
                "virtual network\nDocs: docs/findings.md#kms-no-outbound (KMS-NO-OUTBOUND)",
            ),
            (
                "kms-reachability",
                "mandatory",
                "snet-flex",
                "Subnet snet-flex (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
                "blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no "
                "Key Management Service could be contacted).\nBlocked by:\n- Flexible-orchestration scale sets "
                "never get default outbound access (docs/rules.md#explicit-outbound)\nFix (checked: these "
                "changes make every KMS endpoint reachable):\n1. subnet snet-flex: associate a NAT gateway "
                "with a public IP (explicit outbound; Windows activation needs it in a private subnet or "
                "behind a Standard load balancer, docs/rules.md#explicit-outbound)\n   Pulumi: kms_nat_ip = "
                'pulumi_azure.network.PublicIp("snet-flex-nat-ip", resource_group_name=rg.name, '
                'location=vnet.location, sku="Standard", allocation_method="Static"); kms_nat = '
                'pulumi_azure.network.NatGateway("snet-flex-nat", resource_group_name=rg.name, '
                'location=vnet.location, sku_name="Standard"); '
                'pulumi_azure.network.NatGatewayPublicIpAssociation("snet-flex-nat-ip", '
                "nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
                'pulumi_azure.network.SubnetNatGatewayAssociation("snet-flex-nat", subnet_id=subnet.id, '
                "nat_gateway_id=kms_nat.id)  # subnet, rg, vnet: Subnet snet-flex, its resource group and "
                "virtual network\nDocs: docs/findings.md#kms-no-outbound (KMS-NO-OUTBOUND)",
            ),
        ],
        remediations=[],
    ),
    ("auto_routes", "dev"): Expected(
        exit_code=0,
        verdicts={"snet-inline": "reachable", "snet-routes": "reachable"},
        fixes=[],
        violations=[],
        remediations=[],
    ),
}


def _preview(program: str, stack: str) -> tuple[int, dict[str, Any]]:
    proc = kmsguard(
        "preview",
        str(PROGRAMS / f"classic_{program}"),
        "--stack",
        stack,
        "--engine",
        "mocks",
        "--format",
        "json",
    )
    assert_no_traceback(proc)
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize(("program", "stack"), list(CASES), ids=[f"{p}-{s}" for p, s in CASES])
def test_classic_program(program: str, stack: str) -> None:
    expected = CASES[(program, stack)]
    code, report = _preview(program, stack)
    assert report["engine"] == {"name": "mocks"}
    assert {s["name"]: s["verdict"] for s in report["subnets"]} == expected.verdicts
    assert [
        (s["name"], f["kind"], f["target"], f["code"]) for s in report["subnets"] for f in s["fixes"]
    ] == (expected.fixes)
    assert [
        (v["policy"], v["level"], v["urn"].split("::")[-1] if v["urn"] else None, v["message"])
        for v in report["violations"]
    ] == expected.violations
    assert [
        (
            r["policy"],
            r["urn"].split("::")[-1],
            [(x["name"], x["addressPrefix"], x["nextHopType"]) for x in r["added"]],
        )
        for r in report["remediations"]
    ] == expected.remediations
    assert code == expected.exit_code


def test_printed_classic_code_runs_under_the_pulumi_azure_sdk() -> None:
    """Every fix printed in pulumi-azure terms names classes and keywords the installed SDK has."""
    codes = [f[3] for case in CASES.values() for f in case.fixes if "azure_native" not in f[3]]
    assert len(codes) == 15
    done = subprocess.run(
        [sys.executable, str(REPO / "tests" / "collect" / "classic_code_check.py")],
        input=json.dumps(codes),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert json.loads(done.stdout) == []


def test_real_engine_runs_classic_programs_on_the_offline_classic_provider() -> None:
    """The sandbox downloads nothing: kmsguard installs its offline ``pulumi-resource-azure``, and the
    real engine's report is the stand-in's (apart from the engine field)."""
    cli = find_pulumi()
    if cli is None:
        pytest.skip("no Pulumi CLI (make engine)")
    program = PROGRAMS / "classic_nat"
    proc = kmsguard("preview", str(program), "--stack", "dev", "--engine", "pulumi", "--format", "json")
    assert_no_traceback(proc)
    expected = CASES[("nat", "dev")]
    assert proc.returncode == expected.exit_code, proc.stderr
    real = json.loads(proc.stdout)
    assert real.pop("engine") == {"name": "pulumi", "version": cli.version}
    assert {s["name"]: s["verdict"] for s in real["subnets"]} == expected.verdicts
    _, mocks = _preview("nat", "dev")
    mocks.pop("engine")
    assert real == mocks
