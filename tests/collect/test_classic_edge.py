"""Classic firewall rule collections, DNS resolver rulesets, AVNM security admin rules and gateway
connections (pulumi-azure 6.40.1 property names) → the model and verdicts.

Each family runs on a stack export (known ARM ids) and on a preview (ids unknown, references through
property dependencies), and has a case a translation cannot tell, which must be ``unknown``.
"""

from __future__ import annotations

from typing import Any

import pytest

from collect.classic import RG, SUB, ClassicStack, Ref, U, arm_id
from collect.test_classic_collect import FW, LNG, PIP, RT, RTA, SUBNET, VNET, VNG, spoke, verdicts
from kmsguard.collect.azure_classic import types
from kmsguard.collect.pulumi import PulumiResource, collect
from kmsguard.model import Unknown

FWNRC = "azure:network/firewallNetworkRuleCollection:FirewallNetworkRuleCollection"
FWARC = "azure:network/firewallApplicationRuleCollection:FirewallApplicationRuleCollection"
FWNAT = "azure:network/firewallNatRuleCollection:FirewallNatRuleCollection"
RULESET = "azure:privatedns/resolverDnsForwardingRuleset:ResolverDnsForwardingRuleset"
FRULE = "azure:privatedns/resolverForwardingRule:ResolverForwardingRule"
RLINK = "azure:privatedns/resolverVirtualNetworkLink:ResolverVirtualNetworkLink"
RESOLVER = "azure:privatedns/resolver:Resolver"
NM = "azure:network/networkManager:NetworkManager"
NG = "azure:network/networkManagerNetworkGroup:NetworkManagerNetworkGroup"
MEMBER = "azure:network/networkManagerStaticMember:NetworkManagerStaticMember"
SAC = "azure:network/networkManagerSecurityAdminConfiguration:NetworkManagerSecurityAdminConfiguration"
ARC = "azure:network/networkManagerAdminRuleCollection:NetworkManagerAdminRuleCollection"
AR = "azure:network/networkManagerAdminRule:NetworkManagerAdminRule"
DEPLOY = "azure:network/networkManagerDeployment:NetworkManagerDeployment"
CONNECTIVITY = "azure:network/networkManagerConnectivityConfiguration:NetworkManagerConnectivityConfiguration"
KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
BOTH = pytest.mark.parametrize("deployed", [True, False], ids=["export", "preview"])


def child(s: ClassicStack, token: str, name: str, props: dict[str, Any], own_id: str | None = None) -> Ref:
    """A classic child resource: no resourceGroupName or location of its own (the SDK has none)."""
    ref = s.add(token, name, props, own_id)
    raw = s.resources[-1]
    for key in ("resourceGroupName", "location"):
        if key not in props:
            raw.props.pop(key, None)
    return ref


def problems(resources: list[PulumiResource]) -> list[tuple[str, str]]:
    return [(p.where, p.prop) for p in collect(resources).problems]


# --- Azure Firewall classic network rule collections -------------------------------------------------


def hub_firewall(s: ClassicStack) -> None:
    """A classic firewall without policy in the hub; the spoke's 0/0 goes to it (§6)."""
    s.add(VNET, "hub", {"name": "vnet-hub", "addressSpaces": ["10.0.0.0/16"]})
    fw_subnet = s.add(
        SUBNET,
        "fw-subnet",
        {"name": "AzureFirewallSubnet", "virtualNetworkName": "vnet-hub", "addressPrefixes": ["10.0.0.0/26"]},
        own_id=arm_id("virtualNetworks", "vnet-hub", ("subnets", "AzureFirewallSubnet")),
    )
    pip = s.add(PIP, "fw-pip", {"name": "pip-fw", "allocationMethod": "Static", "sku": "Standard"})
    s.add(
        FW,
        "fw",
        {
            "name": "fw-hub",
            "skuName": "AZFW_VNet",
            "skuTier": "Standard",
            "ipConfigurations": [{"name": "ipc", "subnetId": fw_subnet, "publicIpAddressId": pip}],
        },
    )
    _, sub = spoke(s)
    rt = s.add(
        RT,
        "rt",
        {
            "name": "rt-spoke",
            "routes": [
                {
                    "name": "default",
                    "addressPrefix": "0.0.0.0/0",
                    "nextHopType": "VirtualAppliance",
                    "nextHopInIpAddress": "10.0.0.4",
                }
            ],
        },
    )
    s.add(RTA, "rta", {"subnetId": sub, "routeTableId": rt})


