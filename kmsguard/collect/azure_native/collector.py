"""Run the builders over one deployment and assemble the ``Network``.

Nothing here raises on bad input: each resource is built under a guard, so an unexpected shape in
one resource becomes a Problem naming it (with the exception's type only, never its text, which
could carry a secret value) and the rest of the stack is still modelled.

Types kmsguard does not read are never skipped silently: ``coverage`` tells read, irrelevant and
unread types apart, and each unread one is a Problem that makes every subnet's verdict unknown
(``passes.mark_unread``). The passes that need the assembled model (gateway connections' static
routes, AVNM deployment regions) run last, as in the classic collector.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from kmsguard.collect.azure_native import compute, coverage, dns, edge, network, passes
from kmsguard.collect.azure_native.stack import Res, Stack, make_res
from kmsguard.model import (
    AdminRule,
    AzureFirewall,
    DnsForwardingRuleset,
    FirewallPolicy,
    FirewallRuleCollectionGroup,
    HubConnection,
    IpGroup,
    LoadBalancer,
    NatGateway,
    Network,
    NetworkInterface,
    NetworkSecurityGroup,
    PrivateDnsZone,
    PrivateDnsZoneLink,
    Problem,
    Route,
    RouteServer,
    RouteTable,
    Subnet,
    VirtualHub,
    VirtualMachine,
    VirtualNetwork,
    VirtualNetworkGateway,
)

if TYPE_CHECKING:
    from kmsguard.collect.resource import PulumiResource

T = TypeVar("T")


def _guard(problems: list[Problem], where: str, urn: str | None, fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except Exception as exc:  # the collector never raises on malformed input (module doc)
        problems.append(Problem(where, "(resource)", f"could not be read ({type(exc).__name__})", urn))
        return None


def build(resources: Sequence[PulumiResource]) -> Network:
    problems: list[Problem] = []
    decoded: list[Res] = []
    unread: list[passes.Unread] = []
    for i, raw in enumerate(resources):
        urn = getattr(raw, "urn", None)
        where = getattr(raw, "name", None) or (urn if isinstance(urn, str) else f"resource #{i}")
        token = getattr(raw, "type", None)
        if coverage.unread(token):
            # Never skipped silently (DESIGN "unknown is never a pass"): reported by ``passes.mark_unread``.
            unread.append(passes.Unread(str(where), urn if isinstance(urn, str) else "", str(token)))
            continue
        r = _guard(
            problems,
            str(where),
            urn if isinstance(urn, str) else None,
            partial(make_res, raw, problems),
        )
        if r is not None:
            decoded.append(r)
    stack = Stack(decoded, problems)
    network = _Assembler(stack, problems).network()
    for label, step in (
        ("(gateway connections)", passes.mark_connections),
        ("(AVNM deployments)", passes.deployment_regions),
    ):
        network = _guard(problems, label, None, partial(step, stack, network)) or network
    network = passes.mark_unread(network, unread, problems)
    return replace(network, problems=tuple(problems))


class _Assembler:
    def __init__(self, stack: Stack, problems: list[Problem]) -> None:
        self.stack = stack
        self.problems = problems

    def each(self, kind: str, fn: Callable[[Res], T | None]) -> list[tuple[Res, T]]:
        out: list[tuple[Res, T]] = []
        for r in self.stack.of_kind(kind):
            value = _guard(self.problems, r.name, r.urn, partial(fn, r))
            if value is not None:
                out.append((r, value))
        return out

    def network(self) -> Network:
        s = self.stack
        vnets: dict[str, VirtualNetwork] = {}
        subnets: dict[str, Subnet] = {}
        for _, (vnet, inline, probs) in self.each("VirtualNetwork", lambda r: network.vnet(s, r)):
            vnets[vnet.key] = vnet
            subnets.update((x.key, x) for x in inline)
            self.problems.extend(probs)
        for _, subnet in self.each("Subnet", lambda r: network.standalone_subnet(s, r)):
            subnets[subnet.key] = subnet
        route_tables: dict[str, RouteTable] = {}
        for _, (table, probs) in self.each("RouteTable", lambda r: network.route_table(s, r)):
            route_tables[table.key] = table
            self.problems.extend(probs)
        nsgs: dict[str, NetworkSecurityGroup] = {}
        for _, (group, probs) in self.each("NetworkSecurityGroup", lambda r: network.nsg(s, r)):
            nsgs[group.key] = group
            self.problems.extend(probs)

        nics: dict[str, NetworkInterface] = {
            n.key: n for _, n in self.each("NetworkInterface", lambda r: compute.nic(s, r))
        }
        vms: dict[str, VirtualMachine] = {}
        vm_subnets: dict[str, tuple[str, ...]] = {}
        for _, (vm, templates) in self.each("VirtualMachine", lambda r: compute.vm(s, r)):
            vms[vm.key] = vm
            nics.update((t.key, t) for t in templates)
        for _, (vmss, templates, placed) in self.each(
            "VirtualMachineScaleSet", lambda r: compute.scale_set(s, r)
        ):
            vms[vmss.key] = vmss
            nics.update((t.key, t) for t in templates)
            if placed:
                vm_subnets[vmss.key] = placed
        load_balancers: dict[str, LoadBalancer] = {
            lb.key: lb for _, lb in self.each("LoadBalancer", lambda r: compute.load_balancer(s, r))
        }
        nat_gateways: dict[str, NatGateway] = {
            n.key: n for _, n in self.each("NatGateway", compute.nat_gateway)
        }

        gateways: dict[str, VirtualNetworkGateway] = {
            g.key: g for _, g in self.each("VirtualNetworkGateway", lambda r: edge.gateway(s, r))
        }
        route_servers: dict[str, RouteServer] = (
            _guard(self.problems, "(route servers)", None, lambda: edge.route_servers(s)) or {}
        )
        firewalls: dict[str, AzureFirewall] = {
            f.key: f for _, f in self.each("AzureFirewall", lambda r: edge.firewall(s, r))
        }
        groups: dict[str, FirewallRuleCollectionGroup] = {
            r.urn: g
            for r, g in self.each(
                "FirewallPolicyRuleCollectionGroup", lambda r: edge.rule_collection_group(s, r)
            )
        }
        policies: dict[str, FirewallPolicy] = {
            p.key: p for _, p in self.each("FirewallPolicy", lambda r: edge.firewall_policy(s, r, groups))
        }
        ip_groups: dict[str, IpGroup] = {g.key: g for _, g in self.each("IpGroup", edge.ip_group)}
        hubs: dict[str, VirtualHub] = {h.key: h for _, h in self.each("VirtualHub", lambda r: edge.hub(s, r))}
        connections: dict[str, HubConnection] = {
            c.key: c for _, c in self.each("HubVirtualNetworkConnection", lambda r: edge.hub_connection(s, r))
        }
        admin: list[AdminRule] = (
            _guard(self.problems, "(admin rules)", None, lambda: edge.admin_rules(s)) or []
        )

        zones: dict[str, PrivateDnsZone] = {
            z.key: z for _, z in self.each("PrivateZone", lambda r: dns.zone(s, r))
        }
        links: dict[str, PrivateDnsZoneLink] = {
            link.key: link for _, link in self.each("VirtualNetworkLink", lambda r: dns.zone_link(s, r))
        }
        rulesets: dict[str, DnsForwardingRuleset] = {
            x.key: x for _, x in self.each("DnsForwardingRuleset", lambda r: dns.ruleset(s, r))
        }
        route_tables = _firewall_next_hops(route_tables, subnets, firewalls)
        return Network(
            vnets=vnets,
            subnets=subnets,
            route_tables=route_tables,
            nsgs=nsgs,
            admin_rules=tuple(admin),
            gateways=gateways,
            route_servers=route_servers,
            hubs=hubs,
            hub_connections=connections,
            nat_gateways=nat_gateways,
            load_balancers=load_balancers,
            nics=nics,
            vms=vms,
            vm_subnets=vm_subnets,
            firewalls=firewalls,
            firewall_policies=policies,
            ip_groups=ip_groups,
            dns_zones=zones,
            dns_zone_links=links,
            dns_rulesets=rulesets,
            problems=tuple(self.problems),
        )


def _firewall_next_hops(
    tables: dict[str, RouteTable], subnets: dict[str, Subnet], firewalls: dict[str, AzureFirewall]
) -> dict[str, RouteTable]:
    """A VirtualAppliance next hop inside a firewall's AzureFirewallSubnet is that firewall.

    AzureFirewallSubnet is dedicated to the firewall (semantics §3.3, §6), so a literal next-hop IP
    in its prefix names the firewall even when the firewall's own private IP is an output that is
    unknown during preview (pulumi-mechanics §0 fact 2)."""
    owned: list[tuple[str, AzureFirewall, list[ipaddress.IPv4Network]]] = []
    # Firewall subnets by VNet, found once: scanning every subnet per firewall is quadratic in an
    # estate with a hub per resource group.
    by_vnet: dict[str, list[Subnet]] = {}
    for sub in subnets.values():
        if isinstance(sub.vnet, str):
            by_vnet.setdefault(sub.vnet, []).append(sub)
    for fw in firewalls.values():
        if not isinstance(fw.vnet, str):
            continue
        nets = [
            net
            for sub in by_vnet.get(fw.vnet, ())
            if isinstance(sub.subnet_name, str)
            and sub.subnet_name.lower() == "azurefirewallsubnet"
            and isinstance(sub.address_prefixes, tuple)
            for p in sub.address_prefixes
            if isinstance(p, str) and (net := _net(p)) is not None
        ]
        if nets:
            owned.append((fw.key, fw, nets))
    if not owned:
        return tables
    owners = _FirewallSubnets(owned)
    out: dict[str, RouteTable] = {}
    for key, table in tables.items():
        if isinstance(table.routes, tuple):
            routes = tuple(_hop(route, owners) for route in table.routes)
            if routes != table.routes:
                table = replace(table, routes=routes)
        out[key] = table
    return out


def _net(text: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(text.strip(), strict=False)
    except ValueError:
        return None


class _FirewallSubnets:
    """The firewalls' AzureFirewallSubnet prefixes, looked up by address: one dictionary access per
    prefix length instead of a scan of every firewall per route (an estate of many hubs)."""

    def __init__(self, owned: list[tuple[str, AzureFirewall, list[ipaddress.IPv4Network]]]) -> None:
        self.owned = owned
        self.by_net: dict[ipaddress.IPv4Network, list[int]] = {}
        for position, (_, _, nets) in enumerate(owned):
            for net in nets:
                self.by_net.setdefault(net, []).append(position)
        self.lengths = sorted({net.prefixlen for net in self.by_net})

    def owners(self, ip: ipaddress.IPv4Address) -> list[str]:
        """The firewalls whose subnet holds ``ip`` and whose private IP, when known, is ``ip``,
        in collection order."""
        positions: set[int] = set()
        for length in self.lengths:
            positions.update(self.by_net.get(ipaddress.IPv4Network((ip, length), strict=False), ()))
        found = []
        for i in sorted(positions):
            key, fw, _ = self.owned[i]
            if not isinstance(fw.private_ip, str) or fw.private_ip.strip() == str(ip):
                found.append(key)
        return found


def _hop(route: Route, firewall_subnets: _FirewallSubnets) -> Route:
    hop = route.next_hop_type
    if route.next_hop_resource is not None or not isinstance(route.next_hop_ip, str):
        return route
    if not (isinstance(hop, str) and hop.lower() == "virtualappliance"):
        return route
    try:
        ip = ipaddress.IPv4Address(route.next_hop_ip.strip())
    except ValueError:
        return route
    owners = firewall_subnets.owners(ip)
    return replace(route, next_hop_resource=owners[0]) if len(owners) == 1 else route
