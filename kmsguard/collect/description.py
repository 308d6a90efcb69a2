"""A network described in plain JSON (the input of ``kmsguard explain``) → the model.

The format is documented by ``network-description.schema.json`` next to this file. Names are the
references: a subnet is ``<vnet>/<subnet>``, a load balancer pool ``<lb>/<pool>``. A name that is
not defined stands for a resource outside the stack. ``{"$unknown": "why"}`` is an unknown value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from kmsguard.analysis.settings import Settings
from kmsguard.config import parse_settings
from kmsguard.errors import ValidationError
from kmsguard.model import (
    AddressMatch,
    AdminRule,
    AzureFirewall,
    BackendPool,
    DnsForwardingRuleset,
    DnsRecord,
    FirewallNetworkRule,
    FirewallPolicy,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    ForwardingRule,
    HubConnection,
    ImageReference,
    IpConfiguration,
    IpGroup,
    LearnedRoute,
    LoadBalancer,
    NatGateway,
    Network,
    NetworkInterface,
    NetworkSecurityGroup,
    Origin,
    Peering,
    PrivateDnsZone,
    PrivateDnsZoneLink,
    Route,
    RouteServer,
    RouteTable,
    SecurityRule,
    Subnet,
    Unknown,
    VirtualHub,
    VirtualMachine,
    VirtualNetwork,
    VirtualNetworkGateway,
)


@cache
def schema() -> dict[str, Any]:
    text = resources.files("kmsguard.collect").joinpath("network-description.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load_description(path: Path) -> tuple[Network, Settings]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ValidationError(str(path), "", f"cannot read: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(str(path), f"line {exc.lineno} column {exc.colno}", exc.msg) from exc
    return parse_description(data, str(path))


def parse_description(data: object, where: str = "network") -> tuple[Network, Settings]:
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(
        validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        assert err is not None
        raise ValidationError(where, _path(err.absolute_path), _message(err))
    assert isinstance(data, dict)
    settings = parse_settings(data.get("settings"), f"{where}: settings")
    return _Builder(where).build(data), settings


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _message(err: jsonschema.ValidationError) -> str:
    if err.validator == "additionalProperties":
        return err.message.replace("Additional properties are not allowed", "unknown key")
    return err.message


def _v(value: Any) -> Any:
    """A JSON value with ``{"$unknown": why}`` turned into ``Unknown``."""
    if isinstance(value, dict) and "$unknown" in value:
        return Unknown(str(value["$unknown"]))
    return value


def _strs(value: Any) -> Any:
    value = _v(value)
    if value is None:
        return ()
    if isinstance(value, Unknown):
        return value
    return tuple(_v(v) for v in value)


def _maybe_strs(value: Any) -> Any:
    return None if value is None else _strs(value)


def _merged(item: Mapping[str, Any], single: str, plural: str) -> Any:
    """ARM's single/plural pairs (destinationAddressPrefix / destinationAddressPrefixes) → one tuple."""
    if plural in item:
        return _strs(item[plural])
    if single in item:
        v = _v(item[single])
        return v if isinstance(v, Unknown) else (v,)
    return ()


