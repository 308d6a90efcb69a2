"""Route selection (§2) against a reference written from the spec.

§2.1 default system routes, §2.2 peering and gateway routes, §2.3 user routes, §2.4 longest prefix
match with the tie-break UDR > BGP > system and the R2.3 exception for VNet and peering routes,
§2.5 ``disableBgpRoutePropagation``, §2.6 service-tag prefixes.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kmsguard.analysis.effective import subnet_routes
from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.routes import EffectiveRoute, RouteProblem, Source, select, system_routes, user_routes
from kmsguard.model import (
    LearnedRoute,
    Network,
    Origin,
    Peering,
    Route,
    RouteTable,
    Subnet,
    Unknown,
    VirtualNetwork,
    VirtualNetworkGateway,
)

from .support import KMS_IPS, one_of_any_case, scaled

IPv4Address = ipaddress.IPv4Address
IPv4Network = ipaddress.IPv4Network

# The reference's own ranking: R2.2 tie-break on equal prefixes.
USER, BGP, SYSTEM = "user", "bgp", "system"
PREFERENCE = {USER: 3, BGP: 2, SYSTEM: 1}
SOURCE_NAME = {Source.USER: USER, Source.GATEWAY: BGP, Source.DEFAULT: SYSTEM}

USER_HOPS = {  # §2.3 RouteNextHopType, compared case-insensitively; "unknown": the test's marker
    "internet": "Internet",
    "virtualappliance": "VirtualAppliance",
    "virtualnetworkgateway": "VirtualNetworkGateway",
    "vnetlocal": "VnetLocal",
    "none": "None",
}
RESERVED = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")


@dataclasses.dataclass(frozen=True)
class RefRoute:
    first: int  # first and last address, so containment is integer comparison
    last: int
    length: int
    source: str
    hop: str

    @staticmethod
    def of(net: IPv4Network, source: str, hop: str) -> RefRoute:
        return RefRoute(int(net.network_address), int(net.broadcast_address), net.prefixlen, source, hop)

    def contains(self, ip: IPv4Address) -> bool:
        return self.first <= int(ip) <= self.last

    def covers(self, other: RefRoute) -> bool:
        return self.first <= other.first and other.last <= self.last


def ref_system_routes(space: list[IPv4Network], peered: list[IPv4Network]) -> list[RefRoute]:
    """§2.1/§2.2: VNet ranges, 0.0.0.0/0 → Internet, the reserved None routes unless a range equals
    or contains them, and peering routes."""
    vnet = [RefRoute.of(n, SYSTEM, "VnetLocal") for n in space]
    out = [*vnet, RefRoute.of(IPv4Network("0.0.0.0/0"), SYSTEM, "Internet")]
    for text in RESERVED:
        reserved = RefRoute.of(IPv4Network(text), SYSTEM, "None")
        if not any(v.covers(reserved) for v in vnet):
            out.append(reserved)
    out += [RefRoute.of(n, SYSTEM, "VNetPeering") for n in peered]
    return out


def ref_select(routes: list[RefRoute], ip: IPv4Address) -> tuple[int, str, set[str]]:
    """§2.4: longest prefix, then user > BGP > system; R2.3: a VNet or peering system route that
    contains the IP beats every BGP route, however specific. Returns (length, source, hops)."""
    candidates = [r for r in routes if r.contains(ip)]
    if any(r.source == SYSTEM and r.hop in ("VnetLocal", "VNetPeering") for r in candidates):
        candidates = [r for r in candidates if r.source != BGP]
    best = max((r.length, PREFERENCE[r.source]) for r in candidates)
    winners = [r for r in candidates if (r.length, PREFERENCE[r.source]) == best]
    return best[0], winners[0].source, {r.hop for r in winners}


addresses = st.integers(0, 2**32 - 1).map(IPv4Address)


def prefixes_near(ip: IPv4Address) -> st.SearchStrategy[IPv4Network]:
    """Prefixes that contain ``ip`` at a random length, or random ones (which rarely do)."""
    containing = st.integers(0, 32).map(lambda n: IPv4Network(f"{ip}/{n}", strict=False))
    anywhere = st.builds(lambda a, n: IPv4Network(f"{a}/{n}", strict=False), addresses, st.integers(0, 32))
    fixed = st.sampled_from([IPv4Network(p) for p in (*RESERVED, "0.0.0.0/0", "20.0.0.0/8", "40.0.0.0/6")])
    return st.one_of(containing, containing, anywhere, fixed)


destinations = st.one_of(st.sampled_from(KMS_IPS), addresses, st.sampled_from([IPv4Address("10.1.2.3")]))


@dataclasses.dataclass
class Case:
    ip: IPv4Address
    space: list[IPv4Network]
    peered: list[IPv4Network]
    user: list[tuple[IPv4Network, str]]  # prefix, next hop type as written (any casing)
    learned: list[IPv4Network]
    propagation_disabled: bool


@st.composite
def cases(draw: st.DrawFn, *, with_bgp: bool) -> Case:
    ip = draw(destinations)
    near = prefixes_near(ip)
    return Case(
        ip,
        draw(st.lists(near, max_size=3)),
        draw(st.lists(near, max_size=2)),
        draw(st.lists(st.tuples(near, one_of_any_case(list(USER_HOPS.values()))), max_size=6)),
        draw(st.lists(near, max_size=4)) if with_bgp else [],
        draw(st.booleans()) if with_bgp else False,
    )


def model(case: Case) -> tuple[Network, Subnet, RouteTable]:
    remote = VirtualNetwork("remote", Origin("remote"), "eastus", tuple(map(str, case.peered)))
    vnet = VirtualNetwork(
        "vnet", Origin("vnet"), "eastus", tuple(map(str, case.space)), peerings=(Peering("p", "remote"),)
    )
    table = RouteTable(
        "rt",
        Origin("rt"),
        "eastus",
        tuple(Route(f"r{i}", str(p), hop) for i, (p, hop) in enumerate(case.user)),
        case.propagation_disabled,
    )
    subnet = Subnet("vnet/s", Origin("vnet/s"), "s", "vnet", ("10.250.0.0/24",), route_table="rt")
    gateways = {}
    if case.learned:
        gateways["gw"] = VirtualNetworkGateway(
            "gw",
            Origin("gw"),
            "vnet",
            "ExpressRoute",
            learned_routes=tuple(LearnedRoute(str(p)) for p in case.learned),
        )
    network = Network(
        vnets={"vnet": vnet, "remote": remote},
        subnets={subnet.key: subnet},
        route_tables={"rt": table},
        gateways=gateways,
    )
    return network, subnet, table


def reference(case: Case) -> tuple[int, str, set[str]]:
    routes = ref_system_routes(case.space, case.peered)
    if not case.propagation_disabled:
        routes += [RefRoute.of(p, BGP, "VirtualNetworkGateway") for p in case.learned]
    routes += [RefRoute.of(p, USER, USER_HOPS.get(hop.lower(), "?")) for p, hop in case.user]
    return ref_select(routes, case.ip)


def assert_choice(chosen: EffectiveRoute, expected: tuple[int, str, set[str]]) -> None:
    length, source, hops = expected
    assert chosen.prefix is not None
    assert (chosen.prefix.prefixlen, SOURCE_NAME[chosen.source]) == (length, source), chosen
    assert chosen.next_hop_type in hops, chosen


@settings(max_examples=scaled(400))
@given(cases(with_bgp=False))
def test_select_user_and_system_routes_agrees_with_reference(case: Case) -> None:
    network, _, table = model(case)
    problems: list[RouteProblem] = []
    routes = system_routes(network, network.vnets["vnet"]) + user_routes(table, problems)
    assert problems == []
    choice = select(routes, case.ip)
    assert choice.rivals == ()
    assert choice.decided
    assert_choice(choice.chosen, reference(case))


@settings(max_examples=scaled(300))
@given(cases(with_bgp=True))
def test_effective_routes_with_bgp_agree_with_reference(case: Case) -> None:
    """The whole effective table of a subnet (system, learned BGP, user) and R2.3."""
    network, subnet, _ = model(case)
    routes = subnet_routes(NetworkIndex.build(network), subnet)
    assert routes.problems == ()
    choice = select(routes.routes, case.ip)
    assert choice.rivals == ()
    assert_choice(choice.chosen, reference(case))


# ------------------------------------------------------------------------------------------------
# Uncertain routes: an unknown must never lose silently


SERVICE_TAGS = ["Storage", "Storage.EastUS", "AzureCloud", "AzureCloud.eastus", "Sql"]
INVALID_IN_ROUTES = ["Internet", "AzurePlatformLKM", "VirtualNetwork", "AzureLoadBalancer"]


@st.composite
def uncertain_routes(draw: st.DrawFn) -> Route:
    """A user route whose prefix kmsguard cannot place: unknown, a service tag, an invalid one."""
    kind = draw(st.sampled_from(["unknown-prefix", "tag", "invalid-tag", "malformed"]))
    hop = draw(one_of_any_case(list(USER_HOPS.values())))
    if kind == "unknown-prefix":
        return Route("u", Unknown("prefix"), hop)
    if kind == "tag":
        return Route("u", draw(one_of_any_case(SERVICE_TAGS)), hop)
    if kind == "invalid-tag":
        return Route("u", draw(one_of_any_case(INVALID_IN_ROUTES)), hop)
    return Route("u", draw(st.sampled_from(["10.0.0.0/33", "1.2.3", "300.0.0.0/8"])), hop)


def with_route(case: Case, route: Route) -> tuple[Network, list[EffectiveRoute]]:
    network, _, table = model(case)
    table = dataclasses.replace(table, routes=(*table.routes, route))
    problems: list[RouteProblem] = []
    return network, system_routes(network, network.vnets["vnet"]) + user_routes(table, problems)


@settings(max_examples=scaled(300))
@given(cases(with_bgp=False), uncertain_routes())
def test_uncertain_route_that_may_win_is_a_rival(case: Case, route: Route) -> None:
    """A route whose prefix is unknown may be anything up to a /32: it must be reported as a rival
    of the certain winner whenever it could beat it (§2.4; §2.6 for tags), so the outcome stays open."""
    _, routes = with_route(case, route)
    choice = select(routes, case.ip)
    assert_choice(choice.chosen, reference(case))  # the certain winner is unchanged
    assert choice.chosen.prefix is not None
    # A user route of unknown prefix may be as long as /32. At /32 it beats a system route; against
    # a user /32 it would be a duplicate prefix (Azure rejects it), and a tag loses to a CIDR (§2.6).
    may_win = choice.chosen.prefix.prefixlen < 32 or choice.chosen.source is not Source.USER
    rivals = [r for r in choice.rivals if r.route_name == "u"]
    assert bool(rivals) is may_win, (route, choice)
    if may_win and choice.chosen.hop() != rivals[0].hop():
        assert not choice.decided


@settings(max_examples=scaled(200))
@given(cases(with_bgp=False), st.data())
def test_route_with_unknown_next_hop_competes_by_its_prefix(case: Case, data: st.DataObject) -> None:
    """A route with a known prefix and an unknown next hop takes part in LPM like any other; when it
    wins, the chosen next hop is unknown (never a guessed one)."""
    prefix = data.draw(prefixes_near(case.ip))
    _, routes = with_route(case, Route("u", str(prefix), Unknown("next hop")))
    choice = select(routes, case.ip)
    length, source, hops = reference(dataclasses.replace(case, user=[*case.user, (prefix, "unknown")]))
    assert choice.chosen.prefix is not None
    assert (choice.chosen.prefix.prefixlen, SOURCE_NAME[choice.chosen.source]) == (length, source)
    if hops == {"?"}:
        assert isinstance(choice.chosen.next_hop_type, Unknown)


@settings(max_examples=scaled(200))
@given(st.data())
def test_invalid_user_routes_are_reported(data: st.DataObject) -> None:
    """§2.3/§2.6: a missing or malformed prefix, a tag Azure rejects in routes, a missing or
    invalid next hop type each give one problem; valid routes give none."""
    ip = data.draw(destinations)
    rows = data.draw(
        st.lists(
            st.tuples(
                st.one_of(
                    prefixes_near(ip).map(str),
                    one_of_any_case(SERVICE_TAGS + INVALID_IN_ROUTES),
                    st.sampled_from(["10.0.0.0/33", "", "  ", "1.2.3"]),
                    st.none(),
                    st.just(Unknown("prefix")),
                ),
                st.one_of(
                    one_of_any_case(list(USER_HOPS.values())),
                    st.sampled_from(["Gateway", "VnetPeering", "Internet2", ""]),
                    st.none(),
                    st.just(Unknown("hop")),
                ),
            ),
            max_size=5,
        )
    )
    table = RouteTable(
        "rt", Origin("rt"), "eastus", tuple(Route(f"r{i}", p, h) for i, (p, h) in enumerate(rows))
    )
    problems: list[RouteProblem] = []
    user_routes(table, problems)

    def bad_prefix(p: Any) -> bool:
        if p is None or (isinstance(p, str) and not p.strip()):
            return True
        if not isinstance(p, str):
            return False
        if p.strip()[:1].isdigit():
            try:
                IPv4Network(p.strip(), strict=False)
            except ValueError:
                return True
            return False
        return p.strip().lower() in {t.lower() for t in INVALID_IN_ROUTES}

    def bad_hop(h: Any) -> bool:
        # VnetPeering is a read-only system next hop (§2.3): kmsguard accepts it as a type name.
        return h is None or (isinstance(h, str) and h.lower() not in {*USER_HOPS, "vnetpeering"})

    expected = sum(bad_prefix(p) for p, _ in rows) + sum(bad_hop(h) for _, h in rows)
    assert len(problems) == expected, (rows, problems)


# ------------------------------------------------------------------------------------------------
# Regressions


def test_regression_bgp_route_inside_vnet_range() -> None:
    """R2.3 was applied to uncertain rivals only: a certain BGP route more specific than the VNet's
    own range won, so a KMS IP inside the address space was reported routed by BGP (and REACHABLE
    when the learned next hop was Internet) instead of staying in the VNet (BLOCKED)."""
    from kmsguard.analysis import Verdict, analyze
    from kmsguard.collect.description import parse_description

    for hop in ("VirtualNetworkGateway", "Internet"):
        description = {
            "vnets": [{"name": "v", "location": "eastus", "addressSpace": ["10.1.0.0/16", "20.0.0.0/8"],
                       "subnets": [{"name": "app", "addressPrefix": "10.1.2.0/24"}]}],
            "gateways": [{"name": "er", "vnet": "v", "gatewayType": "ExpressRoute",
                          "learnedRoutes": [{"addressPrefix": "20.118.99.0/24", "nextHopType": hop}]}],
        }  # fmt: skip
        network, config = parse_description(description)
        (result,) = analyze(network, config).subnets
        assert result.verdict is Verdict.BLOCKED
        endpoint = next(e for e in result.endpoints if e.ip == "20.118.99.224")
        routes = [s.detail for s in endpoint.trace if s.kind == "route"]
        assert routes and "address space" in routes[0] and "BGP" not in routes[0], routes
