"""The semantics of the reachability analysis against docs/azure-kms-semantics.md.

* ``test_scenario``: every scenario of §11 (and every variation its table names), with the exact
  verdict of each KMS IP, the subnet verdict, the decisive step and, when blocked, the exact fixes.
* ``test_unconfirmed_*``: the §12 open questions the analysis meets yield ``unknown`` (or the
  documented configurable behaviour), never a silent pass.
* Scope rules: special-purpose subnets, ``excludeSubnets``, ``scope``, cloud mapping, unattached
  route tables.

The network of every scenario is the §11 default (``network()``: subnet S 10.0.1.0/24 of VNet V
10.0.0.0/16 in eastus, Azure DNS, default outbound) plus the overrides the scenario names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from kmsguard.analysis import EndpointResult, Finding, Outcome, Step, SubnetResult, Verdict
from kmsguard.analysis.trace import RouteRef, RuleKind, RuleRef, Say, Sentence, ZoneRef

from .network import (
    CHINA_KMS,
    DENY_INTERNET,
    GERMANY_KMS,
    PUBLIC_KMS,
    USGOV_KMS,
    B,
    Data,
    Decided,
    R,
    U,
    analyze_data,
    decided,
    decision,
    decisive_step,
    fixes,
    host_routes,
    network,
    nsg,
    nsg_rule,
    route,
    route_table,
    subnet_result,
    verdicts,
    with_vnet,
)

IP1, IP2, IP3 = PUBLIC_KMS  # 20.118.99.224, 40.83.235.53 (azkms) and 23.102.135.246 (kms, legacy)
NVA = "10.0.100.4"
ONPREM_NVA = {"egressAppliances": [{"ip": NVA, "egress": "on-premises"}]}
VPN_GW = {"name": "vgw", "vnet": "V", "gatewayType": "Vpn", "vpnType": "RouteBased"}
DEFAULT_SITE_GW = {**VPN_GW, "defaultSite": "onprem"}
ER_GW = {"name": "er", "vnet": "V", "gatewayType": "ExpressRoute"}


def all_ips(verdict: Verdict, ips: tuple[str, ...] = PUBLIC_KMS) -> dict[str, Verdict]:
    return dict.fromkeys(ips, verdict)


# --- routes and reasons the analysis names --------------------------------------------------------


FORCED_TUNNEL_UDR = RouteRef(
    "route table rt route default", "0.0.0.0/0", "VirtualNetworkGateway", name="default"
)
# §12 #1: why a user 0.0.0.0/0 → Internet route leaves the KMS platform rule in doubt.
USER_INTERNET_DEFAULT = (
    "route table rt route internet: 0.0.0.0/0 → Internet: whether a user 0.0.0.0/0 → Internet route turns the "
    "KMS platform rule off is not documented (docs/rules.md#nsg-platform-rule)"
)


def route_fix(table: str, ips: list[str]) -> tuple[str, str]:
    listing = ", ".join(f"{ip}/32 → Internet" for ip in ips)
    return (
        "add-routes",
        f"route table {table}: add {listing} (one /32 route per KMS IP, docs/rules.md#kms-routes)",
    )


def new_route_table_fix(subnet: str, ips: list[str]) -> tuple[str, str]:
    listing = ", ".join(f"{ip}/32 → Internet" for ip in ips)
    return (
        "add-routes",
        f"subnet {subnet}: associate a route table with {listing} (one /32 route per KMS IP, docs/rules.md#kms-routes)",
    )


# The fixes list KMS IPs in numeric order.
SORTED_PUBLIC = [IP1, IP3, IP2]
NAT_FIX = (
    "add-nat-gateway",
    "subnet V/S: associate a NAT gateway with a public IP (explicit outbound; Windows activation needs it "
    "in a private subnet or behind a Standard load balancer, docs/rules.md#explicit-outbound)",
)


def nsg_allow_fix(nsg_name: str, priority: int) -> tuple[str, str]:
    return (
        "add-nsg-rule",
        f"NSG {nsg_name}: add outbound rule allow-kms-activation, priority {priority}: Allow TCP 1688 to "
        "20.118.99.224/32, 23.102.135.246/32, 40.83.235.53/32",
    )


def firewall_rule_fix(policy: str, source: str = "10.0.1.0/24", priority: int = 100) -> tuple[str, str]:
    return (
        "add-firewall-rule",
        f"firewall policy {policy}: add rule collection group kms-activation (priority {priority}) with a network "
        f"rule collection (Allow) and rule allow-kms: TCP 1688 from {source} to 20.118.99.224, "
        "23.102.135.246, 40.83.235.53",
    )


# --- scenario networks ---------------------------------------------------------------------------


def forced_tunnel(extra_routes: list[dict[str, Any]], **props: Any) -> dict[str, Any]:
    """A UDR 0.0.0.0/0 → VirtualNetworkGateway (route-based VPN gateway in V) on table rt."""
    return {
        "routeTables": [
            route_table("rt", [route("default", "0.0.0.0/0", "VirtualNetworkGateway"), *extra_routes])
        ],
        "gateways": [VPN_GW],
        **props,
    }


def nva_default(extra_routes: list[dict[str, Any]]) -> dict[str, Any]:
    """A UDR 0.0.0.0/0 → VirtualAppliance 10.0.100.4 (third-party NVA) on table rt."""
    return {
        "routeTables": [
            route_table("rt", [route("default", "0.0.0.0/0", "VirtualAppliance", NVA), *extra_routes])
        ]
    }


def core_zone(
    vnet: str = "V", records: list[dict[str, Any]] | None = None, name: str = "core.windows.net"
) -> dict[str, Any]:
    return {"name": name, "links": [{"vnet": vnet}], "records": records or []}


def ruleset(*rules: tuple[str, str]) -> dict[str, Any]:
    return {
        "name": "rs",
        "vnets": ["V"],
        "rules": [{"name": n, "domainName": d, "targets": ["10.50.0.4"]} for n, d in rules],
    }


def admin_rule(access: str) -> dict[str, Any]:
    """AVNM security admin rule: outbound TCP 1688 to the three public KMS IPs, priority 10."""
    return {
        "name": "kms-admin",
        "vnets": ["V"],
        "priority": 10,
        "direction": "Outbound",
        "access": access,
        "protocol": "Tcp",
        "sources": [{"addressPrefix": "*", "addressPrefixType": "IPPrefix"}],
        "destinations": [{"addressPrefix": ip, "addressPrefixType": "IPPrefix"} for ip in PUBLIC_KMS],
        "sourcePortRanges": ["*"],
        "destinationPortRanges": ["1688"],
    }


NIC1 = {"name": "nic1", "subnet": "V/S", "privateIp": "10.0.1.4"}
KMS_NETWORK_RULE = {
    "name": "allow-kms",
    "ipProtocols": ["TCP"],
    "sourceAddresses": ["10.0.0.0/16"],
    "destinationAddresses": list(PUBLIC_KMS),
    "destinationPorts": ["1688"],
}
FQDN_NETWORK_RULE = {
    "name": "allow-kms",
    "ipProtocols": ["TCP"],
    "sourceAddresses": ["10.0.0.0/16"],
    "destinationFqdns": ["azkms.core.windows.net"],
    "destinationPorts": ["1688"],
}
APPLICATION_COLLECTION = {
    "name": "web",
    "priority": 100,
    "type": "application",
    "action": "Allow",
    "applicationRules": 1,
}


def network_collection(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": "kms", "priority": 100, "type": "network", "action": "Allow", "rules": [dict(rule)]}


def hub_spoke(collection: Mapping[str, Any], **policy_props: Any) -> Data:
    """#22: spoke S → UDR 0/0 → Azure Firewall 10.1.0.4 in hub (AZFW_VNet, one public IP, no
    management NIC), Firewall Policy fwp with rule collection group 200."""
    data = network(
        subnet={"routeTable": "rt"},
        vnet={"peerings": [{"name": "to-hub", "remoteVnet": "hub"}]},
        routeTables=[route_table("rt", [route("default", "0.0.0.0/0", "VirtualAppliance", "10.1.0.4")])],
        firewalls=[
            {
                "name": "fw",
                "vnet": "hub",
                "privateIp": "10.1.0.4",
                "publicIps": 1,
                "sku": "AZFW_VNet",
                "managementIpConfiguration": False,
                "policy": "fwp",
            }
        ],
        firewallPolicies=[
            {
                "name": "fwp",
                "ruleCollectionGroups": [
                    {"name": "rcg", "priority": 200, "ruleCollections": [dict(collection)]}
                ],
                **policy_props,
            }
        ],
    )
    return with_vnet(
        data,
        {
            "name": "hub",
            "location": "eastus",
            "addressSpace": ["10.1.0.0/16"],
            "subnets": [{"name": "AzureFirewallSubnet", "addressPrefix": "10.1.0.0/26"}],
            "peerings": [{"name": "to-spoke", "remoteVnet": "V"}],
        },
    )


def vwan(
    collection: Mapping[str, Any], *, internet_security: bool = True, hub: Mapping[str, Any] | None = None
) -> Data:
    """#23: spoke V connected to secured hub vhub whose routing intent sends Internet traffic to
    the hub firewall hubfw (Direct Access)."""
    return network(
        virtualHubs=[dict(hub or {"name": "vhub", "internetNextHop": "hubfw"})],
        hubConnections=[
            {"name": "conn", "hub": "vhub", "vnet": "V", "enableInternetSecurity": internet_security}
        ],
        firewalls=[
            {
                "name": "hubfw",
                "privateIp": "10.100.0.132",
                "publicIps": 1,
                "sku": "AZFW_Hub",
                "policy": "hubpol",
            }
        ],
        firewallPolicies=[
            {
                "name": "hubpol",
                "ruleCollectionGroups": [
                    {"name": "rcg", "priority": 100, "ruleCollections": [dict(collection)]}
                ],
            }
        ],
    )


STANDARD_ILB = {"name": "ilb", "sku": "Standard", "public": False, "backendPools": [{"name": "pool"}]}


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    id: str
    data: Data
    expected: Mapping[str, Verdict]  # KMS IP → verdict (subnet-level source: any VM in S)
    verdict: Verdict  # subnet verdict
    # KMS IP → (finding, hop, rule) of the decisive step; golden/wording.txt holds its sentence.
    decisive: Mapping[str, Decided]
    fixes: tuple[tuple[str, str], ...] = ()
    fixes_verified: bool = False
    # NIC-level expectations (scenarios about one VM's NIC): KMS IP → verdict, decisive details.
    nic: Mapping[str, Verdict] = field(default_factory=dict)
    nic_decisive: Mapping[str, Decided] = field(default_factory=dict)
    cloud: str = "public"


SCENARIOS = [
    Scenario(
        "s01-baseline",
        network(),
        all_ips(R),
        R,
        dict.fromkeys(PUBLIC_KMS, (None, "V/S", None)),
    ),
    Scenario(
        "s02-nsg-deny-internet-platform-rule",
        network(subnet={"nsg": "nsg"}, nsgs=[nsg("nsg", DENY_INTERNET)]),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
    ),
    Scenario(
        "s03-forced-tunnel-nsg-deny-internet",
        network(
            subnet={"nsg": "nsg", "routeTable": "rt"},
            nsgs=[nsg("nsg", DENY_INTERNET)],
            **forced_tunnel(host_routes(PUBLIC_KMS)),
        ),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.NSG_DENY, "V/S", "deny-internet")),
        # The deny is at the lowest priority (100): no Allow can go before it, so the fix asks to
        # renumber and is not verifiable.
        (
            (
                "add-nsg-rule",
                "NSG nsg: no free priority before the denying rule 100; renumber it, then add an outbound Allow "
                "rule for TCP 1688 to 20.118.99.224/32, 23.102.135.246/32, 40.83.235.53/32",
            ),
        ),
        False,
    ),
    Scenario(
        "s03-deny-at-200-allow-fix-verified",
        network(
            subnet={"nsg": "nsg", "routeTable": "rt"},
            nsgs=[nsg("nsg", nsg_rule("deny-internet", 200, "Deny", "Internet"))],
            **forced_tunnel(host_routes(PUBLIC_KMS)),
        ),
        all_ips(B),
        B,
        {IP2: (Finding.NSG_DENY, "V/S", "deny-internet")},
        (nsg_allow_fix("nsg", 199),),
        True,
    ),
    Scenario(
        "s04-onprem-nva-with-kms-host-routes",
        network(subnet={"routeTable": "rt"}, settings=ONPREM_NVA, **nva_default(host_routes(PUBLIC_KMS))),
        all_ips(R),
        R,
        dict.fromkeys(PUBLIC_KMS, (None, "V/S", None)),
    ),
    Scenario(
        "s05-only-legacy-host-route",
        network(subnet={"routeTable": "rt"}, settings=ONPREM_NVA, **nva_default(host_routes([IP3]))),
        {IP1: B, IP2: B, IP3: R},
        B,
        {
            IP1: (Finding.ROUTE_FORCED_TUNNEL, "V/S", "default"),
            IP2: (Finding.ROUTE_FORCED_TUNNEL, "V/S", "default"),
            IP3: (None, "V/S", None),
        },
        (route_fix("rt", [IP1, IP2]),),
        True,
    ),
    Scenario(
        # §3.5 / DESIGN: an appliance not declared in egressAppliances is unknown, never a pass.
        "s05-undeclared-nva-unknown",
        network(subnet={"routeTable": "rt"}, **nva_default(host_routes([IP3]))),
        {IP1: U, IP2: U, IP3: R},
        U,
        dict.fromkeys((IP1, IP2), (Finding.UNKNOWN_APPLIANCE, "V/S", "default")),
    ),
    Scenario(
        "s06-private-subnet",
        network(
            subnet={"routeTable": "rt", "defaultOutboundAccess": False},
            settings=ONPREM_NVA,
            **nva_default(host_routes(PUBLIC_KMS)),
        ),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.NO_OUTBOUND, "V/S", None)),
        (NAT_FIX,),
        True,
    ),
    Scenario(
        "s07-private-subnet-nat-gateway",
        network(
            subnet={"routeTable": "rt", "defaultOutboundAccess": False, "natGateway": "nat"},
            natGateways=[{"name": "nat"}],
            settings=ONPREM_NVA,
            **nva_default(host_routes(PUBLIC_KMS)),
        ),
        all_ips(R),
        R,
        dict.fromkeys(PUBLIC_KMS, (None, "V/S", None)),
    ),
    Scenario(
        "s08-onprem-20-slash-8-partial",
        network(
            subnet={"routeTable": "rt"},
            routeTables=[route_table("rt", [route("onprem", "20.0.0.0/8", "VirtualNetworkGateway")])],
            gateways=[VPN_GW],
        ),
        {IP1: B, IP2: R, IP3: R},
        B,
        {IP1: (Finding.ROUTE_FORCED_TUNNEL, "V/S", "onprem"), IP2: (None, "V/S", None)},
        (route_fix("rt", [IP1]),),
        True,
    ),
    Scenario(
        "s09-germanywestcentral-forced-tunnel-germany-route",
        network(
            location="germanywestcentral",
            subnet={"routeTable": "rt"},
            **forced_tunnel(host_routes([GERMANY_KMS])),
        ),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.ROUTE_FORCED_TUNNEL, "V/S", "default")),
        (route_fix("rt", SORTED_PUBLIC),),
        True,
    ),
    Scenario(
        "s10-usgov-host-routes",
        network(
            location="usgovvirginia", subnet={"routeTable": "rt"}, **forced_tunnel(host_routes(USGOV_KMS))
        ),
        all_ips(R, USGOV_KMS),
        R,
        dict.fromkeys(("23.97.0.13", "52.126.105.2"), (None, "V/S", None)),
        cloud="usgov",
    ),
    Scenario(
        "s10-usgov-with-public-cloud-host-routes",
        network(
            location="usgovvirginia", subnet={"routeTable": "rt"}, **forced_tunnel(host_routes(PUBLIC_KMS))
        ),
        all_ips(B, USGOV_KMS),
        B,
        dict.fromkeys(("23.97.0.13", "52.126.105.2"), (Finding.ROUTE_FORCED_TUNNEL, "V/S", "default")),
        (route_fix("rt", list(USGOV_KMS)),),
        True,
        cloud="usgov",
    ),
    Scenario(
        "s11-china-partial",
        network(
            location="chinaeast2", subnet={"routeTable": "rt"}, **forced_tunnel(host_routes(["42.159.7.249"]))
        ),
        {"159.27.28.100": B, "163.228.64.161": B, "42.159.7.249": R},
        B,
        {
            "159.27.28.100": (Finding.ROUTE_FORCED_TUNNEL, "V/S", "default"),
            "163.228.64.161": (Finding.ROUTE_FORCED_TUNNEL, "V/S", "default"),
            "42.159.7.249": (None, "V/S", None),
        },
        (route_fix("rt", ["159.27.28.100", "163.228.64.161"]),),
        True,
        cloud="china",
    ),
    Scenario(
        "s12-zone-core-windows-net",
        network(privateDnsZones=[core_zone()]),
        all_ips(B),
        B,
        dict.fromkeys((IP1, IP3), (Finding.DNS_SHADOWED, "V/S", "core.windows.net")),
        (
            (
                "add-dns-records",
                "private DNS zone core.windows.net: add A record azkms → 20.118.99.224, 40.83.235.53 (or unlink "
                "the zone from VNet V)",
            ),
            (
                "add-dns-records",
                "private DNS zone core.windows.net: add A record kms → 20.118.99.224 (or unlink the zone from VNet V)",
            ),
        ),
        True,
    ),
    Scenario(
        "s12-zone-windows-net",
        network(privateDnsZones=[core_zone(name="windows.net")]),
        all_ips(B),
        B,
        {IP2: (Finding.DNS_SHADOWED, "V/S", "windows.net")},
        (
            (
                "add-dns-records",
                "private DNS zone windows.net: add A record azkms.core → 20.118.99.224, 40.83.235.53 (or unlink "
                "the zone from VNet V)",
            ),
            (
                "add-dns-records",
                "private DNS zone windows.net: add A record kms.core → 20.118.99.224 (or unlink the zone from VNet V)",
            ),
        ),
        True,
    ),
    Scenario(
        "s12-zone-with-kms-a-records",
        network(
            privateDnsZones=[
                core_zone(
                    records=[
                        {"name": "azkms", "type": "A", "values": [IP1, IP2]},
                        {"name": "kms", "type": "A", "values": [IP1]},
                    ]
                )
            ]
        ),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
    ),
    Scenario(
        "s13-custom-dns-with-shadowing-zone",
        network(vnet={"dnsServers": ["10.0.0.4"]}, privateDnsZones=[core_zone()]),
        all_ips(U),
        U,
        dict.fromkeys((IP1, IP3), (Finding.UNKNOWN_DNS, "V/S", None)),
    ),
    Scenario(
        # The doc's verdict is about the VM: its NIC overrides the VNet DNS (D1, D7). The subnet-level
        # source (any other VM of S, which inherits the VNet's custom DNS) stays unknown.
        "s14-nic-azure-provided-dns",
        network(vnet={"dnsServers": ["10.0.0.4"]}, nics=[{**NIC1, "dnsServers": ["AzureProvidedDNS"]}]),
        all_ips(U),
        U,
        {IP2: (Finding.UNKNOWN_DNS, "V/S", None)},
        nic=all_ips(R),
        nic_decisive=dict.fromkeys(PUBLIC_KMS, (None, "nic1", None)),
    ),
    Scenario(
        "s15-wildcard-ruleset-ignores-windows-net",
        network(dnsForwardingRulesets=[ruleset(("all", "."))]),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
    ),
    Scenario(
        "s15-explicit-core-windows-net-rule",
        network(dnsForwardingRulesets=[ruleset(("all", "."), ("core", "core.windows.net."))]),
        all_ips(U),
        U,
        dict.fromkeys((IP1, IP3), (Finding.UNKNOWN_DNS, "V/S", "core")),
    ),
    Scenario(
        "s16-nsg-deny-azureplatformlkm",
        network(
            subnet={"nsg": "nsg"}, nsgs=[nsg("nsg", nsg_rule("deny-lkm", 100, "Deny", "AzurePlatformLKM"))]
        ),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.NSG_LKM_DENY, "V/S", "deny-lkm")),
        (
            (
                "remove-nsg-rule",
                "NSG nsg: remove rule deny-lkm (priority 100), which denies AzurePlatformLKM and so turns off the "
                "KMS platform rule (docs/rules.md#nsg-platform-rule)",
            ),
        ),
        True,
    ),
    Scenario(
        "s17-nsg-deny-azurecloud-1688",
        network(
            subnet={"nsg": "nsg"},
            nsgs=[
                nsg(
                    "nsg",
                    nsg_rule("deny-azurecloud", 100, "Deny", "AzureCloud", protocol="Tcp", ports="1688"),
                )
            ],
        ),
        all_ips(R),
        R,
        {IP3: (None, "V/S", None)},
    ),
    Scenario(
        "s18-nic-nsg-allows-subnet-nsg-denies",
        network(
            subnet={"nsg": "subnet-nsg", "routeTable": "rt"},
            nics=[{**NIC1, "nsg": "nic-nsg"}],
            nsgs=[
                nsg(
                    "nic-nsg",
                    nsg_rule(
                        "allow-kms", 100, "Allow", list(PUBLIC_KMS), protocol="Tcp", ports=["1680-1690"]
                    ),
                ),
                nsg("subnet-nsg", nsg_rule("deny-internet", 200, "Deny", "Internet")),
            ],
            **forced_tunnel(host_routes(PUBLIC_KMS)),
        ),
        all_ips(B),
        B,
        {IP1: (Finding.NSG_DENY, "V/S", "deny-internet")},
        (nsg_allow_fix("subnet-nsg", 199),),
        True,
        nic=all_ips(B),
        nic_decisive=dict.fromkeys(PUBLIC_KMS, (Finding.NSG_DENY, "nic1", "deny-internet")),
    ),
    Scenario(
        "s18-subnet-nsg-allow-at-150",
        network(
            subnet={"nsg": "subnet-nsg", "routeTable": "rt"},
            nics=[{**NIC1, "nsg": "nic-nsg"}],
            nsgs=[
                nsg(
                    "nic-nsg",
                    nsg_rule(
                        "allow-kms", 100, "Allow", list(PUBLIC_KMS), protocol="Tcp", ports=["1680-1690"]
                    ),
                ),
                nsg(
                    "subnet-nsg",
                    nsg_rule("allow-kms", 150, "Allow", list(PUBLIC_KMS), protocol="Tcp", ports="1688"),
                    nsg_rule("deny-internet", 200, "Deny", "Internet"),
                ),
            ],
            **forced_tunnel(host_routes(PUBLIC_KMS)),
        ),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
        nic=all_ips(R),
        nic_decisive={IP2: (None, "nic1", None)},
    ),
    Scenario(
        "s19-admin-always-allow",
        network(
            subnet={"nsg": "nsg", "routeTable": "rt"},
            nsgs=[nsg("nsg", DENY_INTERNET)],
            adminRules=[admin_rule("AlwaysAllow")],
            **forced_tunnel(host_routes(PUBLIC_KMS)),
        ),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
    ),
    Scenario(
        "s19-admin-deny-without-forced-tunnel",
        network(adminRules=[admin_rule("Deny")]),
        all_ips(U),
        U,
        dict.fromkeys(PUBLIC_KMS, (Finding.UNKNOWN_FILTERING, "V/S", "kms-admin")),
    ),
    Scenario(
        "s20-expressroute-no-effective-routes",
        network(gateways=[ER_GW]),
        all_ips(U),
        U,
        dict.fromkeys(PUBLIC_KMS, (Finding.UNKNOWN_ROUTE, "V/S", "default system route")),
    ),
    Scenario(
        "s20-hub-expressroute-through-gateway-transit",
        with_vnet(
            network(
                vnet={"peerings": [{"name": "to-hub", "remoteVnet": "hub", "useRemoteGateways": True}]},
                gateways=[{"name": "er", "vnet": "hub", "gatewayType": "ExpressRoute"}],
            ),
            {
                "name": "hub",
                "location": "eastus",
                "addressSpace": ["10.1.0.0/16"],
                "subnets": [{"name": "GatewaySubnet", "addressPrefix": "10.1.255.0/27"}],
                "peerings": [{"name": "to-spoke", "remoteVnet": "V", "allowGatewayTransit": True}],
            },
        ),
        all_ips(U),
        U,
        {IP1: (Finding.UNKNOWN_ROUTE, "V/S", "default system route")},
    ),
    Scenario(
        "s20-effective-routes-show-default-route",
        network(gateways=[{**ER_GW, "learnedRoutes": [{"addressPrefix": "0.0.0.0/0"}]}]),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.ROUTE_FORCED_TUNNEL, "V/S", "BGP route learned by er")),
        (new_route_table_fix("V/S", SORTED_PUBLIC),),
        True,
    ),
    Scenario(
        "s20-effective-routes-without-default-route",
        network(gateways=[{**ER_GW, "learnedRoutes": [{"addressPrefix": "10.50.0.0/16"}]}]),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
    ),
    Scenario(
        "s20-propagation-disabled",
        network(
            subnet={"routeTable": "rt"},
            gateways=[ER_GW],
            routeTables=[route_table("rt", [], disableBgpRoutePropagation=True)],
        ),
        all_ips(R),
        R,
        dict.fromkeys(PUBLIC_KMS, (None, "V/S", None)),
    ),
    Scenario(
        # E1/S1 fix for ER forced tunneling: the /32s beat any BGP 0.0.0.0/0 by LPM.
        "s20-kms-host-routes",
        network(
            subnet={"routeTable": "rt"},
            gateways=[ER_GW],
            routeTables=[route_table("rt", host_routes(PUBLIC_KMS))],
        ),
        all_ips(R),
        R,
        {IP2: (None, "V/S", None)},
    ),
    Scenario(
        "s21-default-site",
        network(gateways=[DEFAULT_SITE_GW]),
        all_ips(B),
        B,
        dict.fromkeys(
            PUBLIC_KMS,
            (Finding.ROUTE_FORCED_TUNNEL, "V/S", "VPN gateway vgw Default Site (forced tunneling)"),
        ),
        (new_route_table_fix("V/S", SORTED_PUBLIC),),
        True,
    ),
    Scenario(
        "s21-default-site-escape-0-0-internet",
        network(
            subnet={"routeTable": "rt"},
            gateways=[DEFAULT_SITE_GW],
            routeTables=[route_table("rt", [route("internet", "0.0.0.0/0", "Internet")])],
        ),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
    ),
    Scenario(
        "s21-default-site-kms-host-routes",
        network(
            subnet={"routeTable": "rt"},
            gateways=[DEFAULT_SITE_GW],
            routeTables=[route_table("rt", host_routes(PUBLIC_KMS))],
        ),
        all_ips(R),
        R,
        {IP3: (None, "V/S", None)},
    ),
    Scenario(
        "s22-azure-firewall-network-rule",
        hub_spoke(network_collection(KMS_NETWORK_RULE)),
        all_ips(R),
        R,
        dict.fromkeys(PUBLIC_KMS, (None, "hub/AzureFirewallSubnet", "default system route")),
    ),
    Scenario(
        "s22a-fqdn-rule-dns-proxy-off",
        hub_spoke(network_collection(FQDN_NETWORK_RULE), dnsProxy=False),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.FIREWALL_NO_RULE, "fw", None)),
        (firewall_rule_fix("fwp"),),
        True,
    ),
    Scenario(
        # Not in the table, the other side of R6.1: with the proxy on, the FQDN rule matches what
        # azkms resolves to, so only the legacy kms IP stays blocked.
        "s22a-fqdn-rule-dns-proxy-on",
        hub_spoke(network_collection(FQDN_NETWORK_RULE), dnsProxy=True),
        {IP1: R, IP2: R, IP3: B},
        B,
        {IP3: (Finding.FIREWALL_NO_RULE, "fw", None)},
        (firewall_rule_fix("fwp"),),
        True,
    ),
    Scenario(
        # Application rules (also one with the WindowsVirtualDesktop FQDN tag) never match TCP 1688.
        "s22b-application-rule-only",
        hub_spoke(APPLICATION_COLLECTION),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.FIREWALL_NO_RULE, "fw", None)),
        (firewall_rule_fix("fwp"),),
        True,
    ),
    Scenario(
        "s22c-snat-private-ranges-everything",
        hub_spoke(network_collection(KMS_NETWORK_RULE), snatPrivateRanges=["0.0.0.0/0"]),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.FIREWALL_NO_SNAT, "fw", None)),
        (
            (
                "remove-snat-range",
                "fwp: remove the ranges containing KMS IPs from snat.privateRanges (keep ['IANAPrivateRanges']) so "
                "the firewall SNATs KMS traffic to its public IP (docs/rules.md#firewall-snat)",
            ),
        ),
        True,
    ),
    Scenario(
        "s23-vwan-direct-access-no-1688-rule",
        vwan({**APPLICATION_COLLECTION, "applicationRules": 3}),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.FIREWALL_NO_RULE, "hubfw", None)),
        # The policy's group already has priority 100: the new group takes the first free number.
        (firewall_rule_fix("hubpol", priority=101),),
        True,
    ),
    Scenario(
        "s23-vwan-direct-access-1688-rule",
        vwan(network_collection(KMS_NETWORK_RULE)),
        all_ips(R),
        R,
        dict.fromkeys(PUBLIC_KMS, (None, "hubfw", None)),
    ),
    Scenario(
        "s23-vwan-internet-security-off",
        vwan({**APPLICATION_COLLECTION, "applicationRules": 3}, internet_security=False),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
    ),
    Scenario(
        "s23-vwan-forced-tunnel-mode",
        vwan(network_collection(KMS_NETWORK_RULE), hub={"name": "vhub", "forcedTunnel": True}),
        all_ips(B),
        B,
        dict.fromkeys(
            PUBLIC_KMS,
            (
                Finding.ROUTE_FORCED_TUNNEL,
                "V/S",
                "Virtual WAN hub connection conn: hub vhub Forced Tunnel mode (0.0.0.0/0 learned from on-premises)",
            ),
        ),
        (new_route_table_fix("V/S", SORTED_PUBLIC),),
        # §3.4 UNCONFIRMED: spoke routes may not be honoured behind a secured hub, so the /32 routes
        # leave the subnet unknown rather than reachable: the fix cannot be verified.
        False,
    ),
    Scenario(
        # The pool membership is the NIC's: the VM's NIC is blocked, so is the subnet.
        "s24-standard-internal-lb",
        network(loadBalancers=[STANDARD_ILB], nics=[{**NIC1, "backendPools": ["ilb/pool"]}]),
        all_ips(R),
        B,
        {IP1: (None, "V/S", None)},
        (NAT_FIX,),
        True,
        nic=all_ips(B),
        nic_decisive=dict.fromkeys(PUBLIC_KMS, (Finding.NO_OUTBOUND, "nic1", None)),
    ),
    Scenario(
        "s24-standard-internal-lb-nat-gateway",
        network(
            subnet={"natGateway": "nat"},
            natGateways=[{"name": "nat"}],
            loadBalancers=[STANDARD_ILB],
            nics=[{**NIC1, "backendPools": ["ilb/pool"]}],
        ),
        all_ips(R),
        R,
        {IP1: (None, "V/S", None)},
        nic=all_ips(R),
        nic_decisive=dict.fromkeys(PUBLIC_KMS, (None, "nic1", None)),
    ),
    Scenario(
        # The NVA is modelled (on-premises), so the unknown comes from the AzureCloud tag route alone.
        "s25-azurecloud-route-onprem-nva",
        network(
            subnet={"routeTable": "rt"},
            settings=ONPREM_NVA,
            **nva_default([route("azurecloud", "AzureCloud", "Internet")]),
        ),
        all_ips(U),
        U,
        dict.fromkeys(PUBLIC_KMS, (Finding.UNKNOWN_ROUTE, "V/S", "default")),
    ),
    Scenario(
        "s25-azurecloud-route-undeclared-nva",
        network(subnet={"routeTable": "rt"}, **nva_default([route("azurecloud", "AzureCloud", "Internet")])),
        all_ips(U),
        U,
        {IP1: (Finding.UNKNOWN_ROUTE, "V/S", "default")},
    ),
    Scenario(
        # "If they are [in AzureCloud], and the subnet is non-private: REACHABLE": in a private subnet
        # both possibilities block, so the verdict is decided.
        "s25-azurecloud-route-private-subnet",
        network(
            subnet={"routeTable": "rt", "defaultOutboundAccess": False},
            settings=ONPREM_NVA,
            **nva_default([route("azurecloud", "AzureCloud", "Internet")]),
        ),
        all_ips(B),
        B,
        dict.fromkeys(PUBLIC_KMS, (Finding.ROUTE_FORCED_TUNNEL, "V/S", "default")),
        (route_fix("rt", SORTED_PUBLIC), NAT_FIX),
        True,
    ),
    Scenario(
        "s25-azureplatformlkm-route-flagged",
        network(
            subnet={"routeTable": "rt"},
            settings=ONPREM_NVA,
            **nva_default([route("lkm", "AzurePlatformLKM", "Internet")]),
        ),
        all_ips(U),
        U,
        {IP1: (Finding.UNKNOWN_ROUTE, "V/S", "default")},
    ),
]


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda sc: sc.id)
def test_scenario(sc: Scenario) -> None:
    result = subnet_result(sc.data)
    assert result.cloud == sc.cloud
    assert verdicts(result) == dict(sc.expected)
    assert result.verdict is sc.verdict
    for ip, expected in sc.decisive.items():
        assert decision(result, ip) == expected, ip
    assert fixes(result) == list(sc.fixes)
    assert result.fixes_verified is sc.fixes_verified
    if sc.nic:
        (nic,) = result.nics
        assert {e.ip: e.verdict for e in nic.endpoints} == dict(sc.nic)
        for ip, expected in sc.nic_decisive.items():
            assert decided(decisive_step(nic.endpoints, ip)) == expected, ip
    else:
        assert result.nics == ()


def test_scenario_ids_cover_all_25() -> None:
    numbers = {int(sc.id[1:3]) for sc in SCENARIOS}
    assert numbers == set(range(1, 26))
    assert len({sc.id for sc in SCENARIOS}) == len(SCENARIOS)


# --- details of single scenarios that the table does not show ----------------------------------


def run(scenario_id: str) -> SubnetResult:
    """The result of the table's scenario ``scenario_id``."""
    (sc,) = [sc for sc in SCENARIOS if sc.id == scenario_id]
    return subnet_result(sc.data)


