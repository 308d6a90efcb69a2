"""Reference resolution corners, value decoding, and the areas the main file only touches."""

from __future__ import annotations

import json
from typing import Any

from kmsguard.analysis import Verdict, analyze
from kmsguard.collect.azure_native.values import UNK, Secret, decode
from kmsguard.collect.pulumi import PulumiResource, collect, from_stack_export
from kmsguard.model import BackendPool, DnsRecord, FirewallNetworkRule, Unknown

from .preview import U, arm_id, inputs, preview, secret, urn

RG = "rg-net"
LOC = "westeurope"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
RT = "azure-native:network:RouteTable"
ROUTE = "azure-native:network:Route"
NIC = "azure-native:network:NetworkInterface"
LB = "azure-native:network:LoadBalancer"
HUB = "azure-native:network:VirtualHub"
FW = "azure-native:network:AzureFirewall"


def unknown(value: object, *words: str) -> bool:
    return isinstance(value, Unknown) and all(w in value.why for w in words)


def state(token: str, name: str, outputs: dict[str, Any], parent: str = "") -> PulumiResource:
    """A resource as AnalyzeStack sees an unchanged one: state outputs only (no path parameters)."""
    return PulumiResource(urn(token, name), token, name, outputs, parent)


# --- values -----------------------------------------------------------------------------------------


def test_decode_sentinels_secrets_and_signatures() -> None:
    sig = "4dabf18193072939515e22adb298388d"
    assert decode({sig: "1b47061264138c4ac30d75fd1eb44270", "plaintext": json.dumps(["a", 1])}) == [
        Secret("a"),
        Secret(1),
    ]
    assert decode({sig: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "AAEC"}) is UNK
    assert decode({sig: "1b47061264138c4ac30d75fd1eb44270", "plaintext": "{not json"}) is UNK
    assert decode("[secret]") is UNK
    assert decode({sig: "5cf8f73096256a8f31e491e813e4eb8e", "urn": "urn:x", "id": ""}) == "urn:x"
    assert decode({sig: "c44067f5952c0a294b673a41bacd8c17", "path": "f"}) is UNK
    assert decode(("a", {"k": None})) == ["a", {"k": None}]
    assert decode(b"bytes") is UNK and decode(object()) is UNK
    deep: Any = "leaf"
    for _ in range(100):
        deep = [deep]
    assert "leaf" not in repr(decode(deep))
    assert repr(decode(secret("pw"))) == "Secret([secret])" and repr(UNK) == "<unknown>"


# --- parents ------------------------------------------------------------------------------------------


def test_parents_from_own_id_and_from_the_pulumi_parent() -> None:
    vnet_id = arm_id(RG, "virtualNetworks/vnet-a")
    vnet = state(VNET, "a", {"id": vnet_id, "name": "vnet-a", "location": LOC})
    sub = state(
        SUBNET, "app", {"id": f"{vnet_id}/subnets/app", "name": "app", "addressPrefix": "10.0.0.0/24"}
    )
    rt = preview(RT, "rt", {"resourceGroupName": RG, "location": LOC})
    child = PulumiResource(
        urn(ROUTE, "r"), ROUTE, "r", {"addressPrefix": "0.0.0.0/0", "nextHopType": "None"}, parent=rt.urn
    )
    net = collect([vnet, sub, rt, child])
    assert net.subnets[sub.urn].vnet == vnet.urn
    assert net.subnets[sub.urn].subnet_name == "app"
    routes = net.route_tables[rt.urn].routes
    assert isinstance(routes, tuple) and [r.urn for r in routes] == [child.urn]


def test_parent_outside_the_stack_and_ambiguous_parents() -> None:
    outside = inputs(
        SUBNET, "s1", {"resourceGroupName": RG, "virtualNetworkName": "vnet-shared", "subnetName": "s1"}
    )
    a = inputs(VNET, "a", {"resourceGroupName": "rg-a", "virtualNetworkName": "dup", "location": LOC})
    b = inputs(VNET, "b", {"resourceGroupName": "rg-b", "virtualNetworkName": "dup", "location": LOC})
    ambiguous = inputs(SUBNET, "s2", {"virtualNetworkName": "dup", "subnetName": "s2"})
    placed = inputs(
        SUBNET, "s3", {"resourceGroupName": "RG-B", "virtualNetworkName": "DUP", "subnetName": "s3"}
    )
    net = collect([outside, a, b, ambiguous, placed])
    assert (
        net.subnets[outside.urn].vnet
        == f"/subscriptions/*/resourcegroups/{RG}/providers/microsoft.network/virtualnetworks/vnet-shared"
    )
    assert unknown(net.subnets[ambiguous.urn].vnet, "several")
    assert net.subnets[placed.urn].vnet == b.urn


