"""kmsguard.collect.pulumi: Pulumi resources → the network model, with exact model values.

Bags are built as the pack receives them: ``preview(...)`` reproduces azure-native's preview
projection (unset outputs are the sentinel, path parameters are gone, property dependencies carry
the links), ``inputs(...)`` is the runner's/Analyze's view.
"""

from __future__ import annotations

from typing import Any

import pytest

from kmsguard.analysis import Verdict, analyze
from kmsguard.collect.pulumi import PulumiResource, collect, from_stack_export
from kmsguard.model import (
    AddressMatch,
    BackendPool,
    DnsRecord,
    FirewallNetworkRule,
    FirewallRuleCollection,
    ForwardingRule,
    ImageReference,
    IpConfiguration,
    Network,
    Origin,
    Peering,
    Problem,
    Route,
    SecurityRule,
    Subnet,
    Unknown,
)

from .preview import U, arm_id, inputs, preview, secret, urn

RG = "rg-net"
LOC = "westeurope"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
RT = "azure-native:network:RouteTable"
ROUTE = "azure-native:network:Route"
NSG = "azure-native:network:NetworkSecurityGroup"
RULE = "azure-native:network:SecurityRule"
NIC = "azure-native:network:NetworkInterface"
VM = "azure-native:compute:VirtualMachine"
VMSS = "azure-native:compute:VirtualMachineScaleSet"
FW = "azure-native:network:AzureFirewall"
POLICY = "azure-native:network:FirewallPolicy"
RCG = "azure-native:network:FirewallPolicyRuleCollectionGroup"
PIP = "azure-native:network:PublicIPAddress"
GW = "azure-native:network:VirtualNetworkGateway"
LGW = "azure-native:network:LocalNetworkGateway"
KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]


def key(token: str, name: str) -> str:
    return urn(token, name)


def is_unknown(value: object, *words: str) -> bool:
    return isinstance(value, Unknown) and all(w in value.why for w in words)


# --- virtual networks and subnets ----------------------------------------------------------------


def hub_vnet(**extra: Any) -> PulumiResource:
    return preview(
        VNET,
        "hub",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "AzureFirewallSubnet", "addressPrefix": "10.0.1.0/26"}],
            **extra,
        },
    )


def test_inline_subnet_route_table_by_property_dependency() -> None:
    rt = preview(RT, "rt-spoke", {"resourceGroupName": RG, "location": LOC})
    nat = preview("azure-native:network:NatGateway", "nat", {"resourceGroupName": RG, "location": LOC})
    vnet = preview(
        VNET,
        "spoke",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "dhcpOptions": {"dnsServers": ["10.0.1.4"]},
            "subnets": [
                {
                    "name": "app",
                    "addressPrefix": "10.1.0.0/24",
                    "routeTable": {"id": U},
                    "natGateway": {"id": U},
                },
                {
                    "name": "data",
                    "addressPrefixes": ["10.1.1.0/24", "10.1.2.0/24"],
                    "defaultOutboundAccess": False,
                },
            ],
        },
        deps={"subnets": [rt.urn, nat.urn]},
    )
    net = collect([vnet, rt, nat])
    v = key(VNET, "spoke")
    assert net.subnets[f"{v}#subnets/app"] == Subnet(
        key=f"{v}#subnets/app",
        origin=Origin("spoke/app", v, "Subnet"),
        subnet_name="app",
        vnet=v,
        address_prefixes=("10.1.0.0/24",),
        route_table=rt.urn,
        nsg=None,
        nat_gateway=nat.urn,
        default_outbound_access=None,
        delegations=(),
    )
    assert net.subnets[f"{v}#subnets/data"] == Subnet(
        f"{v}#subnets/data",
        Origin("spoke/data", v, "Subnet"),
        "data",
        v,
        ("10.1.1.0/24", "10.1.2.0/24"),
        default_outbound_access=False,
    )
    spoke = net.vnets[v]
    assert spoke.location == LOC
    assert spoke.address_prefixes == ("10.1.0.0/16",)
    assert spoke.dns_servers == ("10.0.1.4",)
    assert spoke.peerings == ()
    assert net.problems == ()


def test_standalone_subnet_parent_and_references_by_property_dependencies() -> None:
    vnet = preview(VNET, "spoke", {"resourceGroupName": RG, "location": LOC})
    rt = preview(RT, "rt", {"resourceGroupName": RG, "location": LOC})
    nsg = preview(NSG, "nsg", {"resourceGroupName": RG, "location": LOC})
    sub = preview(
        SUBNET,
        "app-subnet",
        {
            "resourceGroupName": RG,
            "virtualNetworkName": U,
            "subnetName": "app",
            "addressPrefix": "10.1.0.0/24",
            "routeTable": {"id": U},
            "networkSecurityGroup": {"id": U},
            "delegations": [{"name": "d", "serviceName": "Microsoft.Web/serverFarms"}],
        },
        deps={"virtualNetworkName": [vnet.urn], "routeTable": [rt.urn], "networkSecurityGroup": [nsg.urn]},
    )
    net = collect([sub, vnet, rt, nsg])
    s = net.subnets[sub.urn]
    assert s.vnet == vnet.urn
    assert s.route_table == rt.urn
    assert s.nsg == nsg.urn
    assert s.delegations == ("Microsoft.Web/serverFarms",)
    assert s.origin == Origin("app-subnet", sub.urn, "Subnet")
    # Path parameters are not outputs (§3.0): the Azure name is not visible in a preview projection.
    assert is_unknown(s.subnet_name, "app-subnet")
    # Outputs not set and not depended on read as absent, not unknown.
    assert s.nat_gateway is None and s.default_outbound_access is None
    # The VNet's own `subnets` output is unknown because it was not set inline: no Problem.
    assert net.problems == ()


def test_standalone_subnet_from_runner_inputs_uses_names() -> None:
    vnet = inputs(VNET, "hub", {"resourceGroupName": RG, "virtualNetworkName": "vnet-hub", "location": LOC})
    rt = inputs(RT, "rt", {"resourceGroupName": RG, "routeTableName": "rt-hub", "location": LOC})
    sub = inputs(
        SUBNET,
        "gw",
        {
            "resourceGroupName": RG,
            "virtualNetworkName": "VNET-HUB",  # Azure names compare case-insensitively
            "subnetName": "GatewaySubnet",
            "addressPrefix": "10.0.2.0/27",
            "routeTable": {"id": arm_id("RG-NET", "routeTables/rt-hub")},
        },
    )
    unnamed = inputs(
        SUBNET,
        "app",
        {"resourceGroupName": RG, "virtualNetworkName": "vnet-hub", "addressPrefix": "10.0.3.0/24"},
    )
    net = collect([vnet, rt, sub, unnamed])
    assert net.subnets[sub.urn].vnet == vnet.urn
    assert net.subnets[sub.urn].subnet_name == "GatewaySubnet"
    assert net.subnets[sub.urn].route_table == rt.urn
    # Check names an unnamed Subnet after its logical name (§2.6).
    assert net.subnets[unnamed.urn].subnet_name == "app"


