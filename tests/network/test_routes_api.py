"""The program-facing helpers of ``kmsguard.pulumi`` that need no Pulumi engine: cloud resolution,
inline route lists and the firewall alternative."""

from __future__ import annotations

import pulumi
import pytest
from pulumi_azure_native import network

from kmsguard.errors import ValidationError
from kmsguard.pulumi import kms_ips, kms_network_rule_collection, resolve_cloud, with_kms_routes
from kmsguard.remediate import plan_kms_routes

PUBLIC = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
DEFAULT_NVA = {
    "name": "default",
    "address_prefix": "0.0.0.0/0",
    "next_hop_type": "VirtualAppliance",
    "next_hop_ip_address": "10.0.0.4",
}


def added(routes: list[object]) -> list[tuple[object, object, object]]:
    return [
        (r["name"], r["address_prefix"], r["next_hop_type"])
        for r in routes
        if isinstance(r, dict) and r is not DEFAULT_NVA
    ]


@pytest.mark.parametrize(
    ("location", "cloud"),
    [
        ("westeurope", "public"),
        ("germanywestcentral", "public"),
        ("usgovvirginia", "usgov"),
        ("China East 2", "china"),
    ],
)
def test_resolve_cloud_from_location(location: str, cloud: str) -> None:
    assert resolve_cloud(location, None, "t") == cloud
    assert resolve_cloud(location, cloud, "t") == cloud


@pytest.mark.parametrize(
    ("location", "cloud", "message"),
    [
        (
            "westeurope",
            "usgov",
            "t: cloud: cloud 'usgov' does not match location 'westeurope', which is in the 'public' cloud",
        ),
        (
            "usnateast",
            None,
            "t: location: the KMS endpoints of location 'usnateast' are not documented (docs/rules.md#location-to-cloud); kmsguard cannot say "
            "which routes it needs",
        ),
        (
            None,
            None,
            "t: location: is not known while the program runs (an Output or unset); pass cloud='public', 'usgov' or "
            "'china' so the KMS routes of the right cloud can be planned before deployment",
        ),
        (None, "mars", "t: cloud: 'mars' is not a known cloud (known: public, usgov, china, germany)"),
    ],
)
def test_resolve_cloud_never_guesses(location: str | None, cloud: str | None, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        resolve_cloud(location, cloud, "t")
    assert str(caught.value) == message


def test_kms_ips_are_every_ip_of_the_cloud() -> None:
    assert kms_ips("public") == tuple(PUBLIC)
    assert kms_ips("usgov") == ("23.97.0.13", "52.126.105.2")
    assert kms_ips("china") == ("159.27.28.100", "163.228.64.161", "42.159.7.249")


def test_with_kms_routes_appends_the_missing_routes_in_plan_order() -> None:
    routes = with_kms_routes([DEFAULT_NVA], location="westeurope")
    assert routes[0] is DEFAULT_NVA
    assert added(routes) == [(f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet") for ip in PUBLIC]


def test_with_kms_routes_is_idempotent_and_agrees_with_the_autofix() -> None:
    once = with_kms_routes([DEFAULT_NVA], location="westeurope")
    assert with_kms_routes(once, location="westeurope") == once
    camel = [
        {"name": r["name"], "addressPrefix": r["address_prefix"], "nextHopType": r["next_hop_type"]}
        for r in once
    ]
    assert plan_kms_routes(camel, "westeurope").added == ()


def test_with_kms_routes_reads_route_args_and_enums() -> None:
    routes = [
        network.RouteArgs(
            name="default",
            address_prefix="0.0.0.0/0",
            next_hop_type=network.RouteNextHopType.VIRTUAL_NETWORK_GATEWAY,
        ),
        network.RouteArgs(
            name="legacy", address_prefix="23.102.135.246/32", next_hop_type=network.RouteNextHopType.INTERNET
        ),
    ]
    out = with_kms_routes(routes, location="westeurope")
    assert out[:2] == routes
    assert [r["address_prefix"] for r in out[2:]] == ["20.118.99.224/32", "40.83.235.53/32"]


def test_with_kms_routes_adds_nothing_when_nothing_diverts() -> None:
    onprem = {"name": "onprem", "address_prefix": "10.0.0.0/8", "next_hop_type": "VirtualNetworkGateway"}
    assert with_kms_routes([onprem], location="westeurope") == [onprem]
    assert with_kms_routes([], location="westeurope") == []


def test_with_kms_routes_forced_tunnel_covers_an_unseen_default_route() -> None:
    # A VPN Default Site or a BGP 0.0.0.0/0 is not in the table; the caller knows it is there.
    assert [r["address_prefix"] for r in with_kms_routes([], location="usgovtexas", forced_tunnel=True)] == [
        "23.97.0.13/32",
        "52.126.105.2/32",
    ]


def test_with_kms_routes_unknown_route_values_count_as_diverting() -> None:
    unknown_hop = {
        "name": "default",
        "address_prefix": "0.0.0.0/0",
        "next_hop_type": pulumi.Output.from_input("x"),
    }
    assert len(with_kms_routes([unknown_hop], location="westeurope")) == 4


def test_with_kms_routes_needs_the_cloud_of_an_output_location() -> None:
    with pytest.raises(ValidationError) as caught:
        with_kms_routes([DEFAULT_NVA], location=pulumi.Output.from_input("westeurope"))
    assert caught.value.where == "with_kms_routes"
    assert caught.value.prop == "location"


def test_with_kms_routes_refuses_to_exceed_the_route_limit() -> None:
    many = [DEFAULT_NVA] + [
        {
            "name": f"r{i}",
            "address_prefix": f"10.{i // 256}.{i % 256}.0/24",
            "next_hop_type": "VirtualAppliance",
        }
        for i in range(398)
    ]
    with pytest.raises(ValidationError) as caught:
        with_kms_routes(many, location="westeurope")
    assert str(caught.value) == (
        "with_kms_routes: routes: adding the KMS routes would exceed the 400-route limit (docs/rules.md#route-limits); consolidate routes "
        "or allow TCP 1688 to the KMS IPs on the firewall (kms_network_rule_collection)"
    )


def test_firewall_rule_collection_allows_tcp_1688_to_every_kms_ip() -> None:
    collection = kms_network_rule_collection("china", source_addresses=["10.0.0.0/8"], priority=150)
    assert pulumi.get(collection, "rule_collection_type") == "FirewallPolicyFilterRuleCollection"
    assert pulumi.get(collection, "priority") == 150
    assert pulumi.get(pulumi.get(collection, "action"), "type") == "Allow"
    [rule] = pulumi.get(collection, "rules")
    assert pulumi.get(rule, "rule_type") == "NetworkRule"
    assert pulumi.get(rule, "ip_protocols") == ["TCP"]
    assert pulumi.get(rule, "destination_ports") == ["1688"]
    assert pulumi.get(rule, "destination_addresses") == ["159.27.28.100", "163.228.64.161", "42.159.7.249"]
    assert pulumi.get(rule, "source_addresses") == ["10.0.0.0/8"]