def test_subnet_ids_pick_the_subnet_of_the_right_vnet() -> None:
    ids = {n: arm_id(RG, f"virtualNetworks/{n}") for n in ("vnet-a", "vnet-b")}
    vnets = [state(VNET, n, {"id": i, "name": n, "location": LOC}) for n, i in ids.items()]
    subs = [state(SUBNET, f"{n}-app", {"name": "app"}, parent=urn(VNET, n)) for n in ids]
    nic = inputs(
        NIC,
        "nic",
        {
            "resourceGroupName": RG,
            "ipConfigurations": [{"name": "c", "subnet": {"id": f"{ids['vnet-b']}/subnets/APP"}}],
        },
    )
    net = collect([*vnets, *subs, nic])
    ipcs = net.nics[nic.urn].ip_configurations
    assert isinstance(ipcs, tuple) and ipcs[0].subnet == urn(SUBNET, "vnet-b-app")


def test_subnet_reference_to_an_undeclared_subnet_of_an_in_stack_vnet() -> None:
    vnet = inputs(
        VNET,
        "v",
        {"resourceGroupName": RG, "virtualNetworkName": "v", "location": LOC, "subnets": [{"name": "app"}]},
    )
    nic = inputs(
        NIC,
        "nic",
        {
            "resourceGroupName": RG,
            "ipConfigurations": [{"subnet": {"id": arm_id(RG, "virtualNetworks/v/subnets/web")}}],
        },
    )
    net = collect([vnet, nic])
    ipcs = net.nics[nic.urn].ip_configurations
    assert isinstance(ipcs, tuple) and unknown(ipcs[0].subnet, "declares no Subnet web")


# --- references -----------------------------------------------------------------------------------------


def test_reference_shapes() -> None:
    rt = inputs(RT, "rt", {"resourceGroupName": RG, "routeTableName": "rt", "location": LOC})
    s1 = inputs(
        SUBNET, "s1", {"virtualNetworkName": "v", "routeTable": {"id": rt.urn}, "natGateway": {"id": U}}
    )
    s2 = inputs(
        SUBNET,
        "s2",
        {"virtualNetworkName": "v", "routeTable": {"id": arm_id(RG, "networkSecurityGroups/rt")}},
    )
    s3 = inputs(
        SUBNET,
        "s3",
        {"virtualNetworkName": "v", "routeTable": {"id": secret(arm_id("rg-x", "routeTables/private-rt"))}},
    )
    s4 = inputs(
        SUBNET,
        "s4",
        {"virtualNetworkName": "v", "routeTable": {"id": arm_id(RG, f"routeTables/{U}")}},
        {"routeTable": [rt.urn]},
    )
    s5 = inputs(
        SUBNET, "s5", {"virtualNetworkName": "v", "routeTable": {}, "natGateway": U}, {"natGateway": [rt.urn]}
    )
    net = collect([rt, s1, s2, s3, s4, s5])
    # A resource reference whose id is unknown travels as its URN (§1.8).
    assert net.subnets[s1.urn].route_table == rt.urn
    # The NAT gateway is set even though its id cannot be resolved: only presence matters (§5.3).
    assert net.subnets[s1.urn].nat_gateway == f"{s1.urn}#natGateway"
    assert unknown(net.subnets[s2.urn].route_table, "networksecuritygroups")
    assert unknown(net.subnets[s3.urn].route_table, "secret") and "private-rt" not in repr(net)
    assert net.subnets[s4.urn].route_table == rt.urn
    assert unknown(net.subnets[s5.urn].route_table, "missing")
    assert unknown(net.subnets[s5.urn].nat_gateway, "natGateway", "not known")


def test_duplicate_inline_names_get_distinct_keys_and_a_problem() -> None:
    vnet = inputs(
        VNET, "v", {"resourceGroupName": RG, "location": LOC, "subnets": [{"name": "app"}, {"name": "app"}]}
    )
    net = collect([vnet])
    assert sorted(net.subnets) == [f"{vnet.urn}#subnets/app", f"{vnet.urn}#subnets/app[1]"]
    assert [(p.where, p.prop) for p in net.problems] == [("v", "subnets[1].name")]


