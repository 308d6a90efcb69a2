"""Classic ``azure`` (pulumi-azure) resources → the model and verdicts, from bags (deployed and preview).

Scenarios follow docs/azure-kms-semantics.md §11 where the classic provider can express them; the
property names are pulumi-azure 6.40.1's. Every test runs on a stack export shape (known ARM ids)
and on a preview shape (ids unknown, references through property dependencies, §1.6).
"""

from __future__ import annotations

import pytest

from collect.classic import ClassicStack, Ref, arm_id
from kmsguard.analysis import Verdict, analyze
from kmsguard.collect.pulumi import PulumiResource, collect
from kmsguard.model import Network, Unknown

VNET = "azure:network/virtualNetwork:VirtualNetwork"
SUBNET = "azure:network/subnet:Subnet"
RT = "azure:network/routeTable:RouteTable"
ROUTE = "azure:network/route:Route"
RTA = "azure:network/subnetRouteTableAssociation:SubnetRouteTableAssociation"
NSG = "azure:network/networkSecurityGroup:NetworkSecurityGroup"
RULE = "azure:network/networkSecurityRule:NetworkSecurityRule"
NSGA = "azure:network/subnetNetworkSecurityGroupAssociation:SubnetNetworkSecurityGroupAssociation"
NIC = "azure:network/networkInterface:NetworkInterface"
NICA = "azure:network/networkInterfaceSecurityGroupAssociation:NetworkInterfaceSecurityGroupAssociation"
VM = "azure:compute/windowsVirtualMachine:WindowsVirtualMachine"
VNG = "azure:network/virtualNetworkGateway:VirtualNetworkGateway"
LNG = "azure:network/localNetworkGateway:LocalNetworkGateway"
FW = "azure:network/firewall:Firewall"
FWP = "azure:network/firewallPolicy:FirewallPolicy"
RCG = "azure:network/firewallPolicyRuleCollectionGroup:FirewallPolicyRuleCollectionGroup"
NAT = "azure:network/natGateway:NatGateway"
NATA = "azure:network/subnetNatGatewayAssociation:SubnetNatGatewayAssociation"
PIP = "azure:network/publicIp:PublicIp"
ZONE = "azure:privatedns/zone:Zone"
AREC = "azure:privatedns/aRecord:ARecord"
LINK = "azure:privatedns/zoneVirtualNetworkLink:ZoneVirtualNetworkLink"
# A network type not read yet (ExpressRoute: its BGP routes may force-tunnel, docs/rules.md#bgp-routes).
UNREAD = "azure:network/expressRouteCircuit:ExpressRouteCircuit"

DENY_INTERNET = {
    "name": "deny-internet",
    "priority": 100,
    "direction": "Outbound",
    "access": "Deny",
    "protocol": "*",
    "sourceAddressPrefix": "*",
    "sourcePortRange": "*",
    "destinationAddressPrefix": "Internet",
    "destinationPortRange": "*",
}
BOTH = pytest.mark.parametrize("deployed", [True, False], ids=["export", "preview"])


def spoke(s: ClassicStack, vnet: str = "vnet-spoke", prefix: str = "10.1") -> tuple[Ref, Ref]:
    v = s.add(VNET, vnet, {"name": vnet, "addressSpaces": [f"{prefix}.0.0/16"]})
    sub = s.add(
        SUBNET,
        f"{vnet}-app",
        {"name": "app", "virtualNetworkName": vnet, "addressPrefixes": [f"{prefix}.1.0/24"]},
        own_id=arm_id("virtualNetworks", vnet, ("subnets", "app")),
    )
    return v, sub


def verdicts(resources: list[PulumiResource]) -> dict[str, str]:
    return {s.name: s.verdict.value for s in analyze(collect(resources)).subnets}


