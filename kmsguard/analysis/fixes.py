"""Fixes: the changes that make a blocked path reachable, merged per resource, and applied to a
copy of the model so the analysis can check that they are enough (the repair loop in ``subnet``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from kmsguard.analysis.verdict import Fix
from kmsguard.model import (
    FirewallNetworkRule,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    NatGateway,
    Network,
    Origin,
    Route,
    RouteTable,
    SecurityRule,
    Unknown,
)
from kmsguard.model.network import DnsRecord


def kms_route_name(ip: str) -> str:
    """Stable, unique route name for a KMS IP: ``kms-20-118-99-224``."""
    return "kms-" + ip.replace(".", "-")


def route_fix(
    table: RouteTable | None, subnet_key: str, subnet_name: str, subnet_urn: str | None, ips: Sequence[str]
) -> Fix:
    routes = [
        {"name": kms_route_name(ip), "addressPrefix": f"{ip}/32", "nextHopType": "Internet"} for ip in ips
    ]
    return _route_fix(table, subnet_key, subnet_name, subnet_urn, routes)


def _route_fix(
    table: RouteTable | None,
    subnet_key: str,
    subnet_name: str,
    subnet_urn: str | None,
    routes: list[dict[str, str]],
) -> Fix:
    listing = ", ".join(f"{r['addressPrefix']} → Internet" for r in routes)
    code = ", ".join(
        f'azure_native.network.RouteArgs(name="{r["name"]}", address_prefix="{r["addressPrefix"]}", next_hop_type="Internet")'
        for r in routes
    )
    if table is not None:
        return Fix(
            "add-routes",
            table.origin.name,
            table.origin.urn,
            f"route table {table.origin.name}: add {listing} (one /32 route per KMS IP, docs/rules.md#kms-routes)",
            f"routes=[..., {code}]",
            {"table": table.key, "subnet": subnet_key, "routes": routes},
        )
    return Fix(
        "add-routes",
        subnet_name,
        subnet_urn,
        f"subnet {subnet_name}: associate a route table with {listing} (one /32 route per KMS IP, docs/rules.md#kms-routes)",
        f'azure_native.network.RouteTable(..., routes=[{code}]); subnet route_table={{"id": table.id}}',
        {"table": None, "subnet": subnet_key, "routes": routes},
    )


def change_route_fix(table: RouteTable, route: Route) -> Fix:
    return Fix(
        "change-route",
        table.origin.name,
        route.urn or table.origin.urn,
        f"route table {table.origin.name}: change route {route.name} ({route.address_prefix}) to nextHopType Internet",
        f'azure_native.network.RouteArgs(name="{route.name}", address_prefix="{route.address_prefix}", next_hop_type="Internet")',
        {"table": table.key, "route": route.name},
    )


def merge(fixes: Iterable[Fix]) -> tuple[Fix, ...]:
    """One fix per (kind, target): route additions to one table are merged into one fix."""
    out: list[Fix] = []
    routes_by_target: dict[tuple[object, object], int] = {}
    seen: set[tuple[str, str, str]] = set()
    for fix in fixes:
        if fix.kind == "add-routes":
            key = (fix.data.get("table"), fix.data.get("subnet") if fix.data.get("table") is None else None)
            if key in routes_by_target:
                i = routes_by_target[key]
                prev = out[i]
                merged = list(_routes(prev.data))
                for r in _routes(fix.data):
                    if r not in merged:
                        merged.append(r)
                merged.sort(key=lambda r: tuple(int(p) for p in r["addressPrefix"].split("/")[0].split(".")))
                out[i] = _rebuild_route_fix(prev, merged)
                continue
            routes_by_target[key] = len(out)
            out.append(fix)
            continue
        ident = (fix.kind, fix.target, fix.detail)
        if ident not in seen:
            seen.add(ident)
            out.append(fix)
    return tuple(out)


def _rebuild_route_fix(fix: Fix, routes: list[dict[str, str]]) -> Fix:
    data = dict(fix.data)
    data["routes"] = routes
    if fix.data.get("table") is not None:
        table_name = fix.target
        stub = RouteTable(str(fix.data["table"]), Origin(table_name, fix.urn), None, ())
        rebuilt = _route_fix(stub, str(fix.data["subnet"]), "", None, routes)
    else:
        rebuilt = _route_fix(None, str(fix.data["subnet"]), fix.target, fix.urn, routes)
    return dataclasses.replace(rebuilt, data=data)


K = TypeVar("K")
V = TypeVar("V")


class _Draft(Generic[K, V]):
    """A mapping copied on its first change. The repair loop applies a few fixes per blocked subnet:
    the copy keeps every mapping it does not change as the same object, so the analysis of the copy
    recognises what it can reuse by identity (``NetworkIndex.derive``) instead of comparing every
    entry of the estate, and nothing is copied in vain."""

    def __init__(self, base: Mapping[K, V]) -> None:
        self.base = base
        self.copy: dict[K, V] | None = None

    def __getitem__(self, key: K) -> V:
        return (self.base if self.copy is None else self.copy)[key]

    def __contains__(self, key: object) -> bool:
        return key in (self.base if self.copy is None else self.copy)

    def __setitem__(self, key: K, value: V) -> None:
        if self.copy is None:
            self.copy = dict(self.base)
        self.copy[key] = value

    def result(self) -> Mapping[K, V]:
        return self.base if self.copy is None else self.copy


def apply(network: Network, fixes: Iterable[Fix]) -> Network:
    """A copy of ``network`` with ``fixes`` made, for re-analysis."""
    route_tables = _Draft(network.route_tables)
    subnets = _Draft(network.subnets)
    nsgs = _Draft(network.nsgs)
    nats = _Draft(network.nat_gateways)
    policies = _Draft(network.firewall_policies)
    firewalls = _Draft(network.firewalls)
    zones = _Draft(network.dns_zones)
    for fix in fixes:
        d = fix.data
        if fix.kind == "add-routes":
            new = tuple(Route(r["name"], r["addressPrefix"], "Internet") for r in _routes(d))
            table_key = d.get("table")
            if isinstance(table_key, str) and table_key in route_tables:
                table = route_tables[table_key]
                if not isinstance(table.routes, Unknown):
                    names = {r.name for r in table.routes}
                    route_tables[table_key] = dataclasses.replace(
                        table, routes=table.routes + tuple(r for r in new if r.name not in names)
                    )
            else:
                key = f"{d['subnet']}#kms-route-table"
                route_tables[key] = RouteTable(key, Origin("(new route table)"), None, new)
                subnets[str(d["subnet"])] = dataclasses.replace(subnets[str(d["subnet"])], route_table=key)
        elif fix.kind == "change-route":
            table = route_tables[str(d["table"])]
            if not isinstance(table.routes, Unknown):
                route_tables[table.key] = dataclasses.replace(
                    table,
                    routes=tuple(
                        dataclasses.replace(
                            r, next_hop_type="Internet", next_hop_ip=None, next_hop_resource=None
                        )
                        if r.name == d["route"]
                        else r
                        for r in table.routes
                    ),
                )
        elif fix.kind == "add-nsg-rule" and isinstance(d.get("priority"), int):
            nsg = nsgs[str(d["nsg"])]
            if not isinstance(nsg.rules, Unknown):
                rule = SecurityRule(
                    str(d["name"]),
                    _int(d, "priority"),
                    "Outbound",
                    "Allow",
                    "Tcp",
                    ("*",),
                    ("*",),
                    _strs(d, "destinationAddressPrefixes"),
                    ("1688",),
                )
                nsgs[nsg.key] = dataclasses.replace(nsg, rules=(*nsg.rules, rule))
        elif fix.kind == "remove-nsg-rule":
            nsg = nsgs[str(d["nsg"])]
            if not isinstance(nsg.rules, Unknown):
                nsgs[nsg.key] = dataclasses.replace(
                    nsg, rules=tuple(r for r in nsg.rules if r.name != d["rule"])
                )
        elif fix.kind == "add-nat-gateway":
            key = f"{d['subnet']}#kms-nat"
            nats[key] = NatGateway(key, Origin("(new NAT gateway)"))
            subnets[str(d["subnet"])] = dataclasses.replace(subnets[str(d["subnet"])], nat_gateway=key)
        elif fix.kind == "add-firewall-rule":
            fw_rule = FirewallNetworkRule(
                "allow-kms", ("TCP",), _strs(d, "sources"), (), _strs(d, "ips"), (), (), ("1688",)
            )
            collection = FirewallRuleCollection("kms-activation", 100, "network", "Allow", (fw_rule,))
            policy_key = d.get("policy")
            if isinstance(policy_key, str) and policy_key in policies:
                policy = policies[policy_key]
                if not isinstance(policy.rule_collection_groups, Unknown):
                    group = FirewallRuleCollectionGroup("kms-activation", _int(d, "priority"), (collection,))
                    policies[policy_key] = dataclasses.replace(
                        policy, rule_collection_groups=(group, *policy.rule_collection_groups)
                    )
            elif policy_key is None:
                fw = firewalls[str(d["firewall"])]
                if not isinstance(fw.classic_collections, Unknown):
                    firewalls[fw.key] = dataclasses.replace(
                        fw,
                        classic_collections=(
                            dataclasses.replace(collection, priority=100),
                            *fw.classic_collections,
                        ),
                    )
        elif fix.kind == "add-dns-records":
            zone = zones[str(d["zone"])]
            if not isinstance(zone.records, Unknown):
                record = DnsRecord(str(d["name"]), "A", _strs(d, "ips"))
                zones[zone.key] = dataclasses.replace(
                    zone, records=(*[r for r in zone.records if r.name != d["name"]], record)
                )
        elif fix.kind == "remove-snat-range":
            target = str(d["owner"])
            if target in policies:
                policies[target] = dataclasses.replace(
                    policies[target], snat_private_ranges=_strs(d, "ranges")
                )
            elif target in firewalls:
                firewalls[target] = dataclasses.replace(
                    firewalls[target], snat_private_ranges=_strs(d, "ranges")
                )
    return dataclasses.replace(
        network,
        route_tables=route_tables.result(),
        subnets=subnets.result(),
        nsgs=nsgs.result(),
        nat_gateways=nats.result(),
        firewall_policies=policies.result(),
        firewalls=firewalls.result(),
        dns_zones=zones.result(),
    )


def _strs(data: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = data[key]
    assert isinstance(value, list | tuple)
    return tuple(str(v) for v in value)


def _int(data: Mapping[str, object], key: str) -> int:
    value = data[key]
    assert isinstance(value, int)
    return value


def _routes(data: Mapping[str, object]) -> list[dict[str, str]]:
    value = data["routes"]
    assert isinstance(value, list)
    return [dict(r) for r in value]