def test_mixing_inline_and_standalone_subnets_and_peerings() -> None:
    vnet = preview(
        VNET,
        "v",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "subnets": [{"name": "a"}],
            "virtualNetworkPeerings": [{"name": "p"}],
        },
    )
    sub = preview(SUBNET, "b", {"virtualNetworkName": U}, {"virtualNetworkName": [vnet.urn]})
    peer = preview(
        "azure-native:network:VirtualNetworkPeering",
        "q",
        {"virtualNetworkName": U},
        {"virtualNetworkName": [vnet.urn]},
    )
    net = collect([vnet, sub, peer])
    assert sorted(p.prop for p in net.problems) == ["subnets", "virtualNetworkPeerings"]
    assert len(net.subnets) == 2
    peerings = net.vnets[vnet.urn].peerings
    assert isinstance(peerings, tuple) and [p.name for p in peerings] == ["p", "q"]


# --- compute ----------------------------------------------------------------------------------------------


def test_load_balancer_public_pools_and_outbound_rules() -> None:
    lb_id = arm_id(RG, "loadBalancers/lb")
    lb = state(
        LB,
        "lb",
        {
            "id": lb_id,
            "name": "lb",
            "sku": {"name": "Standard"},
            "frontendIPConfigurations": [
                {"name": "fe", "publicIPAddress": {"id": arm_id(RG, "publicIPAddresses/p")}}
            ],
            "backendAddressPools": [
                {
                    "id": f"{lb_id}/backendAddressPools/byip",
                    "name": "byip",
                    "loadBalancerBackendAddresses": [{"ipAddress": "10.0.0.4"}],
                }
            ],
            "outboundRules": [
                {"name": "o", "backendAddressPool": {"id": f"{lb_id}/backendAddressPools/extra"}}
            ],
        },
    )
    pool = inputs(
        "azure-native:network:LoadBalancerBackendAddressPool",
        "extra",
        {"resourceGroupName": RG, "loadBalancerName": "lb", "backendAddressPoolName": "extra"},
    )
    nic = inputs(
        NIC,
        "nic",
        {
            "ipConfigurations": [
                {
                    "loadBalancerBackendAddressPools": [
                        {"id": f"{lb_id}/backendAddressPools/extra"},
                        {"id": f"{lb_id}/backendAddressPools/byip"},
                    ]
                }
            ]
        },
    )
    net = collect([lb, pool, nic])
    model = net.load_balancers[lb.urn]
    assert (model.sku, model.public) == ("Standard", True)
    assert model.backend_pools == (
        BackendPool(f"{lb.urn}#backendAddressPools/byip", "byip", True),
        BackendPool(pool.urn, "extra", False),
    )
    assert model.outbound_rule_pools == (pool.urn,)
    ipcs = net.nics[nic.urn].ip_configurations
    assert isinstance(ipcs, tuple) and ipcs[0].backend_pools == (
        pool.urn,
        f"{lb.urn}#backendAddressPools/byip",
    )


def test_vm_network_interface_configurations_are_template_nics() -> None:
    vnet = preview(VNET, "v", {"resourceGroupName": RG, "location": LOC, "subnets": [{"name": "app"}]})
    vm = inputs(
        "azure-native:compute:VirtualMachine",
        "vm",
        {
            "resourceGroupName": RG,
            "storageProfile": {"osDisk": {"osType": "Windows"}},
            "networkProfile": {
                "networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [
                    {"name": "n", "ipConfigurations": [{"name": "i", "subnet": {"id": U}}]}
                ],
            },
        },
        {"networkProfile": [vnet.urn]},
    )
    net = collect([vnet, vm])
    key = f"{vm.urn}#networkInterfaceConfigurations/n"
    assert net.vms[vm.urn].nics == (key,)
    ipcs = net.nics[key].ip_configurations
    assert (
        isinstance(ipcs, tuple) and ipcs[0].subnet == f"{vnet.urn}#subnets/app" and ipcs[0].public_ip is None
    )
    assert net.vm_subnets == {}


# --- hubs, route servers, policies ------------------------------------------------------------------------


