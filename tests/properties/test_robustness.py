"""Robustness: random network descriptions never crash the analysis, and unknown is never a pass.

Descriptions are built to be valid against ``network-description.schema.json`` (checked in every
test), with values randomly replaced by ``{"$unknown": ...}``, malformed CIDRs and ports, mixed-case
enums and unicode names. Invariants (DESIGN "Unknown is never a pass"):

* ``parse_description`` raises nothing but ``ValidationError``; ``analyze`` raises nothing.
* Verdicts are consistent with their traces: an endpoint's verdict is what its steps combine to,
  and a REACHABLE subnet has no BLOCK or UNKNOWN step anywhere.
* A subnet whose route table reference, NSG reference or VNet location is unknown is never
  REACHABLE (for the NSG, unless an AVNM AlwaysAllow rule may skip NSGs, §4.1).
* Monotonicity: replacing any one value of a well-formed description by an unknown never turns a
  subnet REACHABLE that was not REACHABLE (or excluded) before.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from kmsguard.analysis import NetworkResult, Outcome, Verdict, analyze
from kmsguard.analysis.verdict import combine
from kmsguard.collect.description import parse_description, schema
from kmsguard.errors import ValidationError

from .support import one_of_any_case, scaled

Json = Any
VALIDATOR = jsonschema.Draft202012Validator(schema())
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]

# ------------------------------------------------------------------------------------------------
# Building blocks


def unknown() -> st.SearchStrategy[dict[str, str]]:
    return st.sampled_from(["x", "preview", "ünknöwn", ""]).map(lambda why: {"$unknown": why})


def maybe_unknown(values: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
    """Mostly ``values``, sometimes an unknown."""
    return st.one_of(values, values, values, unknown())


NAMES = ["a", "b", "hub", "spoke-1", "Ünïcødé", "网络", "x y", "ñ/ñ", "GatewaySubnet", "AzureFirewallSubnet"]
LOCATIONS = [
    "eastus",
    "WestEurope",
    "usgovvirginia",
    "chinanorth2",
    "germanycentral",
    "usseceast",
    "",
    "Mars",
]
VALID_CIDRS = [
    "10.0.0.0/16",
    "10.0.1.0/24",
    "10.1.0.0/16",
    "0.0.0.0/0",
    "20.0.0.0/8",
    "20.118.99.224/32",
    "40.83.235.53/32",
    "23.102.135.246/32",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "10.0.1.5/24",
]
MALFORMED_CIDRS = ["10.0.0.0/33", "abc", "", " 10.0.0.0/8", "10.0.0.0 /8", "300.1.1.1/8", "10.0.0/8", "-1"]
TAGS = ["Internet", "AzureCloud", "VirtualNetwork", "AzurePlatformLKM", "Storage.EastUS", "*", "Any"]
PORTS = [
    "*",
    "1688",
    "1000-2000",
    "2000-1000",
    "70000",
    "-1",
    " 1688 ",
    "1688 - 1690",
    "",
    "²",
    "１６８８",
    "80",
]
IPS = ["10.0.1.4", "10.0.0.4", "10.1.0.4", "168.63.129.16", "8.8.8.8", "10.0.1.300", "not-an-ip", ""]
HOPS = ["Internet", "VirtualAppliance", "VirtualNetworkGateway", "VnetLocal", "None", "VNetPeering", "Bogus"]

free_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=6)


def enum(values: list[str]) -> st.SearchStrategy[str]:
    """A mixed-case enum value, or now and then junk."""
    return st.one_of(one_of_any_case(values), one_of_any_case(values), free_text)


cidrs = st.one_of(
    st.sampled_from(VALID_CIDRS), st.sampled_from(MALFORMED_CIDRS), one_of_any_case(TAGS), free_text
)
ports = st.one_of(st.sampled_from(PORTS), free_text)
ips = st.one_of(st.sampled_from(IPS), free_text)
booleans = st.booleans()


def items(values: st.SearchStrategy[Json], max_size: int = 3) -> st.SearchStrategy[Json]:
    """A JSON array of ``values`` (each maybe unknown), or an unknown array."""
    return maybe_unknown(st.lists(maybe_unknown(values), max_size=max_size))


def ref(pool: list[str], nullable: bool = False) -> st.SearchStrategy[Json]:
    """A reference by name: to a defined resource, to one outside the stack, unknown, or null."""
    options: list[st.SearchStrategy[Json]] = [st.sampled_from([*NAMES, "outside"]), unknown()]
    if pool:
        options += [st.sampled_from(pool)] * 3
    if nullable:
        options.append(st.none())
    return st.one_of(options)


def obj(draw: st.DrawFn, required: dict[str, Json], optional: dict[str, st.SearchStrategy[Json]]) -> Json:
    """An object with ``required`` keys and a random subset of ``optional`` ones."""
    out = dict(required)
    for key, strategy in optional.items():
        if draw(st.booleans()):
            out[key] = draw(strategy)
    return out


def unique_names(max_size: int, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(NAMES), min_size=min_size, max_size=max_size, unique=True)


# ------------------------------------------------------------------------------------------------
# Wild descriptions: anything the schema accepts


@st.composite
def wild_descriptions(draw: st.DrawFn) -> Json:
    vnet_names = draw(unique_names(3, min_size=1))
    table_names = draw(unique_names(2))
    nsg_names = draw(unique_names(2))
    fw_names = draw(unique_names(2))
    policy_names = draw(unique_names(2))
    nat_names = draw(unique_names(1))
    lb_names = draw(unique_names(1))
    nic_names = draw(unique_names(2))
    hub_names = draw(unique_names(1))
    group_names = draw(unique_names(1))

    vnets, subnet_keys = [], []
    for v in vnet_names:
        subnets = []
        for s in draw(unique_names(2, min_size=1)):
            subnet_keys.append(f"{v}/{s}")
            prefix: dict[str, st.SearchStrategy[Json]] = (
                {"addressPrefix": maybe_unknown(cidrs)}
                if draw(st.booleans())
                else {"addressPrefixes": items(cidrs, 2)}
            )
            subnets.append(
                obj(
                    draw,
                    {"name": s},
                    {
                        **prefix,
                        "routeTable": ref(table_names, nullable=True),
                        "nsg": ref(nsg_names, nullable=True),
                        "natGateway": ref(nat_names, nullable=True),
                        "defaultOutboundAccess": maybe_unknown(st.one_of(booleans, st.none())),
                        "delegations": items(st.sampled_from(["Microsoft.Web/serverFarms", ""]), 1),
                    },
                )
            )
        vnets.append(
            obj(
                draw,
                {"name": v, "subnets": subnets},
                {
                    "location": maybe_unknown(st.sampled_from(LOCATIONS)),
                    "addressSpace": items(cidrs, 2),
                    "dnsServers": items(ips, 2),
                    "peerings": maybe_unknown(
                        st.lists(
                            st.builds(dict, name=st.sampled_from(NAMES)).flatmap(
                                lambda p: st.fixed_dictionaries(
                                    {"name": st.just(p["name"])},
                                    optional={
                                        "remoteVnet": maybe_unknown(
                                            st.sampled_from([*vnet_names, "outside"])
                                        ),
                                        "useRemoteGateways": maybe_unknown(st.one_of(booleans, st.none())),
                                        "allowGatewayTransit": maybe_unknown(st.one_of(booleans, st.none())),
                                        "remoteAddressSpace": items(cidrs, 2),
                                    },
                                )
                            ),
                            max_size=2,
                        )
                    ),
                },
            )
        )

    route = st.builds(dict, name=st.sampled_from(NAMES)).flatmap(
        lambda r: st.fixed_dictionaries(
            {"name": st.just(r["name"])},
            optional={
                "addressPrefix": maybe_unknown(cidrs),
                "nextHopType": maybe_unknown(enum(HOPS)),
                "nextHopIpAddress": maybe_unknown(st.one_of(ips, st.none())),
                **({"nextHopFirewall": st.sampled_from([*fw_names, "outside"])} if fw_names else {}),
            },
        )
    )
    tables = [
        obj(
            draw,
            {"name": t},
            {
                "location": maybe_unknown(st.sampled_from(LOCATIONS)),
                "disableBgpRoutePropagation": maybe_unknown(st.one_of(booleans, st.none())),
                "routes": maybe_unknown(st.lists(route, max_size=4)),
            },
        )
        for t in table_names
    ]

    def rule(name: str) -> st.SearchStrategy[Json]:
        singular_or_plural: dict[str, st.SearchStrategy[Json]] = {}
        for single, plural, values in (
            ("sourceAddressPrefix", "sourceAddressPrefixes", cidrs),
            ("sourcePortRange", "sourcePortRanges", ports),
            ("destinationAddressPrefix", "destinationAddressPrefixes", cidrs),
            ("destinationPortRange", "destinationPortRanges", ports),
        ):
            singular_or_plural[single] = maybe_unknown(values)
            singular_or_plural[plural] = items(values, 2)
        return st.fixed_dictionaries(
            {"name": st.just(name)},
            optional={
                "priority": maybe_unknown(st.one_of(st.integers(100, 4096), st.integers(-10, 70000))),
                "direction": maybe_unknown(enum(["Outbound", "Inbound"])),
                "access": maybe_unknown(enum(["Allow", "Deny"])),
                "protocol": maybe_unknown(enum(["Tcp", "Udp", "*", "Icmp", "Esp", "Ah"])),
                **singular_or_plural,
                "sourceApplicationSecurityGroups": items(st.sampled_from(["asg1", "asg2"]), 1),
                "destinationApplicationSecurityGroups": items(st.sampled_from(["asg1"]), 1),
                "description": free_text,
            },
        )

    nsgs = [
        obj(
            draw,
            {"name": n},
            {"rules": maybe_unknown(st.lists(st.sampled_from(NAMES).flatmap(rule), max_size=4))},
        )
        for n in nsg_names
    ]

    def address_matches() -> st.SearchStrategy[Json]:
        return maybe_unknown(
            st.lists(
                st.fixed_dictionaries(
                    {"addressPrefix": maybe_unknown(cidrs)},
                    optional={"addressPrefixType": maybe_unknown(enum(["IPPrefix", "ServiceTag"]))},
                ),
                max_size=2,
            )
        )

    admin_rules = [
        obj(
            draw,
            {"name": name},
            {
                "vnets": items(st.sampled_from([*vnet_names, "outside"]), 2),
                "priority": maybe_unknown(st.integers(1, 4096)),
                "direction": maybe_unknown(enum(["Outbound", "Inbound"])),
                "access": maybe_unknown(enum(["Allow", "AlwaysAllow", "Deny"])),
                "protocol": maybe_unknown(enum(["Tcp", "Any", "Udp"])),
                "sources": address_matches(),
                "destinations": address_matches(),
                "sourcePortRanges": items(ports, 2),
                "destinationPortRanges": items(ports, 2),
            },
        )
        for name in draw(unique_names(2))
    ]

    gateways = [
        obj(
            draw,
            {"name": g},
            {
                "vnet": ref(vnet_names),
                "gatewayType": maybe_unknown(enum(["Vpn", "ExpressRoute", "LocalGateway"])),
                "vpnType": maybe_unknown(st.one_of(enum(["RouteBased", "PolicyBased"]), st.none())),
                "enableBgp": maybe_unknown(st.one_of(booleans, st.none())),
                "defaultSite": maybe_unknown(st.one_of(st.sampled_from(["site"]), st.none())),
                "learnedRoutes": st.lists(
                    st.fixed_dictionaries(
                        {"addressPrefix": cidrs},
                        optional={"nextHopType": enum(["VirtualNetworkGateway", "Internet"])},
                    ),
                    max_size=2,
                ),
            },
        )
        for g in draw(unique_names(2))
    ]

    route_servers = [obj(draw, {"name": r}, {"vnet": ref(vnet_names)}) for r in draw(unique_names(1))]
    hubs = [
        obj(
            draw,
            {"name": h},
            {
                "internetNextHop": ref(fw_names, nullable=True),
                "forcedTunnel": maybe_unknown(st.one_of(booleans, st.none())),
            },
        )
        for h in hub_names
    ]
    hub_connections = [
        obj(
            draw,
            {"name": c},
            {
                "hub": ref(hub_names),
                "vnet": ref(vnet_names),
                "enableInternetSecurity": maybe_unknown(st.one_of(booleans, st.none())),
            },
        )
        for c in draw(unique_names(1))
    ]
    pools: list[str] = []
    lbs = []
    for lb in lb_names:
        pool_names = draw(unique_names(2))
        pools += [f"{lb}/{p}" for p in pool_names]
        lbs.append(
            obj(
                draw,
                {"name": lb},
                {
                    "sku": maybe_unknown(enum(["Basic", "Standard", "Gateway"])),
                    "public": maybe_unknown(booleans),
                    "backendPools": maybe_unknown(
                        st.just(pool_names).flatmap(
                            lambda names: st.tuples(
                                *[
                                    st.fixed_dictionaries(
                                        {"name": st.just(n)},
                                        optional={
                                            "byIpAddress": maybe_unknown(st.one_of(booleans, st.none()))
                                        },
                                    )
                                    for n in names
                                ]
                            ).map(list)
                        )
                    ),
                    "outboundRules": maybe_unknown(
                        st.lists(
                            st.fixed_dictionaries(
                                {"backendPool": maybe_unknown(st.sampled_from([*pool_names, "x"]))}
                            ),
                            max_size=2,
                        )
                    ),
                },
            )
        )
    nics = [
        obj(
            draw,
            {"name": n},
            {
                "subnet": ref(subnet_keys),
                "privateIp": maybe_unknown(st.one_of(ips, st.none())),
                "publicIp": maybe_unknown(st.one_of(booleans, st.none())),
                "nsg": ref(nsg_names, nullable=True),
                "dnsServers": items(st.one_of(ips, st.just("AzureProvidedDNS")), 2),
                "backendPools": items(st.sampled_from(pools or ["lb/pool"]), 2),
                "applicationSecurityGroups": items(st.sampled_from(["asg1", "asg2"]), 2),
            },
        )
        for n in nic_names
    ]
    vms = [
        obj(
            draw,
            {"name": vm},
            {
                "osType": maybe_unknown(enum(["Windows", "Linux"])),
                "nics": items(st.sampled_from([*nic_names, "outside"]), 2),
                "subnets": items(st.sampled_from(subnet_keys), 1),
                "scaleSet": booleans,
                "orchestrationMode": maybe_unknown(st.one_of(enum(["Uniform", "Flexible"]), st.none())),
                "image": st.fixed_dictionaries(
                    {},
                    optional={
                        k: maybe_unknown(st.one_of(free_text, st.none()))
                        for k in ("publisher", "offer", "sku", "id")
                    },
                ),
            },
        )
        for vm in draw(unique_names(2))
    ]

    fw_rule = st.sampled_from(NAMES).flatmap(
        lambda name: st.fixed_dictionaries(
            {"name": st.just(name)},
            optional={
                "ipProtocols": items(enum(["TCP", "UDP", "Any", "ICMP"]), 2),
                "protocols": items(enum(["TCP", "Any"]), 1),
                "sourceAddresses": items(cidrs, 2),
                "sourceIpGroups": items(st.sampled_from([*group_names, "outside"]), 1),
                "destinationAddresses": items(cidrs, 2),
                "destinationIpGroups": items(st.sampled_from([*group_names, "outside"]), 1),
                "destinationFqdns": items(
                    st.sampled_from(["azkms.core.windows.net", "KMS.core.windows.net."]), 1
                ),
                "destinationPorts": items(ports, 2),
            },
        )
    )
    collection = st.sampled_from(NAMES).flatmap(
        lambda name: st.fixed_dictionaries(
            {"name": st.just(name)},
            optional={
                "priority": maybe_unknown(st.integers(100, 65000)),
                "type": maybe_unknown(st.sampled_from(["network", "application", "nat"])),
                "action": maybe_unknown(enum(["Allow", "Deny", "Dnat"])),
                "rules": maybe_unknown(st.lists(fw_rule, max_size=2)),
                "applicationRules": st.integers(0, 3),
            },
        )
    )
    firewalls = [
        obj(
            draw,
            {"name": f},
            {
                "vnet": ref(vnet_names, nullable=True),
                "privateIp": maybe_unknown(ips),
                "publicIps": maybe_unknown(st.integers(0, 3)),
                "sku": maybe_unknown(st.one_of(enum(["AZFW_VNet", "AZFW_Hub"]), st.none())),
                "managementIpConfiguration": maybe_unknown(st.one_of(booleans, st.none())),
                "policy": ref(policy_names, nullable=True),
                "dnsProxy": maybe_unknown(st.one_of(booleans, st.none())),
                "snatPrivateRanges": items(st.one_of(cidrs, st.just("IANAPrivateRanges")), 2),
                "networkRuleCollections": maybe_unknown(st.lists(collection, max_size=2)),
            },
        )
        for f in fw_names
    ]
    policies = [
        obj(
            draw,
            {"name": p},
            {
                "basePolicy": ref(policy_names, nullable=True),
                "dnsProxy": maybe_unknown(st.one_of(booleans, st.none())),
                "dnsServers": items(ips, 2),
                "snatPrivateRanges": items(cidrs, 2),
                "ruleCollectionGroups": maybe_unknown(
                    st.lists(
                        st.sampled_from(NAMES).flatmap(
                            lambda name: st.fixed_dictionaries(
                                {"name": st.just(name)},
                                optional={
                                    "priority": maybe_unknown(st.integers(100, 65000)),
                                    "ruleCollections": maybe_unknown(st.lists(collection, max_size=2)),
                                },
                            )
                        ),
                        max_size=2,
                    )
                ),
            },
        )
        for p in policy_names
    ]
    ip_groups = [obj(draw, {"name": g}, {"ipAddresses": items(cidrs, 2)}) for g in group_names]
    record = st.fixed_dictionaries(
        {
            "name": st.sampled_from(["azkms", "kms", "@", "AZKMS", "other"]),
            "type": st.sampled_from(["A", "a", "CNAME", "TXT"]),
            "values": items(st.one_of(st.sampled_from(["20.118.99.224", "40.83.235.53", "1.2.3.4"]), ips), 2),
        }
    )
    zones = [
        obj(
            draw,
            {"name": z},
            {
                "zoneName": maybe_unknown(
                    st.sampled_from(
                        ["core.windows.net", "windows.net", "privatelink.blob.core.windows.net", ""]
                    )
                ),
                "records": maybe_unknown(st.lists(record, max_size=2)),
                "links": st.lists(
                    st.fixed_dictionaries(
                        {"vnet": maybe_unknown(st.sampled_from([*vnet_names, "outside"]))},
                        optional={
                            "name": st.sampled_from(NAMES),
                            "resolutionPolicy": maybe_unknown(
                                st.one_of(enum(["Default", "NxDomainRedirect"]), st.none())
                            ),
                        },
                    ),
                    max_size=2,
                ),
            },
        )
        for z in draw(unique_names(1))
    ]
    rulesets = [
        obj(
            draw,
            {"name": r},
            {
                "vnets": items(st.sampled_from([*vnet_names, "outside"]), 2),
                "rules": maybe_unknown(
                    st.lists(
                        st.sampled_from(NAMES).flatmap(
                            lambda name: st.fixed_dictionaries(
                                {"name": st.just(name)},
                                optional={
                                    "domainName": maybe_unknown(
                                        st.sampled_from(
                                            ["windows.net.", ".", "core.windows.net", "example.com."]
                                        )
                                    ),
                                    "enabled": maybe_unknown(st.one_of(booleans, st.none())),
                                    "targets": items(ips, 2),
                                },
                            )
                        ),
                        max_size=2,
                    )
                ),
            },
        )
        for r in draw(unique_names(1))
    ]
    settings_value = draw(
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "absentDefaultOutboundAccess": st.sampled_from(["allowed", "private"]),
                    "trustedDnsServers": st.lists(st.sampled_from(["10.0.0.4", "8.8.8.8"]), max_size=1),
                    "egressAppliances": st.lists(st.sampled_from(["10.0.1.4", "10.1.0.4"]), max_size=1),
                    "cloud": st.sampled_from(["public", "usgov", "china"]),
                },
            ),
        )
    )
    description: dict[str, Json] = {
        "vnets": vnets,
        "routeTables": tables,
        "nsgs": nsgs,
        "adminRules": admin_rules,
        "gateways": gateways,
        "routeServers": route_servers,
        "virtualHubs": hubs,
        "hubConnections": hub_connections,
        "natGateways": [{"name": n} for n in nat_names],
        "loadBalancers": lbs,
        "nics": nics,
        "vms": vms,
        "firewalls": firewalls,
        "firewallPolicies": policies,
        "ipGroups": ip_groups,
        "privateDnsZones": zones,
        "dnsForwardingRulesets": rulesets,
    }
    if settings_value is not None:
        description["settings"] = settings_value
    return description


# ------------------------------------------------------------------------------------------------
# Well-formed descriptions: every value known and valid, often REACHABLE

PUBLIC_KMS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
FIREWALL_IP = "10.0.250.4"
APPLIANCE_IP = "10.0.9.9"  # declared in egressAppliances
TRUSTED_DNS = "10.0.0.53"


@st.composite
def sane_descriptions(draw: st.DrawFn) -> Json:
    """A small hub-and-spoke network with known, valid values. Address spaces are private (a KMS IP
    is never inside a VNet, as kmsguard assumes) and NIC IPs lie inside their subnets."""
    n_vnets = draw(st.integers(1, 2))
    with_firewall = draw(st.booleans())
    vnets, tables, nsgs, nics, vms, subnet_keys = [], [], [], [], [], []
    for v in range(n_vnets):
        subnets: list[Json] = []
        if v == 0 and with_firewall:
            subnets.append({"name": "AzureFirewallSubnet", "addressPrefix": "10.0.250.0/26"})
        for s in range(draw(st.integers(1, 2))):
            name = f"s{s}"
            key = f"v{v}/{name}"
            subnet_keys.append(key)
            subnet: dict[str, Json] = {"name": name, "addressPrefix": f"10.{v}.{s}.0/24"}
            if draw(st.booleans()):
                subnet["routeTable"] = f"rt-{v}-{s}"
                tables.append(draw(route_tables(f"rt-{v}-{s}", with_firewall)))
            if draw(st.booleans()):
                subnet["nsg"] = f"nsg-{v}-{s}"
                nsgs.append(draw(sane_nsgs(f"nsg-{v}-{s}")))
            if draw(st.integers(0, 3)) == 0:
                subnet["natGateway"] = "nat"
            if draw(st.integers(0, 3)) == 0:
                subnet["defaultOutboundAccess"] = draw(booleans)
            subnets.append(subnet)
            if draw(st.integers(0, 2)) == 0:
                nic = f"nic-{v}-{s}"
                nics.append(
                    obj(
                        draw,
                        {"name": nic, "subnet": key, "privateIp": f"10.{v}.{s}.{draw(st.integers(4, 250))}"},
                        {
                            "publicIp": booleans,
                            "nsg": st.just(f"nic-nsg-{v}-{s}"),
                            "dnsServers": st.sampled_from([[], ["AzureProvidedDNS"], [TRUSTED_DNS]]),
                            "backendPools": st.sampled_from([["lb/pool"], ["lb/ip-pool"]]),
                        },
                    )
                )
                if "nsg" in nics[-1]:
                    nsgs.append(draw(sane_nsgs(f"nic-nsg-{v}-{s}")))
                vms.append(
                    {
                        "name": f"vm-{v}-{s}",
                        "osType": draw(st.sampled_from(["Windows", "Linux"])),
                        "nics": [nic],
                    }
                )
        vnet: dict[str, Json] = {
            "name": f"v{v}",
            "location": draw(st.sampled_from(["eastus", "westeurope", "usgovvirginia", "chinanorth2"])),
            "addressSpace": [f"10.{v}.0.0/16"],
            "subnets": subnets,
        }
        if draw(st.integers(0, 3)) == 0:
            vnet["dnsServers"] = [
                draw(st.sampled_from([TRUSTED_DNS, FIREWALL_IP if with_firewall else TRUSTED_DNS]))
            ]
        if v == 1:
            vnet["peerings"] = [{"name": "to-hub", "remoteVnet": "v0", "useRemoteGateways": draw(booleans)}]
        vnets.append(vnet)
    description: dict[str, Json] = {
        "vnets": vnets,
        "routeTables": tables,
        "nsgs": nsgs,
        "nics": nics,
        "vms": vms,
        "natGateways": [{"name": "nat"}],
        "loadBalancers": [
            {
                "name": "lb",
                "sku": draw(st.sampled_from(["Standard", "Basic"])),
                "public": draw(booleans),
                "backendPools": [{"name": "pool"}, {"name": "ip-pool", "byIpAddress": True}],
                "outboundRules": draw(st.sampled_from([[], [{"backendPool": "pool"}]])),
            }
        ],
        "settings": {"egressAppliances": [APPLIANCE_IP], "trustedDnsServers": [TRUSTED_DNS]},
    }
    if with_firewall:
        description["firewalls"] = [
            {
                "name": "fw",
                "vnet": "v0",
                "privateIp": FIREWALL_IP,
                "publicIps": 1,
                "policy": "pol",
                "managementIpConfiguration": False,
            }
        ]
        description["firewallPolicies"] = [draw(firewall_policies())]
    kind = draw(st.sampled_from(["none", "none", "vpn", "expressroute", "route-server", "admin", "zone"]))
    if kind == "vpn":
        description["gateways"] = [
            {
                "name": "gw",
                "vnet": "v0",
                "gatewayType": "Vpn",
                "vpnType": "RouteBased",
                "enableBgp": draw(booleans),
            }
        ]
    elif kind == "expressroute":
        description["gateways"] = [
            {
                "name": "gw",
                "vnet": "v0",
                "gatewayType": "ExpressRoute",
                "learnedRoutes": [{"addressPrefix": "10.200.0.0/16"}],
            }
        ]
    elif kind == "route-server":
        description["routeServers"] = [{"name": "rs", "vnet": draw(st.sampled_from(["v0", "elsewhere"]))}]
    elif kind == "admin":
        description["adminRules"] = [
            {
                "name": "admin",
                "vnets": [draw(st.sampled_from(["v0", "v1"]))],
                "priority": 10,
                "direction": "Outbound",
                "access": draw(st.sampled_from(["Allow", "Deny", "AlwaysAllow"])),
                "protocol": "Tcp",
                "sources": [{"addressPrefix": "*", "addressPrefixType": "IPPrefix"}],
                "destinations": [
                    {
                        "addressPrefix": draw(st.sampled_from(["8.8.8.8/32", "*"])),
                        "addressPrefixType": "IPPrefix",
                    }
                ],
                "destinationPortRanges": [draw(st.sampled_from(["1688", "443"]))],
            }
        ]
    elif kind == "zone":
        description["privateDnsZones"] = [
            {
                "name": "core.windows.net",
                "records": [
                    {
                        "name": "azkms",
                        "type": "A",
                        "values": draw(st.sampled_from([PUBLIC_KMS[:2], ["10.9.9.9"]])),
                    }
                ],
                "links": [{"name": "l", "vnet": draw(st.sampled_from(["v0", "v1"]))}],
            }
        ]
    return description


@st.composite
def route_tables(draw: st.DrawFn, name: str, with_firewall: bool) -> Json:
    options = [
        {"name": "kms", "addressPrefix": f"{PUBLIC_KMS[0]}/32", "nextHopType": "Internet"},
        {"name": "kms-all", "addressPrefix": "20.0.0.0/8", "nextHopType": "Internet"},
        {
            "name": "appliance",
            "addressPrefix": "0.0.0.0/0",
            "nextHopType": "VirtualAppliance",
            "nextHopIpAddress": APPLIANCE_IP,
        },
        {"name": "onprem", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"},
        {"name": "local", "addressPrefix": "10.0.0.0/8", "nextHopType": "VnetLocal"},
        {"name": "drop", "addressPrefix": "40.83.235.53/32", "nextHopType": "None"},
        {"name": "tag", "addressPrefix": "Storage", "nextHopType": "Internet"},
    ]
    if with_firewall:
        options.append(
            {
                "name": "fw",
                "addressPrefix": "0.0.0.0/0",
                "nextHopType": "VirtualAppliance",
                "nextHopIpAddress": FIREWALL_IP,
            }
        )
    routes = draw(st.lists(st.sampled_from(options), max_size=3, unique_by=lambda r: r["name"]))
    table: dict[str, Json] = {"name": name, "location": "eastus", "routes": routes}
    if draw(booleans):
        table["disableBgpRoutePropagation"] = draw(booleans)
    return table


@st.composite
def sane_nsgs(draw: st.DrawFn, name: str) -> Json:
    priorities = draw(st.lists(st.integers(100, 4096), max_size=3, unique=True))
    rules = []
    for i, p in enumerate(priorities):
        rules.append(
            {
                "name": f"r{i}",
                "priority": p,
                "direction": draw(st.sampled_from(["Outbound", "Inbound"])),
                "access": draw(st.sampled_from(["Allow", "Deny"])),
                "protocol": draw(st.sampled_from(["Tcp", "*", "Udp"])),
                "sourceAddressPrefix": draw(
                    st.sampled_from(["*", "VirtualNetwork", "10.0.0.0/8", "10.7.0.0/16"])
                ),
                "sourcePortRange": "*",
                "destinationAddressPrefixes": draw(
                    st.lists(
                        st.sampled_from(
                            [
                                "Internet",
                                "AzurePlatformLKM",
                                "*",
                                f"{PUBLIC_KMS[0]}/32",
                                "8.8.8.8/32",
                                "AzureCloud",
                            ]
                        ),
                        min_size=1,
                        max_size=2,
                    )
                ),
                "destinationPortRange": draw(st.sampled_from(["*", "1688", "443", "1000-2000"])),
            }
        )
    return {"name": name, "rules": rules}


@st.composite
def firewall_policies(draw: st.DrawFn) -> Json:
    rule = {
        "name": "kms",
        "ipProtocols": ["TCP"],
        "sourceAddresses": [draw(st.sampled_from(["*", "10.0.0.0/8", "10.1.0.0/16"]))],
        "destinationAddresses": draw(st.sampled_from([PUBLIC_KMS, ["20.0.0.0/8"], ["*"]])),
        "destinationPorts": [draw(st.sampled_from(["1688", "*", "443"]))],
    }
    return {
        "name": "pol",
        "dnsProxy": draw(booleans),
        "ruleCollectionGroups": [
            {
                "name": "g",
                "priority": 100,
                "ruleCollections": [
                    {
                        "name": "c",
                        "priority": 100,
                        "type": "network",
                        "action": draw(st.sampled_from(["Allow", "Deny"])),
                        "rules": [rule],
                    }
                ],
            }
        ],
    }


# ------------------------------------------------------------------------------------------------
# Where a value may be replaced by {"$unknown": ...} (per the schema)

NEVER_UNKNOWN = {"name", "nextHopFirewall", "scaleSet", "applicationRules", "description"}
Path = tuple[str | int, ...]


def unknowable_paths(description: Json) -> list[Path]:
    """Every value the schema lets be unknown: object fields and string-list items."""
    out: list[Path] = []

    def walk_object(node: dict[str, Json], path: Path, records: bool = False) -> None:
        for key, value in node.items():
            here = (*path, key)
            if key in NEVER_UNKNOWN or (records and key == "type"):
                continue
            if key == "learnedRoutes":
                continue  # plain strings in the schema
            if key == "image":
                walk_object(value, here)
                continue
            replaceable = not (key == "subnets" and value and isinstance(value[0], dict)) and key != "links"
            if isinstance(value, dict) and "$unknown" in value:
                continue
            if replaceable:
                out.append(here)
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict) and "$unknown" not in item:
                        walk_object(item, (*here, i), records=key == "records")
                    elif not isinstance(item, dict):
                        out.append((*here, i))

    for kind, resources in description.items():
        if kind in ("settings", "description"):
            continue
        for i, resource in enumerate(resources):
            walk_object(resource, (kind, i))
    return out


def replaced(description: Json, path: Path, value: Json) -> Json:
    out = copy.deepcopy(description)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


# ------------------------------------------------------------------------------------------------
# Checks


def assert_schema_valid(description: Json) -> None:
    errors = [e.message for e in VALIDATOR.iter_errors(description)]
    assert not errors, errors[:3]


def analyzed(description: Json) -> NetworkResult | None:
    """``analyze`` of a description; None when ``parse_description`` rejects it (ValidationError)."""
    try:
        network, config = parse_description(description)
    except ValidationError as exc:
        event(f"rejected: {exc.problem[:40]}")
        return None
    return analyze(network, config)


def all_endpoints(result: NetworkResult, key: str) -> Iterator[Any]:
    subnet = next(s for s in result.subnets if s.key == key)
    yield from subnet.endpoints
    for nic in subnet.nics:
        yield from nic.endpoints


def assert_consistent(result: NetworkResult) -> None:
    for subnet in result.subnets:
        endpoints = list(all_endpoints(result, subnet.key))
        for endpoint in endpoints:
            assert endpoint.verdict is combine(s.outcome for s in endpoint.trace), endpoint
        if subnet.verdict is Verdict.REACHABLE:
            assert subnet.endpoints, subnet
            bad = [s for e in endpoints for s in e.trace if s.outcome in (Outcome.BLOCK, Outcome.UNKNOWN)] + [
                s for s in subnet.notes if s.outcome in (Outcome.BLOCK, Outcome.UNKNOWN)
            ]
            assert not bad, (subnet.key, bad)
        elif subnet.verdict is not Verdict.EXCLUDED and subnet.endpoints:
            verdicts = {e.verdict for e in endpoints}
            worst = next((v for v in (Verdict.BLOCKED, Verdict.UNKNOWN) if v in verdicts), Verdict.REACHABLE)
            assert subnet.verdict is worst, subnet


@settings(max_examples=scaled(150), suppress_health_check=SLOW)
@given(wild_descriptions())
def test_wild_descriptions_never_crash_and_verdicts_match_traces(description: Json) -> None:
    assert_schema_valid(description)
    result = analyzed(description)
    if result is not None:
        event(f"subnet verdicts: {sorted({str(s.verdict) for s in result.subnets})}")
        assert_consistent(result)


def mutations(description: Json) -> list[tuple[str, Path, Json]]:
    """(what, path, new value) for the three references the brief names, per subnet."""
    out: list[tuple[str, Path, Json]] = []
    for v, vnet in enumerate(description["vnets"]):
        out.append(("location", ("vnets", v, "location"), {"$unknown": "location"}))
        out.append(("location", ("vnets", v, "location"), " "))
        for s, _ in enumerate(vnet["subnets"]):
            for what in ("routeTable", "nsg"):
                out.append((what, ("vnets", v, "subnets", s, what), {"$unknown": what}))
                out.append((what, ("vnets", v, "subnets", s, what), "not-in-the-stack"))
    return out


def subnet_key_of(description: Json, path: Path) -> list[str]:
    vnet = description["vnets"][path[1]]
    if path[2] == "location":
        return [f"{vnet['name']}/{s['name']}" for s in vnet["subnets"]]
    return [f"{vnet['name']}/{vnet['subnets'][path[3]]['name']}"]


def may_always_allow(description: Json) -> bool:
    """An AVNM AlwaysAllow rule (or one whose access is unknown) skips NSGs legitimately (§4.1)."""
    for rule in description.get("adminRules", []):
        access = rule.get("access")
        if not isinstance(access, str) or access.strip().lower() == "alwaysallow":
            return True
    return False


@settings(max_examples=scaled(120), suppress_health_check=SLOW)
@given(st.one_of(wild_descriptions(), sane_descriptions()), st.data())
def test_unknown_route_table_nsg_or_location_is_never_reachable(
    description: Json, data: st.DataObject
) -> None:
    what, path, value = data.draw(st.sampled_from(mutations(description)))
    mutated = replaced(description, path, value)
    assert_schema_valid(mutated)
    if what == "nsg" and may_always_allow(mutated):
        return
    if what == "location" and "cloud" in mutated.get("settings", {}):
        return  # a configured cloud does not need the location (§1.3)
    result = analyzed(mutated)
    if result is None:
        return
    for key in subnet_key_of(mutated, path):
        verdicts = [s.verdict for s in result.subnets if s.key == key]
        event(f"{what} → {verdicts}")
        assert Verdict.REACHABLE not in verdicts, (what, key, value)


@settings(max_examples=scaled(150), suppress_health_check=SLOW)
@given(sane_descriptions(), st.data())
def test_one_unknown_value_never_makes_a_subnet_reachable(description: Json, data: st.DataObject) -> None:
    """Replacing one known value by an unknown can only keep or lose REACHABLE, never gain it: if the
    unknown version were reachable, every value — the original one included — would be."""
    assert_schema_valid(description)
    before = analyzed(description)
    assert before is not None
    assert_consistent(before)
    # Resource kind first, then a value in it: rare kinds (route servers, NICs) get their turn.
    paths = unknowable_paths(description)
    kind = data.draw(st.sampled_from(sorted({str(p[0]) for p in paths})))
    path = data.draw(st.sampled_from([p for p in paths if p[0] == kind]))
    mutated = replaced(description, path, {"$unknown": "x"})
    note(f"replaced {path}")
    assert_schema_valid(mutated)
    after = analyzed(mutated)
    assert after is not None
    assert_consistent(after)
    old = {s.key: s.verdict for s in before.subnets}
    event(f"before: {sorted({str(v) for v in old.values()})}")
    for subnet in after.subnets:
        if subnet.verdict is Verdict.REACHABLE and subnet.key in old:
            assert old[subnet.key] in (Verdict.REACHABLE, Verdict.EXCLUDED), (
                path,
                subnet.key,
                old[subnet.key],
            )


def test_sane_baseline_is_reachable() -> None:
    """The well-formed generator's smallest network is REACHABLE, so monotonicity tests bite."""
    description = {"vnets": [{"name": "v0", "location": "eastus", "addressSpace": ["10.0.0.0/16"],
                              "subnets": [{"name": "s0", "addressPrefix": "10.0.0.0/24"}]}]}  # fmt: skip
    result = analyzed(description)
    assert result is not None
    assert [s.verdict for s in result.subnets] == [Verdict.REACHABLE]