Ref = RuleRef | RouteRef | ZoneRef | None


def trace_facts(
    endpoints: Sequence[EndpointResult], ip: str, kind: str | None = None
) -> list[tuple[Say, Outcome, Ref]]:
    """What each step of ``ip``'s trace says (which sentence, not its words), with its outcome and
    the rule, route or zone that decided it."""
    ep = next(e for e in endpoints if e.ip == ip)
    return [(what(s).say, s.outcome, ref(s)) for s in ep.trace if kind is None or s.kind == kind]


def what(step: Step) -> Sentence:
    assert isinstance(step.what, Sentence), step
    return step.what


def ref(step: Step) -> Ref:
    w = what(step)
    return w.rule or w.route or w.zone


def decisive_what(result: SubnetResult, ip: str) -> Sentence:
    return what(decisive_step(result.endpoints, ip))


def nsg_ref(nsg_name: str, rule: str, priority: int, action: str) -> RuleRef:
    return RuleRef(RuleKind.NSG, nsg_name, rule, priority, action)


def test_s02_nsg_is_bypassed_by_the_platform_rule() -> None:
    """R4.1: the NSG Deny to Internet is not evaluated for KMS; IP flow verify would say Deny [FB]."""
    result = run("s02-nsg-deny-internet-platform-rule")
    assert trace_facts(result.endpoints, IP1, "nsg") == [(Say.PLATFORM_RULE_ON, Outcome.PASS, None)]


