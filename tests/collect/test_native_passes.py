"""azure-native gateway connections and AVNM commit regions (kmsguard.collect.azure_native.passes).

* ``VirtualNetworkGatewayConnection``: an IPsec connection installs its local network gateway's
  address space as gateway routes in every subnet (semantics §2.2), a VNet-to-VNet connection the
  peer VNet's; private ranges change nothing, a public range, 0.0.0.0/0 or a range not known makes
  every subnet ``unknown`` (docs/rules.md#azure-public-source). The same reading as the classic
  connection's (test_classic_edge.py), shared code.
* ``Commit.properties.targetLocations``: a security admin configuration applies in the regions its
  commit targets; elsewhere, or when the regions are not known, its rules are "not deployed"
  (docs/rules.md#admin-rules).
"""

from __future__ import annotations

from typing import Any

import pytest

from kmsguard.analysis import analyze
from kmsguard.collect.pulumi import PulumiResource, collect
from kmsguard.model import Problem, Unknown

from .preview import U, arm_id, inputs

RG = "rg-net"
LOC = "westeurope"
VNET = "azure-native:network:VirtualNetwork"
GW = "azure-native:network:VirtualNetworkGateway"
LGW = "azure-native:network:LocalNetworkGateway"
CONN = "azure-native:network:VirtualNetworkGatewayConnection"
RT = "azure-native:network:RouteTable"
KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
BOTH = pytest.mark.parametrize("deployed", [True, False], ids=["export", "preview"])


class Stack:
    """Resources as a stack export (known ids) or a preview (ids unknown, links by property dependencies)."""

    def __init__(self, deployed: bool) -> None:
        self.deployed = deployed
        self.resources: list[PulumiResource] = []
        self.ids: dict[str, str] = {}

    def add(self, token: str, name: str, props: dict[str, Any], arm: str, refs: dict[str, Any] | None = None) -> PulumiResource:  # fmt: skip
        """``refs``: property → (URN, ARM id) of the referenced resource, written as ``{"id": …}``."""
        bag: dict[str, Any] = {"resourceGroupName": RG, "location": LOC, **props}
        deps: dict[str, list[str]] = {}
        for prop, (target, target_id) in (refs or {}).items():
            if self.deployed:
                bag[prop] = {"id": target_id}
            else:
                bag[prop] = {"id": U}
                deps[prop] = [target]
        if self.deployed:
            bag["id"] = arm_id(RG, arm)
        r = inputs(token, name, bag, deps)
        self.ids[r.urn] = arm_id(RG, arm)
        self.resources.append(r)
        return r

    def ref(self, r: PulumiResource) -> tuple[str, str]:
        return r.urn, self.ids[r.urn]


def vnet_with_gateway(s: Stack, name: str, prefix: str) -> PulumiResource:
    """A VNet with an ``app`` subnet and a static (no BGP, no Default Site) route-based VPN gateway."""
    vnet = s.add(
        VNET,
        name,
        {
            "virtualNetworkName": name,
            "addressSpace": {"addressPrefixes": [prefix]},
            "subnets": [
                {"name": "app", "addressPrefix": prefix.replace("0.0/16", "1.0/24")},
                {"name": "GatewaySubnet", "addressPrefix": prefix.replace("0.0/16", "255.0/27")},
            ],
        },
        f"virtualNetworks/{name}",
    )
    subnet = (vnet.urn, arm_id(RG, f"virtualNetworks/{name}/subnets/GatewaySubnet"))
    gw = s.add(
        GW,
        f"{name}-vpn",
        {"virtualNetworkGatewayName": f"{name}-vpn", "gatewayType": "Vpn", "vpnType": "RouteBased", "enableBgp": False},
        f"virtualNetworkGateways/{name}-vpn",
    )  # fmt: skip
    # The IP configuration's subnet, written as the engine sends it (a nested reference).
    gw.props["ipConfigurations"] = [{"name": "c", "subnet": {"id": subnet[1] if s.deployed else U}}]
    if not s.deployed:
        gw.property_dependencies["ipConfigurations"] = (vnet.urn,)  # type: ignore[index]
    return gw