def network_rules(ports: Any, destinations: Any = KMS_IPS, protocols: Any = ("TCP",)) -> dict[str, Any]:
    return {
        "name": "allow-kms",
        "azureFirewallName": "fw-hub",
        "priority": 100,
        "action": "Allow",
        "rules": [
            {
                "name": "kms",
                "protocols": list(protocols),
                "sourceAddresses": ["10.1.0.0/16"],
                "destinationAddresses": destinations,
                "destinationPorts": ports,
            }
        ],
    }


@BOTH
@pytest.mark.parametrize(
    ("ports", "expected"), [(["1688"], "reachable"), (["443"], "blocked"), (None, "blocked")]
)
def test_firewall_network_rule_collection_with_and_without_tcp_1688(
    deployed: bool, ports: list[str] | None, expected: str
) -> None:
    s = ClassicStack(deployed)
    hub_firewall(s)
    if ports is not None:
        child(
            s,
            FWNRC,
            "nrc",
            network_rules(ports),
            own_id=arm_id("azureFirewalls", "fw-hub", ("networkRuleCollections", "allow-kms")),
        )
    network = collect(s.resources)
    assert network.problems == ()
    cols = network.firewalls[s.urn(FW, "fw")].classic_collections
    assert isinstance(cols, tuple)
    assert [(c.name, c.kind, c.priority, c.action) for c in cols] == (
        [] if ports is None else [("allow-kms", "network", 100, "Allow")]
    )
    if ports is not None:
        (rule,) = cols[0].rules if isinstance(cols[0].rules, tuple) else ()
        assert (rule.protocols, rule.destination_addresses, rule.destination_ports) == (
            ("TCP",),
            tuple(KMS_IPS),
            tuple(ports),
        )
    assert verdicts(s.resources)["vnet-spoke-app"] == expected


def test_firewall_collection_with_ports_not_known_until_deployment_is_unknown() -> None:
    s = ClassicStack(deployed=False)
    hub_firewall(s)
    child(s, FWNRC, "nrc", network_rules(U))
    assert verdicts(s.resources)["vnet-spoke-app"] == "unknown"


def test_firewall_collection_whose_firewall_cannot_be_told_makes_the_firewall_unknown() -> None:
    # azureFirewallName computed from an output without a dependency on a firewall: it may be fw-hub.
    s = ClassicStack(deployed=False)
    hub_firewall(s)
    child(s, FWNRC, "nrc", {**network_rules(["443"]), "azureFirewallName": U})
    cols = collect(s.resources).firewalls[s.urn(FW, "fw")].classic_collections
    assert isinstance(cols, Unknown)
    assert cols.why == "firewall rule collections nrc may belong to firewall fw"
    assert verdicts(s.resources)["vnet-spoke-app"] == "unknown"