def hub_with(tables: list[dict[str, Any]], intents: list[dict[str, Any]]) -> list[PulumiResource]:
    hub = inputs(
        HUB,
        "vhub",
        {
            "resourceGroupName": RG,
            "virtualHubName": "vhub",
            "virtualWan": {"id": arm_id(RG, "virtualWans/w")},
        },
    )
    fw = inputs(
        FW,
        "hubfw",
        {
            "resourceGroupName": RG,
            "azureFirewallName": "hubfw",
            "virtualHub": {"id": arm_id(RG, "virtualHubs/vhub")},
        },
    )
    out = [hub, fw]
    for i, routes in enumerate(tables):
        out.append(
            inputs(
                "azure-native:network:HubRouteTable",
                f"t{i}",
                {"resourceGroupName": RG, "virtualHubName": "vhub", "routes": routes},
            )
        )
    for i, policies in enumerate(intents):
        out.append(
            inputs(
                "azure-native:network:RoutingIntent",
                f"i{i}",
                {"resourceGroupName": RG, "virtualHubName": "vhub", "routingPolicies": policies},
            )
        )
    return out


def test_secured_hub_modes() -> None:
    fw_id = arm_id(RG, "azureFirewalls/hubfw")
    default = {
        "name": "all",
        "destinationType": "CIDR",
        "destinations": ["0.0.0.0/0"],
        "nextHopType": "ResourceId",
        "nextHop": fw_id,
    }
    hub = urn(HUB, "vhub")
    fw = urn(FW, "hubfw")
    # A secured hub without routing intent: 0/0 → its firewall.
    net = collect(hub_with([[default]], []))
    assert (net.hubs[hub].internet_next_hop, net.hubs[hub].forced_tunnel) == (fw, None)
    assert net.firewalls[fw].vnet is None and unknown(net.firewalls[fw].public_ip_count, "hubIPAddresses")
    # Forced Tunnel: private policy plus a 0/0 prefix, no Internet policy (§3.4).
    private = [{"name": "p", "destinations": ["PrivateTraffic"], "nextHop": fw_id}]
    net = collect(hub_with([[default]], [private]))
    assert (net.hubs[hub].internet_next_hop, net.hubs[hub].forced_tunnel) == (None, True)
    # An Internet policy to a third-party appliance: an appliance key the analysis cannot see into.
    nva = arm_id(RG, "virtualHubs/vhub/networkVirtualAppliances/nva")
    net = collect(hub_with([], [[{"name": "i", "destinations": ["Internet"], "nextHop": nva}]]))
    assert net.hubs[hub].internet_next_hop == nva.lower()
    # Unknown policies make the hub unknown.
    net = collect(hub_with([], [U]))  # type: ignore[list-item]
    assert unknown(net.hubs[hub].internet_next_hop) and unknown(net.hubs[hub].forced_tunnel)


def test_route_server_from_virtual_router() -> None:
    vnet = preview(
        VNET, "v", {"resourceGroupName": RG, "location": LOC, "subnets": [{"name": "RouteServerSubnet"}]}
    )
    vr = inputs(
        "azure-native:network:VirtualRouter",
        "vr",
        {"resourceGroupName": RG, "hostedSubnet": {"id": U}},
        {"hostedSubnet": [vnet.urn]},
    )
    net = collect([vnet, vr])
    assert net.route_servers[vr.urn].vnet == vnet.urn


def test_policy_rule_types_unknown_or_inferred() -> None:
    policy = inputs(
        "azure-native:network:FirewallPolicy", "p", {"resourceGroupName": RG, "firewallPolicyName": "p"}
    )
    rcg = inputs(
        "azure-native:network:FirewallPolicyRuleCollectionGroup",
        "g",
        {
            "resourceGroupName": RG,
            "firewallPolicyName": "p",
            "priority": 100,
            "ruleCollections": [
                {
                    "name": "c",
                    "priority": 100,
                    "action": {"type": "Allow"},
                    "rules": [
                        {
                            "name": "inferred",
                            "ipProtocols": ["TCP"],
                            "destinationAddresses": ["*"],
                            "destinationPorts": ["1688"],
                        },
                        {"name": "mystery", "ruleType": U, "destinationAddresses": ["*"]},
                        {"name": "nat-in-filter", "ruleType": "NatRule", "translatedAddress": "10.0.0.4"},
                    ],
                }
            ],
        },
    )
    net = collect([policy, rcg])
    groups = net.firewall_policies[policy.urn].rule_collection_groups
    assert isinstance(groups, tuple)
    collections = groups[0].collections
    assert isinstance(collections, tuple)
    rules = collections[0].rules
    assert isinstance(rules, tuple)
    assert rules[0] == FirewallNetworkRule("inferred", ("TCP",), (), (), ("*",), (), (), ("1688",))
    assert rules[1].name == "mystery" and unknown(rules[1].protocols)
    assert unknown(rules[2].protocols, "invalid")


