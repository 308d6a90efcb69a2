"""The stack config of the reference network, validated and turned into plain typed values.

The JSON Schema (``stacks/stack-config.schema.json``) checks shapes; the checks here are the ones a
schema cannot express (a subnet inside its VNet, an egress that needs a firewall or gateway that is
configured). Both run before any resource is declared, and both name the key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from kmsguard.pulumi import StackConfigError, read_stack_config

NAMESPACE = "kmsguard-network"
SCHEMA = Path(__file__).resolve().parent.parent / "stacks" / "stack-config.schema.json"


@dataclass(frozen=True)
class SubnetSpec:
    name: str
    prefix: str
    deny_internet: bool = False
    allow_kms: bool = False
    private: bool = False
    nat_gateway: bool = False

    @property
    def has_nsg(self) -> bool:
        return self.deny_internet or self.allow_kms


@dataclass(frozen=True)
class SpokeSpec:
    name: str
    address_space: str
    egress: str  # internet | firewall | gateway
    route_style: str  # inline | standalone
    dns_servers: tuple[str, ...]
    subnets: tuple[SubnetSpec, ...]


@dataclass(frozen=True)
class DefaultSite:
    gateway_ip: str
    address_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class GatewaySpec:
    type: str  # vpn | expressroute
    sku: str
    enable_bgp: bool
    default_site: DefaultSite | None

    @property
    def forces_tunnel(self) -> bool:
        """Traffic to the Internet may be sent on-premises without any route in a route table (§3.1, §3.2)."""
        return self.default_site is not None or self.enable_bgp or self.type == "expressroute"


@dataclass(frozen=True)
class FirewallSpec:
    subnet_prefix: str
    tier: str
    dns_proxy: bool
    kms_rule: bool

    @property
    def private_ip(self) -> str:
        # Azure gives the firewall the first usable address of AzureFirewallSubnet (.4): the
        # address routes and DNS settings point at, known before the firewall exists.
        return str(ipaddress.IPv4Network(self.subnet_prefix).network_address + 4)


@dataclass(frozen=True)
class HubSpec:
    address_space: str
    dns_servers: tuple[str, ...]
    gateway: GatewaySpec | None
    firewall: FirewallSpec | None
    subnets: tuple[SubnetSpec, ...]


@dataclass(frozen=True)
class ZoneSpec:
    name: str
    link_to: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    location: str
    resource_group: str
    kms_routes: str  # auto | explicit | none
    cloud: str | None
    deny_internet_next_hop: bool
    hub: HubSpec
    spokes: tuple[SpokeSpec, ...]
    zones: tuple[ZoneSpec, ...]

    @property
    def gateway_needed(self) -> bool:
        return any(sp.egress == "gateway" for sp in self.spokes)


def _subnet(raw: dict[str, Any]) -> SubnetSpec:
    nsg = raw.get("nsg", {})
    return SubnetSpec(
        name=raw["name"],
        prefix=raw["prefix"],
        deny_internet=nsg.get("denyInternet", False),
        allow_kms=nsg.get("allowKms", False),
        private=raw.get("private", False),
        nat_gateway=raw.get("natGateway", False),
    )


def _gateway(raw: dict[str, Any] | None) -> GatewaySpec | None:
    if raw is None:
        return None
    site = raw.get("defaultSite")
    default_sku = "VpnGw2AZ" if raw["type"] == "vpn" else "ErGw1AZ"
    return GatewaySpec(
        type=raw["type"],
        sku=raw.get("sku", default_sku),
        enable_bgp=raw.get("enableBgp", False),
        default_site=DefaultSite(site["gatewayIp"], tuple(site["addressPrefixes"])) if site else None,
    )


def _firewall(raw: dict[str, Any] | None) -> FirewallSpec | None:
    if raw is None:
        return None
    return FirewallSpec(
        subnet_prefix=raw["subnetPrefix"],
        tier=raw.get("tier", "Standard"),
        dns_proxy=raw.get("dnsProxy", False),
        kms_rule=raw.get("kmsRule", True),
    )


def _fail(key: str, problem: str) -> StackConfigError:
    return StackConfigError("stack config", f"{NAMESPACE}:{key}", problem)


def _inside(prefix: str, space: str, key: str) -> None:
    net = ipaddress.IPv4Network(prefix, strict=False)
    if str(net) != prefix:
        raise _fail(key, f"expected a network address ({net}), got {prefix!r}")
    if not net.subnet_of(ipaddress.IPv4Network(space, strict=False)):
        raise _fail(key, f"expected a prefix inside the address space {space}, got {prefix!r}")


def _disjoint(key: str, prefix: str, earlier: list[tuple[str, str]]) -> None:
    """``prefix`` (at ``key``) shares no address with any earlier (key, prefix).

    Peered VNets must not overlap (Azure refuses the peering), and neither may two subnets of one
    VNet (ARM rejects the second); the message names both keys.
    """
    net = ipaddress.IPv4Network(prefix, strict=False)
    for other_key, other in earlier:
        other_net = ipaddress.IPv4Network(other, strict=False)
        if not net.overlaps(other_net):
            continue
        if net != other_net and other_net.subnet_of(net):
            how = "contains"
        elif net != other_net and net.subnet_of(other_net):
            how = "is inside"
        else:
            how = "overlaps"
        raise _fail(key, f"{prefix} {how} {NAMESPACE}:{other_key} {other}")
    earlier.append((key, prefix))


def _check(s: Settings) -> None:
    if s.gateway_needed and (s.hub.gateway is None or s.hub.gateway.type != "vpn"):
        index = next(i for i, sp in enumerate(s.spokes) if sp.egress == "gateway")
        raise _fail(
            f"spokes[{index}].egress",
            'expected "firewall" or "internet": egress "gateway" needs hub.gateway.type "vpn" '
            "(an ExpressRoute gateway cannot be a route's next hop, §2.3)",
        )
    for i, sp in enumerate(s.spokes):
        if sp.egress == "firewall" and s.hub.firewall is None:
            raise _fail(
                f"spokes[{i}].egress",
                'expected "gateway" or "internet": egress "firewall" needs hub.firewall',
            )
    if s.hub.gateway is not None and s.hub.gateway.default_site is not None and s.hub.gateway.type != "vpn":
        raise _fail("hub.gateway.defaultSite", "expected no default site: only a VPN gateway has one (§3.1)")
    hub_subnets: list[tuple[str, str]] = []
    if s.hub.firewall is not None:
        _inside(s.hub.firewall.subnet_prefix, s.hub.address_space, "hub.firewall.subnetPrefix")
        _disjoint("hub.firewall.subnetPrefix", s.hub.firewall.subnet_prefix, hub_subnets)
    for j, sub in enumerate(s.hub.subnets):
        _inside(sub.prefix, s.hub.address_space, f"hub.subnets[{j}].prefix")
        _disjoint(f"hub.subnets[{j}].prefix", sub.prefix, hub_subnets)
    names = {"hub"}
    spaces: list[tuple[str, str]] = [("hub.addressSpace", s.hub.address_space)]
    for i, sp in enumerate(s.spokes):
        if sp.name in names:
            raise _fail(f"spokes[{i}].name", f"expected a unique spoke name, got {sp.name!r} twice")
        names.add(sp.name)
        _disjoint(f"spokes[{i}].addressSpace", sp.address_space, spaces)
        subnets: list[tuple[str, str]] = []
        for j, sub in enumerate(sp.subnets):
            _inside(sub.prefix, sp.address_space, f"spokes[{i}].subnets[{j}].prefix")
            _disjoint(f"spokes[{i}].subnets[{j}].prefix", sub.prefix, subnets)
    for i, zone in enumerate(s.zones):
        for j, target in enumerate(zone.link_to):
            if target not in names:
                raise _fail(
                    f"privateDnsZones[{i}].linkTo[{j}]",
                    f'expected "hub" or a spoke name ({", ".join(sorted(names - {"hub"}))}), got {target!r}',
                )


def load_settings() -> Settings:
    """Read and validate the stack config; raises ``StackConfigError`` before anything is declared."""
    raw = read_stack_config(NAMESPACE, SCHEMA)
    kms = raw.get("kms", {})
    hub = raw["hub"]
    settings = Settings(
        project=pulumi.get_project(),
        stack=pulumi.get_stack(),
        location=raw["location"],
        resource_group=raw.get("resourceGroup", f"rg-{pulumi.get_stack()}-network"),
        kms_routes=kms.get("routes", "auto"),
        cloud=kms.get("cloud"),
        deny_internet_next_hop=raw.get("landingZone", {}).get("denyInternetNextHop", False),
        hub=HubSpec(
            address_space=hub["addressSpace"],
            dns_servers=tuple(hub.get("dnsServers", ())),
            gateway=_gateway(hub.get("gateway")),
            firewall=_firewall(hub.get("firewall")),
            subnets=tuple(_subnet(x) for x in hub.get("subnets", ())),
        ),
        spokes=tuple(
            SpokeSpec(
                name=sp["name"],
                address_space=sp["addressSpace"],
                egress=sp.get("egress", "internet"),
                route_style=sp.get("routeStyle", "inline"),
                dns_servers=tuple(sp.get("dnsServers", ())),
                subnets=tuple(_subnet(x) for x in sp["subnets"]),
            )
            for sp in raw["spokes"]
        ),
        zones=tuple(
            ZoneSpec(z["name"], tuple(z.get("linkTo", ("hub",)))) for z in raw.get("privateDnsZones", ())
        ),
    )
    _check(settings)
    return settings