def forced_tunnel(s: ClassicStack, sub: Ref, *, nsg_rules: list[dict[str, object]]) -> None:
    rt = s.add(
        RT,
        "rt",
        {
            "name": "rt-spoke",
            "routes": [
                {
                    "name": "default",
                    "addressPrefix": "0.0.0.0/0",
                    "nextHopType": "VirtualNetworkGateway",
                }
            ],
        },
    )
    s.add(RTA, "rta", {"subnetId": sub, "routeTableId": rt})
    nsg = s.add(NSG, "nsg", {"name": "nsg-app", "securityRules": nsg_rules})
    s.add(NSGA, "nsga", {"subnetId": sub, "networkSecurityGroupId": nsg})


@BOTH
def test_forced_tunnel_by_route_and_nsg_deny_is_blocked(deployed: bool) -> None:
    # §11: a 0.0.0.0/0 route to the gateway turns the KMS platform rule off (§4.5) and the NSG's
    # deny-Internet rule then drops TCP 1688; the silent pass, now read.
    s = ClassicStack(deployed)
    _, sub = spoke(s)
    forced_tunnel(s, sub, nsg_rules=[DENY_INTERNET])
    network = collect(s.resources)
    subnet = network.subnets[s.urn(SUBNET, "vnet-spoke-app")]
    assert subnet.route_table == s.urn(RT, "rt")
    assert subnet.nsg == s.urn(NSG, "nsg")
    assert verdicts(s.resources) == {"vnet-spoke-app": "blocked"}
    assert network.problems == ()


@BOTH
def test_standalone_route_and_rule_and_positive_propagation_flag(deployed: bool) -> None:
    s = ClassicStack(deployed)
    _, sub = spoke(s)
    rt = s.add(RT, "rt", {"name": "rt-spoke", "bgpRoutePropagationEnabled": False})
    s.add(
        ROUTE,
        "r0",
        {
            "name": "to-nva",
            "routeTableName": "rt-spoke",
            "addressPrefix": "0.0.0.0/0",
            "nextHopType": "VirtualAppliance",
            "nextHopInIpAddress": "10.0.0.4",
        },
    )
    s.add(RTA, "rta", {"subnetId": sub, "routeTableId": rt})
    nsg = s.add(NSG, "nsg", {"name": "nsg-app"})
    s.add(RULE, "deny", {**DENY_INTERNET, "networkSecurityGroupName": "nsg-app"})
    s.add(NSGA, "nsga", {"subnetId": sub, "networkSecurityGroupId": nsg})
    network = collect(s.resources)
    table = network.route_tables[s.urn(RT, "rt")]
    assert table.disable_bgp_route_propagation is True
    assert isinstance(table.routes, tuple)
    assert [(r.name, r.address_prefix, r.next_hop_type, r.next_hop_ip, r.urn) for r in table.routes] == [
        ("to-nva", "0.0.0.0/0", "VirtualAppliance", "10.0.0.4", s.urn(ROUTE, "r0"))
    ]
    group = network.nsgs[s.urn(NSG, "nsg")]
    assert isinstance(group.rules, tuple)
    assert [(r.name, r.priority, r.access, r.destination_address_prefixes) for r in group.rules] == [
        ("deny-internet", 100, "Deny", ("Internet",))
    ]
    assert verdicts(s.resources) == {"vnet-spoke-app": "blocked"}


@BOTH
def test_nsg_deny_without_a_custom_default_route_is_reachable(deployed: bool) -> None:
    # §4.5 R4.1: without a custom 0.0.0.0/0 the KMS platform rule lets TCP 1688 past the NSG.
    s = ClassicStack(deployed)
    _, sub = spoke(s)
    nsg = s.add(NSG, "nsg", {"name": "nsg-app", "securityRules": [DENY_INTERNET]})
    s.add(NSGA, "nsga", {"subnetId": sub, "networkSecurityGroupId": nsg})
    assert verdicts(s.resources) == {"vnet-spoke-app": "reachable"}