def ipsec(s: Stack, space: Any, *, in_stack: bool = True, ctype: Any = "IPsec") -> None:
    gw = vnet_with_gateway(s, "spoke", "10.1.0.0/16")
    if in_stack:
        lng = s.add(
            LGW,
            "onprem",
            {"localNetworkGatewayName": "onprem", "gatewayIpAddress": "198.51.100.1",
             "localNetworkAddressSpace": {"addressPrefixes": space} if space is not U else U},
            "localNetworkGateways/onprem",
        )  # fmt: skip
        site = s.ref(lng)
    else:
        site = ("urn:pulumi:dev::net::outside::lng", arm_id(RG, "localNetworkGateways/elsewhere"))
    s.add(
        CONN,
        "conn",
        {"virtualNetworkGatewayConnectionName": "conn", "connectionType": ctype, "sharedKey": "k"},
        "connections/conn",
        {"virtualNetworkGateway1": s.ref(gw), "localNetworkGateway2": site},
    )


def verdicts(resources: list[PulumiResource]) -> dict[str, str]:
    return {x.name: x.verdict.value for x in analyze(collect(resources)).subnets}


APP = "spoke/app"


# --- gateway connections -------------------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (["192.168.0.0/16", "172.16.0.0/12"], "reachable"),
        (["0.0.0.0/0"], "unknown"),
        (["20.0.0.0/8"], "unknown"),
        (["192.168.0.0/16", "20.118.99.224/32"], "unknown"),
    ],
)
def test_ipsec_connection_static_routes_to_public_space_are_unknown(deployed: bool, space: list[str], expected: str) -> None:  # fmt: skip
    s = Stack(deployed)
    ipsec(s, space)
    network = collect(s.resources)
    assert network.problems == ()
    assert verdicts(s.resources) == {APP: expected, "spoke/GatewaySubnet": "excluded"}
    (app,) = (x for x in network.subnets.values() if x.subnet_name == "app")
    if expected == "unknown":
        assert app.route_table == Unknown(
            "connection conn adds gateway routes for public address space (docs/rules.md#azure-public-source)"
        )
    else:
        assert app.route_table is None


def test_the_same_static_routes_without_the_connection_change_nothing() -> None:
    s = Stack(True)
    ipsec(s, ["0.0.0.0/0"])
    without = [r for r in s.resources if r.type != CONN]
    assert verdicts(without)[APP] == "reachable"


def test_connection_to_a_local_network_gateway_outside_the_stack_is_unknown() -> None:
    s = Stack(True)
    ipsec(s, ["192.168.0.0/16"], in_stack=False)
    # The inline copy of the gateway an azure-native program may pass is not what Azure reads.
    (conn,) = (r for r in s.resources if r.type == CONN)
    conn.props["localNetworkGateway2"]["localNetworkAddressSpace"] = {"addressPrefixes": ["192.168.0.0/16"]}
    (app,) = (x for x in collect(s.resources).subnets.values() if x.subnet_name == "app")
    assert app.route_table == Unknown(
        "connection conn: the local network gateway of connection conn is not in the stack "
        "(docs/rules.md#azure-public-source)"
    )
    assert verdicts(s.resources)[APP] == "unknown"


def test_address_space_or_type_not_known_until_deployment_is_unknown() -> None:
    s = Stack(False)
    ipsec(s, U)
    assert verdicts(s.resources)[APP] == "unknown"
    s = Stack(False)
    ipsec(s, ["192.168.0.0/16"], ctype=U)
    (app,) = (x for x in collect(s.resources).subnets.values() if x.subnet_name == "app")
    assert app.route_table == Unknown(
        "connection conn: the type of connection conn is not known (docs/rules.md#azure-public-source)"
    )


