"""Builders for the §11 scenario networks (azure-kms-semantics.md) and a thin driver of the analysis.

The default network is the one stated above the §11 table: subnet S (10.0.1.0/24) of VNet V
(10.0.0.0/16) in eastus, Azure-provided DNS, no NSG, no route table, ``defaultOutboundAccess``
unset (default outbound available). Every scenario is that network plus a few overrides.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from kmsguard.analysis import EndpointResult, Finding, Step, SubnetResult, Verdict, analyze
from kmsguard.collect.description import parse_description

PUBLIC_KMS = ("20.118.99.224", "40.83.235.53", "23.102.135.246")
USGOV_KMS = ("23.97.0.13", "52.126.105.2")
CHINA_KMS = ("159.27.28.100", "163.228.64.161", "42.159.7.249")
GERMANY_KMS = "51.4.143.248"

R = Verdict.REACHABLE
B = Verdict.BLOCKED
U = Verdict.UNKNOWN

Data = dict[str, Any]


def network(
    *,
    location: str = "eastus",
    subnet: Mapping[str, Any] | None = None,
    vnet: Mapping[str, Any] | None = None,
    extra_subnets: Iterable[Mapping[str, Any]] = (),
    settings: Mapping[str, Any] | None = None,
    **resources: Any,
) -> Data:
    """The default network of §11, with ``subnet``/``vnet`` keys overridden and top-level
    resources (``routeTables=[...]``, ``nsgs=[...]``, ``gateways=[...]`` ...) added."""
    s = {"name": "S", "addressPrefix": "10.0.1.0/24", **(subnet or {})}
    v = {
        "name": "V",
        "location": location,
        "addressSpace": ["10.0.0.0/16"],
        "subnets": [s, *extra_subnets],
        **(vnet or {}),
    }
    data: Data = {"vnets": [v], **copy.deepcopy(resources)}
    if settings is not None:
        data["settings"] = dict(settings)
    return data


def route(name: str, prefix: str, hop: str, ip: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"name": name, "addressPrefix": prefix, "nextHopType": hop}
    if ip is not None:
        r["nextHopIpAddress"] = ip
    return r


def host_routes(ips: Iterable[str], hop: str = "Internet") -> list[dict[str, Any]]:
    """One /32 route per KMS IP (the S1 fix), named like the fixes name them."""
    return [route("kms-" + ip.replace(".", "-"), f"{ip}/32", hop) for ip in ips]


def route_table(name: str, routes: list[dict[str, Any]], **props: Any) -> dict[str, Any]:
    return {"name": name, "routes": routes, **props}


def nsg_rule(
    name: str,
    priority: int,
    access: str,
    destination: str | list[str],
    *,
    protocol: str = "*",
    ports: str | list[str] = "*",
    direction: str = "Outbound",
) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": name,
        "priority": priority,
        "direction": direction,
        "access": access,
        "protocol": protocol,
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
    }
    if isinstance(destination, list):
        rule["destinationAddressPrefixes"] = destination
    else:
        rule["destinationAddressPrefix"] = destination
    if isinstance(ports, list):
        rule["destinationPortRanges"] = ports
    else:
        rule["destinationPortRange"] = ports
    return rule


def nsg(name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "rules": list(rules)}


DENY_INTERNET = nsg_rule("deny-internet", 100, "Deny", "Internet")


def analyze_data(data: Data) -> tuple[SubnetResult, ...]:
    net, settings = parse_description(data)
    return analyze(net, settings).subnets


def subnet_result(data: Data, name: str = "V/S") -> SubnetResult:
    results = analyze_data(data)
    found = [s for s in results if s.name == name]
    assert len(found) == 1, f"subnet {name} not in {[s.name for s in results]}"
    return found[0]


def verdicts(result: SubnetResult) -> dict[str, Verdict]:
    """KMS IP → verdict, for the subnet-level source (any VM of the subnet)."""
    out = {e.ip: e.verdict for e in result.endpoints}
    assert len(out) == len(result.endpoints), "one endpoint per KMS IP"
    return out


def decisive(result: SubnetResult, ip: str) -> str:
    """The detail of the step that made ``ip``'s verdict what it is."""
    return decisive_step(result.endpoints, ip).detail


def decisive_step(endpoints: Iterable[EndpointResult], ip: str) -> Step:
    ep = next(e for e in endpoints if e.ip == ip)
    assert ep.decisive is not None, f"no decisive step for {ip}: {ep.trace}"
    return ep.decisive


# What decided a KMS IP's verdict, as data: (finding, hop, rule). The finding is None on a passing
# step; the hop is the URN (key, in these URN-less networks) of the node the step happens on; the
# rule is the name of the deciding rule, route or DNS zone, None when no rule decides.
Decided = tuple[Finding | None, str | None, str | None]


def decided(step: Step) -> Decided:
    return (step.finding, step.hop, step.rule)


def decision(result: SubnetResult, ip: str) -> Decided:
    """(finding, hop, rule) of the step that made ``ip``'s verdict what it is."""
    return decided(decisive_step(result.endpoints, ip))


def fixes(result: SubnetResult) -> list[tuple[str, str]]:
    return [(f.kind, f.detail) for f in result.fixes]


def with_vnet(data: Data, vnet: Mapping[str, Any]) -> Data:
    """``data`` with one more VNet (a hub, a peer) next to V."""
    return {**data, "vnets": [*data["vnets"], dict(vnet)]}
