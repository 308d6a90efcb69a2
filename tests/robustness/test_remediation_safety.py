"""Remediation safety: ``plan_kms_routes`` and the pack's Remediate on random route tables.

For any table: the output keeps every input route unchanged and in order, and only appends; a second
pass adds nothing; the table never grows past 400 routes; nothing is added for a KMS IP the table
already sends to Internet (by its own route or the system route), and an added route is always a
/32 → Internet for a KMS IP of the table's cloud with a name no existing route has.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from kmsguard.analysis import Verdict
from kmsguard.catalog import load_catalog
from kmsguard.engine import UNKNOWN, PackProcess, PackResource, Secret, decode_value, encode_value
from kmsguard.remediate import MAX_ROUTES, plan_kms_routes

from .support import in_process, scaled, unwrap

CATALOG = load_catalog()
LOCATIONS = ["eastus", "West Europe", "usgovvirginia", "chinanorth3", "germanycentral", "ussecwest", "mars"]
ALL_KMS = sorted({ip for c in CATALOG.clouds.values() for ip in c.ips})
HOPS = ["Internet", "VirtualAppliance", "VirtualNetworkGateway", "VnetLocal", "None"]
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
TOKEN = "azure-native:network:RouteTable"


def _covering(ip: str) -> st.SearchStrategy[str]:
    """A prefix containing ``ip``: anything from /0 to /32."""
    return st.integers(0, 32).map(lambda n: str(ipaddress.IPv4Network(f"{ip}/{n}", strict=False)))


prefixes = st.one_of(
    st.sampled_from(ALL_KMS).flatmap(_covering),
    st.sampled_from(["10.0.0.0/8", "192.168.0.0/16", "0.0.0.0/0", "20.0.0.0/8", "40.0.0.0/6"]),
)
hops = st.sampled_from(HOPS).flatmap(lambda h: st.sampled_from([h, h.lower(), h.upper()]))
route_names = st.one_of(
    st.sampled_from(["default", "kms-20-118-99-224", "kms-40-83-235-53", "kms-23-102-135-246-2", "r"]),
    st.text(alphabet="abc-", min_size=1, max_size=4),
)


@st.composite
def certain_route(draw: st.DrawFn) -> dict[str, Any]:
    route: dict[str, Any] = {
        "name": draw(route_names),
        "addressPrefix": draw(prefixes),
        "nextHopType": draw(hops),
    }
    if route["nextHopType"].lower() == "virtualappliance":
        route["nextHopIpAddress"] = "10.0.1.4"
    return route


@st.composite
def uncertain_route(draw: st.DrawFn) -> dict[str, Any]:
    route = draw(certain_route())
    key = draw(st.sampled_from(["addressPrefix", "nextHopType"]))
    route[key] = draw(st.sampled_from([UNKNOWN, "Internet ", "10.0.0.0/33", 7.0, "Storage", ""]))
    return route


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[Any], str]:
    routes: list[Any] = draw(
        st.lists(st.one_of(certain_route(), certain_route(), uncertain_route()), max_size=8)
    )
    if draw(st.integers(0, 9)) == 0:  # near the 400-route limit
        filler = [
            {"name": f"f{i}", "addressPrefix": f"10.{i // 256}.{i % 256}.0/24", "nextHopType": "VnetLocal"}
            for i in range(draw(st.integers(390, 400)))
        ]
        routes = [*filler, *routes]
    if routes and draw(st.booleans()):
        i = draw(st.integers(0, len(routes) - 1))
        routes[i] = Secret(routes[i])  # a whole route made secret by the program
    return routes, draw(st.sampled_from(LOCATIONS))


def _lpm(routes: list[Any], ip: str) -> dict[str, Any] | None:
    best, best_len = None, -1
    for r in routes:
        net = ipaddress.IPv4Network(r["addressPrefix"])
        if ipaddress.IPv4Address(ip) in net and net.prefixlen > best_len:
            best, best_len = r, net.prefixlen
    return best


def _is_certain(r: Any) -> bool:
    try:
        ipaddress.IPv4Network(r["addressPrefix"])
    except (ValueError, TypeError):
        return False
    return isinstance(r.get("nextHopType"), str) and r["nextHopType"].lower() in {h.lower() for h in HOPS}


@settings(max_examples=scaled(300), deadline=None, suppress_health_check=SLOW)
@given(tables())
def test_plan_only_appends_is_idempotent_bounded_and_necessary(table: tuple[list[Any], str]) -> None:
    routes, location = table
    before = copy.deepcopy(routes)
    plan = plan_kms_routes(routes, location)
    assert routes == before  # the input is never mutated
    after = [*routes, *plan.added]
    if plan.added:
        assert len(after) <= MAX_ROUTES
    assert plan_kms_routes(after, location).added == ()
    cloud = CATALOG.cloud_of_location(location)
    ips = CATALOG.cloud(cloud).ips if cloud else frozenset()
    plain = [unwrap(r) for r in routes]
    names = {r.get("name") for r in plain}
    for added in plan.added:
        assert added["nextHopType"] == "Internet" and added["name"] not in names
        ip, _, length = added["addressPrefix"].partition("/")
        assert length == "32" and ip in ips
        if all(_is_certain(r) for r in plain):
            winner = _lpm(plain, ip)
            # Unnecessary: the table's own route or the system route already sends the IP to Internet.
            assert winner is not None and winner["nextHopType"].lower() != "internet", (ip, winner)
            assert (
                ipaddress.IPv4Network(winner["addressPrefix"]).prefixlen < 32
            )  # user /32s are never overridden
    if cloud is None:
        assert plan.added == () and not plan.over_limit


@settings(max_examples=scaled(100), deadline=None, suppress_health_check=SLOW)
@given(tables())
def test_plan_adds_nothing_where_the_analysis_finds_routing_fine(table: tuple[list[Any], str]) -> None:
    routes, location = table
    resource = PackResource(
        TOKEN, f"urn:pulumi:dev::net::{TOKEN}::rt", "rt", {"location": location, "routes": routes}
    )
    [result] = in_process([resource]).subnets
    routing_blocks = any(
        step.kind == "route" and step.outcome.value != "pass" for e in result.endpoints for step in e.trace
    )
    note(f"verdict {result.verdict}, routing decides: {routing_blocks}")
    if result.verdict is Verdict.REACHABLE:
        assert plan_kms_routes(routes, location).added == ()


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=SLOW)
@given(tables())
def test_remediate_over_grpc_matches_the_plan(pack: PackProcess, table: tuple[list[Any], str]) -> None:
    routes, location = table
    name = "rt"
    resource = PackResource(
        TOKEN, f"urn:pulumi:dev::net::{TOKEN}::{name}", name, {"location": location, "routes": routes}
    )
    plan = plan_kms_routes(routes, location, bypass_appliances=False)  # what the pack's autofix plans
    rems, remediated = pack.remediate(resource)
    if not plan.added:
        assert rems == []
        return
    [rem] = rems
    got = rem.after["routes"]
    # The engine's view: existing routes come back exactly as sent (secrets still wrapped), in order.
    assert [encode_value(r) for r in got[: len(routes)]] == [
        encode_value(decode_value(encode_value(r))) for r in routes
    ]
    assert got[len(routes) :] == list(plan.added)
    assert len(got) <= MAX_ROUTES
    again, _ = pack.remediate(remediated)
    assert again == []