def test_s03_forced_tunnel_turns_the_platform_rule_off() -> None:
    result = run("s03-forced-tunnel-nsg-deny-internet")
    assert trace_facts(result.endpoints, IP1, "nsg") == [
        (Say.PLATFORM_RULE_OFF, Outcome.INFO, FORCED_TUNNEL_UDR),
        (Say.NSG_DENY, Outcome.BLOCK, nsg_ref("nsg", "deny-internet", 100, "Deny")),
    ]


def test_s18_both_nsgs_are_evaluated_nic_first() -> None:
    result = run("s18-nic-nsg-allows-subnet-nsg-denies")
    (nic,) = result.nics
    assert trace_facts(nic.endpoints, IP1, "nsg")[1:] == [
        (Say.NSG_ALLOW, Outcome.PASS, nsg_ref("nic-nsg", "allow-kms", 100, "Allow")),
        (Say.NSG_DENY, Outcome.BLOCK, nsg_ref("subnet-nsg", "deny-internet", 200, "Deny")),
    ]


def test_s18_nic_deny_ends_evaluation() -> None:
    """N2: a deny at the NIC level means the subnet NSG is never evaluated."""
    data = network(
        subnet={"nsg": "subnet-nsg", "routeTable": "rt"},
        nics=[{**NIC1, "nsg": "nic-nsg"}],
        nsgs=[
            nsg("nic-nsg", nsg_rule("deny-internet", 200, "Deny", "Internet")),
            nsg(
                "subnet-nsg",
                nsg_rule("allow-kms", 150, "Allow", list(PUBLIC_KMS), protocol="Tcp", ports="1688"),
            ),
        ],
        **forced_tunnel(host_routes(PUBLIC_KMS)),
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(R)  # the subnet-level source has no NIC NSG
    (nic,) = result.nics
    assert nic.verdict is B
    assert trace_facts(nic.endpoints, IP1, "nsg")[1:] == [
        (Say.NSG_DENY, Outcome.BLOCK, nsg_ref("nic-nsg", "deny-internet", 200, "Deny"))
    ]
    assert decided(decisive_step(nic.endpoints, IP1)) == (Finding.NSG_DENY, "nic1", "deny-internet")
    assert fixes(result) == [nsg_allow_fix("nic-nsg", 199)]
    assert result.fixes_verified


def test_s16_lkm_deny_under_forced_tunnel() -> None:
    """R4.2: with the platform rule off, an AzurePlatformLKM Deny is an ordinary first match, and
    the tag contains the KMS IPs (§4.2)."""
    data = network(
        subnet={"nsg": "nsg", "routeTable": "rt"},
        nsgs=[nsg("nsg", nsg_rule("deny-lkm", 100, "Deny", "AzurePlatformLKM"))],
        **forced_tunnel(host_routes(PUBLIC_KMS)),
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(B)
    assert decision(result, IP1) == (Finding.NSG_DENY, "V/S", "deny-lkm")


def test_s19_always_allow_skips_the_nsgs() -> None:
    result = run("s19-admin-always-allow")
    assert trace_facts(result.endpoints, IP2, "admin-rule") == [
        (Say.ADMIN_ALWAYS_ALLOW, Outcome.PASS, RuleRef(RuleKind.ADMIN, "", "kms-admin", 10, "AlwaysAllow"))
    ]
    assert trace_facts(result.endpoints, IP2, "nsg") == []


def test_s22_firewall_rule_and_egress_in_trace() -> None:
    result = run("s22-azure-firewall-network-rule")
    assert trace_facts(result.endpoints, IP1, "firewall") == [
        (
            Say.FIREWALL_ALLOW,
            Outcome.PASS,
            RuleRef(
                RuleKind.FIREWALL_POLICY, "fwp", "allow-kms", 200, "Allow", group="rcg", collection="kms"
            ),
        ),
        (
            Say.FIREWALL_SUBNET_INTERNET,
            Outcome.PASS,
            RouteRef("default system route", "0.0.0.0/0", "Internet", source="default"),
        ),
    ]
    # The rule walk happens on the firewall, the next hop on the firewall's own subnet.
    assert [s.hop for s in result.endpoints[0].trace if s.kind == "firewall"] == [
        "fw",
        "hub/AzureFirewallSubnet",
    ]
    hub_subnet = subnet_result(hub_spoke(network_collection(KMS_NETWORK_RULE)), "hub/AzureFirewallSubnet")
    assert hub_subnet.verdict is Verdict.EXCLUDED


def test_s22c_the_egress_step_does_not_claim_snat_that_the_snat_step_rules_out() -> None:
    """§6.4: with the KMS IPs in snat.privateRanges the firewall forwards the packet with the VM's
    private source IP; the egress step after the SNAT block must not say it SNATs."""
    result = run("s22c-snat-private-ranges-everything")
    facts = trace_facts(result.endpoints, IP1, "firewall")
    assert [(say, outcome) for say, outcome, _ in facts] == [
        (Say.FIREWALL_ALLOW, Outcome.PASS),
        (Say.SNAT_EXCLUDED, Outcome.BLOCK),
        (Say.FIREWALL_SUBNET_INTERNET_UNSNATED, Outcome.PASS),
    ]
    assert "SNAT to the firewall's public IP" not in "\n".join(s.detail for s in result.endpoints[0].trace)


def test_a_firewall_fix_never_reuses_a_rule_collection_group_name() -> None:
    """Azure names a rule collection group by its name within the policy: with a group already called
    kms-activation (here one whose rule does not cover the spoke), the fix adds kms-activation-2, and
    with it applied the subnet is reachable (the fix is checked)."""
    data = hub_spoke(network_collection({**KMS_NETWORK_RULE, "sourceAddresses": ["10.99.0.0/16"]}))
    data["firewallPolicies"][0]["ruleCollectionGroups"][0]["name"] = "kms-activation"
    result = subnet_result(data)
    assert result.verdict is Verdict.BLOCKED
    (fix,) = result.fixes
    assert (fix.kind, fix.detail) == (
        "add-firewall-rule",
        "firewall policy fwp: add rule collection group kms-activation-2 (priority 100) with a network rule "
        "collection (Allow) and rule allow-kms: TCP 1688 from 10.0.1.0/24 to 20.118.99.224, 23.102.135.246, "
        "40.83.235.53",
    )
    assert fix.data["name"] == "kms-activation-2"
    assert 'rule_collection_group_name="kms-activation-2"' in fix.code
    assert result.fixes_verified is True


@pytest.mark.parametrize("tag", ["Internet", "AzurePlatformLKM"])
def test_s22_tags_unusable_in_azure_firewall_never_match(tag: str) -> None:
    """§6.2, N3: Internet and AzurePlatformLKM are not usable in Azure Firewall, so a network rule
    naming them does not allow KMS; the default deny drops it."""
    result = subnet_result(hub_spoke(network_collection({**KMS_NETWORK_RULE, "destinationAddresses": [tag]})))
    assert verdicts(result) == all_ips(B)
    assert decision(result, IP1) == (Finding.FIREWALL_NO_RULE, "fw", None)
    assert decisive_what(result, IP1).say is Say.FIREWALL_DEFAULT_DENY
    assert fixes(result) == [firewall_rule_fix("fwp")]
    assert result.fixes_verified


def test_s25_azureplatformlkm_route_is_flagged_as_invalid() -> None:
    """§2.6, N3: AzurePlatformLKM is not allowed in UDRs; the checker flags the route."""
    result = run("s25-azureplatformlkm-route-flagged")
    flagged = (
        "route table rt route lkm: addressPrefix 'AzurePlatformLKM' is a service tag Azure does not allow in routes "
        "(docs/rules.md#service-tags); the route table cannot be deployed — use one /32 route per KMS IP instead"
    )
    for ep in result.endpoints:
        assert [(s.finding, s.hop, what(s).reason) for s in ep.trace if s.kind == "input"] == [
            (Finding.INVALID_INPUT, "V/S", flagged)
        ]
    # The AzureCloud route of the sibling scenario is a valid service-tag route: nothing flagged.
    other = run("s25-azurecloud-route-onprem-nva")
    assert trace_facts(other.endpoints, IP1, "input") == []


def test_s23_forced_tunnel_spoke_host_routes_are_unconfirmed() -> None:
    data = vwan(network_collection(KMS_NETWORK_RULE), hub={"name": "vhub", "forcedTunnel": True})
    data["vnets"][0]["subnets"][0]["routeTable"] = "rt"
    data["routeTables"] = [route_table("rt", host_routes(PUBLIC_KMS))]
    assert verdicts(subnet_result(data)) == all_ips(U)


# --- §12 UNCONFIRMED items: unknown, or the documented configurable behaviour ------------------


def test_unconfirmed_01_user_default_route_to_internet_and_the_platform_rule() -> None:
    """§12 #1: whether a UDR 0.0.0.0/0 → Internet disables the platform rule is not documented.
    With an NSG denying Internet the two readings disagree → unknown."""
    data = network(
        subnet={"nsg": "nsg", "routeTable": "rt"},
        nsgs=[nsg("nsg", DENY_INTERNET)],
        routeTables=[route_table("rt", [route("internet", "0.0.0.0/0", "Internet")])],
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(U)
    assert result.verdict is U
    assert decision(result, IP1) == (Finding.UNKNOWN_FILTERING, "V/S", None)
    assert decisive_what(result, IP1) == Sentence(Say.PLATFORM_RULE_DECIDES, reason=USER_INTERNET_DEFAULT)


def test_unconfirmed_01_user_default_route_to_internet_without_nsg_is_reachable() -> None:
    """The same route with no NSG: both readings allow, so the question does not matter (noted)."""
    data = network(
        subnet={"routeTable": "rt"},
        routeTables=[route_table("rt", [route("internet", "0.0.0.0/0", "Internet")])],
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(R)
    (moot,) = [s for s in result.endpoints[0].trace if s.kind == "nsg" and s.outcome is Outcome.INFO]
    assert what(moot) == Sentence(Say.PLATFORM_RULE_MOOT, reason=USER_INTERNET_DEFAULT)


def test_unconfirmed_02_platform_rule_off_for_the_whole_deployment() -> None:
    """§12 #2 / §4.5: per the doc wording the rule is off for the deployment, so the NSG filters
    even the KMS IPs whose own route is a /32 → Internet (R4.2)."""
    data = network(
        subnet={"nsg": "nsg", "routeTable": "rt"},
        settings=ONPREM_NVA,
        nsgs=[nsg("nsg", nsg_rule("deny-internet", 200, "Deny", "Internet"))],
        **nva_default(host_routes(PUBLIC_KMS)),
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(B)
    assert decision(result, IP1) == (Finding.NSG_DENY, "V/S", "deny-internet")
    assert fixes(result) == [nsg_allow_fix("nsg", 199)]
    assert result.fixes_verified


def test_unconfirmed_03_admin_deny() -> None:
    """§12 #3: an admin Deny without forced tunneling → unknown (its interplay with the platform rule
    is undocumented); with forced tunneling the platform rule is off, so the Deny blocks (§4.1)."""
    unknown = subnet_result(network(adminRules=[admin_rule("Deny")]))
    assert verdicts(unknown) == all_ips(U)
    assert decision(unknown, IP2) == (Finding.UNKNOWN_FILTERING, "V/S", "kms-admin")
    assert decisive_what(unknown, IP2).say is Say.ADMIN_DENY_UNDOCUMENTED
    blocked = subnet_result(
        network(
            subnet={"routeTable": "rt"},
            adminRules=[admin_rule("Deny")],
            **forced_tunnel(host_routes(PUBLIC_KMS)),
        )
    )
    assert verdicts(blocked) == all_ips(B)
    assert decision(blocked, IP2) == (Finding.ADMIN_RULE_DENY, "V/S", "kms-admin")
    assert fixes(blocked) == [
        (
            "change-admin-rule",
            "AVNM admin rule kms-admin: let outbound TCP 1688 to the KMS IPs through (an AlwaysAllow rule with a "
            "lower priority number)",
        )
    ]
    assert not blocked.fixes_verified  # admin rules are outside what the repair loop can change


def test_unconfirmed_05_azurecloud_membership_in_an_nsg_rule() -> None:
    """§12 #5: under forced tunneling the NSG is evaluated; a Deny to AzureCloud may or may not
    contain the KMS IPs → unknown (#17 is reachable only because the platform rule applies)."""
    data = network(
        subnet={"nsg": "nsg", "routeTable": "rt"},
        nsgs=[
            nsg("nsg", nsg_rule("deny-azurecloud", 100, "Deny", "AzureCloud", protocol="Tcp", ports="1688"))
        ],
        **forced_tunnel(host_routes(PUBLIC_KMS)),
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(U)
    assert decision(result, IP3) == (Finding.UNKNOWN_FILTERING, "V/S", None)
    assert decisive_what(result, IP3) == Sentence(
        Say.NSG_UNDECIDED,
        subject="nsg",
        ip=IP3,
        values=(
            "NSG nsg rule 100 deny-azurecloud may match (whether service tag 'AzureCloud' contains 23.102.135.246 "
            "is not documented (docs/rules.md#service-tags))",
        ),
    )


def test_unconfirmed_05_azurecloud_membership_in_a_firewall_rule() -> None:
    rule = {**KMS_NETWORK_RULE, "destinationAddresses": ["AzureCloud"]}
    result = subnet_result(hub_spoke(network_collection(rule)))
    assert verdicts(result) == all_ips(U)
    assert decision(result, IP1) == (Finding.UNKNOWN_FIREWALL, "fw", None)
    assert decisive_what(result, IP1) == Sentence(
        Say.FIREWALL_UNDECIDED,
        subject="fw",
        ip=IP1,
        reason="firewall policy fwp rule collection group rcg collection kms rule allow-kms may match (whether "
        "service tag 'AzureCloud' contains 20.118.99.224 is not documented (docs/rules.md#service-tags))",
    )


def test_unconfirmed_06_propagation_disabled_and_default_site() -> None:
    """§12 #6: whether disableBgpRoutePropagation suppresses the Default-Site route → unknown."""
    data = network(
        subnet={"routeTable": "rt"},
        gateways=[DEFAULT_SITE_GW],
        routeTables=[route_table("rt", [], disableBgpRoutePropagation=True)],
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(U)
    assert decision(result, IP1) == (Finding.UNKNOWN_ROUTE, "V/S", "default system route")
    assert decisive_what(result, IP1).values == (
        "route propagation is disabled on the subnet's route table; whether that suppresses the Default Site route "
        "is not documented (docs/rules.md#vpn-default-site)",
    )


def test_unconfirmed_06_kms_host_routes_settle_it() -> None:
    data = network(
        subnet={"routeTable": "rt"},
        gateways=[DEFAULT_SITE_GW],
        routeTables=[route_table("rt", host_routes(PUBLIC_KMS), disableBgpRoutePropagation=True)],
    )
    assert verdicts(subnet_result(data)) == all_ips(R)


def test_unconfirmed_08_aggregation_is_strict() -> None:
    """§12 #8 / §10: one blocked IP blocks the subnet (client fail-over between A records is not
    documented), and the fix names only the IP that needs it."""
    result = run("s08-onprem-20-slash-8-partial")
    assert sorted(e.verdict for e in result.endpoints) == [B, R, R]
    assert result.verdict is B
    assert fixes(result) == [route_fix("rt", [IP1])]


@pytest.mark.parametrize(
    "location", ["usseceast", "ussecwest", "usnateast", "usnatwest", "usdodsouthcentral"]
)
def test_unconfirmed_09_air_gapped_locations_are_unknown(location: str) -> None:
    """§12 #9 / §1.3: the KMS endpoints of the air-gapped US clouds are not documented."""
    result = subnet_result(network(location=location))
    assert result.verdict is U
    assert result.cloud == ""
    assert result.endpoints == ()
    assert [(what(s), s.outcome, s.finding, s.hop) for s in result.notes] == [
        (
            Sentence(
                Say.CLOUD_LOCATION_UNMAPPED,
                subject=location,
                reason="KMS endpoints of this cloud are not documented",
            ),
            Outcome.UNKNOWN,
            Finding.UNKNOWN_CLOUD,
            "V/S",
        )
    ]


def test_unconfirmed_09_usgoviowa_is_usgov_with_a_note() -> None:
    result = subnet_result(network(location="usgoviowa"))
    assert result.cloud == "usgov"
    assert verdicts(result) == all_ips(R, USGOV_KMS)
    assert [(what(s), s.outcome) for s in result.notes] == [
        (
            Sentence(
                Say.LOCATION_NOTE,
                subject="usgoviowa",
                reason="listed in the 2017 developer guide; current availability unconfirmed",
            ),
            Outcome.INFO,
        )
    ]


def test_unconfirmed_11_ruleset_and_zone_both_match() -> None:
    """§12 #11: precedence between a matching forwarding rule and a linked zone → unknown."""
    data = network(
        privateDnsZones=[core_zone()], dnsForwardingRulesets=[ruleset(("core", "core.windows.net."))]
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(U)
    assert decision(result, IP1) == (Finding.UNKNOWN_DNS, "V/S", "core.windows.net")
    zone = decisive_what(result, IP1)
    assert zone.say is Say.DNS_ZONE_OR_FORWARDING
    assert zone.base == Sentence(
        Say.ZONE_NO_RECORD, zone=ZoneRef("core.windows.net", "V", "azkms"), fqdn="azkms.core.windows.net"
    )


def test_unconfirmed_11_explicit_windows_net_rule_is_honoured() -> None:
    """§12 #11: an explicit rule for the reserved windows.net is assumed honoured → unknown target."""
    result = subnet_result(network(dnsForwardingRulesets=[ruleset(("wn", "windows.net."))]))
    assert verdicts(result) == all_ips(U)
    assert decision(result, IP3) == (Finding.UNKNOWN_DNS, "V/S", "wn")
    assert decisive_what(result, IP3) == Sentence(
        Say.FORWARDING_UNSEEN,
        rule=RuleRef(RuleKind.DNS_FORWARDING, "rs", "wn", note="windows.net."),
        fqdn="kms.core.windows.net",
        values=("10.50.0.4",),
    )


def test_unconfirmed_11_rulesets_apply_only_with_azure_dns() -> None:
    """§7.3 working assumption: a VNet with custom DNS does not use the ruleset; a trusted custom
    server (config trustedDnsServers) resolves the KMS names."""
    data = network(
        vnet={"dnsServers": ["10.0.0.4"]},
        settings={"trustedDnsServers": ["10.0.0.4"]},
        dnsForwardingRulesets=[ruleset(("core", "core.windows.net."))],
    )
    result = subnet_result(data)
    assert verdicts(result) == all_ips(R)
    assert trace_facts(result.endpoints, IP1, "dns") == [(Say.DNS_TRUSTED_SERVERS, Outcome.PASS, None)]


@pytest.mark.parametrize(
    ("config", "access", "expected"),
    [
        (None, None, R),  # §5.2: absent reads as allowed by default
        ("allowed", None, R),
        ("private", None, B),  # post-March-2026 API default (UNCONFIRMED, configurable)
        ("private", True, R),  # an explicit value always wins
        ("allowed", False, B),
    ],
    ids=["default", "allowed", "private", "private-explicit-true", "allowed-explicit-false"],
)
def test_unconfirmed_14_absent_default_outbound_access(
    config: str | None, access: bool | None, expected: Verdict
) -> None:
    """§12 #14: how an absent defaultOutboundAccess reads is config absentDefaultOutboundAccess."""
    subnet = {} if access is None else {"defaultOutboundAccess": access}
    settings = None if config is None else {"absentDefaultOutboundAccess": config}
    result = subnet_result(network(subnet=subnet, settings=settings))
    assert verdicts(result) == all_ips(expected)
    if expected is B:
        assert decision(result, IP1) == (Finding.NO_OUTBOUND, "V/S", None)
        assert decisive_what(result, IP1).say is Say.EGRESS_PRIVATE_SUBNET
        assert fixes(result) == [NAT_FIX]
        assert result.fixes_verified


# --- §5.3: flexible-orchestration scale sets -----------------------------------------------------


def test_flexible_scale_set_has_no_default_outbound() -> None:
    """§5.2/§5.3 (O1): Flexible-orchestration VM Scale Sets never get default outbound access."""
    vmss = {
        "name": "ss",
        "osType": "Windows",
        "scaleSet": True,
        "orchestrationMode": "Flexible",
        "subnets": ["V/S"],
    }
    result = subnet_result(network(vms=[vmss]))
    assert verdicts(result) == all_ips(B)
    assert decision(result, IP1) == (Finding.NO_OUTBOUND, "V/S", None)
    assert decisive_what(result, IP1).say is Say.EGRESS_FLEXIBLE
    assert fixes(result) == [NAT_FIX]
    assert result.fixes_verified
    uniform = subnet_result(network(vms=[{**vmss, "orchestrationMode": "Uniform"}]))
    assert verdicts(uniform) == all_ips(R)


# --- scope: excluded subnets, config, cloud mapping, unattached route tables --------------------


SPECIAL = [
    ("GatewaySubnet", "GatewaySubnet is a special-purpose subnet"),
    ("AzureFirewallSubnet", "AzureFirewallSubnet is a special-purpose subnet"),
    ("AzureFirewallManagementSubnet", "AzureFirewallManagementSubnet is a special-purpose subnet"),
    ("AzureBastionSubnet", "AzureBastionSubnet is a special-purpose subnet"),
    ("RouteServerSubnet", "RouteServerSubnet is a special-purpose subnet"),
]


@pytest.mark.parametrize(("name", "reason"), SPECIAL, ids=[n for n, _ in SPECIAL])
def test_special_purpose_subnets_are_excluded(name: str, reason: str) -> None:
    # A forced tunnel on the VNet would block S; the special subnet is not judged at all.
    data = network(
        extra_subnets=[{"name": name, "addressPrefix": "10.0.255.0/26"}], gateways=[DEFAULT_SITE_GW]
    )
    result = subnet_result(data, f"V/{name}")
    assert result.verdict is Verdict.EXCLUDED
    assert result.endpoints == ()
    assert [(s.detail, s.outcome) for s in result.notes] == [(reason, Outcome.INFO)]
    assert subnet_result(data).verdict is B


def test_delegated_subnet_is_excluded() -> None:
    data = network(
        extra_subnets=[
            {
                "name": "sqlmi",
                "addressPrefix": "10.0.2.0/24",
                "delegations": ["Microsoft.Sql/managedInstances"],
            }
        ]
    )
    result = subnet_result(data, "V/sqlmi")
    assert result.verdict is Verdict.EXCLUDED
    assert [s.detail for s in result.notes] == [
        "delegated subnet (Microsoft.Sql/managedInstances): outbound is managed by the service"
    ]


def test_exclude_subnets_config() -> None:
    data = network(
        subnet={"defaultOutboundAccess": False},
        extra_subnets=[{"name": "T", "addressPrefix": "10.0.2.0/24", "defaultOutboundAccess": False}],
        settings={"excludeSubnets": ["V/T"]},
    )
    excluded = subnet_result(data, "V/T")
    assert excluded.verdict is Verdict.EXCLUDED
    assert [s.detail for s in excluded.notes] == ["excluded by config (excludeSubnets)"]
    assert subnet_result(data).verdict is B  # the same configuration, not excluded


def test_scope_windows_vm_subnets() -> None:
    data = network(
        extra_subnets=[
            {"name": "W", "addressPrefix": "10.0.2.0/24"},
            {"name": "L", "addressPrefix": "10.0.3.0/24"},
        ],
        settings={"scope": "windows-vm-subnets"},
        nics=[
            {"name": "wnic", "subnet": "V/W", "privateIp": "10.0.2.4"},
            {"name": "lnic", "subnet": "V/L", "privateIp": "10.0.3.4"},
        ],
        vms=[
            {"name": "win", "osType": "Windows", "nics": ["wnic"]},
            {"name": "lin", "osType": "Linux", "nics": ["lnic"]},
        ],
    )
    by_name = {s.name: s for s in analyze_data(data)}
    out_of_scope = "no Windows VM in this subnet in the stack (scope: windows-vm-subnets)"
    assert by_name["V/S"].verdict is Verdict.EXCLUDED
    assert [s.detail for s in by_name["V/S"].notes] == [out_of_scope]
    assert by_name["V/L"].verdict is Verdict.EXCLUDED
    assert by_name["V/W"].verdict is R
    assert [n.name for n in by_name["V/W"].nics] == ["wnic"]
    # The default scope judges every subnet.
    default = {s.name: s.verdict for s in analyze_data({**data, "settings": {}})}
    assert default == {"V/S": R, "V/W": R, "V/L": R}


@pytest.mark.parametrize("location", ["germanywestcentral", "germanynorth"])
def test_new_german_regions_use_public_endpoints(location: str) -> None:
    """R1.7: the new German regions are public cloud, not the closed Azure Germany."""
    result = subnet_result(network(location=location))
    assert result.cloud == "public"
    assert verdicts(result) == all_ips(R)
    assert {e.fqdn for e in result.endpoints} == {"azkms.core.windows.net", "kms.core.windows.net"}


def test_legacy_germany_uses_the_closed_cloud_endpoint() -> None:
    result = subnet_result(network(location="germanycentral"))
    assert result.cloud == "germany"
    assert verdicts(result) == {GERMANY_KMS: R}
    assert what(result.notes[0]) == Sentence(
        Say.CLOUD_CLOSED, subject="Microsoft Cloud Deutschland (closed 2021-10-29)"
    )


def test_china_location_uses_china_endpoints() -> None:
    result = subnet_result(network(location="chinanorth3"))
    assert result.cloud == "china"
    assert verdicts(result) == all_ips(R, CHINA_KMS)


def test_cloud_override_in_config() -> None:
    result = subnet_result(network(settings={"cloud": "usgov"}))
    assert result.cloud == "usgov"
    assert verdicts(result) == all_ips(R, USGOV_KMS)


def test_unattached_route_table_is_evaluated_as_if_attached() -> None:
    data = network(
        routeTables=[
            route_table("orphan", [route("default", "0.0.0.0/0", "VirtualNetworkGateway")], location="eastus")
        ]
    )
    by_name = {s.name: s for s in analyze_data(data)}
    assert set(by_name) == {"V/S", "orphan (not attached in this stack)"}
    assert by_name["V/S"].verdict is R  # the table is not attached to S
    orphan = by_name["orphan (not attached in this stack)"]
    assert verdicts(orphan) == all_ips(B)
    assert decision(orphan, IP1) == (Finding.ROUTE_FORCED_TUNNEL, "orphan#subnet", "default")
    assert decisive_what(orphan, IP1).say is Say.ROUTE_GATEWAY
    assert fixes(orphan) == [route_fix("orphan", SORTED_PUBLIC)]
    assert orphan.fixes_verified


def test_unattached_route_table_with_kms_routes_is_reachable() -> None:
    routes = [route("default", "0.0.0.0/0", "VirtualNetworkGateway"), *host_routes(PUBLIC_KMS)]
    data = network(routeTables=[route_table("orphan", routes, location="eastus")])
    assert verdicts(subnet_result(data, "orphan (not attached in this stack)")) == all_ips(R)


def test_declared_egress_appliance_is_reachable() -> None:
    """§3.5: an NVA declared as SNATing to an Azure public IP (plain IP string in config)."""
    result = subnet_result(
        network(subnet={"routeTable": "rt"}, settings={"egressAppliances": [NVA]}, **nva_default([]))
    )
    assert verdicts(result) == all_ips(R)
    assert decision(result, IP1) == (None, "V/S", None)
    assert decisive_what(result, IP1) == Sentence(Say.APPLIANCE_DECLARED, subject=NVA)
