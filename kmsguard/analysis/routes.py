"""Route selection for a subnet (§2) including the forced-tunneling variants (§3).

The effective route table is built as Azure builds it: system routes (§2.1, §2.2), gateway routes
(BGP, Default Site, Virtual WAN; unless propagation is disabled, §2.5, §3.1, §3.4) and user routes
(§2.3). Routes the ARM data cannot settle are kept as *uncertain*: their prefix membership is unknown
(a service-tag prefix, §2.6; an unknown value) or their existence is (BGP routes that only effective
routes would show, §2.5). Selection returns the certain winner plus every uncertain route that could
beat it, so the caller can tell whether the outcome depends on what is unknown.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from kmsguard.analysis.match import IPv4Address, IPv4Network, canonical, looks_like_address, parse_prefix
from kmsguard.analysis.trace import RouteRef
from kmsguard.analysis.wording import route_text
from kmsguard.model import Network, Route, RouteTable, Subnet, Unknown, VirtualNetwork
from kmsguard.model.network import MaybeRef, MaybeStr

ZERO = ipaddress.IPv4Network("0.0.0.0/0")

# §2.1: reserved prefixes that get next hop None unless the address space covers them.
RESERVED_NONE = tuple(
    ipaddress.IPv4Network(p) for p in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)

# §2.3 RouteNextHopType, canonical casing; VNetPeering is the read-only system next hop.
NEXT_HOP_TYPES = {
    "internet": "Internet",
    "virtualappliance": "VirtualAppliance",
    "virtualnetworkgateway": "VirtualNetworkGateway",
    "vnetlocal": "VnetLocal",
    "none": "None",
    "vnetpeering": "VNetPeering",
}

# §2.6: service tags Azure rejects as a route's addressPrefix.
TAGS_INVALID_IN_ROUTES = frozenset(
    t.lower()
    for t in (
        "AzurePlatformDNS",
        "AzurePlatformIMDS",
        "AzurePlatformLKM",
        "VirtualNetwork",
        "AzureLoadBalancer",
        "Internet",
    )
)


class Source(IntEnum):
    """§2.4 R2.2 tie-break on equal prefixes: user, then BGP/gateway, then system."""

    DEFAULT = 1
    GATEWAY = 2
    USER = 3


@dataclass(frozen=True, slots=True)
class EffectiveRoute:
    prefix: IPv4Network | None  # None: a service tag or an unknown prefix
    prefix_text: str
    source: Source
    next_hop_type: str | Unknown  # canonical casing, see NEXT_HOP_TYPES
    next_hop_ip: MaybeStr
    next_hop_resource: MaybeRef
    origin: str  # how a person recognises the route in a trace
    urn: str | None = None
    # Why the route may not apply: set for uncertain routes (membership or existence unknown).
    uncertain: str = ""
    # False for a service-tag prefix: an explicit CIDR wins over a tag with the same prefix (§2.6).
    explicit: bool = True
    route_name: str = ""
    # The route's place in its table's routes: what identifies it when names repeat or read
    # "[secret]" (-1 for routes of no table).
    route_index: int = -1

    def rank(self, prefixlen: int) -> tuple[int, int, int]:
        return (prefixlen, int(self.source), int(self.explicit))

    def hop(self) -> tuple[object, ...]:
        """What the route does, for comparing outcomes of competing routes."""
        return (self.next_hop_type, self.next_hop_ip, self.next_hop_resource)

    @property
    def ref(self) -> RouteRef:
        """The route as a trace records it."""
        return RouteRef(
            self.origin,
            self.prefix_text,
            self.next_hop_type if isinstance(self.next_hop_type, str) else None,
            self.next_hop_ip if isinstance(self.next_hop_ip, str) else None,
            self.route_name,
            self.source.name.lower(),
        )

    def describe(self) -> str:
        return route_text(self.ref)


@dataclass(frozen=True, slots=True)
class RouteChoice:
    """The route Azure picks for one destination, and the uncertain routes that might beat it."""

    chosen: EffectiveRoute
    rivals: tuple[EffectiveRoute, ...]

    @property
    def decided(self) -> bool:
        return all(r.hop() == self.chosen.hop() for r in self.rivals)


@dataclass(frozen=True, slots=True)
class RouteProblem:
    """An invalid route: Azure rejects it, so the table as written cannot be deployed (§2.6)."""

    detail: str
    urn: str | None


def canonical_next_hop(value: MaybeStr) -> str | Unknown | None:
    if value is None or isinstance(value, Unknown):
        return value
    return NEXT_HOP_TYPES.get(canonical(value))


def _vnet_prefixes(vnet: VirtualNetwork | None) -> list[IPv4Network]:
    if vnet is None or isinstance(vnet.address_prefixes, Unknown):
        return []
    out = []
    for p in vnet.address_prefixes:
        if isinstance(p, str) and (n := parse_prefix(p)) is not None:
            out.append(n)
    return out


def system_routes(network: Network, vnet: VirtualNetwork | None) -> list[EffectiveRoute]:
    """§2.1 default routes and §2.2 peering routes."""
    routes: list[EffectiveRoute] = []
    space = _vnet_prefixes(vnet)
    vname = vnet.origin.name if vnet else "virtual network"
    for p in space:
        routes.append(
            EffectiveRoute(
                p, str(p), Source.DEFAULT, "VnetLocal", None, None, f"system route ({vname} address space)"
            )
        )
    routes.append(
        EffectiveRoute(ZERO, "0.0.0.0/0", Source.DEFAULT, "Internet", None, None, "default system route")
    )
    for reserved in RESERVED_NONE:
        # §2.1: a range equal to or containing a reserved prefix removes its None route.
        if any(reserved.subnet_of(p) for p in space):
            continue
        routes.append(
            EffectiveRoute(
                reserved, str(reserved), Source.DEFAULT, "None", None, None, "default system route"
            )
        )
    if vnet is not None and not isinstance(vnet.peerings, Unknown):
        for peering in vnet.peerings:
            remote = network.vnets.get(peering.remote_vnet) if isinstance(peering.remote_vnet, str) else None
            prefixes = _vnet_prefixes(remote)
            if remote is None and isinstance(peering.remote_address_prefixes, tuple):
                prefixes = [
                    n
                    for p in peering.remote_address_prefixes
                    if isinstance(p, str) and (n := parse_prefix(p))
                ]
            # A peered VNet whose space is unknown is left out: the KMS IPs are public Microsoft
            # addresses, so only a VNet built on them could matter (documented approximation).
            for p in prefixes:
                routes.append(
                    EffectiveRoute(
                        p, str(p), Source.DEFAULT, "VNetPeering", None, None, f"peering {peering.name} route"
                    )
                )
    return routes


def user_routes(
    table: RouteTable, problems: list[RouteProblem], memo: dict[object, object] | None = None
) -> list[EffectiveRoute]:
    """§2.3 user routes; service-tag prefixes (§2.6) and unknown values become uncertain routes.

    ``memo`` remembers each route's reading by identity of the route and of its table's origin: a
    table is read once per subnet it serves, and again in each repair copy that adds KMS routes to
    it (which keeps the other Route objects and the origin)."""
    if isinstance(table.routes, Unknown):
        return [_unknown_user_route(f"route table {table.origin.name}", table.routes.why, table.origin.urn)]
    out = []
    for index, route in enumerate(table.routes):
        if memo is None:
            out.append(_user_route(table, route, problems, index))
            continue
        hit = memo.get(id(route))
        if (
            isinstance(hit, tuple)
            and hit[0] is route
            and hit[1] is table.origin
            and hit[2].route_index == index
        ):
            out.append(hit[2])
            problems.extend(hit[3])
            continue
        found: list[RouteProblem] = []
        effective = _user_route(table, route, found, index)
        memo[id(route)] = (route, table.origin, effective, tuple(found))
        out.append(effective)
        problems.extend(found)
    return out


def _unknown_user_route(origin: str, why: str, urn: str | None) -> EffectiveRoute:
    return EffectiveRoute(
        None,
        "?",
        Source.USER,
        Unknown(why),
        None,
        None,
        origin,
        urn,
        uncertain=f"routes of {origin} unknown: {why}",
    )


def _user_route(
    table: RouteTable, route: Route, problems: list[RouteProblem], index: int = -1
) -> EffectiveRoute:
    origin = f"route table {table.origin.name} route {route.name}"
    urn = route.urn or table.origin.urn
    hop = canonical_next_hop(route.next_hop_type)
    if hop is None:
        if route.next_hop_type is None:
            problems.append(RouteProblem(f"{origin}: nextHopType is missing", urn))
            hop = Unknown("nextHopType missing")
        else:
            problems.append(
                RouteProblem(f"{origin}: nextHopType {route.next_hop_type!r} is not a next hop type", urn)
            )
            hop = Unknown(f"invalid nextHopType {route.next_hop_type!r}")
    base = dict(
        source=Source.USER,
        next_hop_type=hop,
        next_hop_ip=route.next_hop_ip,
        next_hop_resource=route.next_hop_resource,
        origin=origin,
        urn=urn,
        route_name=route.name,
        route_index=index,
    )
    prefix = route.address_prefix
    if isinstance(prefix, Unknown):
        return EffectiveRoute(None, "?", uncertain=f"addressPrefix unknown ({prefix.why})", **base)  # type: ignore[arg-type]
    if prefix is None or not prefix.strip():
        problems.append(RouteProblem(f"{origin}: addressPrefix is missing", urn))
        return EffectiveRoute(None, "?", uncertain="addressPrefix missing", **base)  # type: ignore[arg-type]
    network = parse_prefix(prefix)
    if network is not None:
        return EffectiveRoute(network, str(network), **base)  # type: ignore[arg-type]
    if looks_like_address(prefix):
        problems.append(RouteProblem(f"{origin}: addressPrefix {prefix!r} is not a valid IPv4 CIDR", urn))
        return EffectiveRoute(None, prefix, uncertain=f"addressPrefix {prefix!r} invalid", **base)  # type: ignore[arg-type]
    if prefix.strip().lower() in TAGS_INVALID_IN_ROUTES:
        problems.append(
            RouteProblem(
                f"{origin}: addressPrefix {prefix!r} is a service tag Azure does not allow in routes (docs/rules.md#service-tags); "
                "the route table cannot be deployed — use one /32 route per KMS IP instead",
                urn,
            )
        )
        return EffectiveRoute(None, prefix, uncertain=f"service tag {prefix!r} is invalid in routes", **base)  # type: ignore[arg-type]
    # A service-tag route: whether the KMS IPs are in the tag is not documented (§1.5), so its
    # membership is uncertain; an explicit CIDR with the same prefix wins over it (§2.6).
    return EffectiveRoute(
        None,
        prefix,
        explicit=False,
        uncertain=f"service tag {prefix!r}: whether it contains the KMS IPs is not documented (docs/rules.md#service-tags)",
        **base,  # type: ignore[arg-type]
    )


def select(routes: Sequence[EffectiveRoute], ip: IPv4Address) -> RouteChoice:
    """§2.4: longest prefix match, then user > gateway > system; R2.3 for VNet/peering routes."""
    # R2.3: system routes for the VNet's own ranges and peerings beat BGP routes even when the
    # BGP route is more specific, so no gateway route competes for an IP such a route contains.
    vnet_system = any(
        not r.uncertain
        and r.prefix is not None
        and ip in r.prefix
        and r.source is Source.DEFAULT
        and r.next_hop_type in ("VnetLocal", "VNetPeering")
        for r in routes
    )
    best: EffectiveRoute | None = None
    best_rank = (-1, 0, 0)
    for r in routes:
        if r.uncertain or r.prefix is None or ip not in r.prefix:
            continue
        if vnet_system and r.source is Source.GATEWAY:
            continue
        rank = r.rank(r.prefix.prefixlen)
        if rank > best_rank:
            best, best_rank = r, rank
    assert best is not None, "the default 0.0.0.0/0 system route always matches"
    rivals = []
    for r in routes:
        if not r.uncertain:
            continue
        if r.prefix is not None and ip not in r.prefix:
            continue
        if vnet_system and r.source is Source.GATEWAY:
            continue
        # An uncertain route with an unknown prefix can be as long as /32.
        longest = r.prefix.prefixlen if r.prefix is not None else 32
        if r.rank(longest) > best_rank:
            rivals.append(r)
    return RouteChoice(best, tuple(rivals))


def default_route_rivals(routes: Sequence[EffectiveRoute]) -> RouteChoice:
    """The route that governs 0.0.0.0/0 itself (for the KMS platform rule, §4.5 R4.1)."""
    best: EffectiveRoute | None = None
    best_rank = (-1, 0, 0)
    for r in routes:
        if r.uncertain or r.prefix != ZERO:
            continue
        rank = r.rank(0)
        if rank > best_rank:
            best, best_rank = r, rank
    assert best is not None
    rivals = tuple(
        r
        for r in routes
        if r.uncertain and (r.prefix == ZERO or (r.prefix is None and r.explicit)) and r.rank(0) > best_rank
    )
    return RouteChoice(best, rivals)


def subnet_vnet(network: Network, subnet: Subnet) -> VirtualNetwork | None:
    return network.vnets.get(subnet.vnet) if isinstance(subnet.vnet, str) else None