def test_firewall_collection_replaces_its_read_back_on_an_azure_native_firewall() -> None:
    """Mixed: a classic collection on an azure-native firewall (by name); after a deployment the
    firewall's outputs list the collection too, and the classic resource's version counts once."""
    s = ClassicStack(deployed=True)
    hub_firewall(s)
    classic_fw = s.resources.pop(next(i for i, r in enumerate(s.resources) if r.type == FW))
    s.resources.append(
        PulumiResource(
            "urn:pulumi:dev::classic::azure-native:network:AzureFirewall::fw",
            "azure-native:network:AzureFirewall",
            "fw",
            {
                "id": arm_id("azureFirewalls", "fw-hub"),
                "name": "fw-hub",
                "azureFirewallName": "fw-hub",
                "resourceGroupName": RG,
                "location": "westeurope",
                "sku": {"name": "AZFW_VNet", "tier": "Standard"},
                "ipConfigurations": [
                    {
                        "name": "ipc",
                        "subnet": {"id": classic_fw.props["ipConfigurations"][0]["subnetId"]},
                        "publicIPAddress": {"id": arm_id("publicIPAddresses", "pip-fw")},
                        "privateIPAddress": "10.0.0.4",
                    }
                ],
                # The read-back of the classic collection as it was deployed before (with 1688).
                "networkRuleCollections": [
                    {
                        "name": "allow-kms",
                        "priority": 100,
                        "action": {"type": "Allow"},
                        "rules": [{"name": "kms", "protocols": ["TCP"], "sourceAddresses": ["*"],
                                   "destinationAddresses": KMS_IPS, "destinationPorts": ["1688"]}],
                    }
                ],
            },
        )
    )  # fmt: skip
    assert verdicts(s.resources)["vnet-spoke-app"] == "reachable"
    child(s, FWNRC, "nrc", network_rules(["443"]))
    cols = collect(s.resources).firewalls["urn:pulumi:dev::classic::azure-native:network:AzureFirewall::fw"]
    assert isinstance(cols.classic_collections, tuple)
    assert [(c.name, c.rules[0].destination_ports) for c in cols.classic_collections] == [  # type: ignore[index]
        ("allow-kms", ("443",))
    ]
    assert verdicts(s.resources)["vnet-spoke-app"] == "blocked"


@BOTH
def test_application_and_nat_rule_collections_cannot_allow_kms(deployed: bool) -> None:
    s = ClassicStack(deployed)
    hub_firewall(s)
    child(s, FWARC, "arc", {"name": "web", "azureFirewallName": "fw-hub", "priority": 100, "action": "Allow",
          "rules": [{"name": "all", "sourceAddresses": ["*"], "targetFqdns": ["*"],
                     "protocols": [{"port": 1688, "type": "Https"}]}]})  # fmt: skip
    child(s, FWNAT, "nat", {"name": "dnat", "azureFirewallName": "fw-hub", "priority": 100, "action": "Dnat",
          "rules": [{"name": "in", "sourceAddresses": ["*"], "destinationAddresses": ["1.2.3.4"],
                     "destinationPorts": ["1688"], "protocols": ["TCP"], "translatedAddress": "10.1.1.4",
                     "translatedPort": "1688"}]})  # fmt: skip
    assert problems(s.resources) == []
    assert verdicts(s.resources)["vnet-spoke-app"] == "blocked"


# --- DNS Private Resolver forwarding rulesets (§7.3) ---------------------------------------------------


def ruleset(s: ClassicStack, vnet: Ref, domain: Any, enabled: Any = None, ruleset_id: Any = None) -> None:
    rs = s.add(RULESET, "ruleset", {"name": "rs", "privateDnsResolverOutboundEndpointIds": [U]},
               own_id=arm_id("dnsForwardingRulesets", "rs"))  # fmt: skip
    rule: dict[str, Any] = {
        "name": "kms",
        "dnsForwardingRulesetId": rs if ruleset_id is None else ruleset_id,
        "domainName": domain,
        "targetDnsServers": [{"ipAddress": "10.9.9.9", "port": 53}],
    }
    if enabled is not None:
        rule["enabled"] = enabled
    child(s, FRULE, "rule", rule, own_id=arm_id("dnsForwardingRulesets", "rs", ("forwardingRules", "kms")))
    child(s, RLINK, "link", {"name": "spoke", "dnsForwardingRulesetId": rs, "virtualNetworkId": vnet},
          own_id=arm_id("dnsForwardingRulesets", "rs", ("virtualNetworkLinks", "spoke")))  # fmt: skip


