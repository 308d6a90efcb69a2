"""Lookups over a ``Network`` built once per analysis, so each question is a dictionary access."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

from kmsguard.analysis.match import Tri, canonical
from kmsguard.model import (
    AdminRule,
    AzureFirewall,
    BackendPool,
    DnsForwardingRuleset,
    HubConnection,
    LoadBalancer,
    Network,
    NetworkInterface,
    PrivateDnsZoneLink,
    Ref,
    RouteServer,
    Subnet,
    Unknown,
    VirtualMachine,
    VirtualNetwork,
    VirtualNetworkGateway,
)

T = TypeVar("T")

# The Network fields ``NetworkIndex.build`` reads, and those the memoised effective routes depend on.
_INDEXED = (
    "gateways",
    "route_servers",
    "hub_connections",
    "firewalls",
    "subnets",
    "dns_zone_links",
    "dns_rulesets",
    "nics",
    "admin_rules",
    "vms",
    "vm_subnets",
    "load_balancers",
)
_ROUTED = ("vnets", "subnets", "route_tables", "gateways", "route_servers", "hubs", "hub_connections")
# What a subnet's effective routes read besides the subnet itself and its route table, which each
# "subnet-routes" entry checks by identity: so a repair copy whose fixes only add routes to tables
# (or attach one to a subnet) keeps the routes of every other subnet, such as a hub's firewall
# subnet with one peering route per spoke.
_AROUND_SUBNET_ROUTES = ("vnets", "gateways", "route_servers", "hubs", "hub_connections")
_BY_IDENTITY = (
    "admin-compiled",
    "default-route",
    "firewall-plan",
    "nsg-compiled",
    "nsg-decision",
    "route-select",
    "user-route",
)


@dataclass(frozen=True)
class NetworkIndex:
    network: Network
    gateways_by_vnet: Mapping[Ref, tuple[VirtualNetworkGateway, ...]]
    gateways_vnet_unknown: tuple[VirtualNetworkGateway, ...]
    route_servers_by_vnet: Mapping[Ref, tuple[RouteServer, ...]]
    route_servers_vnet_unknown: tuple[RouteServer, ...]
    hub_connections_by_vnet: Mapping[Ref, tuple[HubConnection, ...]]
    hub_connections_vnet_unknown: tuple[HubConnection, ...]
    firewall_by_ip: Mapping[str, AzureFirewall]
    subnets_by_vnet: Mapping[Ref, tuple[Subnet, ...]]
    zone_links_by_vnet: Mapping[Ref, tuple[PrivateDnsZoneLink, ...]]
    zone_links_vnet_unknown: tuple[PrivateDnsZoneLink, ...]
    rulesets_by_vnet: Mapping[Ref, tuple[DnsForwardingRuleset, ...]]
    rulesets_vnet_unknown: tuple[DnsForwardingRuleset, ...]
    nics_by_subnet: Mapping[Ref, tuple[tuple[NetworkInterface, int], ...]]
    nics_subnet_unknown: tuple[tuple[NetworkInterface, int], ...]  # IP configurations, in NIC order
    vms_by_nic: Mapping[Ref, tuple[VirtualMachine, ...]]
    # §5.2/§5.3 (O1): whether a Flexible-orchestration scale set uses a NIC, or names a subnet
    # (``vm_subnets``); MAYBE when its orchestration mode is unknown. Absent: none does.
    flexible_by_nic: Mapping[Ref, Tri]
    flexible_by_vm_subnet: Mapping[Ref, Tri]
    backend_pools: Mapping[Ref, tuple[LoadBalancer, BackendPool]]  # last load balancer wins
    admin_rules_by_vnet: Mapping[Ref, tuple[AdminRule, ...]]
    admin_rules_vnet_unknown: tuple[AdminRule, ...]
    windows_subnets: frozenset[Ref]
    windows_anywhere: bool  # a Windows VM whose subnet is unknown: every subnet may hold Windows
    # Results computed on first use by the analysis steps, one dict per kind (see ``cache``).
    memo: dict[str, dict[object, object]] = field(default_factory=dict, compare=False, repr=False)

    def cache(self, kind: str) -> dict[object, object]:
        """The memo of one kind of result (``"firewall-plan"``, ``"subnet-routes"``, ...)."""
        found = self.memo.get(kind)
        if found is None:
            found = self.memo[kind] = {}
        return found

    def remember(self, kind: str, key: object, owner: object, compute: Callable[[], T]) -> T:
        """``compute()``, remembered under ``key`` for as long as ``owner`` (the object the result
        is about, whose ``id`` the key holds) is the one in the entry. The entry keeps ``owner``
        alive, so its id is never reused by another object, and the entry stays valid in every
        copy of the index that shares the memo (``derive``)."""
        cache = self.cache(kind)
        hit = cache.get(key)
        if isinstance(hit, tuple) and hit[0] is owner:
            return cast(T, hit[1])
        value = compute()
        cache[key] = (owner, value)
        return value

    def derive(self, network: Network) -> NetworkIndex:
        """The index of ``network``, a copy of this index's network with a few entries replaced (the
        repair loop re-analyses one subnet after each round of fixes). What the changes cannot
        affect is reused: rebuilding everything per blocked subnet would make the analysis
        quadratic in the size of the estate."""
        old = self.network
        # A repair copy shares the fields it does not change, so identity settles most of them
        # without comparing every entry of the estate once per repaired subnet.
        if all(_same(getattr(old, f), getattr(network, f)) for f in _INDEXED):
            index = dataclasses.replace(self, network=network, memo={})
        else:
            index = NetworkIndex.build(network)
        keep_routes = all(_same(getattr(old, f), getattr(network, f)) for f in _ROUTED)
        keep_subnet_routes = all(_same(getattr(old, f), getattr(network, f)) for f in _AROUND_SUBNET_ROUTES)
        for kind, entries in self.memo.items():
            # Shared, not copied: these are keyed by (and hold) the objects they were computed from
            # (firewall._plan, filtering.compiled_nsg, steps.filtering._nsg_decision,
            # source.select_route), so they hold in any copy; the route memos also need the routing
            # part of the network unchanged.
            if (
                kind in _BY_IDENTITY
                or (kind == "subnet-routes" and keep_subnet_routes)
                or (kind == "fw-egress" and keep_routes)
            ):
                index.memo[kind] = entries
        return index

    def with_subnet(self, network: Network, vnet: VirtualNetwork, subnet: Subnet) -> NetworkIndex:
        """The index of ``network``: this index's network plus ``vnet`` and ``subnet``, which nothing
        else refers to (the stand-in subnet of an unattached route table). Rebuilding the index
        for each such table would make the analysis quadratic in the size of the estate."""
        by_vnet = dict(self.subnets_by_vnet)
        by_vnet[vnet.key] = (*by_vnet.get(vnet.key, ()), subnet)
        windows = self.windows_subnets | {subnet.key} if self.windows_anywhere else self.windows_subnets
        index = dataclasses.replace(
            self, network=network, subnets_by_vnet=by_vnet, windows_subnets=windows, memo={}
        )
        for kind in _BY_IDENTITY:
            if kind in self.memo:
                index.memo[kind] = self.memo[kind]
        return index

    @staticmethod
    def build(network: Network) -> NetworkIndex:
        gw: dict[Ref, list[VirtualNetworkGateway]] = defaultdict(list)
        gw_unknown = []
        for g in network.gateways.values():
            if isinstance(g.vnet, str):
                gw[g.vnet].append(g)
            elif isinstance(g.vnet, Unknown):
                gw_unknown.append(g)
        rs: dict[Ref, list[RouteServer]] = defaultdict(list)
        rs_unknown = []
        for r in network.route_servers.values():
            if isinstance(r.vnet, str):
                rs[r.vnet].append(r)
            elif isinstance(r.vnet, Unknown):
                rs_unknown.append(r)
        hc: dict[Ref, list[HubConnection]] = defaultdict(list)
        hc_unknown = []
        for c in network.hub_connections.values():
            if isinstance(c.vnet, str):
                hc[c.vnet].append(c)
            elif isinstance(c.vnet, Unknown):
                hc_unknown.append(c)
        fw_ip = {f.private_ip: f for f in network.firewalls.values() if isinstance(f.private_ip, str)}
        sv: dict[Ref, list[Subnet]] = defaultdict(list)
        for s in network.subnets.values():
            if isinstance(s.vnet, str):
                sv[s.vnet].append(s)
        zl: dict[Ref, list[PrivateDnsZoneLink]] = defaultdict(list)
        zl_unknown = []
        for link in network.dns_zone_links.values():
            if isinstance(link.vnet, str):
                zl[link.vnet].append(link)
            elif isinstance(link.vnet, Unknown):
                zl_unknown.append(link)
        rv: dict[Ref, list[DnsForwardingRuleset]] = defaultdict(list)
        rv_unknown = []
        for ruleset in network.dns_rulesets.values():
            if isinstance(ruleset.vnets, Unknown):
                rv_unknown.append(ruleset)
                continue
            for v in ruleset.vnets:
                if isinstance(v, str):
                    rv[v].append(ruleset)
                elif isinstance(v, Unknown):
                    rv_unknown.append(ruleset)
        ns: dict[Ref, list[tuple[NetworkInterface, int]]] = defaultdict(list)
        ns_unknown: list[tuple[NetworkInterface, int]] = []
        for nic in network.nics.values():
            if isinstance(nic.ip_configurations, Unknown):
                continue
            for i, ipc in enumerate(nic.ip_configurations):
                if isinstance(ipc.subnet, str):
                    ns[ipc.subnet].append((nic, i))
                elif isinstance(ipc.subnet, Unknown):
                    ns_unknown.append((nic, i))
        vn: dict[Ref, list[VirtualMachine]] = defaultdict(list)
        for vm in network.vms.values():
            if not isinstance(vm.nics, Unknown):
                for ref in vm.nics:
                    if isinstance(ref, str):
                        vn[ref].append(vm)
        ar: dict[Ref, list[AdminRule]] = defaultdict(list)
        ar_unknown = []
        for rule in network.admin_rules:
            if isinstance(rule.vnets, Unknown):
                ar_unknown.append(rule)
                continue
            for v in rule.vnets:
                if isinstance(v, str):
                    ar[v].append(rule)
                elif isinstance(v, Unknown):
                    ar_unknown.append(rule)
        flexible_nic: dict[Ref, Tri] = {}
        flexible_subnet: dict[Ref, Tri] = {}
        for vm in network.vms.values():
            flexible = _flexible(vm)
            if flexible is Tri.NO:
                continue
            judged: set[Ref] = set()  # subnets where the scale set's own NICs are judged one by one
            for ref in () if isinstance(vm.nics, Unknown) else vm.nics:
                if isinstance(ref, str):
                    flexible_nic[ref] = max(flexible_nic.get(ref, Tri.NO), flexible)
                    own = network.nics.get(ref)
                    if own is not None and not isinstance(own.ip_configurations, Unknown):
                        judged.update(i.subnet for i in own.ip_configurations if isinstance(i.subnet, str))
            for ref in network.vm_subnets.get(vm.key, ()):
                if ref not in judged:
                    flexible_subnet[ref] = max(flexible_subnet.get(ref, Tri.NO), flexible)
        pools: dict[Ref, tuple[LoadBalancer, BackendPool]] = {}
        for lb in network.load_balancers.values():
            if not isinstance(lb.backend_pools, Unknown):
                for pool in lb.backend_pools:
                    pools[pool.key] = (lb, pool)
        windows: set[Ref] = set()
        unplaced = False
        for vm in network.vms.values():
            # Unknown OS counts as Windows: unknown is never a pass.
            if isinstance(vm.os_type, str) and vm.os_type.lower() != "windows":
                continue
            if isinstance(vm.nics, Unknown):
                unplaced = True
            else:
                for ref in vm.nics:
                    vm_nic = network.nics.get(ref) if isinstance(ref, str) else None
                    if vm_nic is None or isinstance(vm_nic.ip_configurations, Unknown):
                        unplaced = True
                        continue
                    for ipc in vm_nic.ip_configurations:
                        if isinstance(ipc.subnet, str):
                            windows.add(ipc.subnet)
                        else:
                            unplaced = True
            windows.update(network.vm_subnets.get(vm.key, ()))
        if unplaced:
            # A Windows VM whose subnet is unknown (or outside the stack) may be in any subnet.
            windows.update(network.subnets)
        return NetworkIndex(
            network=network,
            gateways_by_vnet={k: tuple(v) for k, v in gw.items()},
            gateways_vnet_unknown=tuple(gw_unknown),
            route_servers_by_vnet={k: tuple(v) for k, v in rs.items()},
            route_servers_vnet_unknown=tuple(rs_unknown),
            hub_connections_by_vnet={k: tuple(v) for k, v in hc.items()},
            hub_connections_vnet_unknown=tuple(hc_unknown),
            firewall_by_ip=fw_ip,
            subnets_by_vnet={k: tuple(v) for k, v in sv.items()},
            zone_links_by_vnet={k: tuple(v) for k, v in zl.items()},
            zone_links_vnet_unknown=tuple(zl_unknown),
            rulesets_by_vnet={k: tuple(v) for k, v in rv.items()},
            rulesets_vnet_unknown=tuple(rv_unknown),
            nics_by_subnet={k: tuple(v) for k, v in ns.items()},
            nics_subnet_unknown=tuple(ns_unknown),
            vms_by_nic={k: tuple(v) for k, v in vn.items()},
            flexible_by_nic=flexible_nic,
            flexible_by_vm_subnet=flexible_subnet,
            backend_pools=pools,
            admin_rules_by_vnet={k: tuple(v) for k, v in ar.items()},
            admin_rules_vnet_unknown=tuple(ar_unknown),
            windows_subnets=frozenset(windows),
            windows_anywhere=unplaced,
        )


def _flexible(vm: VirtualMachine) -> Tri:
    if not vm.scale_set:
        return Tri.NO
    mode = vm.orchestration_mode
    if isinstance(mode, Unknown):
        return Tri.MAYBE
    return Tri.YES if isinstance(mode, str) and canonical(mode) == "flexible" else Tri.NO


def _same(a: object, b: object) -> bool:
    return a is b or a == b