def test_location_absent_is_the_provider_default() -> None:
    net = collect(
        [inputs(VNET, "v", {"resourceGroupName": RG, "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}})]
    )
    assert net.vnets[key(VNET, "v")].location == Unknown("location not set; the provider default applies")


def test_peerings_inline_and_standalone() -> None:
    hub = hub_vnet()
    spoke = preview(
        VNET,
        "spoke",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "virtualNetworkPeerings": [
                {"name": "to-hub", "remoteVirtualNetwork": {"id": U}, "useRemoteGateways": True},
            ],
        },
        deps={"virtualNetworkPeerings": [hub.urn]},
    )
    back = preview(
        "azure-native:network:VirtualNetworkPeering",
        "hub-to-spoke",
        {
            "resourceGroupName": RG,
            "virtualNetworkName": U,
            "remoteVirtualNetwork": {"id": U},
            "allowGatewayTransit": True,
        },
        deps={"virtualNetworkName": [hub.urn], "remoteVirtualNetwork": [spoke.urn]},
    )
    onprem = inputs(
        "azure-native:network:VirtualNetworkPeering",
        "to-shared",
        {
            "resourceGroupName": RG,
            "virtualNetworkName": U,
            "remoteVirtualNetwork": {"id": arm_id("rg-shared", "virtualNetworks/shared")},
            "remoteAddressSpace": {"addressPrefixes": ["10.9.0.0/16"]},
        },
        deps={"virtualNetworkName": [hub.urn]},
    )
    net = collect([hub, spoke, back, onprem])
    assert net.vnets[spoke.urn].peerings == (Peering("to-hub", hub.urn, True, None, None),)
    shared = "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-shared/providers/microsoft.network/virtualnetworks/shared"
    assert net.vnets[hub.urn].peerings == (
        Peering("hub-to-spoke", spoke.urn, None, True, None),
        Peering("to-shared", shared, None, None, ("10.9.0.0/16",)),
    )


# --- route tables ----------------------------------------------------------------------------------


def test_inline_and_standalone_routes_mixing_is_a_problem_and_keeps_both() -> None:
    rt = preview(
        RT,
        "rt",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "disableBgpRoutePropagation": True,
            "routes": [{"name": "kms", "addressPrefix": "20.118.99.224/32", "nextHopType": "Internet"}],
        },
    )
    child = preview(
        ROUTE,
        "default-route",
        {
            "resourceGroupName": RG,
            "routeTableName": U,
            "routeName": "default",
            "addressPrefix": "0.0.0.0/0",
            "nextHopType": "virtualnetworkgateway",  # enums keep their casing; the analysis canonicalises
        },
        deps={"routeTableName": [rt.urn]},
    )
    net = collect([rt, child])
    table = net.route_tables[rt.urn]
    assert table.disable_bgp_route_propagation is True
    assert table.routes == (
        Route("kms", "20.118.99.224/32", "Internet", None, None, None),
        # The Azure name is a path parameter (absent from a projection): the logical name stands in.
        Route("default-route", "0.0.0.0/0", "virtualnetworkgateway", None, None, child.urn),
    )
    [problem] = net.problems
    assert problem.where == "rt" and problem.prop == "routes" and problem.urn == rt.urn
    assert rt.urn in problem.message and child.urn in problem.message


def test_readback_of_standalone_children_in_state_outputs_is_not_mixing() -> None:
    """After a deployment the VNet's and the route table's outputs list the standalone children
    too (§3.3); those items are the children, not inline declarations."""
    vnet_id = arm_id(RG, "virtualNetworks/vnet-a")
    rt_id = arm_id(RG, "routeTables/rt-a")
    state = {
        "version": 3,
        "deployment": {
            "resources": [
                {
                    "urn": key(VNET, "a"),
                    "type": VNET,
                    "custom": True,
                    "inputs": {"resourceGroupName": RG, "virtualNetworkName": "vnet-a", "location": LOC},
                    "outputs": {
                        "id": vnet_id,
                        "name": "vnet-a",
                        "location": LOC,
                        "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
                        "subnets": [
                            {"id": f"{vnet_id}/subnets/app", "name": "app", "addressPrefix": "10.2.0.0/24"}
                        ],
                    },
                },
                {
                    "urn": key(SUBNET, "app"),
                    "type": SUBNET,
                    "custom": True,
                    "inputs": {"resourceGroupName": RG, "virtualNetworkName": "vnet-a", "subnetName": "app"},
                    "outputs": {
                        "id": f"{vnet_id}/subnets/app",
                        "name": "app",
                        "addressPrefix": "10.2.0.0/24",
                        "routeTable": {"id": rt_id.upper()},
                    },
                    "propertyDependencies": {"virtualNetworkName": [], "routeTable": []},
                },
                {
                    "urn": key(RT, "rt-a"),
                    "type": RT,
                    "custom": True,
                    "inputs": {"resourceGroupName": RG, "routeTableName": "rt-a", "location": LOC},
                    "outputs": {
                        "id": rt_id,
                        "name": "rt-a",
                        "location": LOC,
                        "routes": [
                            {
                                "id": f"{rt_id}/routes/r1",
                                "name": "r1",
                                "addressPrefix": "0.0.0.0/0",
                                "nextHopType": "Internet",
                            }
                        ],
                    },
                },
                {
                    "urn": key(ROUTE, "r1"),
                    "type": ROUTE,
                    "custom": True,
                    "inputs": {"resourceGroupName": RG, "routeTableName": "rt-a", "routeName": "r1"},
                    "outputs": {
                        "id": f"{rt_id}/routes/r1",
                        "name": "r1",
                        "addressPrefix": "0.0.0.0/0",
                        "nextHopType": "Internet",
                    },
                },
                {"urn": key(ROUTE, "gone"), "type": ROUTE, "delete": True, "inputs": {}, "outputs": {}},
            ]
        },
    }
    resources = from_stack_export(state)
    assert [r.name for r in resources] == ["a", "app", "rt-a", "r1"]
    net = collect(resources)
    assert net.problems == ()
    assert list(net.subnets) == [key(SUBNET, "app")]
    assert net.subnets[key(SUBNET, "app")].route_table == key(RT, "rt-a")
    assert net.subnets[key(SUBNET, "app")].vnet == key(VNET, "a")
    assert net.route_tables[key(RT, "rt-a")].routes == (
        Route("r1", "0.0.0.0/0", "Internet", None, None, key(ROUTE, "r1")),
    )


def test_orphan_route_makes_the_candidate_tables_unknown() -> None:
    rt = preview(RT, "rt", {"resourceGroupName": RG, "location": LOC, "routes": []})
    orphan = preview(
        ROUTE,
        "mystery",
        {"resourceGroupName": RG, "routeTableName": "rt-elsewhere?", "addressPrefix": "0.0.0.0/0"},
    )
    net = collect([rt, orphan])
    # Preview outputs lose routeTableName and nothing links it: it may belong to rt.
    assert is_unknown(net.route_tables[rt.urn].routes, "mystery")


def test_route_next_hop_firewall_by_property_dependency() -> None:
    hub = hub_vnet()
    fw = preview(
        FW,
        "fw",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "ipConfigurations": [{"name": "c", "subnet": {"id": U}, "publicIPAddress": {"id": U}}],
        },
        deps={"ipConfigurations": [hub.urn]},
    )
    route = preview(
        ROUTE,
        "to-fw",
        {
            "resourceGroupName": RG,
            "routeTableName": U,
            "addressPrefix": "0.0.0.0/0",
            "nextHopType": "VirtualAppliance",
            "nextHopIpAddress": U,
        },
        deps={"routeTableName": [key(RT, "rt")], "nextHopIpAddress": [fw.urn]},
    )
    rt = preview(RT, "rt", {"resourceGroupName": RG, "location": LOC})
    net = collect([hub, fw, route, rt])
    firewall = net.firewalls[fw.urn]
    # The private IP is an output (§0 fact 2): unknown during the preview.
    assert is_unknown(firewall.private_ip, "fw")
    assert firewall.vnet == hub.urn
    assert firewall.public_ip_count == 1
    assert firewall.management_ip_configuration is False
    [r] = net.route_tables[rt.urn].routes
    assert r.next_hop_resource == fw.urn
    assert is_unknown(r.next_hop_ip)