@BOTH
@pytest.mark.parametrize(
    ("domain", "enabled", "expected"),
    [
        ("core.windows.net.", None, "unknown"),
        ("core.windows.net.", True, "unknown"),
        ("core.windows.net.", False, "reachable"),
        ("contoso.com.", None, "reachable"),
    ],
)
def test_forwarding_ruleset_linked_to_the_vnet(deployed: bool, domain: str, enabled: bool | None, expected: str) -> None:  # fmt: skip
    s = ClassicStack(deployed)
    vnet, _ = spoke(s)
    s.add(RESOLVER, "resolver", {"name": "resolver", "virtualNetworkId": vnet})
    ruleset(s, vnet, domain, enabled)
    network = collect(s.resources)
    assert network.problems == ()
    (rs,) = network.dns_rulesets.values()
    assert rs.vnets == (s.urn(VNET, "vnet-spoke"),)
    assert isinstance(rs.rules, tuple)
    assert [(r.name, r.domain_name, r.enabled, r.target_servers) for r in rs.rules] == [
        ("kms", domain, enabled is not False, ("10.9.9.9",))
    ]
    assert verdicts(s.resources)["vnet-spoke-app"] == expected


def test_forwarding_rule_whose_ruleset_cannot_be_told_is_unknown() -> None:
    s = ClassicStack(deployed=False)
    vnet, _ = spoke(s)
    ruleset(s, vnet, "contoso.com.", ruleset_id=U)
    (rs,) = collect(s.resources).dns_rulesets.values()
    assert isinstance(rs.rules, Unknown)
    assert verdicts(s.resources)["vnet-spoke-app"] == "unknown"


# --- AVNM security admin rules (§4.1) -------------------------------------------------------------------


def avnm(s: ClassicStack, vnet: Ref, *, access: str, deploy: Any, member: Any = None, region: Any = "westeurope") -> None:  # fmt: skip
    nm_id = arm_id("networkManagers", "avnm")
    nm = s.add(NM, "avnm", {"name": "avnm", "scope": {"subscriptionIds": [SUB]},
                            "scopeAccesses": ["SecurityAdmin"]}, own_id=nm_id)  # fmt: skip
    group = child(s, NG, "group", {"name": "spokes", "networkManagerId": nm},
                  own_id=arm_id("networkManagers", "avnm", ("networkGroups", "spokes")))  # fmt: skip
    child(s, MEMBER, "member", {"name": "spoke", "networkGroupId": group,
                                "targetVirtualNetworkId": vnet if member is None else member},
          own_id=arm_id("networkManagers", "avnm", ("networkGroups", "spokes"), ("staticMembers", "spoke")))  # fmt: skip
    sac = child(s, SAC, "sac", {"name": "sac", "networkManagerId": nm},
                own_id=arm_id("networkManagers", "avnm", ("securityAdminConfigurations", "sac")))  # fmt: skip
    coll = child(s, ARC, "coll", {"name": "coll", "securityAdminConfigurationId": sac, "networkGroupIds": [group]},
                 own_id=arm_id("networkManagers", "avnm", ("securityAdminConfigurations", "sac"),
                               ("ruleCollections", "coll")))  # fmt: skip
    child(s, AR, "rule", {"name": "kms", "adminRuleCollectionId": coll, "action": access, "direction": "Outbound",
                          "priority": 10, "protocol": "Tcp", "sources": [{"addressPrefix": "*", "addressPrefixType": "IPPrefix"}],
                          "destinations": [{"addressPrefix": "*", "addressPrefixType": "IPPrefix"}],
                          "sourcePortRanges": ["0-65535"], "destinationPortRanges": ["1688"]},
          own_id=arm_id("networkManagers", "avnm", ("securityAdminConfigurations", "sac"),
                        ("ruleCollections", "coll"), ("rules", "kms")))  # fmt: skip
    if deploy is not None:
        child(s, DEPLOY, "deploy", {"networkManagerId": nm, "location": region, "scopeAccess": deploy,
                                    "configurationIds": [sac]},
              own_id=f"{nm_id}/commit|westeurope|{deploy}")  # fmt: skip