@BOTH
def test_vpn_default_site_is_forced_tunnelling(deployed: bool) -> None:
    # §3.1: a VPN gateway's default site (classic defaultLocalNetworkGatewayId) sends 0.0.0.0/0 on-premises.
    s = ClassicStack(deployed)
    s.add(VNET, "hub", {"name": "vnet-hub", "addressSpaces": ["10.0.0.0/16"]})
    gw_subnet = s.add(
        SUBNET,
        "gw",
        {"name": "GatewaySubnet", "virtualNetworkName": "vnet-hub", "addressPrefixes": ["10.0.255.0/27"]},
        own_id=arm_id("virtualNetworks", "vnet-hub", ("subnets", "GatewaySubnet")),
    )
    app = s.add(
        SUBNET,
        "app",
        {"name": "app", "virtualNetworkName": "vnet-hub", "addressPrefixes": ["10.0.1.0/24"]},
        own_id=arm_id("virtualNetworks", "vnet-hub", ("subnets", "app")),
    )
    site = s.add(LNG, "onprem", {"name": "lng-onprem", "gatewayAddress": "198.51.100.1"})
    pip = s.add(PIP, "gw-pip", {"name": "pip-gw", "allocationMethod": "Static", "sku": "Standard"})
    s.add(
        VNG,
        "vpn",
        {
            "name": "vpn-hub",
            "type": "Vpn",
            "vpnType": "RouteBased",
            "sku": "VpnGw1",
            "defaultLocalNetworkGatewayId": site,
            "ipConfigurations": [{"name": "ipc", "subnetId": gw_subnet, "publicIpAddressId": pip}],
        },
    )
    nsg = s.add(NSG, "nsg", {"name": "nsg-app", "securityRules": [DENY_INTERNET]})
    s.add(NSGA, "nsga", {"subnetId": app, "networkSecurityGroupId": nsg})
    network = collect(s.resources)
    gateway = network.gateways[s.urn(VNG, "vpn")]
    assert (gateway.vnet, gateway.gateway_type, gateway.default_site) == (
        s.urn(VNET, "hub"),
        "Vpn",
        s.urn(LNG, "onprem"),
    )
    assert verdicts(s.resources) == {"gw": "excluded", "app": "blocked"}


@pytest.mark.parametrize("spelling", ["bgpEnabled", "enableBgp"])
def test_a_gateway_with_bgp_on_in_either_spelling_has_bgp_routes(spelling: str) -> None:
    # pulumi-azure 6 still accepts the deprecated enable_bgp; either spelling turns BGP on, and routes
    # learnt over BGP may carry 0.0.0.0/0 (docs/rules.md#bgp-routes).
    s = ClassicStack(True)
    s.add(VNET, "hub", {"name": "vnet-hub", "addressSpaces": ["10.0.0.0/16"]})
    gw_subnet = s.add(
        SUBNET,
        "gw",
        {"name": "GatewaySubnet", "virtualNetworkName": "vnet-hub", "addressPrefixes": ["10.0.0.0/27"]},
        own_id=arm_id("virtualNetworks", "vnet-hub", ("subnets", "GatewaySubnet")),
    )
    s.add(
        SUBNET,
        "app",
        {"name": "app", "virtualNetworkName": "vnet-hub", "addressPrefixes": ["10.0.1.0/24"]},
        own_id=arm_id("virtualNetworks", "vnet-hub", ("subnets", "app")),
    )
    pip = s.add(PIP, "gw-pip", {"name": "pip-gw", "allocationMethod": "Static", "sku": "Standard"})
    s.add(
        VNG,
        "vpn",
        {
            "name": "vpn-hub",
            "type": "Vpn",
            "vpnType": "RouteBased",
            "sku": "VpnGw1",
            spelling: True,
            "ipConfigurations": [{"name": "ipc", "subnetId": gw_subnet, "publicIpAddressId": pip}],
        },
    )
    assert collect(s.resources).gateways[s.urn(VNG, "vpn")].enable_bgp is True
    assert verdicts(s.resources) == {"gw": "excluded", "app": "unknown"}


