"""Printed fixes in the classic ``azure`` provider's terms (pulumi-azure) when the resource to change is classic.

The analysis writes each fix's Pulumi code for azure-native (``azure_native.network.RouteArgs`` …).
A program on the classic provider cannot use that code: the classes and property names differ
(``RouteTableRouteArgs``, ``next_hop_in_ip_address``, ``firewall_policy_id``) and attachments are
association resources. ``in_classic_terms`` rewrites the code of every fix whose decisive resource
(the fix's URN) is a classic one, from the fix's structured ``data`` and the model, and leaves the
rest (details, data, azure-native fixes) exactly as they were. It is applied where the analysis
result leaves ``kmsguard.policies.analyze_resources``, so the pack's messages and every report print
the same code. Nothing here imports a provider SDK.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kmsguard import protocol
from kmsguard.analysis.fixes import changes_route, logical_name, py
from kmsguard.analysis.fixes import standalone as _standalone
from kmsguard.catalog import KMS_PORT

if TYPE_CHECKING:
    from kmsguard.analysis import Fix, NetworkResult
    from kmsguard.model import Network

CLASSIC_PREFIX = "azure:"
CLASSIC_ROUTE_TABLE = "azure:network/routeTable:RouteTable"
CLASSIC_ROUTE = "azure:network/route:Route"
CLASSIC_SUBNET = "azure:network/subnet:Subnet"
CLASSIC_FIREWALL_POLICY = "azure:network/firewallPolicy:FirewallPolicy"
CLASSIC_FIREWALL = "azure:network/firewall:Firewall"
CLASSIC_DNS_ZONE = "azure:privatedns/zone:Zone"


def urn_type(urn: object) -> str | None:
    """The resource type of a URN (``urn:pulumi:stack::project::[parent$]type::name``)."""
    return (protocol.urn_type(urn) or None) if isinstance(urn, str) else None


def is_classic_urn(urn: object) -> bool:
    kind = urn_type(urn)
    return kind is not None and kind.startswith(CLASSIC_PREFIX)


def in_classic_terms(result: NetworkResult, network: Network) -> NetworkResult:
    """``result`` with the code of the fixes on classic resources in pulumi-azure terms."""
    subnets = []
    changed = False
    for subnet in result.subnets:
        fixes = tuple(_fix(f, network) for f in subnet.fixes)
        if any(a is not b for a, b in zip(fixes, subnet.fixes, strict=True)):
            subnet = dataclasses.replace(subnet, fixes=fixes)
            changed = True
        subnets.append(subnet)
    return dataclasses.replace(result, subnets=tuple(subnets)) if changed else result


def _fix(fix: Fix, network: Network) -> Fix:
    kind = urn_type(fix.urn)
    if kind is None or not kind.startswith(CLASSIC_PREFIX):
        return fix
    # azure-native code pasted into a classic program fails (other classes, other property names):
    # a fix this module cannot write in classic terms prints its detail alone.
    code = _code(fix, kind, network) or ""
    return fix if code == fix.code else dataclasses.replace(fix, code=code)


def _code(fix: Fix, kind: str, network: Network) -> str | None:
    d = fix.data
    if fix.kind == "add-routes":
        return _add_routes(fix, d, kind, network)
    if fix.kind == "change-route":
        return _change_route(d, kind, network)
    if fix.kind == "add-nsg-rule" and isinstance(d.get("priority"), int):
        return _nsg_rule(d, network)
    if (
        fix.kind == "add-firewall-rule"
        and kind == CLASSIC_FIREWALL_POLICY
        and isinstance(d.get("priority"), int)
    ):
        return _firewall_rule(fix.target, d)
    if fix.kind == "add-firewall-rule" and kind == CLASSIC_FIREWALL and isinstance(d.get("priority"), int):
        return _firewall_collection(fix.target, d)
    if fix.kind == "add-dns-records" and kind == CLASSIC_DNS_ZONE:
        return _dns_records(d, network)
    if fix.kind == "add-nat-gateway" and kind == CLASSIC_SUBNET:
        return _nat_gateway(fix.target)
    return None  # remove-nsg-rule, remove-snat-range …: the detail says what to change


# The style of the azure-native code (kmsguard.analysis.fixes): one line of Python for
# ``import pulumi_azure``, literals in JSON spelling, new resources named after their target, and a
# trailing comment naming what the placeholders (``rg``, ``table``, ``nsg`` …) stand for.
NET = "pulumi_azure.network"


def _routes(d: Mapping[str, object]) -> list[Mapping[str, str]]:
    value = d.get("routes")
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _route_args(r: Mapping[str, str]) -> str:
    return (
        f"{NET}.RouteTableRouteArgs(name={py(r['name'])}, address_prefix={py(r['addressPrefix'])}, "
        f"next_hop_type={py(r.get('nextHopType', 'Internet'))})"
    )


def _add_routes(fix: Fix, d: Mapping[str, object], kind: str, network: Network) -> str | None:
    routes = _routes(d)
    if not routes:
        return None
    target = fix.target
    table_key = d.get("table")
    if table_key is None:
        if kind != CLASSIC_SUBNET:
            return None
        name = py(logical_name(target, "kms-routes"))
        return (
            f"kms_routes = {NET}.RouteTable({name}, resource_group_name=rg.name, location=vnet.location, "
            f"routes=[{', '.join(_route_args(r) for r in routes)}]); "
            f"{NET}.SubnetRouteTableAssociation({name}, subnet_id=subnet.id, route_table_id=kms_routes.id)"
            f"  # subnet, rg, vnet: Subnet {target}, its resource group and virtual network"
        )
    if kind != CLASSIC_ROUTE_TABLE:
        return None
    table = network.route_tables.get(str(table_key))
    if d.get("standalone") is True or (table is not None and _standalone(table.routes)):
        return (
            "; ".join(
                f"{NET}.Route({py(logical_name(target, r['name']))}, resource_group_name=rg.name, "
                f"route_table_name=table.name, name={py(r['name'])}, address_prefix={py(r['addressPrefix'])}, "
                f"next_hop_type={py(r.get('nextHopType', 'Internet'))})"
                for r in routes
            )
            + f"  # table, rg: route table {target} and its resource group"
        )
    return f"routes=[..., {', '.join(_route_args(r) for r in routes)}]  # on route table {target}"


def _change_route(d: Mapping[str, object], kind: str, network: Network) -> str | None:
    table = network.route_tables.get(str(d.get("table")))
    name = d.get("route")
    if table is None or not isinstance(table.routes, tuple) or not isinstance(name, str):
        return None
    route = next((r for i, r in enumerate(table.routes) if changes_route(d, i, r)), None)
    if route is None or not isinstance(route.address_prefix, str):
        return None
    if kind == CLASSIC_ROUTE:
        # The user's own Route resource changes in place; a next hop IP only goes with VirtualAppliance.
        return f'next_hop_type="Internet", next_hop_in_ip_address=None  # on Route {name}'
    if kind == CLASSIC_ROUTE_TABLE:
        new = {"name": name, "addressPrefix": route.address_prefix, "nextHopType": "Internet"}
        return f"{_route_args(new)}  # in place of route {name} in routes=[...] of route table {table.origin.name}"
    return None


def _nsg_rule(d: Mapping[str, object], network: Network) -> str | None:
    nsg = network.nsgs.get(str(d.get("nsg")))
    if nsg is None:
        return None
    prefixes = [str(p) for p in _seq(d.get("destinationAddressPrefixes"))]
    name = str(d.get("name", "allow-kms-activation"))
    fields = (
        f'priority={d["priority"]}, direction="Outbound", access="Allow", protocol="Tcp", '
        f'source_address_prefix="*", source_port_range="*", destination_address_prefixes={py(prefixes)}, '
        f'destination_port_range="{KMS_PORT}"'
    )
    if _standalone(nsg.rules):
        return (
            f"{NET}.NetworkSecurityRule({py(logical_name(nsg.origin.name, name))}, resource_group_name=rg.name, "
            f"network_security_group_name=nsg.name, name={py(name)}, {fields})"
            f"  # nsg, rg: NSG {nsg.origin.name} and its resource group"
        )
    return (
        f"security_rules=[..., {NET}.NetworkSecurityGroupSecurityRuleArgs(name={py(name)}, {fields})]"
        f"  # on NSG {nsg.origin.name}"
    )


def _firewall_rule(target: str, d: Mapping[str, object]) -> str:
    ips = [str(x) for x in _seq(d.get("ips"))]
    sources = [str(x) for x in _seq(d.get("sources"))] or ["*"]
    name = str(d.get("name") or "kms-activation")
    return (
        f"{NET}.FirewallPolicyRuleCollectionGroup({py(logical_name(target, name))}, "
        f"firewall_policy_id=policy.id, name={py(name)}, priority={d['priority']}, "
        f"network_rule_collections=[{NET}.FirewallPolicyRuleCollectionGroupNetworkRuleCollectionArgs("
        f'name="kms-activation", priority=100, action="Allow", rules=['
        f'{NET}.FirewallPolicyRuleCollectionGroupNetworkRuleCollectionRuleArgs(name="allow-kms", '
        f'protocols=["TCP"], source_addresses={py(sources)}, destination_addresses={py(ips)}, '
        f'destination_ports=["{KMS_PORT}"])])])  # policy: firewall policy {target}'
    )


def _firewall_collection(target: str, d: Mapping[str, object]) -> str:
    """A firewall without policy: the classic provider declares its rules as standalone collections."""
    ips = [str(x) for x in _seq(d.get("ips"))]
    sources = [str(x) for x in _seq(d.get("sources"))] or ["*"]
    name = str(d.get("name") or "kms-activation")
    return (
        f"{NET}.FirewallNetworkRuleCollection({py(logical_name(target, name))}, "
        f"azure_firewall_name=fw.name, resource_group_name=rg.name, name={py(name)}, "
        f'priority={d["priority"]}, action="Allow", rules=[{NET}.FirewallNetworkRuleCollectionRuleArgs('
        f'name="allow-kms", protocols=["TCP"], source_addresses={py(sources)}, destination_addresses={py(ips)}, '
        f'destination_ports=["{KMS_PORT}"])])  # fw, rg: Azure Firewall {target} and its resource group'
    )


def _dns_records(d: Mapping[str, object], network: Network) -> str | None:
    zone = network.dns_zones.get(str(d.get("zone")))
    if zone is None:
        return None
    ips = [str(x) for x in _seq(d.get("ips"))]
    label = str(d.get("name", ""))
    zone_name = zone.zone_name if isinstance(zone.zone_name, str) else zone.origin.name
    if isinstance(zone.records, tuple) and any(r.name == label for r in zone.records):
        # A second ARecord of the same name would collide with the existing one.
        return f"records={py(ips)}  # on the ARecord {label} of private DNS zone {zone_name}"
    return (
        f"pulumi_azure.privatedns.ARecord({py(logical_name(zone.origin.name, label))}, resource_group_name=rg.name, "
        f"zone_name=zone.name, name={py(label)}, ttl=3600, records={py(ips)})"
        f"  # zone, rg: private DNS zone {zone_name} and its resource group"
    )


def _nat_gateway(subnet: str) -> str:
    ip, nat = py(logical_name(subnet, "nat-ip")), py(logical_name(subnet, "nat"))
    return (
        f"kms_nat_ip = {NET}.PublicIp({ip}, resource_group_name=rg.name, location=vnet.location, "
        'sku="Standard", allocation_method="Static"); '
        f'kms_nat = {NET}.NatGateway({nat}, resource_group_name=rg.name, location=vnet.location, sku_name="Standard"); '
        f"{NET}.NatGatewayPublicIpAssociation({ip}, nat_gateway_id=kms_nat.id, public_ip_address_id=kms_nat_ip.id); "
        f"{NET}.SubnetNatGatewayAssociation({nat}, subnet_id=subnet.id, nat_gateway_id=kms_nat.id)"
        f"  # subnet, rg, vnet: Subnet {subnet}, its resource group and virtual network"
    )


def _seq(value: object) -> Sequence[object]:
    return value if isinstance(value, list | tuple) else ()


__all__ = ["CLASSIC_ROUTE", "CLASSIC_ROUTE_TABLE", "in_classic_terms", "is_classic_urn", "urn_type"]