def forced_tunnel_with_nsg_allow(s: ClassicStack, sub: Ref) -> None:
    """0/0 to a gateway with /32 KMS routes: NSGs (and admin rules) decide KMS traffic (§4)."""
    routes = [{"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "None"}] + [
        {"name": f"kms-{i}", "addressPrefix": f"{ip}/32", "nextHopType": "Internet"}
        for i, ip in enumerate(KMS_IPS)
    ]
    rt = s.add(RT, "rt", {"name": "rt-spoke", "routes": routes})
    s.add(RTA, "rta", {"subnetId": sub, "routeTableId": rt})


@BOTH
@pytest.mark.parametrize(
    ("access", "deploy", "expected"),
    [
        ("Deny", "SecurityAdmin", "blocked"),
        ("Deny", "Connectivity", "unknown"),
        ("Deny", None, "unknown"),
        ("Allow", "SecurityAdmin", "reachable"),
    ],
)
def test_admin_rule_applies_once_a_security_admin_deployment_lists_its_configuration(
    deployed: bool, access: str, deploy: str | None, expected: str
) -> None:
    s = ClassicStack(deployed)
    vnet, sub = spoke(s)
    forced_tunnel_with_nsg_allow(s, sub)
    avnm(s, vnet, access=access, deploy=deploy)
    network = collect(s.resources)
    assert network.problems == ()
    (rule,) = network.admin_rules
    assert (rule.access, rule.direction, rule.protocol, rule.destination_port_ranges) == (
        access, "Outbound", "Tcp", ("1688",),
    )  # fmt: skip
    if deploy == "SecurityAdmin":
        assert rule.vnets == (s.urn(VNET, "vnet-spoke"),)
    else:
        assert isinstance(rule.vnets, Unknown) and rule.vnets.why.startswith("not deployed")
    assert verdicts(s.resources)["vnet-spoke-app"] == expected


def test_subnet_member_of_a_network_group_is_unknown() -> None:
    s = ClassicStack(deployed=True)
    vnet, sub = spoke(s)
    forced_tunnel_with_nsg_allow(s, sub)
    avnm(s, vnet, access="Deny", deploy="SecurityAdmin", member=sub)
    (rule,) = collect(s.resources).admin_rules
    assert isinstance(rule.vnets, tuple) and all(isinstance(v, Unknown) for v in rule.vnets)
    assert verdicts(s.resources)["vnet-spoke-app"] == "unknown"


def test_avnm_connectivity_configuration_stays_unread() -> None:
    # It can peer the spoke to a hub (with its gateway): not read, so reported and unknown.
    s = ClassicStack(deployed=True)
    spoke(s)
    child(
        s, CONNECTIVITY, "conn", {"name": "hub-spoke", "networkManagerId": arm_id("networkManagers", "avnm")}
    )
    assert problems(s.resources) == [("conn", "(type)")]
    assert verdicts(s.resources)["vnet-spoke-app"] == "unknown"


def test_read_and_classified_types_are_not_reported_as_unread() -> None:
    read = (FWNRC, RULESET, FRULE, RLINK, NM, NG, MEMBER, SAC, ARC, AR, DEPLOY, FWARC, FWNAT, RESOLVER, CONN)
    for token in read:
        assert not types.unread(token), token
    assert types.unread(CONNECTIVITY)
    assert types.unread("azure:network/networkManagerRoutingRule:NetworkManagerRoutingRule")


# --- VPN gateway connections (§2: gateway routes from local network gateways) -------------------------

CONN = "azure:network/virtualNetworkGatewayConnection:VirtualNetworkGatewayConnection"


def vpn(s: ClassicStack, *, lng_space: Any, ctype: str = "IPsec", lng: Any = None) -> None:
    """A static (no BGP, no Default Site) VPN gateway in the spoke with one connection."""
    spoke(s)
    gw_subnet = s.add(
        SUBNET,
        "gw",
        {"name": "GatewaySubnet", "virtualNetworkName": "vnet-spoke", "addressPrefixes": ["10.1.255.0/27"]},
        own_id=arm_id("virtualNetworks", "vnet-spoke", ("subnets", "GatewaySubnet")),
    )
    site = s.add(
        LNG, "onprem", {"name": "lng-onprem", "gatewayAddress": "198.51.100.1", "addressSpaces": lng_space}
    )
    pip = s.add(PIP, "gw-pip", {"name": "pip-gw", "allocationMethod": "Static", "sku": "Standard"})
    gw = s.add(VNG, "vpn", {"name": "vpn", "type": "Vpn", "vpnType": "RouteBased", "sku": "VpnGw1",
                            "bgpEnabled": False,
                            "ipConfigurations": [{"name": "ipc", "subnetId": gw_subnet, "publicIpAddressId": pip}]})  # fmt: skip
    s.add(CONN, "conn", {"name": "to-onprem", "type": ctype, "virtualNetworkGatewayId": gw,
                         "localNetworkGatewayId": site if lng is None else lng, "sharedKey": "k"})  # fmt: skip


@BOTH
@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (["192.168.0.0/16", "172.16.0.0/12"], "reachable"),
        (["0.0.0.0/0"], "unknown"),
        (["20.0.0.0/8"], "unknown"),
    ],
)
def test_connection_static_routes_to_public_space_are_unknown(deployed: bool, space: list[str], expected: str) -> None:  # fmt: skip
    s = ClassicStack(deployed)
    vpn(s, lng_space=space)
    network = collect(s.resources)
    assert network.problems == ()
    assert verdicts(s.resources) == {"vnet-spoke-app": expected, "gw": "excluded"}