@BOTH
def test_nat_gateway_on_a_private_subnet(deployed: bool) -> None:
    # §5.3: a private subnet (no default outbound access) needs explicit outbound: a NAT gateway.
    s = ClassicStack(deployed)
    s.add(VNET, "vnet", {"name": "vnet-spoke", "addressSpaces": ["10.1.0.0/16"]})
    sub = s.add(
        SUBNET,
        "app",
        {
            "name": "app",
            "virtualNetworkName": "vnet-spoke",
            "addressPrefixes": ["10.1.1.0/24"],
            "defaultOutboundAccessEnabled": False,
        },
        own_id=arm_id("virtualNetworks", "vnet-spoke", ("subnets", "app")),
    )
    assert verdicts(s.resources) == {"app": "blocked"}
    nat = s.add(NAT, "nat", {"name": "nat-spoke", "skuName": "Standard"})
    s.add(NATA, "nata", {"subnetId": sub, "natGatewayId": nat})
    network = collect(s.resources)
    assert network.subnets[s.urn(SUBNET, "app")].nat_gateway == s.urn(NAT, "nat")
    assert verdicts(s.resources) == {"app": "reachable"}


def hub_with_firewall(s: ClassicStack, rule_ports: list[str] | None) -> None:
    s.add(VNET, "hub", {"name": "vnet-hub", "addressSpaces": ["10.0.0.0/16"]})
    fw_subnet = s.add(
        SUBNET,
        "fw-subnet",
        {"name": "AzureFirewallSubnet", "virtualNetworkName": "vnet-hub", "addressPrefixes": ["10.0.0.0/26"]},
        own_id=arm_id("virtualNetworks", "vnet-hub", ("subnets", "AzureFirewallSubnet")),
    )
    policy = s.add(FWP, "policy", {"name": "fwp-hub", "sku": "Standard"})
    if rule_ports is not None:
        s.add(
            RCG,
            "rcg",
            {
                "name": "kms",
                "priority": 200,
                "firewallPolicyId": policy,
                "networkRuleCollections": [
                    {
                        "name": "allow-kms",
                        "priority": 100,
                        "action": "Allow",
                        "rules": [
                            {
                                "name": "kms",
                                "protocols": ["TCP"],
                                "sourceAddresses": ["10.1.0.0/16"],
                                "destinationAddresses": ["20.118.99.224", "40.83.235.53", "23.102.135.246"],
                                "destinationPorts": rule_ports,
                            }
                        ],
                    }
                ],
            },
        )
    pip = s.add(PIP, "fw-pip", {"name": "pip-fw", "allocationMethod": "Static", "sku": "Standard"})
    s.add(
        FW,
        "fw",
        {
            "name": "fw-hub",
            "skuName": "AZFW_VNet",
            "skuTier": "Standard",
            "firewallPolicyId": policy,
            "ipConfigurations": [
                {
                    "name": "ipc",
                    "subnetId": fw_subnet,
                    "publicIpAddressId": pip,
                    "privateIpAddress": "10.0.0.4",
                }
                if s.deployed
                else {"name": "ipc", "subnetId": fw_subnet, "publicIpAddressId": pip}
            ],
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


@BOTH
@pytest.mark.parametrize(
    ("ports", "expected"), [(["1688"], "reachable"), (["443"], "blocked"), (None, "blocked")]
)
def test_firewall_policy_with_and_without_a_tcp_1688_rule(
    deployed: bool, ports: list[str] | None, expected: str
) -> None:
    # §6.2: Azure Firewall denies by default; a network rule for TCP 1688 lets KMS through.
    s = ClassicStack(deployed)
    hub_with_firewall(s, ports)
    network = collect(s.resources)
    fw = network.firewalls[s.urn(FW, "fw")]
    assert (fw.vnet, fw.policy, fw.public_ip_count) == (s.urn(VNET, "hub"), s.urn(FWP, "policy"), 1)
    groups = network.firewall_policies[s.urn(FWP, "policy")].rule_collection_groups
    assert isinstance(groups, tuple)
    assert [g.name for g in groups] == ([] if ports is None else ["kms"])
    assert verdicts(s.resources)["vnet-spoke-app"] == expected


@BOTH
def test_private_dns_zone_shadowing_the_kms_name(deployed: bool) -> None:
    # §7.2: a private zone core.windows.net linked to the VNet answers for azkms.core.windows.net.
    s = ClassicStack(deployed)
    vnet, _ = spoke(s)
    s.add(ZONE, "zone", {"name": "core.windows.net"})
    s.add(
        LINK,
        "link",
        {"name": "link-spoke", "privateDnsZoneName": "core.windows.net", "virtualNetworkId": vnet},
    )
    network = collect(s.resources)
    link = network.dns_zone_links[s.urn(LINK, "link")]
    assert (link.zone, link.vnet) == (s.urn(ZONE, "zone"), s.urn(VNET, "vnet-spoke"))
    assert verdicts(s.resources) == {"vnet-spoke-app": "blocked"}
    s.add(
        AREC,
        "azkms",
        {"name": "azkms", "zoneName": "core.windows.net", "ttl": 300, "records": ["20.118.99.224"]},
    )
    zone = collect(s.resources).dns_zones[s.urn(ZONE, "zone")]
    assert isinstance(zone.records, tuple)
    assert [(r.name, r.type, r.values) for r in zone.records] == [("azkms", "A", ("20.118.99.224",))]


@BOTH
def test_windows_vm_and_nic_security_group_association(deployed: bool) -> None:
    s = ClassicStack(deployed)
    _, sub = spoke(s)
    nic = s.add(
        NIC,
        "nic",
        {
            "name": "nic-vm",
            "ipConfigurations": [{"name": "ipc", "subnetId": sub, "privateIpAddressAllocation": "Dynamic"}],
        },
    )
    nsg = s.add(NSG, "nsg", {"name": "nsg-nic", "securityRules": [DENY_INTERNET]})
    s.add(NICA, "nica", {"networkInterfaceId": nic, "networkSecurityGroupId": nsg})
    s.add(
        VM,
        "vm",
        {
            "name": "vm-app",
            "size": "Standard_B2s",
            "networkInterfaceIds": [nic],
            "sourceImageReference": {
                "publisher": "MicrosoftWindowsServer",
                "offer": "WindowsServer",
                "sku": "2022-datacenter-azure-edition",
                "version": "latest",
            },
        },
    )
    network = collect(s.resources)
    model_nic = network.nics[s.urn(NIC, "nic")]
    assert model_nic.nsg == s.urn(NSG, "nsg")
    assert isinstance(model_nic.ip_configurations, tuple)
    assert model_nic.ip_configurations[0].subnet == s.urn(SUBNET, "vnet-spoke-app")
    vm = network.vms[s.urn(VM, "vm")]
    assert (vm.os_type, vm.nics) == ("Windows", (s.urn(NIC, "nic"),))


def test_mixed_classic_and_azure_native_refer_to_each_other_by_id() -> None:
    # A classic route table associated with an azure-native subnet (same ARM ids in both providers).
    s = ClassicStack(deployed=True)
    native_vnet = "urn:pulumi:dev::classic::azure-native:network:VirtualNetwork::spoke"
    subnet_id = arm_id("virtualNetworks", "vnet-native", ("subnets", "app"))
    s.resources.append(
        PulumiResource(
            native_vnet,
            "azure-native:network:VirtualNetwork",
            "spoke",
            {
                "id": arm_id("virtualNetworks", "vnet-native"),
                "name": "vnet-native",
                "resourceGroupName": "rg-net",
                "location": "westeurope",
                "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
                "subnets": [{"name": "app", "addressPrefix": "10.2.1.0/24", "id": subnet_id}],
            },
        )
    )
    forced_tunnel(s, Ref("", subnet_id), nsg_rules=[DENY_INTERNET])
    network = collect(s.resources)
    subnet = network.subnets[f"{native_vnet}#subnets/app"]
    assert (subnet.route_table, subnet.nsg) == (s.urn(RT, "rt"), s.urn(NSG, "nsg"))
    assert verdicts(s.resources) == {"spoke/app": "blocked"}


# --- item 1: classic network types not read yet are reported and make the verdicts unknown ----------


@BOTH
def test_unread_classic_type_is_a_problem_and_turns_subnets_unknown(deployed: bool) -> None:
    s = ClassicStack(deployed)
    spoke(s)
    assert verdicts(s.resources) == {"vnet-spoke-app": "reachable"}
    s.add(UNREAD, "erc", {"name": "erc"})
    network = collect(s.resources)
    assert [(p.where, p.prop, p.message, p.urn) for p in network.problems] == [
        (
            "erc",
            "(type)",
            "azure:network/expressRouteCircuit:ExpressRouteCircuit is a classic azure (pulumi-azure) type "
            "kmsguard does not read yet; it may change the KMS path of any subnet in the stack, so their "
            "verdicts are unknown",
            s.urn(UNREAD, "erc"),
        )
    ]
    result = analyze(network)
    assert {x.name: x.verdict for x in result.subnets} == {"vnet-spoke-app": Verdict.UNKNOWN}
    details = [step.detail for e in result.subnets[0].endpoints for step in e.trace]
    assert any("erc (azure:network/expressRouteCircuit:ExpressRouteCircuit)" in d for d in details)


def test_unread_classic_type_alone_is_still_reported() -> None:
    # No subnet at all: the report is the Problem (kms-unverified), never "no subnets" silently.
    s = ClassicStack()
    s.add("azure:network/virtualHub:VirtualHub", "hub", {"name": "vhub"})
    network = collect(s.resources)
    assert [(p.where, p.prop) for p in network.problems] == [("hub", "(type)")]
    assert network.subnets == {}


def test_irrelevant_and_non_network_classic_types_are_not_reported() -> None:
    s = ClassicStack()
    spoke(s)
    s.add("azure:core/resourceGroup:ResourceGroup", "rg", {"name": "rg-net"})
    s.add("azure:network/networkWatcher:NetworkWatcher", "nw", {"name": "nw"})
    s.add("azure:compute/managedDisk:ManagedDisk", "disk", {"name": "disk"})
    s.add("azure:storage/account:Account", "sa", {"name": "sa"})
    assert collect(s.resources).problems == ()
    assert verdicts(s.resources) == {"vnet-spoke-app": "reachable"}


def test_association_to_an_undeterminable_subnet_makes_every_subnet_route_table_unknown() -> None:
    s = ClassicStack(deployed=False)
    spoke(s)
    spoke(s, "vnet-two", "10.2")
    rt = s.add(RT, "rt", {"name": "rt", "routes": []})
    s.add(RTA, "rta", {"subnetId": "not-an-id", "routeTableId": rt})
    network: Network = collect(s.resources)
    tables = {k.rsplit("::", 1)[-1]: v.route_table for k, v in network.subnets.items()}
    assert all(isinstance(t, Unknown) for t in tables.values()), tables
    assert [(p.where, p.prop, p.message) for p in network.problems] == [
        ("rta", "subnetId", "not the ARM id of a subnet")
    ]
    # The table itself is still judged as if attached to a subnet of its location (DESIGN).
    assert verdicts(s.resources) == {
        "vnet-spoke-app": "unknown",
        "vnet-two-app": "unknown",
        "rt (not attached in this stack)": "reachable",
    }


def test_association_to_an_undeterminable_subnet_also_overrides_a_known_route_table() -> None:
    """A subnet that already has route table A may get B from an association whose subnet cannot be
    told: its route table is unknown, never kept as A (B could send KMS elsewhere)."""
    s = ClassicStack(deployed=False)
    _, sub = spoke(s)
    fine = s.add(RT, "rt-fine", {"name": "rt-fine", "routes": []})
    s.add(RTA, "rta-known", {"subnetId": sub, "routeTableId": fine})
    tunnel = s.add(RT, "rt-tunnel", {"name": "rt-tunnel", "routes": [
        {"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"}]})  # fmt: skip
    s.add(RTA, "rta-unknown", {"subnetId": "not-an-id", "routeTableId": tunnel})
    network: Network = collect(s.resources)
    (subnet,) = network.subnets.values()
    assert isinstance(subnet.route_table, Unknown)
    assert verdicts(s.resources)["vnet-spoke-app"] != "reachable"
