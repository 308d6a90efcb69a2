"""``auto_kms_routes()`` end to end: a small program under the runner, which applies stack transforms
the way the engine does, then the real pack."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kmsguard.engine import drive_pack
from kmsguard.engine.mocks.runner import ProgramError, ProgramRun, run_program

from .conftest import PACK, ROUTE, kms_routes, table_routes

PROGRAM = Path(__file__).resolve().parent / "programs" / "transform"
PUBLIC = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]


def kms(ip: str) -> tuple[str, str, str]:
    return (f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet")


def run(**config: str) -> ProgramRun:
    return run_program(PROGRAM, "test", config=config, python=sys.executable)


@pytest.fixture(scope="module")
def basic() -> ProgramRun:
    return run(scenario="basic")


def test_inline_tables_get_their_missing_kms_routes(basic: ProgramRun) -> None:
    routes = table_routes(basic)
    assert routes["rt-inline"] == [
        ("default-nva", "0.0.0.0/0", "VirtualAppliance"),
        *(kms(ip) for ip in PUBLIC),
    ]
    # nothing diverts the KMS IPs: left alone
    assert routes["rt-onprem-only"] == [("onprem", "10.0.0.0/8", "VirtualNetworkGateway")]
    # a KMS route already there under another name is not repeated
    assert routes["rt-partial"] == [
        ("default", "0.0.0.0/0", "VirtualNetworkGateway"),
        ("legacy-kms", "23.102.135.246/32", "Internet"),
        kms("20.118.99.224"),
        kms("40.83.235.53"),
    ]


def test_forced_tunnel_route_gets_sibling_routes_on_its_table(basic: ProgramRun) -> None:
    routes = table_routes(basic)  # attributes each Route to its table by property dependencies
    assert sorted(routes["rt-standalone"]) == sorted(
        [
            ("rt-standalone-kms-legacy", "23.102.135.246/32", "Internet"),
            ("rt-standalone-default", "0.0.0.0/0", "VirtualNetworkGateway"),
            ("rt-standalone-onprem", "192.168.0.0/16", "VirtualNetworkGateway"),
            kms("20.118.99.224"),
            kms("40.83.235.53"),
        ]
    )
    siblings = sorted(
        r.name for r in basic.registrations if r.type == ROUTE and r.name.startswith("rt-standalone-default-")
    )
    assert siblings == ["rt-standalone-default-kms-20-118-99-224", "rt-standalone-default-kms-40-83-235-53"]
    table = basic.get("rt-standalone", "azure-native:network:RouteTable")
    for name in siblings:
        sibling = basic.get(name, ROUTE)
        assert sibling.property_dependencies["routeTableName"] == (table.urn,)
        assert sibling.parent == basic.get("rt-standalone-default", ROUTE).parent


def test_each_kms_ip_routed_once_per_table(basic: ProgramRun) -> None:
    for name, routes in table_routes(basic).items():
        ips = kms_routes(routes)
        assert len(ips) == len(set(ips)), name


def test_pack_autofix_adds_nothing_after_the_transform(basic: ProgramRun) -> None:
    result = drive_pack(PACK, basic.pack_resources(), project=basic.project, stack="test")
    assert result.remediations == ()
    assert [v for v in result.violations if v.level == "mandatory"] == []


def test_unknown_location_without_cloud_stops_the_program() -> None:
    with pytest.raises(ProgramError) as caught:
        run(scenario="unknown-location")
    assert str(caught.value).endswith(
        "RouteTable rt-later: location: is not known while the program runs (an Output or unset); pass "
        "cloud='public', 'usgov' or 'china' so the KMS routes of the right cloud can be planned before deployment"
    )


def test_unknown_location_with_cloud_uses_that_clouds_ips() -> None:
    routes = table_routes(run(scenario="unknown-location", cloud="usgov"))
    assert kms_routes(routes["rt-later"]) == ["23.97.0.13", "52.126.105.2"]


def test_a_user_route_sending_a_kms_ip_elsewhere_is_never_rewritten() -> None:
    with pytest.raises(ProgramError) as caught:
        run(scenario="conflict")
    assert str(caught.value).endswith(
        "RouteTable rt-conflict: routes: a /32 route sends KMS IP 20.118.99.224 to another next hop; kmsguard "
        "never rewrites a user route: change its nextHopType to Internet"
    )


def test_location_in_another_cloud_gets_that_clouds_routes() -> None:
    routes = table_routes(
        run(scenario="basic", location="chinaeast2", **{"azure-native:location": "chinaeast2"})
    )
    assert kms_routes(routes["rt-inline"]) == ["159.27.28.100", "163.228.64.161", "42.159.7.249"]
    # the program's own public-cloud /32 stays (never removed), and covers nothing in China
    assert sorted(kms_routes(routes["rt-standalone"])) == [
        "159.27.28.100",
        "163.228.64.161",
        "23.102.135.246",
        "42.159.7.249",
    ]


def test_a_second_registration_is_refused() -> None:
    with pytest.raises(ProgramError) as caught:
        run(scenario="twice")
    assert str(caught.value).endswith(
        "auto_kms_routes: is already active in this program; call it once, before the route tables"
    )


def test_kms_routes_component_declares_one_route_per_kms_ip_under_itself() -> None:
    program = run(scenario="component")
    routes = table_routes(program)
    assert sorted(routes["rt-component"]) == sorted(kms(ip) for ip in PUBLIC)
    component = program.get("rt-component-kms", "kmsguard:network:KmsRoutes")
    children = [r for r in program.registrations if r.parent == component.urn]
    assert sorted(r.name for r in children) == sorted(f"rt-component-kms-{kms(ip)[0]}" for ip in PUBLIC)
    # the transform saw them: /32 → Internet routes, so nothing more was declared
    assert [r.name for r in program.registrations if r.type == ROUTE and r.parent != component.urn] == []