# --- DNS ------------------------------------------------------------------------------------------------------


def test_dns_record_shapes_and_orphans() -> None:
    zone = state(
        "azure-native:privatedns:PrivateZone",
        "z",
        {"id": arm_id(RG, "privateDnsZones/windows.net"), "name": "windows.net"},
    )
    cname = state(
        "azure-native:privatedns:PrivateRecordSet",
        "c",
        {"id": arm_id(RG, "privateDnsZones/windows.net/CNAME/kms.core"), "name": "kms.core", "type": "Microsoft.Network/privateDnsZones/CNAME",
         "cnameRecord": {"cname": "azkms.core.windows.net"}},
    )  # fmt: skip
    net = collect([zone, cname])
    assert net.dns_zones[zone.urn].records == (DnsRecord("kms.core", "CNAME", ("azkms.core.windows.net",)),)
    lost = PulumiResource(
        urn("azure-native:privatedns:PrivateRecordSet", "lost"),
        "azure-native:privatedns:PrivateRecordSet",
        "lost",
        {"recordType": "A"},
    )
    net = collect([zone, lost])
    assert unknown(net.dns_zones[zone.urn].records, "lost")
    ruleset = inputs("azure-native:dnsresolver:DnsForwardingRuleset", "rs", {"resourceGroupName": RG})
    rule = PulumiResource(
        urn("azure-native:dnsresolver:ForwardingRule", "r"),
        "azure-native:dnsresolver:ForwardingRule",
        "r",
        {"domainName": "."},
    )
    link = PulumiResource(
        urn("azure-native:dnsresolver:PrivateResolverVirtualNetworkLink", "l"),
        "azure-native:dnsresolver:PrivateResolverVirtualNetworkLink",
        "l",
        {"virtualNetwork": {"id": arm_id(RG, "virtualNetworks/x")}},
    )
    net = collect([ruleset, rule, link])
    rs = net.dns_rulesets[ruleset.urn]
    assert unknown(rs.rules, "r") and isinstance(rs.vnets, tuple) and unknown(rs.vnets[0], "l")


def test_admin_rule_group_without_members_is_unknown() -> None:
    def avnm(
        kind: str, name: str, props: dict[str, Any], deps: dict[str, list[str]] | None = None
    ) -> PulumiResource:
        return inputs(
            f"azure-native:network:{kind}",
            name,
            {"resourceGroupName": RG, "networkManagerName": "m", **props},
            deps,
        )

    config = avnm("SecurityAdminConfiguration", "sac", {"configurationName": "sac"})
    group = avnm("NetworkGroup", "g", {"networkGroupName": "g"})
    coll = avnm(
        "AdminRuleCollection",
        "c",
        {"configurationName": "sac", "ruleCollectionName": "c",
         "appliesToGroups": [{"networkGroupId": arm_id(RG, "networkManagers/m/networkGroups/g")}, {"networkGroupId": arm_id(RG, "networkManagers/m/networkGroups/other")}]},
    )  # fmt: skip
    rule = avnm(
        "AdminRule", "r", {"configurationName": "sac", "ruleCollectionName": "c", "access": "AlwaysAllow"}
    )
    commit = avnm(
        "Commit",
        "k",
        {
            "properties": {
                "commitType": "SecurityAdmin",
                "targetLocations": ["westeurope"],
                "configurationIds": [arm_id(RG, "networkManagers/m/securityAdminConfigurations/sac")],
            }
        },
    )
    [admin] = collect([config, group, coll, rule, commit]).admin_rules
    assert isinstance(admin.vnets, tuple) and len(admin.vnets) == 2
    assert unknown(admin.vnets[0], "members") and unknown(admin.vnets[1], "outside the stack")


# --- stack export and analysis ------------------------------------------------------------------------------