def test_route_tables_get_the_unknown_gateway_route() -> None:
    s = Stack(True)
    ipsec(s, ["0.0.0.0/0"])
    table = s.add(RT, "rt", {"routeTableName": "rt", "routes": []}, "routeTables/rt")
    routes = collect(s.resources).route_tables[table.urn].routes
    assert isinstance(routes, tuple) and [r.name for r in routes] == ["(gateway connection routes)"]


def test_expressroute_connection_adds_no_static_route() -> None:
    # Its routes come over BGP, which the gateway's type already makes unknown (docs/rules.md#bgp-routes).
    s = Stack(True)
    ipsec(s, ["0.0.0.0/0"], ctype="ExpressRoute")
    assert verdicts(s.resources)[APP] == "reachable"


@pytest.mark.parametrize(
    ("ctype", "bgp", "expected"),
    [
        ("ExpressRoute", None, "unknown"),
        ("IPsec", True, "unknown"),
        ("IPsec", U, "unknown"),
        ("IPsec", False, "reachable"),
    ],
)
def test_bgp_routes_to_a_gateway_outside_the_stack_are_unknown(ctype: str, bgp: Any, expected: str) -> None:
    # The gateway the connection feeds is declared elsewhere, so nothing in the stack says its BGP
    # routes are unknown: the connection does (docs/rules.md#bgp-routes).
    s = Stack(False)
    ipsec(s, ["192.168.0.0/16"], ctype=ctype)
    s.resources[:] = [r for r in s.resources if r.type != CONN]
    outside = ("urn:pulumi:dev::net::outside::gw", arm_id(RG, "virtualNetworkGateways/elsewhere"))
    props: dict[str, Any] = {
        "virtualNetworkGatewayConnectionName": "conn",
        "connectionType": ctype,
        "sharedKey": "k",
    }
    if bgp is not None:
        props["enableBgp"] = bgp
    lng = next(r for r in s.resources if r.type == LGW)
    s.add(
        CONN,
        "conn",
        props,
        "connections/conn",
        {"virtualNetworkGateway1": outside, "localNetworkGateway2": s.ref(lng)},
    )
    assert verdicts(s.resources)[APP] == expected


@pytest.mark.parametrize(("space", "expected"), [("10.0.0.0/16", "reachable"), ("20.118.0.0/16", "unknown")])
def test_vnet_to_vnet_connection_adds_the_peer_vnet_space(space: str, expected: str) -> None:
    s = Stack(True)
    gw = vnet_with_gateway(s, "spoke", "10.1.0.0/16")
    peer = vnet_with_gateway(s, "peer", space)
    s.add(
        CONN,
        "conn",
        {"virtualNetworkGatewayConnectionName": "conn", "connectionType": "Vnet2Vnet"},
        "connections/conn",
        {"virtualNetworkGateway1": s.ref(gw), "virtualNetworkGateway2": s.ref(peer)},
    )
    assert verdicts(s.resources)[APP] == expected


# --- AVNM commit regions ---------------------------------------------------------------------------------------