def test_route_next_hop_ip_in_azure_firewall_subnet_is_the_firewall() -> None:
    hub = hub_vnet()
    fw = preview(
        FW,
        "fw",
        {"resourceGroupName": RG, "location": LOC, "ipConfigurations": [{"subnet": {"id": U}}]},
        deps={"ipConfigurations": [hub.urn]},
    )
    rt = preview(
        RT,
        "rt",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "routes": [
                {
                    "name": "fw",
                    "addressPrefix": "0.0.0.0/0",
                    "nextHopType": "VirtualAppliance",
                    "nextHopIpAddress": "10.0.1.4",
                },
                {
                    "name": "nva",
                    "addressPrefix": "10.8.0.0/16",
                    "nextHopType": "VirtualAppliance",
                    "nextHopIpAddress": "10.0.9.4",
                },
            ],
        },
    )
    net = collect([hub, fw, rt])
    routes = net.route_tables[rt.urn].routes
    assert isinstance(routes, tuple)
    assert [r.next_hop_resource for r in routes] == [fw.urn, None]
    assert net.firewalls[fw.urn].public_ip_count == 0


def test_next_hop_depending_on_several_appliances_is_unknown() -> None:
    fw = preview(FW, "fw", {"resourceGroupName": RG, "location": LOC})
    nva = preview(NIC, "nva-nic", {"resourceGroupName": RG, "location": LOC})
    rt = preview(
        RT,
        "rt",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "routes": [
                {
                    "name": "d",
                    "addressPrefix": "0.0.0.0/0",
                    "nextHopType": "VirtualAppliance",
                    "nextHopIpAddress": U,
                }
            ],
        },
        deps={"routes": [fw.urn, nva.urn]},
    )
    net = collect([fw, nva, rt])
    [r] = net.route_tables[rt.urn].routes
    assert is_unknown(r.next_hop_resource, "fw", "nva-nic")


# --- NSGs ----------------------------------------------------------------------------------------------


def test_nsg_rules_inline_and_standalone_with_float_priorities() -> None:
    nsg = preview(
        NSG,
        "nsg",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "securityRules": [
                {
                    "name": "deny-internet",
                    "priority": 4000.0,
                    "direction": "Outbound",
                    "access": "Deny",
                    "protocol": "*",
                    "sourceAddressPrefix": "*",
                    "sourcePortRange": "*",
                    "destinationAddressPrefix": "Internet",
                    "destinationPortRange": "*",
                },
                {
                    "name": "odd",
                    "priority": 100.5,
                    "direction": "Outbound",
                    "access": "Allow",
                    "protocol": "Tcp",
                    "destinationAddressPrefixes": ["20.118.99.224/32", "40.83.235.53/32"],
                    "destinationPortRanges": ["1688"],
                },
            ],
        },
    )
    child = preview(
        RULE,
        "allow-kms",
        {
            "resourceGroupName": RG,
            "networkSecurityGroupName": U,
            "securityRuleName": "allow-kms",
            "priority": 100.0,
            "direction": "Outbound",
            "access": "Allow",
            "protocol": "Tcp",
            "destinationAddressPrefix": "23.102.135.246",
            "destinationPortRange": "1688",
        },
        deps={"networkSecurityGroupName": [nsg.urn]},
    )
    net = collect([nsg, child])
    rules = net.nsgs[nsg.urn].rules
    assert isinstance(rules, tuple)
    assert rules[0] == SecurityRule(
        "deny-internet", 4000, "Outbound", "Deny", "*", ("*",), ("*",), ("Internet",), ("*",)
    )
    assert is_unknown(rules[1].priority) and rules[1].destination_port_ranges == ("1688",)
    assert rules[2] == SecurityRule(
        "allow-kms", 100, "Outbound", "Allow", "Tcp", (), (), ("23.102.135.246",), ("1688",), urn=child.urn
    )
    assert Problem("nsg", "securityRules[1].priority", "expected a whole number", nsg.urn) in net.problems
    mixing = [p for p in net.problems if p.prop == "securityRules" and child.urn in p.message]
    assert len(mixing) == 1


def test_asg_references_by_id_and_by_dependency() -> None:
    asg = inputs(
        "azure-native:network:ApplicationSecurityGroup",
        "web",
        {"resourceGroupName": RG, "applicationSecurityGroupName": "asg-web"},
    )
    other = inputs("azure-native:network:ApplicationSecurityGroup", "db", {"resourceGroupName": RG})
    rule = inputs(
        RULE,
        "r",
        {
            "resourceGroupName": RG,
            "networkSecurityGroupName": "nsg-x",
            "priority": 200,
            "direction": "Outbound",
            "access": "Deny",
            "protocol": "*",
            "sourceApplicationSecurityGroups": [
                {"id": arm_id(RG, "applicationSecurityGroups/ASG-WEB")},
                {"id": U},
            ],
        },
        deps={"sourceApplicationSecurityGroups": [other.urn]},
    )
    nsg = inputs(NSG, "nsg", {"resourceGroupName": RG, "networkSecurityGroupName": "nsg-x"})
    net = collect([asg, other, rule, nsg])
    rules = net.nsgs[nsg.urn].rules
    assert isinstance(rules, tuple)
    assert rules[0].source_asgs == (asg.urn, other.urn)


# --- references by id ------------------------------------------------------------------------------------