class _Builder:
    def __init__(self, where: str) -> None:
        self.where = where

    def _unique(self, items: list[dict[str, Any]], kind: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item["name"] in seen:
                raise ValidationError(self.where, f"{kind}[{i}].name", f"duplicate name {item['name']!r}")
            seen.add(item["name"])

    def build(self, data: dict[str, Any]) -> Network:
        for kind in (
            "vnets", "routeTables", "nsgs", "gateways", "firewalls", "firewallPolicies", "nics", "vms",
            "natGateways", "loadBalancers", "privateDnsZones", "dnsForwardingRulesets", "ipGroups",
            "virtualHubs", "hubConnections", "routeServers",
        ):  # fmt: skip
            self._unique(data.get(kind, []), kind)
        vnets, subnets = {}, {}
        for v in data.get("vnets", []):
            vnet, vsubnets = self._vnet(v)
            vnets[vnet.key] = vnet
            subnets.update({s.key: s for s in vsubnets})
        zones, links = {}, {}
        for z in data.get("privateDnsZones", []):
            zone, zlinks = self._zone(z)
            zones[zone.key] = zone
            links.update({link.key: link for link in zlinks})
        return Network(
            vnets=vnets,
            subnets=subnets,
            route_tables={t["name"]: self._route_table(t) for t in data.get("routeTables", [])},
            nsgs={n["name"]: self._nsg(n) for n in data.get("nsgs", [])},
            admin_rules=tuple(self._admin(a) for a in data.get("adminRules", [])),
            gateways={g["name"]: self._gateway(g) for g in data.get("gateways", [])},
            route_servers={
                r["name"]: RouteServer(r["name"], Origin(r["name"]), _v(r.get("vnet")))
                for r in data.get("routeServers", [])
            },
            hubs={
                h["name"]: VirtualHub(
                    h["name"], Origin(h["name"]), _v(h.get("internetNextHop")), _v(h.get("forcedTunnel"))
                )
                for h in data.get("virtualHubs", [])
            },
            hub_connections={
                c["name"]: HubConnection(
                    c["name"],
                    Origin(c["name"]),
                    _v(c.get("hub")),
                    _v(c.get("vnet")),
                    _v(c.get("enableInternetSecurity")),
                )
                for c in data.get("hubConnections", [])
            },
            nat_gateways={
                n["name"]: NatGateway(n["name"], Origin(n["name"])) for n in data.get("natGateways", [])
            },
            load_balancers={lb["name"]: self._lb(lb) for lb in data.get("loadBalancers", [])},
            nics={n["name"]: self._nic(n) for n in data.get("nics", [])},
            vms={vm["name"]: self._vm(vm) for vm in data.get("vms", [])},
            vm_subnets={
                vm["name"]: tuple(s for s in vm.get("subnets", []) if isinstance(s, str))
                for vm in data.get("vms", [])
            },
            firewalls={f["name"]: self._firewall(f) for f in data.get("firewalls", [])},
            firewall_policies={p["name"]: self._policy(p) for p in data.get("firewallPolicies", [])},
            ip_groups={
                g["name"]: IpGroup(g["name"], Origin(g["name"]), _strs(g.get("ipAddresses")))
                for g in data.get("ipGroups", [])
            },
            dns_zones=zones,
            dns_zone_links=links,
            dns_rulesets={r["name"]: self._ruleset(r) for r in data.get("dnsForwardingRulesets", [])},
        )

    def _vnet(self, v: dict[str, Any]) -> tuple[VirtualNetwork, list[Subnet]]:
        name = v["name"]
        peerings = _v(v.get("peerings", []))
        if not isinstance(peerings, Unknown):
            peerings = tuple(
                Peering(
                    p["name"],
                    _v(p.get("remoteVnet")),
                    _v(p.get("useRemoteGateways")),
                    _v(p.get("allowGatewayTransit")),
                    _maybe_strs(p.get("remoteAddressSpace")),
                )
                for p in peerings
            )
        vnet = VirtualNetwork(
            name, Origin(name, kind="VirtualNetwork"), _v(v.get("location")), _strs(v.get("addressSpace")),
            _maybe_strs(v.get("dnsServers")), peerings,
        )  # fmt: skip
        subnets = []
        raw = _v(v.get("subnets", []))
        if isinstance(raw, Unknown):
            raise ValidationError(
                self.where,
                f"vnets.{name}.subnets",
                "an unknown subnet list cannot be explained; list the subnets",
            )
        for s in raw:
            key = f"{name}/{s['name']}"
            subnets.append(
                Subnet(
                    key,
                    Origin(key, kind="Subnet"),
                    s["name"],
                    name,
                    _merged(s, "addressPrefix", "addressPrefixes"),
                    route_table=_v(s.get("routeTable")),
                    nsg=_v(s.get("nsg")),
                    nat_gateway=_v(s.get("natGateway")),
                    default_outbound_access=_v(s.get("defaultOutboundAccess")),
                    delegations=_strs(s.get("delegations")),
                )
            )
        return vnet, subnets

    def _route_table(self, t: dict[str, Any]) -> RouteTable:
        routes = _v(t.get("routes", []))
        if not isinstance(routes, Unknown):
            routes = tuple(
                Route(
                    r["name"],
                    _v(r.get("addressPrefix")),
                    _v(r.get("nextHopType")),
                    _v(r.get("nextHopIpAddress")),
                    r.get("nextHopFirewall"),
                )
                for r in routes
            )
        return RouteTable(t["name"], Origin(t["name"], kind="RouteTable"), _v(t.get("location")), routes,
                          _v(t.get("disableBgpRoutePropagation")))  # fmt: skip

    def _nsg(self, n: dict[str, Any]) -> NetworkSecurityGroup:
        rules = _v(n.get("rules", []))
        if not isinstance(rules, Unknown):
            rules = tuple(self._rule(r) for r in rules)
        return NetworkSecurityGroup(n["name"], Origin(n["name"], kind="NetworkSecurityGroup"), rules)

    def _rule(self, r: dict[str, Any]) -> SecurityRule:
        return SecurityRule(
            name=r["name"],
            priority=_v(r.get("priority")),
            direction=_v(r.get("direction")),
            access=_v(r.get("access")),
            protocol=_v(r.get("protocol")),
            source_address_prefixes=_merged(r, "sourceAddressPrefix", "sourceAddressPrefixes"),
            source_port_ranges=_merged(r, "sourcePortRange", "sourcePortRanges"),
            destination_address_prefixes=_merged(r, "destinationAddressPrefix", "destinationAddressPrefixes"),
            destination_port_ranges=_merged(r, "destinationPortRange", "destinationPortRanges"),
            source_asgs=_strs(r.get("sourceApplicationSecurityGroups")),
            destination_asgs=_strs(r.get("destinationApplicationSecurityGroups")),
        )

    def _admin(self, a: dict[str, Any]) -> AdminRule:
        def addrs(items: Any) -> Any:
            items = _v(items)
            if items is None:
                return ()
            if isinstance(items, Unknown):
                return items
            return tuple(
                AddressMatch(_v(x.get("addressPrefix")), _v(x.get("addressPrefixType", "IPPrefix")))
                for x in items
            )

        return AdminRule(
            Origin(a["name"], kind="SecurityAdminRule"),
            _strs(a.get("vnets")),
            _v(a.get("priority")),
            _v(a.get("direction")),
            _v(a.get("access")),
            _v(a.get("protocol")),
            addrs(a.get("sources")),
            addrs(a.get("destinations")),
            _strs(a.get("sourcePortRanges")),
            _strs(a.get("destinationPortRanges")),
        )

    def _gateway(self, g: dict[str, Any]) -> VirtualNetworkGateway:
        learned = g.get("learnedRoutes")
        return VirtualNetworkGateway(
            g["name"],
            Origin(g["name"], kind="VirtualNetworkGateway"),
            _v(g.get("vnet")),
            _v(g.get("gatewayType")),
            _v(g.get("vpnType")),
            _v(g.get("enableBgp")),
            _v(g.get("defaultSite")),
            None
            if learned is None
            else tuple(
                LearnedRoute(r["addressPrefix"], r.get("nextHopType", "VirtualNetworkGateway"))
                for r in learned
            ),
        )

    def _lb(self, lb: dict[str, Any]) -> LoadBalancer:
        name = lb["name"]
        pools = _v(lb.get("backendPools", []))
        if not isinstance(pools, Unknown):
            pools = tuple(
                BackendPool(f"{name}/{p['name']}", p["name"], _v(p.get("byIpAddress"))) for p in pools
            )
        rules = _v(lb.get("outboundRules", []))
        if not isinstance(rules, Unknown):
            rules = tuple(
                f"{name}/{r['backendPool']}" if isinstance(r["backendPool"], str) else _v(r["backendPool"])
                for r in rules
            )
        return LoadBalancer(
            name, Origin(name, kind="LoadBalancer"), _v(lb.get("sku")), _v(lb.get("public")), pools, rules
        )

    def _nic(self, n: dict[str, Any]) -> NetworkInterface:
        public = _v(n.get("publicIp"))
        ipc = IpConfiguration(
            "ipconfig1",
            _v(n.get("subnet")),
            _v(n.get("privateIp")),
            f"{n['name']}-pip" if public is True else (public if isinstance(public, Unknown) else None),
            _strs(n.get("backendPools")),
            _strs(n.get("applicationSecurityGroups")),
            True,
        )
        return NetworkInterface(n["name"], Origin(n["name"], kind="NetworkInterface"), (ipc,), _v(n.get("nsg")),
                                _maybe_strs(n.get("dnsServers")))  # fmt: skip

    def _vm(self, vm: dict[str, Any]) -> VirtualMachine:
        image = vm.get("image")
        return VirtualMachine(
            vm["name"],
            Origin(vm["name"], kind="VirtualMachine"),
            _v(vm.get("osType")),
            _strs(vm.get("nics")),
            None
            if image is None
            else ImageReference(
                _v(image.get("publisher")), _v(image.get("offer")), _v(image.get("sku")), _v(image.get("id"))
            ),
            bool(vm.get("scaleSet", False)),
            _v(vm.get("orchestrationMode")),
        )

    def _collection(self, c: dict[str, Any]) -> FirewallRuleCollection:
        rules = _v(c.get("rules", []))
        if not isinstance(rules, Unknown):
            rules = tuple(
                FirewallNetworkRule(
                    r["name"],
                    _strs(r.get("ipProtocols", r.get("protocols"))),
                    _strs(r.get("sourceAddresses")),
                    _strs(r.get("sourceIpGroups")),
                    _strs(r.get("destinationAddresses")),
                    _strs(r.get("destinationIpGroups")),
                    _strs(r.get("destinationFqdns")),
                    _strs(r.get("destinationPorts")),
                )
                for r in rules
            )
        return FirewallRuleCollection(
            c["name"], _v(c.get("priority")), _v(c.get("type", "network")), _v(c.get("action")), rules,
            int(c.get("applicationRules", 0)),
        )  # fmt: skip

    def _firewall(self, f: dict[str, Any]) -> AzureFirewall:
        classic = _v(f.get("networkRuleCollections", []))
        if not isinstance(classic, Unknown):
            classic = tuple(self._collection(c) for c in classic)
        return AzureFirewall(
            key=f["name"],
            origin=Origin(f["name"], kind="AzureFirewall"),
            vnet=_v(f.get("vnet")),
            private_ip=_v(f.get("privateIp")),
            public_ip_count=_v(f.get("publicIps", 1)),
            sku_name=_v(f.get("sku", "AZFW_VNet")),
            management_ip_configuration=_v(f.get("managementIpConfiguration")),
            policy=_v(f.get("policy")),
            classic_collections=classic,
            dns_proxy=_v(f.get("dnsProxy")),
            snat_private_ranges=_maybe_strs(f.get("snatPrivateRanges")),
        )

    def _policy(self, p: dict[str, Any]) -> FirewallPolicy:
        groups = _v(p.get("ruleCollectionGroups", []))
        if not isinstance(groups, Unknown):
            out = []
            for g in groups:
                cols = _v(g.get("ruleCollections", []))
                if not isinstance(cols, Unknown):
                    cols = tuple(self._collection(c) for c in cols)
                out.append(FirewallRuleCollectionGroup(g["name"], _v(g.get("priority")), cols))
            groups = tuple(out)
        return FirewallPolicy(
            p["name"], Origin(p["name"], kind="FirewallPolicy"), _v(p.get("basePolicy")), _v(p.get("dnsProxy")),
            _maybe_strs(p.get("dnsServers")), _maybe_strs(p.get("snatPrivateRanges")), groups,
        )  # fmt: skip

    def _zone(self, z: dict[str, Any]) -> tuple[PrivateDnsZone, list[PrivateDnsZoneLink]]:
        name = z["name"]
        records = _v(z.get("records", []))
        if not isinstance(records, Unknown):
            records = tuple(DnsRecord(r["name"], r["type"], _strs(r["values"])) for r in records)
        zone = PrivateDnsZone(name, Origin(name, kind="PrivateZone"), _v(z.get("zoneName", name)), records)
        links = [
            PrivateDnsZoneLink(
                f"{name}/{link.get('name') or i}",
                Origin(f"{name}/{link.get('name') or i}", kind="VirtualNetworkLink"),
                name,
                _v(link["vnet"]),
                _v(link.get("resolutionPolicy")),
            )
            for i, link in enumerate(z.get("links", []))
        ]
        return zone, links

    def _ruleset(self, r: dict[str, Any]) -> DnsForwardingRuleset:
        rules = _v(r.get("rules", []))
        if not isinstance(rules, Unknown):
            rules = tuple(
                ForwardingRule(
                    x["name"], _v(x.get("domainName")), _v(x.get("enabled", True)), _strs(x.get("targets"))
                )
                for x in rules
            )
        return DnsForwardingRuleset(
            r["name"], Origin(r["name"], kind="DnsForwardingRuleset"), rules, _strs(r.get("vnets"))
        )
