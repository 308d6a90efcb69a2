"""The KMS routes to add to a route table, shared by the ``kms-route-autofix`` remediation and the
Pulumi components.

Given a route table's inline routes and its location, ``plan_kms_routes`` says which ``/32 →
Internet`` routes (S1: one per KMS IP of the location's cloud) are missing. It never changes or
removes a user route, keeps the order, uses stable names, is idempotent, and stays within the
400-route limit (§2.8), reporting instead of exceeding it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kmsguard import protocol
from kmsguard.analysis.fixes import kms_route_name
from kmsguard.analysis.match import canonical, parse_prefix
from kmsguard.analysis.routes import NEXT_HOP_TYPES
from kmsguard.catalog import Catalog, load_catalog

MAX_ROUTES = 400  # §2.8 (R3): routes per route table
UNKNOWN_SENTINEL = protocol.UNKNOWN_STRING
UNKNOWN_SENTINELS = frozenset(protocol.UNKNOWN_SENTINELS)


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """What to append (in order), and why nothing or not everything could be added."""

    cloud: str
    added: tuple[dict[str, str], ...]
    # KMS IPs whose selected route is a user /32 to another next hop: never rewritten, only reported.
    conflicts: tuple[str, ...] = ()
    skipped: str = ""  # why the table was left alone
    over_limit: bool = False
    diverted: tuple[str, ...] = ()  # human description of the routes that divert KMS IPs
    # KMS IPs left on their VirtualAppliance route because the caller asked not to bypass appliances.
    via_appliance: tuple[str, ...] = ()

    @property
    def needed(self) -> bool:
        return bool(self.added) or self.over_limit


def is_unknown(value: object) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def plain(value: Any) -> Any:
    """Read through a pulumi_policy ``Secret`` (Remediate keeps them wrapped) without copying it."""
    inner = getattr(value, "value", None)
    if type(value).__name__ == "Secret" and inner is not None:
        value = inner
    # Remediate deserializes a secret object into a Secret around a secrets-preserving proxy.
    if type(value).__name__ in ("_DictSecretsProxy", "_ListSecretsProxy", "_DictProxy", "_ListProxy"):
        return value["__target"]
    return value


@dataclass(frozen=True, slots=True)
class _Route:
    name: str | None
    prefix: ipaddress.IPv4Network | None  # None: unknown or not a CIDR (service tag)
    hop: str | None  # canonical lower-case next hop type; None: unknown
    certain: bool


def _parse(route: Any) -> _Route:
    route = plain(route)
    if not isinstance(route, dict):
        return _Route(None, None, None, False)
    name = plain(route.get("name"))
    prefix_raw = plain(route.get("addressPrefix"))
    hop_raw = plain(route.get("nextHopType"))
    prefix = parse_prefix(prefix_raw) if isinstance(prefix_raw, str) and not is_unknown(prefix_raw) else None
    hop = canonical(hop_raw) if isinstance(hop_raw, str) and not is_unknown(hop_raw) else None
    certain = prefix is not None and hop is not None
    return _Route(name if isinstance(name, str) and not is_unknown(name) else None, prefix, hop, certain)


def plan_kms_routes(
    routes: object,
    location: object,
    catalog: Catalog | None = None,
    *,
    bypass_appliances: bool = True,
    standalone: Sequence[Any] = (),
) -> RoutePlan:
    """The /32 → Internet routes a table with these inline ``routes`` in ``location`` is missing.

    With ``bypass_appliances=False`` a KMS IP whose selected route goes to a ``VirtualAppliance`` is
    left alone (listed in ``via_appliance``): from a route table alone an Azure Firewall that allows
    TCP 1688 and SNATs to its public IP (§6.4) cannot be told from an appliance that forwards
    on-premises (§3.5), and a /32 → Internet around the firewall bypasses its inspection and, on a
    private subnet without a NAT gateway, removes the only outbound path (§5.2). The stack analysis
    says which of the two it is and what to change.

    ``standalone``: the table's standalone ``Route`` resources known to the caller. They take part
    in route selection (§2.4: one table, whatever declared its routes), share the table's route
    names and its 400-route limit, and are never returned: a KMS IP they already route to the
    Internet gets no inline duplicate.
    """
    catalog = catalog or load_catalog()
    location = plain(location)
    if not isinstance(location, str) or is_unknown(location) or not location.strip():
        return RoutePlan(
            "", (), skipped="the route table's location is unknown, so its cloud's KMS IPs are too"
        )
    cloud_name = catalog.cloud_of_location(location)
    if cloud_name is None:
        return RoutePlan(
            "",
            (),
            skipped=f"the KMS endpoints of location {location!r} are not documented (docs/rules.md#location-to-cloud)",
        )
    cloud = catalog.cloud(cloud_name)
    routes = plain(routes)
    if routes is None:
        return RoutePlan(
            cloud_name, (), skipped="no inline routes (standalone Route resources are left alone)"
        )
    if is_unknown(routes):
        return RoutePlan(cloud_name, (), skipped="the inline routes are unknown during this preview")
    if not isinstance(routes, list | tuple):
        return RoutePlan(cloud_name, (), skipped="routes is not a list")
    parsed = [_parse(r) for r in (*routes, *standalone)]
    # Only a route whose prefix is unknown may win for any IP; one with an Internet next hop cannot
    # divert it. A known prefix with an unknown next hop is judged where it is selected (_select).
    uncertain = any(r.prefix is None and r.hop != "internet" for r in parsed)
    names = {r.name for r in parsed if r.name}
    added: list[dict[str, str]] = []
    conflicts: list[str] = []
    diverted: list[str] = []
    via_appliance: list[str] = []
    for ip_text in _ips(cloud.endpoints):
        ip = ipaddress.IPv4Address(ip_text)
        winner = _select(parsed, ip)
        if winner is not None and winner.hop == "internet":
            if (winner.prefix is not None and winner.prefix.prefixlen == 32) or not uncertain:
                continue
        elif winner is not None and winner.hop == "virtualappliance" and not bypass_appliances:
            # Before the /32 conflict: a user's host route to the firewall is a choice the stack
            # analysis judges, not a conflict to report.
            via_appliance.append(ip_text)
            continue
        elif winner is not None and winner.prefix is not None and winner.prefix.prefixlen == 32:
            conflicts.append(ip_text)  # a user /32 for this IP to another hop: never rewritten
            continue
        elif winner is None and not uncertain:
            continue  # nothing in this table diverts the IP: the system route sends it to Internet
        if winner is not None:
            hop = NEXT_HOP_TYPES.get(winner.hop or "", "unknown next hop")
            diverted.append(f"{ip_text} → route {winner.name or '?'} ({winner.prefix} → {hop})")
        name = kms_route_name(ip_text)
        n = 1
        while name in names:
            n += 1
            name = f"{kms_route_name(ip_text)}-{n}"
        names.add(name)
        added.append({"name": name, "addressPrefix": f"{ip_text}/32", "nextHopType": "Internet"})
    if len(routes) + len(standalone) + len(added) > MAX_ROUTES and added:
        return RoutePlan(
            cloud_name,
            (),
            tuple(conflicts),
            over_limit=True,
            diverted=tuple(diverted),
            via_appliance=tuple(via_appliance),
        )
    return RoutePlan(
        cloud_name,
        tuple(added),
        tuple(conflicts),
        diverted=tuple(diverted),
        via_appliance=tuple(via_appliance),
    )


def _ips(endpoints: Sequence[Any]) -> list[str]:
    return list(dict.fromkeys(e.ip for e in endpoints))


def _select(routes: Sequence[_Route], ip: ipaddress.IPv4Address) -> _Route | None:
    """§2.4 longest prefix match among the table's known routes (one table: no tie between sources)."""
    best: _Route | None = None
    for r in routes:
        if r.prefix is None or ip not in r.prefix:
            continue
        if best is None or best.prefix is None or r.prefix.prefixlen > best.prefix.prefixlen:
            best = r
    return best