def admin_deny(locations: Any, *, second: Any = None) -> list[PulumiResource]:
    """A spoke in westeurope whose route table drops 0.0.0.0/0 and sends the KMS IPs /32 to the Internet,
    so the KMS platform rule does not apply and filtering decides (docs/rules.md#nsg-platform-rule), and
    an admin rule denying TCP 1688 committed to ``locations`` (``None``: no ``targetLocations``)."""

    def avnm(kind: str, name: str, props: dict[str, Any], deps: dict[str, list[str]] | None = None) -> PulumiResource:  # fmt: skip
        return inputs(f"azure-native:network:{kind}", name, {"resourceGroupName": RG, "networkManagerName": "avnm", **props}, deps)  # fmt: skip

    routes = [{"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "None"}] + [
        {"name": f"kms-{i}", "addressPrefix": f"{ip}/32", "nextHopType": "Internet"}
        for i, ip in enumerate(KMS_IPS)
    ]
    rt = inputs(
        RT, "rt", {"resourceGroupName": RG, "location": LOC, "routeTableName": "rt", "routes": routes}
    )
    spoke = inputs(
        VNET,
        "spoke",
        {"resourceGroupName": RG, "location": LOC, "virtualNetworkName": "spoke",
         "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
         "subnets": [{"name": "app", "addressPrefix": "10.1.1.0/24", "routeTable": {"id": U}}]},
        {"subnets": [rt.urn]},
    )  # fmt: skip
    group = avnm("NetworkGroup", "spokes", {"networkGroupName": "spokes"})
    member = avnm(
        "StaticMember", "m1", {"networkGroupName": "spokes", "resourceId": U}, {"resourceId": [spoke.urn]}
    )
    config = avnm("SecurityAdminConfiguration", "sac", {"configurationName": "sac"})
    coll = avnm("AdminRuleCollection", "coll", {"configurationName": "sac", "ruleCollectionName": "coll",
                                                "appliesToGroups": [{"networkGroupId": U}]}, {"appliesToGroups": [group.urn]})  # fmt: skip
    rule = avnm("AdminRule", "deny-1688", {"configurationName": "sac", "ruleCollectionName": "coll", "kind": "Custom",
                                           "access": "Deny", "direction": "Outbound", "priority": 10, "protocol": "Tcp",
                                           "destinations": [{"addressPrefix": "Internet", "addressPrefixType": "ServiceTag"}],
                                           "destinationPortRanges": ["1688"]})  # fmt: skip
    out = [rt, spoke, group, member, config, coll, rule]
    for i, where in enumerate([locations] if second is None else [locations, second]):
        props: dict[str, Any] = {"commitType": "SecurityAdmin", "configurationIds": [U]}
        if where is not None:
            props["targetLocations"] = where
        out.append(avnm("Commit", f"commit{i}", {"properties": props}, {"properties": [config.urn]}))
    return out


SPOKE = "urn:pulumi:dev::net::azure-native:network:VirtualNetwork::spoke"
COMMIT = "urn:pulumi:dev::net::azure-native:network:Commit::commit0"


@pytest.mark.parametrize(
    ("locations", "expected"),
    [
        (["westeurope"], "blocked"),
        (["West Europe", "eastus"], "blocked"),
        (["eastus"], "unknown"),
        (U, "unknown"),
        ([U], "unknown"),
        (None, "unknown"),
    ],
)
def test_admin_rule_applies_in_the_regions_its_commit_targets(locations: Any, expected: str) -> None:
    resources = admin_deny(locations)
    network = collect(resources)
    rules = [r.vnets for r in network.admin_rules]
    if expected == "blocked":
        assert rules == [(SPOKE,)]
    elif locations == ["eastus"]:
        assert rules == [(), Unknown("not deployed: no Commit in the stack deploys the security admin "
                                     "configuration of deny-1688 to the region of spoke")]  # fmt: skip
    else:
        assert rules == [Unknown("not deployed: the region a Commit deploys the security admin configuration "
                                 "of deny-1688 to is not known")]  # fmt: skip
    if locations is None:
        # ARM requires targetLocations: the commit deploys nowhere known, and the resource says why.
        assert network.problems == (
            Problem("commit0", "properties.targetLocations", "required property is missing", COMMIT),
        )
    else:
        assert network.problems == ()
    assert verdicts(resources) == {"spoke/app": expected}


def test_a_commit_with_regions_not_known_does_not_hide_one_that_targets_the_region() -> None:
    resources = admin_deny(["westeurope"], second=U)
    assert [r.vnets for r in collect(resources).admin_rules] == [(SPOKE,)]
    assert verdicts(resources) == {"spoke/app": "blocked"}


def test_without_the_deny_rule_the_spoke_is_reachable() -> None:
    # The control: what the tests above block or leave unknown is the admin rule alone.
    resources = [r for r in admin_deny(["westeurope"]) if not r.type.endswith(":AdminRule")]
    assert verdicts(resources) == {"spoke/app": "reachable"}