def test_reference_outside_the_stack_keeps_the_normalised_id() -> None:
    sub = inputs(
        SUBNET,
        "app",
        {
            "resourceGroupName": RG,
            "virtualNetworkName": "vnet-spoke",
            "subnetName": "app",
            "routeTable": {"id": arm_id("RG-Shared", "routeTables/RT-Central")},
            "networkSecurityGroup": {"id": "not-an-arm-id"},
        },
    )
    vnet = inputs(
        VNET, "spoke", {"resourceGroupName": RG, "virtualNetworkName": "vnet-spoke", "location": LOC}
    )
    net = collect([sub, vnet])
    s = net.subnets[sub.urn]
    assert s.route_table == (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-shared/providers/microsoft.network/routetables/rt-central"
    )
    assert is_unknown(s.nsg)
    assert Problem("app", "networkSecurityGroup.id", "not an ARM resource id", sub.urn) in net.problems


def test_reference_to_a_resource_whose_name_is_unknown_is_unknown_not_outside() -> None:
    rt = preview(
        RT, "rt", {"resourceGroupName": RG, "location": LOC}
    )  # name is not an output of a projection
    sub = inputs(
        SUBNET,
        "app",
        {
            "resourceGroupName": RG,
            "virtualNetworkName": "v",
            "subnetName": "app",
            "routeTable": {"id": arm_id(RG, "routeTables/rt-app")},
        },
    )
    net = collect([rt, sub])
    assert is_unknown(net.subnets[sub.urn].route_table, "rt-app", "may be rt")


def test_inline_subnet_reference_with_unknown_vnet_part() -> None:
    vnet = preview(
        VNET,
        "spoke",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "subnets": [
                {"name": "app", "addressPrefix": "10.1.0.0/24"},
                {"name": "web", "addressPrefix": "10.1.1.0/24"},
            ],
        },
    )
    nic = inputs(
        NIC,
        "nic",
        {
            "resourceGroupName": RG,
            "ipConfigurations": [
                {"name": "a", "subnet": {"id": arm_id(RG, f"virtualNetworks/{U}/subnets/web")}},
                {"name": "b", "subnet": {"id": U}},
            ],
        },
        deps={"ipConfigurations": [vnet.urn]},
    )
    net = collect([vnet, nic])
    ipcs = net.nics[nic.urn].ip_configurations
    assert isinstance(ipcs, tuple)
    assert ipcs[0].subnet == f"{vnet.urn}#subnets/web"
    # The VNet has two subnets and nothing tells which one: unknown.
    assert is_unknown(ipcs[1].subnet, "one of the 2 subnets")


def test_ambiguous_property_dependencies_are_unknown() -> None:
    a = preview(RT, "a", {"resourceGroupName": RG, "location": LOC})
    b = preview(RT, "b", {"resourceGroupName": RG, "location": LOC})
    sub = preview(
        SUBNET,
        "s",
        {"resourceGroupName": RG, "virtualNetworkName": "v", "routeTable": {"id": U}},
        deps={"routeTable": [a.urn, b.urn]},
    )
    net = collect([a, b, sub])
    assert is_unknown(net.subnets[sub.urn].route_table, "several")


# --- NICs, VMs, scale sets, load balancers --------------------------------------------------------------


def test_nic_vm_windows_and_load_balancer() -> None:
    vnet = preview(
        VNET,
        "spoke",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "subnets": [{"name": "app", "addressPrefix": "10.1.0.0/24"}],
        },
    )
    pip = preview(PIP, "pip", {"resourceGroupName": RG, "location": LOC})
    nsg = preview(NSG, "nic-nsg", {"resourceGroupName": RG, "location": LOC})
    lb = preview(
        "azure-native:network:LoadBalancer",
        "ilb",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "sku": {"name": "Standard"},
            "frontendIPConfigurations": [{"name": "fe", "subnet": {"id": U}}],
            "backendAddressPools": [{"name": "pool"}],
        },
        deps={"frontendIPConfigurations": [vnet.urn]},
    )
    nic = preview(
        NIC,
        "nic",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "ipConfigurations": [
                {
                    "name": "ipconfig1",
                    "subnet": {"id": U},
                    "publicIPAddress": {"id": U},
                    "privateIPAllocationMethod": "Dynamic",
                    "loadBalancerBackendAddressPools": [{"id": U}],
                    "primary": True,
                }
            ],
            "networkSecurityGroup": {"id": U},
            "dnsSettings": {"dnsServers": ["AzureProvidedDNS"]},
        },
        deps={"ipConfigurations": [vnet.urn, pip.urn, lb.urn], "networkSecurityGroup": [nsg.urn]},
    )
    vm = preview(
        VM,
        "vm",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "storageProfile": {
                "imageReference": {
                    "publisher": "MicrosoftWindowsServer",
                    "offer": "WindowsServer",
                    "sku": "2022-datacenter",
                }
            },
            "osProfile": {
                "computerName": "vm",
                "adminUsername": "azure",
                "adminPassword": secret("hunter2-Secret!"),
            },
            "networkProfile": {"networkInterfaces": [{"id": U, "primary": True}]},
        },
        deps={"networkProfile": [nic.urn]},
    )
    net = collect([vnet, pip, nsg, lb, nic, vm])
    pool_key = f"{lb.urn}#backendAddressPools/pool"
    n = net.nics[nic.urn]
    assert isinstance(n.ip_configurations, tuple)
    [ipc] = n.ip_configurations
    assert (ipc.name, ipc.subnet, ipc.public_ip, ipc.backend_pools, ipc.asgs, ipc.primary) == (
        "ipconfig1",
        f"{vnet.urn}#subnets/app",
        pip.urn,
        (pool_key,),
        (),
        True,
    )
    assert is_unknown(ipc.private_ip)  # dynamic: assigned at deployment
    assert n.nsg == nsg.urn and n.dns_servers == ("AzureProvidedDNS",)
    v = net.vms[vm.urn]
    assert v.os_type == "Windows" and v.nics == (nic.urn,)
    assert v.image == ImageReference("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter", None)
    load_balancer = net.load_balancers[lb.urn]
    assert (load_balancer.sku, load_balancer.public) == ("Standard", False)
    assert load_balancer.backend_pools == (BackendPool(pool_key, "pool", False),)
    assert load_balancer.outbound_rule_pools == ()
    assert "hunter2" not in repr(net)


def test_vm_os_type_sources() -> None:
    def os_of(props: dict[str, Any]) -> object:
        net = collect([inputs(VM, "vm", {"resourceGroupName": RG, **props})])
        return net.vms[key(VM, "vm")].os_type

    assert os_of({"storageProfile": {"osDisk": {"osType": "Linux", "createOption": "Attach"}}}) == "Linux"
    assert os_of({"osProfile": {"windowsConfiguration": {}}}) == "Windows"
    assert os_of({"osProfile": {"linuxConfiguration": {}}}) == "Linux"
    assert (
        os_of({"storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts"}}})
        == "Linux"
    )
    assert os_of({"licenseType": "Windows_Server"}) == "Windows"
    assert (
        os_of(
            {
                "storageProfile": {
                    "imageReference": {"id": arm_id(RG, "galleries/g/images/i", provider="Microsoft.Compute")}
                }
            }
        )
        is None
    )
    assert is_unknown(os_of({"storageProfile": {"osDisk": {"osType": U}}}))