def test_connection_to_a_local_network_gateway_outside_the_stack_is_unknown() -> None:
    s = ClassicStack(deployed=True)
    vpn(s, lng_space=["192.168.0.0/16"], lng=arm_id("localNetworkGateways", "elsewhere"))
    subnet = collect(s.resources).subnets[s.urn(SUBNET, "vnet-spoke-app")]
    assert isinstance(subnet.route_table, Unknown)
    assert subnet.route_table.why == (
        "connection conn: the local network gateway of connection conn is not in the stack "
        "(docs/rules.md#azure-public-source)"
    )
    assert verdicts(s.resources)["vnet-spoke-app"] == "unknown"


def test_connection_with_an_address_space_not_known_until_deployment_is_unknown() -> None:
    s = ClassicStack(deployed=False)
    vpn(s, lng_space=[U])
    assert verdicts(s.resources)["vnet-spoke-app"] == "unknown"


def test_mixed_classic_ruleset_with_an_azure_native_rule_and_vnet() -> None:
    """A classic ruleset linked (classic link, by id) to an azure-native VNet, whose rule is an
    azure-native ForwardingRule naming the classic ruleset: one ruleset, forwarding the KMS zone."""
    s = ClassicStack(deployed=True)
    native = "urn:pulumi:dev::classic::azure-native:network:VirtualNetwork::spoke"
    s.resources.append(
        PulumiResource(
            native,
            "azure-native:network:VirtualNetwork",
            "spoke",
            {
                "id": arm_id("virtualNetworks", "vnet-native"),
                "name": "vnet-native",
                "resourceGroupName": RG,
                "location": "westeurope",
                "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
                "subnets": [{"name": "app", "addressPrefix": "10.2.1.0/24"}],
            },
        )
    )
    s.add(RULESET, "ruleset", {"name": "rs"}, own_id=arm_id("dnsForwardingRulesets", "rs"))
    child(s, RLINK, "link", {"name": "spoke", "dnsForwardingRulesetId": arm_id("dnsForwardingRulesets", "rs"),
                             "virtualNetworkId": arm_id("virtualNetworks", "vnet-native")})  # fmt: skip
    assert verdicts(s.resources) == {"spoke/app": "reachable"}
    s.resources.append(
        PulumiResource(
            "urn:pulumi:dev::classic::azure-native:dnsresolver:ForwardingRule::kms",
            "azure-native:dnsresolver:ForwardingRule",
            "kms",
            {"resourceGroupName": RG, "dnsForwardingRulesetName": "rs", "forwardingRuleName": "kms",
             "domainName": "core.windows.net.", "targetDnsServers": [{"ipAddress": "10.9.9.9"}]},
        )
    )  # fmt: skip
    (rs,) = collect(s.resources).dns_rulesets.values()
    assert rs.vnets == (native,)
    assert isinstance(rs.rules, tuple) and [r.name for r in rs.rules] == ["kms"]
    assert verdicts(s.resources) == {"spoke/app": "unknown"}


