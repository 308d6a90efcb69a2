"""Fixes: the changes that make a blocked path reachable, merged per resource, and applied to a
copy of the model so the analysis can check that they are enough (the repair loop in ``subnet``).

Each fix carries the Pulumi code to paste (``Fix.code``), rendered here from the same values as its
``data`` (what ``apply`` adds to the copy), so what is printed is what was checked
(tests/fixes run the code against the installed azure-native SDK and analyse what it sends).
The code is Python for ``import pulumi_azure_native as azure_native``, in one line:

* ``Name(...)`` calls and ``var = Name(...)`` are new resources;
* ``arg=value`` sets an argument of the resource the fix names (``arg=[..., x]``: append ``x`` to
  the existing list);
* typed ``...Args`` classes throughout: the SDK sends dict keys inside union-typed inputs untranslated
  (``rule_type`` instead of ``ruleType``), which Azure and kmsguard then read as malformed;
* a trailing comment names the variables only the user knows (``rg``: the resource group's variable).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from kmsguard.analysis.verdict import Fix
from kmsguard.catalog import KMS_PORT
from kmsguard.model import (
    FirewallNetworkRule,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    NatGateway,
    Network,
    NetworkSecurityGroup,
    Origin,
    Route,
    RouteTable,
    SecurityRule,
    Unknown,
)
from kmsguard.model.network import DnsRecord

NET = "azure_native.network"
# The URN of a standalone resource a fix adds to the repair loop's copy of the network.
NEW_RESOURCE = "(added by a kmsguard fix)"


def kms_route_name(ip: str) -> str:
    """Stable, unique route name for a KMS IP: ``kms-20-118-99-224``."""
    return "kms-" + ip.replace(".", "-")


def logical_name(*parts: str) -> str:
    """A Pulumi logical name for a new resource, unique per target (URNs are per type and name):
    ``rt-spoke-kms-20-118-99-224``; an inline subnet's ``vnet/subnet`` becomes ``vnet-subnet``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(p for p in parts if p)).strip("-") or "kms"


def free_name(base: str, taken: Iterable[object]) -> str:
    """``base``, or ``base-2``, ``base-3`` … when a sibling already has the name: Azure names a rule
    collection, rule collection group or security rule by its name among its siblings, so a second
    fix pasted after the first must not reuse it."""
    names = {t.lower() for t in taken if isinstance(t, str)}
    if base.lower() not in names:
        return base
    return next(f"{base}-{n}" for n in range(2, len(names) + 3) if f"{base}-{n}".lower() not in names)


def py(value: object) -> str:
    """A Python literal for strings, ints and lists of them (JSON spelling is valid Python here)."""
    return json.dumps(value)


def standalone(items: object) -> bool:
    """Whether a route table's routes (an NSG's rules) are standalone resources in the user's
    program: all of them carry the URN of their own resource. Adding an inline item to such a table
    would mix the two styles, whose PUTs overwrite each other (docs/findings.md#kms-route-duplicate)."""
    return isinstance(items, tuple) and bool(items) and all(getattr(i, "urn", None) for i in items)


def route_fix(
    table: RouteTable | None, subnet_key: str, subnet_name: str, subnet_urn: str | None, ips: Sequence[str]
) -> Fix:
    routes = [
        {"name": kms_route_name(ip), "addressPrefix": f"{ip}/32", "nextHopType": "Internet"} for ip in ips
    ]
    if table is not None:
        return _route_fix(
            str(table.key), table.origin.name, table.origin.urn, standalone(table.routes), subnet_key, routes
        )
    return _route_fix(None, subnet_name, subnet_urn, False, subnet_key, routes)


def _route_args(r: Mapping[str, str]) -> str:
    return (
        f"{NET}.RouteArgs(name={py(r['name'])}, address_prefix={py(r['addressPrefix'])}, "
        f"next_hop_type={py(r['nextHopType'])})"
    )