def test_scale_set_template_nics_and_vm_subnets() -> None:
    sub = preview(
        SUBNET, "app", {"resourceGroupName": RG, "virtualNetworkName": U, "addressPrefix": "10.1.0.0/24"}
    )
    vmss = preview(
        VMSS,
        "ss",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "orchestrationMode": "Flexible",
            "virtualMachineProfile": {
                "osProfile": {"windowsConfiguration": {"enableAutomaticUpdates": True}},
                "networkProfile": {
                    "networkInterfaceConfigurations": [
                        {
                            "name": "nic",
                            "primary": True,
                            "dnsSettings": {"dnsServers": ["10.0.1.4"]},
                            "ipConfigurations": [
                                {
                                    "name": "ip",
                                    "subnet": {"id": U},
                                    "publicIPAddressConfiguration": {"name": "pip"},
                                }
                            ],
                        }
                    ]
                },
            },
        },
        deps={"virtualMachineProfile": [sub.urn]},
    )
    net = collect([sub, vmss])
    template = f"{vmss.urn}#networkInterfaceConfigurations/nic"
    v = net.vms[vmss.urn]
    assert (v.scale_set, v.orchestration_mode, v.os_type, v.nics) == (
        True,
        "Flexible",
        "Windows",
        (template,),
    )
    assert net.vm_subnets == {vmss.urn: (sub.urn,)}
    t = net.nics[template]
    assert t.origin == Origin("ss/nic", vmss.urn, "NetworkInterfaceConfiguration")
    assert t.dns_servers == ("10.0.1.4",)
    assert t.ip_configurations == (
        IpConfiguration("ip", sub.urn, None, f"{template}#ipConfigurations/ip/publicIP", (), (), None),
    )


# --- gateways, firewalls, policies -------------------------------------------------------------------------


def test_vpn_gateway_default_site_and_vnet() -> None:
    vnet = preview(
        VNET,
        "hub",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "subnets": [{"name": "GatewaySubnet", "addressPrefix": "10.0.2.0/27"}],
        },
    )
    lgw = preview(
        LGW, "onprem", {"resourceGroupName": RG, "location": LOC, "gatewayIpAddress": "203.0.113.1"}
    )
    gw = preview(
        GW,
        "vpn",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "enableBgp": False,
            "gatewayDefaultSite": {"id": U},
            "ipConfigurations": [{"name": "c", "subnet": {"id": U}, "publicIPAddress": {"id": U}}],
        },
        deps={"gatewayDefaultSite": [lgw.urn], "ipConfigurations": [vnet.urn]},
    )
    plain = preview(
        GW,
        "er",
        {"resourceGroupName": RG, "location": LOC, "gatewayType": "ExpressRoute", "ipConfigurations": []},
    )
    net = collect([vnet, lgw, gw, plain])
    g = net.gateways[gw.urn]
    assert (g.vnet, g.gateway_type, g.vpn_type, g.enable_bgp, g.default_site) == (
        vnet.urn,
        "Vpn",
        "RouteBased",
        False,
        lgw.urn,
    )
    assert net.gateways[plain.urn].default_site is None and net.gateways[plain.urn].enable_bgp is None


def test_firewall_policy_rule_collection_groups() -> None:
    base = preview(
        POLICY,
        "base",
        {"resourceGroupName": RG, "location": LOC, "snat": {"privateRanges": ["IANAPrivateRanges"]}},
    )
    ipg = inputs(
        "azure-native:network:IpGroup",
        "kms-ips",
        {"resourceGroupName": RG, "ipGroupsName": "ipg-kms", "ipAddresses": KMS_IPS},
    )
    policy = preview(
        POLICY,
        "child",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "basePolicy": {"id": U},
            "dnsSettings": {"enableProxy": True, "servers": ["10.9.0.4"]},
        },
        deps={"basePolicy": [base.urn]},
    )
    rcg = preview(
        RCG,
        "rcg",
        {
            "resourceGroupName": RG,
            "firewallPolicyName": U,
            "ruleCollectionGroupName": "kms",
            "priority": 200.0,
            "ruleCollections": [
                {
                    "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "name": "allow",
                    "priority": 100.0,
                    "action": {"type": "Allow"},
                    "rules": [
                        {
                            "ruleType": "NetworkRule",
                            "name": "kms",
                            "ipProtocols": ["TCP"],
                            "sourceAddresses": ["10.1.0.0/16"],
                            "destinationIpGroups": [arm_id(RG, "ipGroups/IPG-KMS")],
                            "destinationPorts": ["1688"],
                        },
                        {
                            "ruleType": "ApplicationRule",
                            "name": "web",
                            "protocols": [{"protocolType": "Https", "port": 443.0}],
                            "targetFqdns": ["*"],
                        },
                    ],
                },
                {
                    "ruleCollectionType": "FirewallPolicyNatRuleCollection",
                    "name": "dnat",
                    "priority": 300.0,
                    "action": {"type": "DNAT"},
                    "rules": [],
                },
            ],
        },
        deps={"firewallPolicyName": [policy.urn]},
    )
    net = collect([base, ipg, policy, rcg])
    p = net.firewall_policies[policy.urn]
    assert (p.base_policy, p.dns_proxy, p.dns_servers, p.snat_private_ranges) == (
        base.urn,
        True,
        ("10.9.0.4",),
        None,
    )
    assert net.firewall_policies[base.urn].snat_private_ranges == ("IANAPrivateRanges",)
    assert net.firewall_policies[base.urn].rule_collection_groups == ()
    [group] = p.rule_collection_groups  # type: ignore[misc]
    # ruleCollectionGroupName is a path parameter, absent from a projection: the logical name stands in.
    assert (group.name, group.priority, group.urn) == ("rcg", 200, rcg.urn)
    assert group.collections == (
        FirewallRuleCollection(
            "allow",
            100,
            "network",
            "Allow",
            (FirewallNetworkRule("kms", ("TCP",), ("10.1.0.0/16",), (), (), (ipg.urn,), (), ("1688",)),),
            1,
        ),
        FirewallRuleCollection("dnat", 300, "nat", "DNAT", (), 0),
    )
    assert net.ip_groups[ipg.urn].ip_addresses == tuple(KMS_IPS)


