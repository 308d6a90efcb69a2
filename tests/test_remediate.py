"""The KMS route plan shared by kms-route-autofix and the components: exact routes, safety rules."""

from __future__ import annotations

from typing import Any

import pytest

from kmsguard.remediate import MAX_ROUTES, UNKNOWN_SENTINEL, plan_kms_routes

PUBLIC_ROUTES = [
    {"name": "kms-20-118-99-224", "addressPrefix": "20.118.99.224/32", "nextHopType": "Internet"},
    {"name": "kms-40-83-235-53", "addressPrefix": "40.83.235.53/32", "nextHopType": "Internet"},
    {"name": "kms-23-102-135-246", "addressPrefix": "23.102.135.246/32", "nextHopType": "Internet"},
]
DEFAULT_TO_NVA = {
    "name": "default",
    "addressPrefix": "0.0.0.0/0",
    "nextHopType": "VirtualAppliance",
    "nextHopIpAddress": "10.0.0.4",
}


def apply(routes: list[Any], location: str) -> list[Any]:
    plan = plan_kms_routes(routes, location)
    return [*routes, *plan.added]


def test_forced_tunnel_table_gets_one_route_per_public_kms_ip() -> None:
    plan = plan_kms_routes([DEFAULT_TO_NVA], "westeurope")
    assert plan.cloud == "public"
    assert list(plan.added) == PUBLIC_ROUTES
    assert plan.diverted == (
        "20.118.99.224 → route default (0.0.0.0/0 → VirtualAppliance)",
        "40.83.235.53 → route default (0.0.0.0/0 → VirtualAppliance)",
        "23.102.135.246 → route default (0.0.0.0/0 → VirtualAppliance)",
    )


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("usgovvirginia", [("kms-23-97-0-13", "23.97.0.13/32"), ("kms-52-126-105-2", "52.126.105.2/32")]),
        (
            "chinaeast2",
            [
                ("kms-159-27-28-100", "159.27.28.100/32"),
                ("kms-163-228-64-161", "163.228.64.161/32"),
                ("kms-42-159-7-249", "42.159.7.249/32"),
            ],
        ),
        ("germanywestcentral", [(r["name"], r["addressPrefix"]) for r in PUBLIC_ROUTES]),
    ],
)
def test_routes_follow_the_cloud_of_the_location(location: str, expected: list[tuple[str, str]]) -> None:
    plan = plan_kms_routes(
        [{"name": "ft", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"}], location
    )
    assert sorted((r["name"], r["addressPrefix"]) for r in plan.added) == sorted(expected)
    assert all(r["nextHopType"] == "Internet" for r in plan.added)


def test_applying_twice_equals_applying_once_and_user_routes_stay_in_order() -> None:
    user = [
        DEFAULT_TO_NVA,
        {"name": "onprem", "addressPrefix": "10.0.0.0/8", "nextHopType": "VirtualNetworkGateway"},
    ]
    once = apply(list(user), "eastus")
    twice = apply(list(once), "eastus")
    assert once == twice
    assert once[:2] == user
    assert plan_kms_routes(once, "eastus").added == ()


def test_only_diverted_ips_get_routes() -> None:
    # Scenario 8: a /8 to the gateway captures only 20.118.99.224; the others use the system route.
    plan = plan_kms_routes(
        [{"name": "onprem-20", "addressPrefix": "20.0.0.0/8", "nextHopType": "VirtualNetworkGateway"}],
        "eastus",
    )
    assert list(plan.added) == [PUBLIC_ROUTES[0]]


def test_table_without_diversion_is_left_alone() -> None:
    assert (
        plan_kms_routes(
            [{"name": "a", "addressPrefix": "10.1.0.0/16", "nextHopType": "VnetLocal"}], "eastus"
        ).added
        == ()
    )
    assert (
        plan_kms_routes(
            [{"name": "d", "addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"}], "eastus"
        ).added
        == ()
    )


def test_name_collision_gets_a_stable_suffix() -> None:
    taken = {"name": "kms-20-118-99-224", "addressPrefix": "10.9.9.0/24", "nextHopType": "VnetLocal"}
    plan = plan_kms_routes([DEFAULT_TO_NVA, taken], "eastus")
    assert [r["name"] for r in plan.added] == [
        "kms-20-118-99-224-2",
        "kms-40-83-235-53",
        "kms-23-102-135-246",
    ]


def test_user_host_route_to_another_hop_is_reported_not_rewritten() -> None:
    user = {
        "name": "pin",
        "addressPrefix": "40.83.235.53/32",
        "nextHopType": "VirtualAppliance",
        "nextHopIpAddress": "10.0.0.4",
    }
    plan = plan_kms_routes([DEFAULT_TO_NVA, user], "eastus")
    assert plan.conflicts == ("40.83.235.53",)
    assert [r["name"] for r in plan.added] == ["kms-20-118-99-224", "kms-23-102-135-246"]


def test_limit_of_400_routes_is_reported_instead_of_exceeded() -> None:
    filler = [
        {"name": f"r{i}", "addressPrefix": f"10.{i // 256}.{i % 256}.0/24", "nextHopType": "VnetLocal"}
        for i in range(398)
    ]
    plan = plan_kms_routes([DEFAULT_TO_NVA, *filler], "eastus")
    assert len(filler) + 1 + 3 > MAX_ROUTES
    assert plan.added == ()
    assert plan.over_limit
    # Exactly at the limit is fine.
    plan = plan_kms_routes([DEFAULT_TO_NVA, *filler[:396]], "eastus")
    assert len(plan.added) == 3 and not plan.over_limit


@pytest.mark.parametrize(
    ("routes", "location", "skipped"),
    [
        (
            [DEFAULT_TO_NVA],
            UNKNOWN_SENTINEL,
            "the route table's location is unknown, so its cloud's KMS IPs are too",
        ),
        ([DEFAULT_TO_NVA], None, "the route table's location is unknown, so its cloud's KMS IPs are too"),
        (
            [DEFAULT_TO_NVA],
            "usseceast",
            "the KMS endpoints of location 'usseceast' are not documented (docs/rules.md#location-to-cloud)",
        ),
        (UNKNOWN_SENTINEL, "eastus", "the inline routes are unknown during this preview"),
        (None, "eastus", "no inline routes (standalone Route resources are left alone)"),
        ({"name": "x"}, "eastus", "routes is not a list"),
    ],
)
def test_tables_that_cannot_be_planned_are_skipped_with_a_reason(
    routes: Any, location: Any, skipped: str
) -> None:
    plan = plan_kms_routes(routes, location)
    assert plan.added == ()
    assert plan.skipped == skipped


def test_unknown_route_values_still_get_the_host_routes() -> None:
    # A route whose prefix is unknown at preview may capture the KMS IPs; /32 → Internet routes win
    # over it whatever it turns out to be (§2.4), so adding them is safe and settles the question.
    unknown = {"name": "x", "addressPrefix": UNKNOWN_SENTINEL, "nextHopType": "VirtualAppliance"}
    plan = plan_kms_routes([unknown], "eastus")
    assert list(plan.added) == PUBLIC_ROUTES
    assert plan_kms_routes([unknown, *plan.added], "eastus").added == ()


def test_garbage_route_items_never_raise() -> None:
    plan = plan_kms_routes([DEFAULT_TO_NVA, 42, "x", None, {"addressPrefix": 5}], "eastus")
    assert list(plan.added) == PUBLIC_ROUTES


# --- bypass_appliances=False: the pack's autofix ------------------------------------------------


def test_appliance_is_left_alone_with_the_ips_listed() -> None:
    plan = plan_kms_routes([DEFAULT_TO_NVA], "westeurope", bypass_appliances=False)
    assert plan.added == ()
    assert plan.via_appliance == ("20.118.99.224", "40.83.235.53", "23.102.135.246")
    assert (plan.diverted, plan.conflicts, plan.skipped, plan.over_limit) == ((), (), "", False)
    assert not plan.needed
    # The components' default still routes around the appliance, and lists nothing as left alone.
    bypass = plan_kms_routes([DEFAULT_TO_NVA], "westeurope")
    assert list(bypass.added) == PUBLIC_ROUTES and bypass.via_appliance == ()


@pytest.mark.parametrize("hop", ["VirtualNetworkGateway", "None", "VnetLocal", UNKNOWN_SENTINEL])
def test_other_next_hops_are_still_fixed(hop: str) -> None:
    plan = plan_kms_routes(
        [{"name": "ft", "addressPrefix": "0.0.0.0/0", "nextHopType": hop}],
        "westeurope",
        bypass_appliances=False,
    )
    assert list(plan.added) == PUBLIC_ROUTES
    assert plan.via_appliance == ()
    shown = "unknown next hop" if hop == UNKNOWN_SENTINEL else hop
    assert plan.diverted[0] == f"20.118.99.224 → route ft (0.0.0.0/0 → {shown})"


def test_mixed_table_fixes_only_the_ips_that_do_not_go_to_the_appliance() -> None:
    # 20.0.0.0/8 → gateway captures 20.118.99.224; the other IPs follow 0.0.0.0/0 to the appliance.
    onprem = {"name": "onprem-20", "addressPrefix": "20.0.0.0/8", "nextHopType": "VirtualNetworkGateway"}
    plan = plan_kms_routes([DEFAULT_TO_NVA, onprem], "eastus", bypass_appliances=False)
    assert list(plan.added) == [PUBLIC_ROUTES[0]]
    assert plan.diverted == ("20.118.99.224 → route onprem-20 (20.0.0.0/8 → VirtualNetworkGateway)",)
    assert plan.via_appliance == ("40.83.235.53", "23.102.135.246")
    # Idempotent: once the /32 is there, nothing is left to add and the appliance IPs stay listed.
    again = plan_kms_routes([DEFAULT_TO_NVA, onprem, *plan.added], "eastus", bypass_appliances=False)
    assert again.added == () and again.via_appliance == ("40.83.235.53", "23.102.135.246")


def test_an_unknown_prefix_still_gets_the_host_routes_without_bypass() -> None:
    # Nothing known selects an appliance; the unknown route may divert the IPs anywhere (§2.4).
    unknown = {"name": "x", "addressPrefix": UNKNOWN_SENTINEL, "nextHopType": "VirtualAppliance"}
    plan = plan_kms_routes([unknown], "eastus", bypass_appliances=False)
    assert list(plan.added) == PUBLIC_ROUTES
    assert plan.via_appliance == ()


def test_a_user_host_route_to_the_appliance_is_left_to_the_stack_analysis_without_bypass() -> None:
    pin = {**DEFAULT_TO_NVA, "name": "pin", "addressPrefix": "40.83.235.53/32"}
    plan = plan_kms_routes([DEFAULT_TO_NVA, pin], "eastus", bypass_appliances=False)
    assert plan.conflicts == ()
    assert plan.via_appliance == ("20.118.99.224", "40.83.235.53", "23.102.135.246")
    assert plan.added == ()
    # The components (bypass) still never rewrite it: a conflict there.
    assert plan_kms_routes([DEFAULT_TO_NVA, pin], "eastus").conflicts == ("40.83.235.53",)


def test_a_user_host_route_to_a_gateway_stays_a_conflict_without_bypass() -> None:
    pin = {"name": "pin", "addressPrefix": "40.83.235.53/32", "nextHopType": "VirtualNetworkGateway"}
    plan = plan_kms_routes([pin], "eastus", bypass_appliances=False)
    assert plan.conflicts == ("40.83.235.53",)
    assert plan.added == ()


def test_appliance_ips_are_listed_when_the_limit_is_reached() -> None:
    filler = [
        {"name": f"r{i}", "addressPrefix": f"10.{i // 256}.{i % 256}.0/24", "nextHopType": "VnetLocal"}
        for i in range(398)
    ]
    onprem = {"name": "onprem-20", "addressPrefix": "20.0.0.0/8", "nextHopType": "VirtualNetworkGateway"}
    # 400 routes plus one /32 for 20.118.99.224 would exceed the limit; the appliance IPs need none.
    plan = plan_kms_routes([DEFAULT_TO_NVA, onprem, *filler], "eastus", bypass_appliances=False)
    assert plan.over_limit and plan.added == ()
    assert plan.via_appliance == ("40.83.235.53", "23.102.135.246")
    # 399 routes: the one /32 fits, where bypassing the appliance (three /32s) would not.
    assert (
        len(plan_kms_routes([DEFAULT_TO_NVA, onprem, *filler[:397]], "eastus", bypass_appliances=False).added)
        == 1
    )
    assert plan_kms_routes([DEFAULT_TO_NVA, onprem, *filler[:397]], "eastus").over_limit


CLASSIC_NSG_URN = "urn:pulumi:dev::net::azure:network/networkSecurityGroup:NetworkSecurityGroup::nsg-web"
NATIVE_NSG_URN = "urn:pulumi:dev::net::azure-native:network:NetworkSecurityGroup::nsg-web"


@pytest.mark.parametrize(
    ("urn", "code"),
    [
        # Classic, but nothing classic can be written (the NSG is not in the model): no code at all,
        # never the azure-native code that would fail when pasted into a pulumi-azure program.
        (CLASSIC_NSG_URN, ""),
        # azure-native: left exactly as the analysis wrote it.
        (NATIVE_NSG_URN, "security_rules=[..., azure_native.network.SecurityRuleArgs(...)]"),
    ],
)
def test_a_classic_fix_that_cannot_be_written_in_classic_terms_prints_no_code(urn: str, code: str) -> None:
    from kmsguard.analysis import Fix, SubnetResult, Verdict
    from kmsguard.analysis.subnet import NetworkResult
    from kmsguard.model import Network
    from kmsguard.remediate.classic import in_classic_terms

    fix = Fix(
        kind="add-nsg-rule",
        target="nsg-web",
        urn=urn,
        detail="NSG nsg-web: add an outbound rule allowing TCP 1688 to the KMS IPs",
        code="security_rules=[..., azure_native.network.SecurityRuleArgs(...)]",
        data={"nsg": "nsg-web", "priority": 100, "name": "allow-kms", "destinationAddressPrefixes": []},
    )
    subnet = SubnetResult("s", "s", None, "vnet", "westeurope", "public", Verdict.BLOCKED, fixes=(fix,))
    (out,) = in_classic_terms(NetworkResult((subnet,), ()), Network()).subnets[0].fixes
    assert (out.code, out.detail, out.data) == (code, fix.detail, fix.data)