@BOTH
@pytest.mark.parametrize(
    ("region", "expected"), [("West Europe", "blocked"), ("eastus", "unknown"), (U, "unknown")]
)
def test_admin_rule_applies_in_the_region_its_deployment_targets(deployed: bool, region: str, expected: str) -> None:  # fmt: skip
    # A classic deployment deploys to its location only; the spoke is in westeurope.
    s = ClassicStack(deployed)
    vnet, sub = spoke(s)
    forced_tunnel_with_nsg_allow(s, sub)
    avnm(s, vnet, access="Deny", deploy="SecurityAdmin", region=region)
    rules = collect(s.resources).admin_rules
    if expected == "blocked":
        assert [r.vnets for r in rules] == [(s.urn(VNET, "vnet-spoke"),)]
    elif region == "eastus":
        assert [r.vnets for r in rules] == [(), Unknown(
            "not deployed: no NetworkManagerDeployment in the stack deploys the security admin configuration "
            "of rule to the region of vnet-spoke")]  # fmt: skip
    else:
        assert [r.vnets for r in rules] == [Unknown(
            "not deployed: the region a NetworkManagerDeployment deploys the security admin configuration of "
            "rule to is not known")]  # fmt: skip
    assert verdicts(s.resources)["vnet-spoke-app"] == expected


@pytest.mark.parametrize(("space", "expected"), [("10.0.0.0/16", "reachable"), ("20.118.0.0/16", "unknown")])
def test_vnet_to_vnet_connection_adds_the_peer_vnet_space(space: str, expected: str) -> None:
    s = ClassicStack(deployed=True)
    vpn(s, lng_space=["192.168.0.0/16"], ctype="Vnet2Vnet")
    s.add(VNET, "peer", {"name": "vnet-peer", "addressSpaces": [space]})
    peer_subnet = s.add(
        SUBNET,
        "peer-gw",
        {
            "name": "GatewaySubnet",
            "virtualNetworkName": "vnet-peer",
            "addressPrefixes": [space.replace("/16", "/27")],
        },
        own_id=arm_id("virtualNetworks", "vnet-peer", ("subnets", "GatewaySubnet")),
    )
    peer = s.add(VNG, "peer-vpn", {"name": "peer-vpn", "type": "Vpn", "vpnType": "RouteBased", "sku": "VpnGw1",
                                   "bgpEnabled": False,
                                   "ipConfigurations": [{"name": "ipc", "subnetId": peer_subnet}]})  # fmt: skip
    conn = next(r for r in s.resources if r.type == CONN)
    conn.props["peerVirtualNetworkGatewayId"] = peer.value
    assert verdicts(s.resources)["vnet-spoke-app"] == expected