def test_classic_firewall_rules_and_additional_properties() -> None:
    hub = hub_vnet()
    fw = inputs(
        FW,
        "fw",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "sku": {"name": "AZFW_VNet", "tier": "Standard"},
            "ipConfigurations": [{"name": "c", "subnet": {"id": U}, "publicIPAddress": {"id": U}}],
            "managementIpConfiguration": {"name": "m", "subnet": {"id": U}, "publicIPAddress": {"id": U}},
            "additionalProperties": {
                "network.dns.enableproxy": "True",
                "Network.SNAT.PrivateRanges": "IANAPrivateRanges, 20.0.0.0/8",
            },
            "networkRuleCollections": [
                {
                    "name": "kms",
                    "priority": 100.0,
                    "action": {"type": "Allow"},
                    "rules": [
                        {
                            "name": "r",
                            "protocols": ["TCP"],
                            "sourceAddresses": ["*"],
                            "destinationAddresses": KMS_IPS,
                            "destinationPorts": ["1688"],
                        }
                    ],
                }
            ],
            "applicationRuleCollections": [
                {
                    "name": "app",
                    "priority": 200.0,
                    "action": {"type": "Allow"},
                    "rules": [{"name": "a"}, {"name": "b"}],
                }
            ],
        },
        deps={"ipConfigurations": [hub.urn], "managementIpConfiguration": [hub.urn]},
    )
    net = collect([hub, fw])
    f = net.firewalls[fw.urn]
    assert f.management_ip_configuration is True
    assert f.dns_proxy is True
    assert f.snat_private_ranges == ("IANAPrivateRanges", "20.0.0.0/8")
    assert f.policy is None
    assert f.classic_collections == (
        FirewallRuleCollection(
            "kms",
            100,
            "network",
            "Allow",
            (FirewallNetworkRule("r", ("TCP",), ("*",), (), tuple(KMS_IPS), (), (), ("1688",)),),
        ),
        FirewallRuleCollection("app", 200, "application", "Allow", (), 2),
    )
    # Runner inputs carry no private IP at all: still unknown, never absent.
    assert is_unknown(f.private_ip)


# --- Virtual WAN, Route Server, AVNM ------------------------------------------------------------------------


def test_virtual_wan_hub_routing_intent_and_connection() -> None:
    hub = inputs(
        "azure-native:network:VirtualHub",
        "vhub",
        {"resourceGroupName": RG, "virtualHubName": "vhub", "virtualWan": {"id": U}},
    )
    fw = inputs(FW, "hubfw", {"resourceGroupName": RG, "azureFirewallName": "hubfw", "sku": {"name": "AZFW_Hub"}, "virtualHub": {"id": U},
                              "hubIPAddresses": {"publicIPs": {"count": 1.0}}}, deps={"virtualHub": [hub.urn]})  # fmt: skip
    intent = inputs(
        "azure-native:network:RoutingIntent",
        "ri",
        {
            "resourceGroupName": RG,
            "virtualHubName": "vhub",
            "routingPolicies": [
                {
                    "name": "internet",
                    "destinations": ["Internet"],
                    "nextHop": arm_id(RG, "azureFirewalls/HUBFW"),
                }
            ],
        },
    )
    spoke = inputs(VNET, "spoke", {"resourceGroupName": RG, "location": LOC})
    conn = inputs(
        "azure-native:network:HubVirtualNetworkConnection",
        "conn",
        {
            "resourceGroupName": RG,
            "virtualHubName": U,
            "remoteVirtualNetwork": {"id": U},
            "enableInternetSecurity": True,
        },
        deps={"virtualHubName": [hub.urn], "remoteVirtualNetwork": [spoke.urn]},
    )
    net = collect([hub, fw, intent, spoke, conn])
    h = net.hubs[hub.urn]
    assert (h.internet_next_hop, h.forced_tunnel) == (fw.urn, None)
    c = net.hub_connections[conn.urn]
    assert (c.hub, c.vnet, c.enable_internet_security) == (hub.urn, spoke.urn, True)
    f = net.firewalls[fw.urn]
    assert (f.vnet, f.public_ip_count, f.sku_name) == (None, 1, "AZFW_Hub")
    assert net.route_servers == {}


def test_route_server() -> None:
    vnet = preview(
        VNET,
        "hub",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "subnets": [{"name": "RouteServerSubnet", "addressPrefix": "10.0.3.0/27"}],
        },
    )
    rs = inputs(
        "azure-native:network:VirtualHub",
        "rs",
        {"resourceGroupName": RG, "virtualHubName": "rs", "sku": "Standard"},
    )
    ipc = inputs(
        "azure-native:network:VirtualHubIpConfiguration",
        "rs-ip",
        {"resourceGroupName": RG, "virtualHubName": "rs", "ipConfigName": "ipconfig1", "subnet": {"id": U}},
        deps={"subnet": [vnet.urn]},
    )
    net = collect([vnet, rs, ipc])
    assert net.hubs == {}
    [server] = net.route_servers.values()
    assert (server.key, server.vnet, server.origin.name) == (rs.urn, vnet.urn, "rs")


def test_security_admin_rule_through_groups_members_and_commit() -> None:
    def avnm(
        kind: str, name: str, props: dict[str, Any], deps: dict[str, list[str]] | None = None
    ) -> PulumiResource:
        return inputs(
            f"azure-native:network:{kind}",
            name,
            {"resourceGroupName": RG, "networkManagerName": "avnm", **props},
            deps,
        )

    spoke = inputs(VNET, "spoke", {"resourceGroupName": RG, "location": LOC})
    group = avnm("NetworkGroup", "spokes", {"networkGroupName": "spokes"})
    member = avnm(
        "StaticMember", "m1", {"networkGroupName": "spokes", "resourceId": U}, {"resourceId": [spoke.urn]}
    )
    config = avnm("SecurityAdminConfiguration", "sac", {"configurationName": "sac"})
    coll = avnm(
        "AdminRuleCollection",
        "coll",
        {
            "configurationName": "sac",
            "ruleCollectionName": "coll",
            "appliesToGroups": [{"networkGroupId": U}],
        },
        {"appliesToGroups": [group.urn]},
    )
    rule = avnm(
        "AdminRule",
        "deny-1688",
        {
            "configurationName": "sac",
            "ruleCollectionName": "coll",
            "ruleName": "deny-1688",
            "kind": "Custom",
            "access": "Deny",
            "direction": "Outbound",
            "priority": 10.0,
            "protocol": "Tcp",
            "destinations": [{"addressPrefix": "Internet", "addressPrefixType": "ServiceTag"}],
            "destinationPortRanges": ["1688"],
        },
    )
    commit = avnm("Commit", "commit", {"properties": {"commitType": "SecurityAdmin", "targetLocations": [LOC], "configurationIds": [U]}},
                  {"properties": [config.urn]})  # fmt: skip
    net = collect([spoke, group, member, config, coll, rule, commit])
    [admin] = net.admin_rules
    assert admin.origin == Origin("deny-1688", rule.urn, "AdminRule")
    assert admin.vnets == (spoke.urn,)
    assert (admin.priority, admin.direction, admin.access, admin.protocol) == (10, "Outbound", "Deny", "Tcp")
    assert admin.destinations == (AddressMatch("Internet", "ServiceTag"),)
    assert admin.destination_port_ranges == ("1688",)
    # Without the Commit, the configuration is not deployed by the stack (one committed outside it would
    # apply, so the rule stays "may apply"), and the analysis says so instead of "priority unknown".
    without_commit = collect([spoke, group, member, config, coll, rule])
    [uncommitted] = without_commit.admin_rules
    assert is_unknown(uncommitted.vnets, "not deployed: no Commit in the stack deploys")
    from ipaddress import IPv4Address, IPv4Network

    from kmsguard.analysis.filtering import FlowSource, evaluate_admin_rules

    decision = evaluate_admin_rules(
        [(uncommitted, False)], IPv4Address("20.118.99.224"), FlowSource((IPv4Network("10.1.0.0/24"),))
    )
    assert decision.why == (
        "AVNM admin rule deny-1688 (not deployed: no Commit in the stack deploys the security admin configuration "
        "of deny-1688): priority unknown",
    )