# ------------------------------------------------------------------------------------------------
# Regressions


def _verdicts(description: Json) -> dict[str, Verdict]:
    result = analyzed(description)
    assert result is not None
    return {s.key: s.verdict for s in result.subnets}


def test_regression_route_server_with_unknown_vnet() -> None:
    """A Route Server makes its VNet's subnets UNKNOWN (NVAs may advertise 0.0.0.0/0, §2.2), but one
    whose VNet reference was unknown was dropped, and the subnets were REACHABLE."""
    base = {"vnets": [{"name": "v", "location": "eastus", "addressSpace": ["10.1.0.0/16"],
                       "subnets": [{"name": "app", "addressPrefix": "10.1.2.0/24"}]}]}  # fmt: skip
    assert _verdicts(base) == {"v/app": Verdict.REACHABLE}
    for vnet in ("v", {"$unknown": "vnet id unknown at preview"}):
        assert _verdicts({**base, "routeServers": [{"name": "rs", "vnet": vnet}]}) == {
            "v/app": Verdict.UNKNOWN
        }
    assert _verdicts({**base, "routeServers": [{"name": "rs", "vnet": "elsewhere"}]}) == {
        "v/app": Verdict.REACHABLE
    }


def test_regression_nic_with_unknown_subnet() -> None:
    """A NIC whose subnet reference was unknown was left out of every subnet, so a NIC that blocks
    KMS (here: Standard internal load balancer without an outbound rule, O2/S4) let its subnet be
    REACHABLE. It now counts, as UNKNOWN, in every subnet its private IP does not rule out."""

    def description(subnet: Json, ip: Json) -> Json:
        return {
            "vnets": [{"name": "v", "location": "eastus", "addressSpace": ["10.1.0.0/16"],
                       "subnets": [{"name": "app", "addressPrefix": "10.1.2.0/24"},
                                   {"name": "other", "addressPrefix": "10.1.3.0/24"}]}],
            "loadBalancers": [{"name": "lb", "sku": "Standard", "public": False, "backendPools": [{"name": "pool"}]}],
            "nics": [{"name": "nic", "subnet": subnet, "privateIp": ip, "backendPools": ["lb/pool"]}],
            "vms": [{"name": "vm", "osType": "Windows", "nics": ["nic"]}],
        }  # fmt: skip

    unknown_ref = {"$unknown": "subnet id unknown at preview"}
    assert _verdicts(description("v/app", "10.1.2.4")) == {
        "v/app": Verdict.BLOCKED,
        "v/other": Verdict.REACHABLE,
    }
    assert _verdicts(description(unknown_ref, "10.1.2.4")) == {
        "v/app": Verdict.UNKNOWN,
        "v/other": Verdict.REACHABLE,
    }
    assert _verdicts(description(unknown_ref, {"$unknown": "ip"})) == {
        "v/app": Verdict.UNKNOWN,
        "v/other": Verdict.UNKNOWN,
    }