def _route_fix(
    table_key: str | None,
    target: str,
    urn: str | None,
    is_standalone: bool,
    subnet_key: str,
    routes: list[dict[str, str]],
) -> Fix:
    """``target``: the route table's name, or (``table_key`` None) the subnet's that needs one."""
    listing = ", ".join(f"{r['addressPrefix']} → Internet" for r in routes)
    data: dict[str, object] = {"table": table_key, "subnet": subnet_key, "routes": routes}
    if table_key is not None:
        if is_standalone:
            # The user's routes are standalone Route resources: so are these (never inline ones
            # next to them, docs/findings.md#kms-route-duplicate).
            data["standalone"] = True
            code = "; ".join(
                f"{NET}.Route({py(logical_name(target, r['name']))}, resource_group_name=rg.name, "
                f"route_table_name=table.name, route_name={py(r['name'])}, "
                f"address_prefix={py(r['addressPrefix'])}, next_hop_type={py(r['nextHopType'])})"
                for r in routes
            )
            code += f"  # table, rg: route table {target} and its resource group"
        else:
            code = f"routes=[..., {', '.join(_route_args(r) for r in routes)}]  # on route table {target}"
        return Fix(
            "add-routes",
            target,
            urn,
            f"route table {target}: add {listing} (one /32 route per KMS IP, docs/rules.md#kms-routes)",
            code,
            data,
        )
    code = (
        f"kms_routes = {NET}.RouteTable({py(logical_name(target, 'kms-routes'))}, resource_group_name=rg.name, "
        f"location=vnet.location, routes=[{', '.join(_route_args(r) for r in routes)}]); "
        f"route_table={NET}.RouteTableArgs(id=kms_routes.id)"
        f"  # on subnet {target}; rg, vnet: its resource group and virtual network"
    )
    return Fix(
        "add-routes",
        target,
        urn,
        f"subnet {target}: associate a route table with {listing} (one /32 route per KMS IP, docs/rules.md#kms-routes)",
        code,
        data,
    )


def change_route_fix(table: RouteTable, route: Route) -> Fix:
    prefix = route.address_prefix if isinstance(route.address_prefix, str) else ""
    if route.urn:
        # A standalone Route: its own arguments change (next_hop_ip_address only goes with
        # VirtualAppliance, so it is dropped).
        code = f'next_hop_type="Internet", next_hop_ip_address=None  # on Route {route.name}'
    else:
        new = {"name": route.name, "addressPrefix": prefix, "nextHopType": "Internet"}
        code = f"{_route_args(new)}  # in place of route {route.name} in routes=[...] of route table {table.origin.name}"
    return Fix(
        "change-route",
        table.origin.name,
        route.urn or table.origin.urn,
        f"route table {table.origin.name}: change route {route.name} ({route.address_prefix}) to nextHopType Internet",
        code,
        {"table": table.key, "route": route.name, **_route_index(table, route)},
    )


def _route_index(table: RouteTable, route: Route) -> dict[str, int]:
    """``{"index": i}``, the route's place in its table (``route`` itself, not a route of its name):
    what ``apply`` changes, since names may repeat or read "[secret]"; {} when it is not there."""
    if isinstance(table.routes, Unknown):
        return {}
    return next(({"index": i} for i, r in enumerate(table.routes) if r is route), {})


def changes_route(d: Mapping[str, object], index: int, route: Route) -> bool:
    """Whether the change-route fix ``d`` is about ``route``, the ``index``-th route of its table."""
    at = d.get("index")
    if isinstance(at, int) and not isinstance(at, bool):
        return at == index
    return route.name == d.get("route")


def nsg_rule_code(nsg: NetworkSecurityGroup, name: str, priority: int, prefixes: Sequence[str]) -> str:
    """The outbound Allow rule for TCP 1688, in the NSG's own style: a standalone ``SecurityRule``
    when its rules are standalone resources, an inline ``SecurityRuleArgs`` otherwise."""
    fields = (
        f'priority={priority}, direction="Outbound", access="Allow", protocol="Tcp", '
        f'source_address_prefix="*", source_port_range="*", destination_address_prefixes={py(list(prefixes))}, '
        f'destination_port_range="{KMS_PORT}"'
    )
    if standalone(nsg.rules):
        return (
            f"{NET}.SecurityRule({py(logical_name(nsg.origin.name, name))}, resource_group_name=rg.name, "
            f"network_security_group_name=nsg.name, security_rule_name={py(name)}, {fields})"
            f"  # nsg, rg: NSG {nsg.origin.name} and its resource group"
        )
    return (
        f"security_rules=[..., {NET}.SecurityRuleArgs(name={py(name)}, {fields})]  # on NSG {nsg.origin.name}"
    )


def dns_record_code(zone_name: str, zone_display: str, label: str, ips: Sequence[str], exists: bool) -> str:
    """A records for the KMS name in a private zone: a new ``PrivateRecordSet``, or, when the zone
    already has a record set of that name, its ``a_records`` (a second one would collide)."""
    records = (
        "[" + ", ".join(f"azure_native.privatedns.ARecordArgs(ipv4_address={py(ip)})" for ip in ips) + "]"
    )
    if exists:
        return f"a_records={records}  # on the record set {label} of private DNS zone {zone_name}"
    return (
        f"azure_native.privatedns.PrivateRecordSet({py(logical_name(zone_display, label))}, resource_group_name=rg.name, "
        f'private_zone_name=zone.name, record_type="A", relative_record_set_name={py(label)}, ttl=3600, '
        f"a_records={records})  # zone, rg: private DNS zone {zone_display} and its resource group"
    )