# --- DNS ---------------------------------------------------------------------------------------------------------


def test_private_zone_records_links_and_forwarding_rulesets() -> None:
    vnet = preview(VNET, "spoke", {"resourceGroupName": RG, "location": LOC})
    zone = inputs(
        "azure-native:privatedns:PrivateZone",
        "core",
        {"resourceGroupName": RG, "privateZoneName": "core.windows.net", "location": "global"},
    )
    record = inputs(
        "azure-native:privatedns:PrivateRecordSet",
        "azkms",
        {"resourceGroupName": RG, "privateZoneName": U, "recordType": "A", "relativeRecordSetName": "azkms", "ttl": 300.0,
         "aRecords": [{"ipv4Address": "20.118.99.224"}, {"ipv4Address": "40.83.235.53"}]},
        {"privateZoneName": [zone.urn]},
    )  # fmt: skip
    link = inputs(
        "azure-native:network:VirtualNetworkLink",  # the v2 alias token still maps to privatedns
        "link",
        {
            "resourceGroupName": RG,
            "privateZoneName": "core.windows.net",
            "virtualNetwork": {"id": U},
            "registrationEnabled": False,
        },
        {"virtualNetwork": [vnet.urn]},
    )
    ruleset = inputs(
        "azure-native:dnsresolver:DnsForwardingRuleset",
        "rs",
        {"resourceGroupName": RG, "dnsForwardingRulesetName": "rs"},
    )
    rule = inputs(
        "azure-native:dnsresolver:ForwardingRule",
        "fwd",
        {"resourceGroupName": RG, "dnsForwardingRulesetName": "rs", "domainName": "windows.net.", "forwardingRuleState": "Disabled",
         "targetDnsServers": [{"ipAddress": "10.9.0.4", "port": 53.0}]},
    )  # fmt: skip
    rlink = inputs(
        "azure-native:dnsresolver:PrivateResolverVirtualNetworkLink",
        "rlink",
        {"resourceGroupName": RG, "dnsForwardingRulesetName": U, "virtualNetwork": {"id": U}},
        {"dnsForwardingRulesetName": [ruleset.urn], "virtualNetwork": [vnet.urn]},
    )
    net = collect([vnet, zone, record, link, ruleset, rule, rlink])
    z = net.dns_zones[zone.urn]
    assert z.zone_name == "core.windows.net"
    assert z.records == (DnsRecord("azkms", "A", ("20.118.99.224", "40.83.235.53")),)
    zl = net.dns_zone_links[link.urn]
    assert (zl.zone, zl.vnet, zl.resolution_policy) == (zone.urn, vnet.urn, None)
    rs = net.dns_rulesets[ruleset.urn]
    assert rs.rules == (ForwardingRule("fwd", "windows.net.", False, ("10.9.0.4",)),)
    assert rs.vnets == (vnet.urn,)


# --- secrets, malformed input, unknowns ---------------------------------------------------------------------------


def test_secrets_never_reach_names_problems_or_keys() -> None:
    vnet = inputs(
        VNET,
        "v",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "addressSpace": {"addressPrefixes": [secret("10.5.0.0/16")]},
            "subnets": [
                {
                    "name": secret("top-secret-subnet"),
                    "addressPrefix": "10.5.0.0/24",
                    "routeTable": secret([1, 2]),
                }
            ],
        },
    )
    rt = inputs(
        RT,
        "rt",
        {
            "resourceGroupName": RG,
            "routes": [{"name": secret("top-secret-route"), "addressPrefix": secret(12.5)}],
        },
    )
    vm = inputs(
        VM,
        "vm",
        {
            "resourceGroupName": RG,
            "osProfile": {"adminPassword": secret("top-secret-password"), "windowsConfiguration": {}},
        },
    )
    net = collect([vnet, rt, vm])
    text = repr(net)
    assert "top-secret" not in text
    [subnet] = net.subnets.values()
    assert subnet.origin.name == "v/[secret]" and subnet.subnet_name == "[secret]"
    assert subnet.key == f"{vnet.urn}#subnets/[0]"
    # Values stay usable by the analysis (DESIGN: unwrap for analysis).
    assert net.vnets[vnet.urn].address_prefixes == ("10.5.0.0/16",)
    routes = net.route_tables[rt.urn].routes
    assert isinstance(routes, tuple)
    assert routes[0].name == "[secret]" and is_unknown(routes[0].address_prefix)
    assert {(p.where, p.prop) for p in net.problems} == {
        ("v", "subnets[0].routeTable"),
        ("rt", "routes[0].addressPrefix"),
    }


def test_malformed_values_are_problems_never_exceptions() -> None:
    vnet = inputs(
        VNET,
        "v",
        {
            "resourceGroupName": RG,
            "location": 7,
            "addressSpace": ["10.0.0.0/16"],
            "subnets": [
                {"name": "a", "routeTable": [], "addressPrefix": 10},
                "not-an-object",
                {"name": "b", "defaultOutboundAccess": "no"},
            ],
        },
    )
    bad = [
        PulumiResource("urn:x", RT, "weird", "not-a-mapping"),  # type: ignore[arg-type]
        PulumiResource(key(NSG, "n"), NSG, "n", {"securityRules": {"name": "x"}}),
        PulumiResource(key(NIC, "nic"), NIC, "nic", {"ipConfigurations": [{"subnet": {"id": 5}}, 3]}),
        PulumiResource(
            key(FW, "fw"),
            FW,
            "fw",
            {"ipConfigurations": "x", "additionalProperties": {"Network.DNS.EnableProxy": "maybe"}},
        ),
        PulumiResource(123, VM, None, {}),  # type: ignore[arg-type]
    ]
    net = collect([vnet, *bad])
    where = {(p.where, p.prop) for p in net.problems}
    assert {
        ("v", "location"),
        ("v", "addressSpace"),
        ("v", "subnets[0].routeTable"),
        ("v", "subnets[0].addressPrefix"),
        ("v", "subnets[1]"),
        ("v", "subnets[2].defaultOutboundAccess"),
        ("weird", "(properties)"),
        ("n", "securityRules"),
        ("nic", "ipConfigurations[0].subnet.id"),
        ("nic", "ipConfigurations[1]"),
        ("fw", "ipConfigurations"),
        ("fw", "additionalProperties.Network.DNS.EnableProxy"),
    } <= where
    v = net.vnets[vnet.urn]
    assert is_unknown(v.location) and is_unknown(v.address_prefixes)
    a = net.subnets[f"{vnet.urn}#subnets/a"]
    assert is_unknown(a.route_table) and is_unknown(a.address_prefixes)
    assert is_unknown(net.subnets[f"{vnet.urn}#subnets/b"].default_outbound_access)
    assert is_unknown(net.nsgs[key(NSG, "n")].rules)
    assert is_unknown(net.nics[key(NIC, "nic")].ip_configurations)
    assert is_unknown(net.firewalls[key(FW, "fw")].dns_proxy)
    problem = next(p for p in net.problems if p.prop == "subnets[0].addressPrefix")
    assert problem == Problem("v", "subnets[0].addressPrefix", "expected a string, got a number", vnet.urn)