def test_stack_export_plaintext_secrets_and_dependencies() -> None:
    sig = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    rt_urn = urn(RT, "rt")
    doc = {
        "resources": [
            {
                "urn": rt_urn,
                "type": RT,
                "inputs": {"resourceGroupName": RG, "routeTableName": "rt"},
                "outputs": {"location": LOC},
            },
            {
                "urn": urn(SUBNET, "s"),
                "type": SUBNET,
                "parent": rt_urn,
                "dependencies": [rt_urn, 7],
                "inputs": {
                    "virtualNetworkName": "v",
                    "subnetName": {**sig, "plaintext": json.dumps("GatewaySubnet")},
                },
                "outputs": {"routeTable": {"id": U}},
                "propertyDependencies": {"routeTable": [rt_urn], "virtualNetworkName": []},
            },
            "garbage",
            {"urn": 5, "type": RT},
        ]
    }
    resources = from_stack_export(doc)
    assert [r.name for r in resources] == ["rt", "s"]
    assert resources[1].dependencies == (rt_urn,) and resources[1].property_dependencies == {
        "routeTable": (rt_urn,)
    }
    net = collect(resources)
    s = net.subnets[urn(SUBNET, "s")]
    assert (s.route_table, s.subnet_name) == (rt_urn, "GatewaySubnet")
    assert from_stack_export({"deployment": "x"}) == []


def test_absent_route_table_location_and_unattached_table_still_analysed() -> None:
    rt = inputs(
        RT,
        "rt",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "routes": [{"name": "d", "addressPrefix": "0.0.0.0/0", "nextHopType": "None"}],
        },
    )
    result = analyze(collect([rt]))
    [table] = result.subnets
    assert table.verdict is Verdict.BLOCKED


def test_ipv4_next_hop_inference_ignores_bad_values() -> None:
    hub = inputs(
        VNET,
        "hub",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "subnets": [{"name": "AzureFirewallSubnet", "addressPrefix": "bad"}],
        },
    )
    fw = inputs(
        FW,
        "fw",
        {"ipConfigurations": [{"subnet": {"id": U}, "privateIPAddress": "10.0.1.4"}]},
        {"ipConfigurations": [hub.urn]},
    )
    rt = inputs(
        RT,
        "rt",
        {
            "routes": [
                {
                    "name": "x",
                    "addressPrefix": "0.0.0.0/0",
                    "nextHopType": "VirtualAppliance",
                    "nextHopIpAddress": "not-an-ip",
                }
            ]
        },
    )
    net = collect([hub, fw, rt])
    routes = net.route_tables[rt.urn].routes
    assert isinstance(routes, tuple) and routes[0].next_hop_resource is None
    assert net.firewalls[fw.urn].private_ip == "10.0.1.4"


def test_nic_with_unknown_subnet_counts_only_in_the_subnets_of_its_known_vnet() -> None:
    """A NIC whose subnet id is unknown at preview but whose property depends on one VNet (with two
    subnets) may be in that VNet's subnets only: it was evaluated in every subnet of the estate, which
    made the analysis and the report grow with subnets × NICs."""
    vnets = [
        inputs(
            VNET,
            n,
            {
                "resourceGroupName": RG,
                "virtualNetworkName": n,
                "location": LOC,
                "addressSpace": {"addressPrefixes": [prefix]},
                "subnets": [
                    {"name": "app", "addressPrefix": prefix.replace("0.0/16", "1.0/24")},
                    {"name": "web", "addressPrefix": prefix.replace("0.0/16", "2.0/24")},
                ],
            },
        )
        for n, prefix in (("vnet-a", "10.1.0.0/16"), ("vnet-b", "10.2.0.0/16"))
    ]
    nic = inputs(
        NIC,
        "nic",
        {"resourceGroupName": RG, "ipConfigurations": [{"name": "c", "subnet": {"id": UNK}}]},
        {"ipConfigurations": [vnets[0].urn]},
    )
    vm = inputs(
        "azure-native:compute:VirtualMachine",
        "vm",
        {"resourceGroupName": RG, "location": LOC,
         "storageProfile": {"osDisk": {"osType": "Windows", "createOption": "FromImage"}},
         "networkProfile": {"networkInterfaces": [{"id": UNK}]}},
        {"networkProfile": [nic.urn]},
    )  # fmt: skip
    net = collect([*vnets, nic, vm])
    ipcs = net.nics[nic.urn].ip_configurations
    assert isinstance(ipcs, tuple) and unknown(ipcs[0].subnet) and ipcs[0].vnet == vnets[0].urn
    with_nic = {s.name: [n.name for n in s.nics] for s in analyze(net).subnets}
    assert with_nic == {"vnet-a/app": ["nic"], "vnet-a/web": ["nic"], "vnet-b/app": [], "vnet-b/web": []}