def nat_gateway_code(subnet_name: str) -> str:
    """A Standard NAT gateway with its own Standard public IP, and the subnet's argument for it."""
    return (
        f"kms_nat_ip = {NET}.PublicIPAddress({py(logical_name(subnet_name, 'nat-ip'))}, resource_group_name=rg.name, "
        f'location=vnet.location, sku={NET}.PublicIPAddressSkuArgs(name="Standard"), public_ip_allocation_method="Static"); '
        f"kms_nat = {NET}.NatGateway({py(logical_name(subnet_name, 'nat'))}, resource_group_name=rg.name, "
        f'location=vnet.location, sku={NET}.NatGatewaySkuArgs(name="Standard"), '
        f"public_ip_addresses=[{NET}.SubResourceArgs(id=kms_nat_ip.id)]); "
        f"nat_gateway={NET}.SubResourceArgs(id=kms_nat.id)"
        f"  # on subnet {subnet_name}; rg, vnet: its resource group and virtual network"
    )


def firewall_policy_code(
    policy_name: str, priority: int, sources: Sequence[str], ips: Sequence[str], name: str = "kms-activation"
) -> str:
    """A rule collection group with one network rule collection allowing TCP 1688 to the KMS IPs."""
    return (
        f"{NET}.FirewallPolicyRuleCollectionGroup({py(logical_name(policy_name, name))}, "
        f"resource_group_name=rg.name, firewall_policy_name=policy.name, rule_collection_group_name={py(name)}, "
        f"priority={priority}, rule_collections=[{NET}.FirewallPolicyFilterRuleCollectionArgs("
        f'rule_collection_type="FirewallPolicyFilterRuleCollection", name="kms-activation", priority=100, '
        f'action={NET}.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"), rules=[{NET}.NetworkRuleArgs('
        f'rule_type="NetworkRule", name="allow-kms", ip_protocols=["TCP"], source_addresses={py(list(sources))}, '
        f'destination_addresses={py(list(ips))}, destination_ports=["{KMS_PORT}"])])])'
        f"  # policy, rg: firewall policy {policy_name} and its resource group"
    )


def firewall_classic_code(
    firewall_name: str,
    priority: int,
    sources: Sequence[str],
    ips: Sequence[str],
    name: str = "kms-activation",
) -> str:
    """A classic network rule collection on the firewall itself (no firewall policy)."""
    return (
        f"network_rule_collections=[..., {NET}.AzureFirewallNetworkRuleCollectionArgs(name={py(name)}, "
        f'priority={priority}, action={NET}.AzureFirewallRCActionArgs(type="Allow"), '
        f'rules=[{NET}.AzureFirewallNetworkRuleArgs(name="allow-kms", protocols=["TCP"], '
        f"source_addresses={py(list(sources))}, destination_addresses={py(list(ips))}, "
        f'destination_ports=["{KMS_PORT}"])])]  # on Azure Firewall {firewall_name}'
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
    table = fix.data.get("table")
    return _route_fix(
        str(table) if table is not None else None,
        fix.target,
        fix.urn,
        fix.data.get("standalone") is True,
        str(fix.data["subnet"]),
        routes,
    )


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
            # Standalone routes keep a URN, so the table keeps its style in the repair loop's copies.
            urn = NEW_RESOURCE if d.get("standalone") is True else None
            new = tuple(Route(r["name"], r["addressPrefix"], "Internet", urn=urn) for r in _routes(d))
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
                        if changes_route(d, i, r)
                        else r
                        for i, r in enumerate(table.routes)
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
                    urn=NEW_RESOURCE if standalone(nsg.rules) else None,
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
        elif fix.kind == "add-firewall-rule" and isinstance(d.get("priority"), int):
            # No priority: no number sorts before the denying collection (the fix says to renumber),
            # so nothing is applied and the fix is not reported as checked.
            fw_rule = FirewallNetworkRule(
                "allow-kms", ("TCP",), _strs(d, "sources"), (), _strs(d, "ips"), (), (), ("1688",)
            )
            name = str(d.get("name") or "kms-activation")
            collection = FirewallRuleCollection(name, 100, "network", "Allow", (fw_rule,))
            policy_key = d.get("policy")
            if isinstance(policy_key, str) and policy_key in policies:
                policy = policies[policy_key]
                if not isinstance(policy.rule_collection_groups, Unknown):
                    group = FirewallRuleCollectionGroup(
                        name, _int(d, "priority"), (dataclasses.replace(collection, name="kms-activation"),)
                    )
                    policies[policy_key] = dataclasses.replace(
                        # Last in the list: its priority alone must put it first (a tie never wins by position).
                        policy,
                        rule_collection_groups=(*policy.rule_collection_groups, group),
                    )
            elif policy_key is None:
                fw = firewalls[str(d["firewall"])]
                if not isinstance(fw.classic_collections, Unknown):
                    firewalls[fw.key] = dataclasses.replace(
                        fw,
                        classic_collections=(
                            *fw.classic_collections,
                            dataclasses.replace(collection, priority=_int(d, "priority")),
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