def test_unknown_sentinel_of_any_type_at_any_depth() -> None:
    vnet = inputs(
        VNET,
        "v",
        {
            "resourceGroupName": RG,
            "location": U,
            "addressSpace": {"addressPrefixes": [U, "10.0.0.0/16"]},
            "dhcpOptions": U,
            "subnets": [
                {
                    "name": "a",
                    "addressPrefix": "10.0.0.0/24",
                    "defaultOutboundAccess": "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
                }
            ],
            "virtualNetworkPeerings": "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        },
    )
    nsg = inputs(
        NSG,
        "n",
        {
            "resourceGroupName": RG,
            "securityRules": [{"name": "r", "priority": "3eeb2bf0-c639-47a8-9e75-3b44932eb421"}],
        },
    )
    net = collect([vnet, nsg])
    v = net.vnets[vnet.urn]
    assert is_unknown(v.location)
    assert (
        isinstance(v.address_prefixes, tuple)
        and is_unknown(v.address_prefixes[0])
        and v.address_prefixes[1] == "10.0.0.0/16"
    )
    assert is_unknown(v.dns_servers) and is_unknown(v.peerings)
    assert is_unknown(net.subnets[f"{vnet.urn}#subnets/a"].default_outbound_access)
    rules = net.nsgs[nsg.urn].rules
    assert isinstance(rules, tuple) and is_unknown(rules[0].priority)
    assert net.problems == ()


def test_unknown_inline_subnet_list_with_dependencies_is_reported() -> None:
    rt = preview(RT, "rt", {"resourceGroupName": RG, "location": LOC})
    vnet = preview(
        VNET, "v", {"resourceGroupName": RG, "location": LOC, "subnets": U}, deps={"subnets": [rt.urn]}
    )
    net = collect([rt, vnet])
    assert net.subnets == {}
    assert [(p.where, p.prop) for p in net.problems] == [("v", "subnets")]


def test_other_types_and_duplicates_are_ignored_safely() -> None:
    stack = PulumiResource(
        "urn:pulumi:dev::net::pulumi:pulumi:Stack::net-dev", "pulumi:pulumi:Stack", "net-dev", {}
    )
    provider = PulumiResource(
        "urn:pulumi:dev::net::pulumi:providers:azure-native::default",
        "pulumi:providers:azure-native",
        "default",
        {},
    )
    rt = inputs(RT, "rt", {"resourceGroupName": RG, "location": LOC})
    net = collect([stack, provider, rt, rt])
    assert list(net.route_tables) == [rt.urn]
    assert [p.prop for p in net.problems] == ["(urn)"]


# --- end to end through the analysis ---------------------------------------------------------------------------------


def forced_tunnel_stack(*, allow_kms: bool) -> list[PulumiResource]:
    """Spoke 0.0.0.0/0 → the hub firewall, whose private IP is unknown at preview (§0 fact 2) but
    linked by property dependency; the firewall policy allows TCP 1688 to the KMS IPs or not."""
    hub = hub_vnet()
    pip = preview(PIP, "fw-pip", {"resourceGroupName": RG, "location": LOC, "sku": {"name": "Standard"}})
    policy = preview(POLICY, "fw-policy", {"resourceGroupName": RG, "location": LOC})
    rules = (
        [{"ruleType": "NetworkRule", "name": "allow-kms", "ipProtocols": ["TCP"], "sourceAddresses": ["10.1.0.0/16"],
          "destinationAddresses": KMS_IPS, "destinationPorts": ["1688"]}]
        if allow_kms
        else [{"ruleType": "NetworkRule", "name": "allow-dns", "ipProtocols": ["UDP"], "sourceAddresses": ["*"],
               "destinationAddresses": ["*"], "destinationPorts": ["53"]}]
    )  # fmt: skip
    rcg = preview(
        RCG,
        "rcg",
        {
            "resourceGroupName": RG,
            "firewallPolicyName": U,
            "priority": 100.0,
            "ruleCollections": [
                {
                    "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "name": "c",
                    "priority": 100.0,
                    "action": {"type": "Allow"},
                    "rules": rules,
                }
            ],
        },
        deps={"firewallPolicyName": [policy.urn]},
    )
    fw = preview(
        FW,
        "fw",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "sku": {"name": "AZFW_VNet", "tier": "Standard"},
            "firewallPolicy": {"id": U},
            "ipConfigurations": [{"name": "c", "subnet": {"id": U}, "publicIPAddress": {"id": U}}],
        },
        deps={"firewallPolicy": [policy.urn], "ipConfigurations": [hub.urn, pip.urn]},
    )
    rt = preview(
        RT,
        "rt-spoke",
        {"resourceGroupName": RG, "location": LOC,
         "routes": [{"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": U}]},
        deps={"routes": [fw.urn]},
    )  # fmt: skip
    spoke = preview(
        VNET,
        "spoke",
        {"resourceGroupName": RG, "location": LOC, "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
         "subnets": [{"name": "app", "addressPrefix": "10.1.0.0/24", "routeTable": {"id": U}}]},
        deps={"subnets": [rt.urn]},
    )  # fmt: skip
    return [spoke, rt, fw, rcg, policy, pip, hub]


@pytest.mark.parametrize(("allow", "verdict"), [(True, Verdict.REACHABLE), (False, Verdict.BLOCKED)])
def test_end_to_end_forced_tunnel_through_firewall(allow: bool, verdict: Verdict) -> None:
    net = collect(forced_tunnel_stack(allow_kms=allow))
    assert net.problems == ()
    result = analyze(net)
    verdicts = {s.name: s.verdict for s in result.subnets}
    assert verdicts == {"hub/AzureFirewallSubnet": Verdict.EXCLUDED, "spoke/app": verdict}
    [app] = [s for s in result.subnets if s.name == "spoke/app"]
    assert app.urn == key(VNET, "spoke")
    assert all("Azure Firewall fw" in " ".join(step.detail for step in e.trace) for e in app.endpoints)
    if not allow:
        assert any(f.kind == "add-firewall-rule" for f in app.fixes)


def test_end_to_end_unlinked_unknown_next_hop_is_unknown() -> None:
    resources = forced_tunnel_stack(allow_kms=True)
    rt = resources[1]
    unlinked = PulumiResource(rt.urn, rt.type, rt.name, rt.props, rt.parent, (), {})
    net: Network = collect([resources[0], unlinked, *resources[2:]])
    verdicts = {s.name: s.verdict for s in analyze(net).subnets}
    assert verdicts["spoke/app"] is Verdict.UNKNOWN
