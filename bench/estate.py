"""Synthetic enterprise estates: a hub-spoke network with firewalls, big route tables and NSGs, VMs.

An estate is what the engine would send to the pack during ``pulumi preview`` of a large network
program: every resource with its inputs (``Remediate``/``Analyze``, pulumi-mechanics §1.4) and its
preview outputs (``AnalyzeStack``, §1.6: ids, names and nested outputs unknown, path parameters
gone, references carried by property dependencies), plus secrets (VM passwords) and numbers that
arrive as floats. The projection onto the output shape is the one the collector tests use
(``tests/collect/preview.py``), so the benchmark measures the same shapes the tests pin down.

The hub holds an Azure Firewall whose policy allows TCP 1688 from ``10.0.0.0/9`` only. Each spoke
is one of a few kinds, chosen round-robin so that every size has every kind, and each kind has a
verdict known by construction (``Estate.expected``) — the benchmark doubles as a check that the
pack gives the same answer at every size:

==================  =================================================================  ==========
kind                network                                                             verdict
==================  =================================================================  ==========
tunnel-inline       0.0.0.0/0 → firewall as an inline route: reachable through the     reachable
                    firewall, or directly where kms-route-autofix adds /32 routes
tunnel-standalone   0.0.0.0/0 → firewall as standalone Route resources (never          reachable
                    remediated); the firewall allows KMS from the spoke
fw-denied           as tunnel-standalone, but the spoke lies in 10.128.0.0/9, which    blocked
                    the firewall policy does not allow
nsg-deny            as tunnel-standalone, with an NSG rule denying TCP 1688 out        blocked
unknown-nva         0.0.0.0/0 → a third-party appliance outside the stack              unknown
direct              no route table; big NSGs that allow outbound traffic               reachable
over-limit          399 inline routes incl. 0.0.0.0/0 → the VPN gateway (on-premises):  blocked
                    the KMS routes do not fit (kms-route-autofix reports it)
==================  =================================================================  ==========

Sizes are total resource counts (the stack and provider resources included); the generator is
deterministic for a given size and seed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmsguard.collect.pulumi import PulumiResource, merge_inputs
from kmsguard.engine import PackResource
from tests.collect.preview import SHAPES, U, preview, secret

__all__ = ["KINDS", "Estate", "generate"]

PROJECT = "estate"
STACK = "bench"
LOCATION = "westeurope"
KMS_IPS = ("20.118.99.224", "40.83.235.53", "23.102.135.246")
NVA_IP = "10.250.0.4"  # a third-party appliance in an unmanaged hub VNet, not in the stack
ALLOWED_SOURCES = "10.0.0.0/9"  # what the firewall policy allows TCP 1688 from

KINDS = (
    "tunnel-inline",
    "tunnel-standalone",
    "fw-denied",
    "nsg-deny",
    "unknown-nva",
    "direct",
    "tunnel-inline",
    "over-limit",
)
VERDICTS = {
    "tunnel-inline": "reachable",
    "tunnel-standalone": "reachable",
    "fw-denied": "blocked",
    "nsg-deny": "blocked",
    "unknown-nva": "unknown",
    "direct": "reachable",
    "over-limit": "blocked",
}

T_STACK = "pulumi:pulumi:Stack"
T_PROVIDER = "pulumi:providers:azure-native"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
PEERING = "azure-native:network:VirtualNetworkPeering"
RT = "azure-native:network:RouteTable"
ROUTE = "azure-native:network:Route"
NSG = "azure-native:network:NetworkSecurityGroup"
RULE = "azure-native:network:SecurityRule"
NIC = "azure-native:network:NetworkInterface"
VM = "azure-native:compute:VirtualMachine"
FW = "azure-native:network:AzureFirewall"
POLICY = "azure-native:network:FirewallPolicy"
RCG = "azure-native:network:FirewallPolicyRuleCollectionGroup"
PIP = "azure-native:network:PublicIPAddress"
GW = "azure-native:network:VirtualNetworkGateway"

ROOT_URN = f"urn:pulumi:{STACK}::{PROJECT}::{T_STACK}::{PROJECT}-{STACK}"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::{T_PROVIDER}::default_3_29_0"
PROVIDER_INPUTS = {"location": LOCATION, "version": "3.29.0"}


@dataclass(frozen=True)
class Resource:
    """One generated resource: inputs (Analyze), preview outputs (AnalyzeStack) and its links."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return urn(self.type, self.name)

    @property
    def dependencies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(u for us in self.property_dependencies.values() for u in us))

    def pack_resource(self) -> PackResource:
        custom = not self.type.startswith("pulumi:")
        return PackResource(
            type=self.type,
            urn=self.urn,
            name=self.name,
            inputs=self.inputs,
            outputs=self.outputs,
            parent=ROOT_URN if self.type != T_STACK and self.type != T_PROVIDER else "",
            dependencies=self.dependencies,
            property_dependencies=self.property_dependencies,
            provider_urn=PROVIDER_URN if custom else "",
            provider_inputs=PROVIDER_INPUTS if custom else {},
        )

    def pulumi_resource(self) -> PulumiResource:
        """What the pack hands to the collector: outputs completed with the Analyze inputs."""
        return PulumiResource(
            urn=self.urn,
            type=self.type,
            name=self.name,
            props=merge_inputs(self.outputs, self.inputs),
            parent=ROOT_URN if self.type != T_STACK and self.type != T_PROVIDER else "",
            dependencies=self.dependencies,
            property_dependencies=dict(self.property_dependencies),
        )


@dataclass(frozen=True)
class Estate:
    """A generated estate and what the pack must say about it."""

    size: int
    seed: int
    resources: tuple[Resource, ...]
    # subnet name as the report names it (logical name, or "<vnet>/<subnet>" inline) → verdict
    expected: Mapping[str, str]
    spokes: Mapping[str, int]  # kind → number of spokes
    over_limit_tables: tuple[str, ...]  # route tables kms-route-autofix cannot fix (logical names)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.resources:
            out[r.type] = out.get(r.type, 0) + 1
        return dict(sorted(out.items()))

    def verdict_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.expected.values():
            out[v] = out.get(v, 0) + 1
        return dict(sorted(out.items()))

    def pack_resources(self) -> list[PackResource]:
        return [r.pack_resource() for r in self.resources]

    def pulumi_resources(self) -> list[PulumiResource]:
        return [r.pulumi_resource() for r in self.resources]


def urn(token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{token}::{name}"


def _make(
    token: str, name: str, props: dict[str, Any], deps: Mapping[str, Sequence[str]] | None = None
) -> Resource:
    # azure-native PreviewOutputs: the inputs projected onto the output shape (§1.6)
    outputs = dict(preview(token, name, props).props) if token in SHAPES else dict(props)
    pdeps = {k: tuple(v) for k, v in (deps or {}).items() if v}
    return Resource(token, name, props, outputs, pdeps)


# --- building blocks --------------------------------------------------------------------------------


def _ip(n: int) -> str:
    return f"{(n >> 24) & 255}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _base_of(kind: str, index: int) -> int:
    """A /22 per spoke: 10.16.0.0/9-ish for allowed spokes, 10.128.0.0/9 for fw-denied ones."""
    start = (10 << 24) | ((128 if kind == "fw-denied" else 16) << 16)
    return start + index * 1024


def _route(name: str, prefix: str, hop: str, ip: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"name": name, "addressPrefix": prefix, "nextHopType": hop}
    if ip is not None:
        r["nextHopIpAddress"] = ip
    return r


def _filler_routes(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """On-premises and cross-spoke prefixes, the bulk of a real enterprise route table."""
    routes: list[dict[str, Any]] = []
    for i in range(count):
        if i % 3 == 0:
            prefix = f"192.168.{i % 256}.0/24" if i < 768 else f"172.{16 + i % 16}.{i % 256}.0/24"
            routes.append(_route(f"onprem-{i}", prefix, "VirtualNetworkGateway"))
        else:
            block = rng.randrange(16, 128)
            routes.append(_route(f"spoke-{i}", f"10.{block}.{i % 256}.0/24", "VirtualAppliance", U))
    return routes


def _nsg_rules(rng: random.Random, count: int, *, deny_kms: bool) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if deny_kms:
        rules.append(
            {
                "name": "deny-kms",
                "priority": 150.0,
                "direction": "Outbound",
                "access": "Deny",
                "protocol": "Tcp",
                "sourceAddressPrefix": "*",
                "sourcePortRange": "*",
                "destinationAddressPrefix": "Internet",
                "destinationPortRange": "1688",
            }
        )
    ports = ("443", "80", "22", "3389", "1433", "5985-5986", "8080", "445")
    for i in range(count - len(rules)):
        outbound = i % 4 == 0
        rule: dict[str, Any] = {
            "name": f"rule-{i}",
            "priority": float(200 + i),
            "direction": "Outbound" if outbound else "Inbound",
            "access": "Allow" if rng.random() < 0.85 else "Deny",
            "protocol": rng.choice(("Tcp", "Udp", "*")),
            "sourcePortRange": "*",
        }
        if rng.random() < 0.5:
            rule["sourceAddressPrefix"] = f"10.{rng.randrange(16, 128)}.{rng.randrange(256)}.0/24"
            rule["destinationPortRange"] = rng.choice(ports)
        else:
            rule["sourceAddressPrefixes"] = [f"192.168.{rng.randrange(256)}.0/24" for _ in range(3)]
            rule["destinationPortRanges"] = rng.sample(ports, 3)
        if outbound and rule["access"] == "Deny":
            rule["destinationAddressPrefix"] = f"172.{16 + rng.randrange(16)}.0.0/16"  # never the KMS IPs
        else:
            rule["destinationAddressPrefix"] = "VirtualNetwork" if not outbound else "*"
        rules.append(rule)
    return rules


def _rule_collections(rng: random.Random, count: int, group: int) -> list[dict[str, Any]]:
    collections: list[dict[str, Any]] = []
    for c in range(count):
        rules: list[dict[str, Any]] = []
        for n in range(rng.randrange(5, 21)):
            rules.append(
                {
                    "ruleType": "NetworkRule",
                    "name": f"g{group}-c{c}-r{n}",
                    "ipProtocols": [rng.choice(("TCP", "UDP"))],
                    "sourceAddresses": [f"10.{rng.randrange(16, 128)}.0.0/16"],
                    "destinationAddresses": [f"192.168.{rng.randrange(256)}.0/24"],
                    "destinationPorts": [str(rng.choice((443, 1433, 5432, 8443)))],
                }
            )
        collections.append(
            {
                "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                "name": f"g{group}-c{c}",
                "priority": float(1000 + c * 10),
                "action": {"type": "Allow"},
                "rules": rules,
            }
        )
    return collections


# --- the estate ---------------------------------------------------------------------------------


class _Builder:
    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.out: list[Resource] = []
        self.expected: dict[str, str] = {}
        self.spokes: dict[str, int] = {}
        self.over_limit: list[str] = []
        self.vm_counter = 0

    def add(self, r: Resource) -> Resource:
        self.out.append(r)
        return r

    def hub(self) -> tuple[Resource, Resource]:
        add = self.add
        add(Resource(T_STACK, f"{PROJECT}-{STACK}", {}, {}))
        add(Resource(T_PROVIDER, "default_3_29_0", dict(PROVIDER_INPUTS), dict(PROVIDER_INPUTS)))
        hub = add(
            _make(
                VNET,
                "hub",
                {
                    "resourceGroupName": "rg-hub",
                    "location": LOCATION,
                    "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                    "subnets": [
                        {"name": "AzureFirewallSubnet", "addressPrefix": "10.0.1.0/26"},
                        {"name": "GatewaySubnet", "addressPrefix": "10.0.2.0/27"},
                    ],
                },
            )
        )
        self.expected["hub/AzureFirewallSubnet"] = "excluded"
        self.expected["hub/GatewaySubnet"] = "excluded"
        fw_pip = add(
            _make(
                PIP,
                "fw-pip",
                {"resourceGroupName": "rg-hub", "location": LOCATION, "sku": {"name": "Standard"}},
            )
        )
        gw_pip = add(
            _make(
                PIP,
                "gw-pip",
                {"resourceGroupName": "rg-hub", "location": LOCATION, "sku": {"name": "Standard"}},
            )
        )
        add(
            _make(
                GW,
                "vpn-gw",
                {
                    "resourceGroupName": "rg-hub",
                    "location": LOCATION,
                    "gatewayType": "Vpn",
                    "vpnType": "RouteBased",
                    "enableBgp": False,
                    "sku": {"name": "VpnGw2", "tier": "VpnGw2"},
                    "ipConfigurations": [{"name": "gw", "subnet": {"id": U}, "publicIPAddress": {"id": U}}],
                },
                {"ipConfigurations": [hub.urn, gw_pip.urn]},
            )
        )
        policy = add(
            _make(
                POLICY,
                "fw-policy",
                {
                    "resourceGroupName": "rg-hub",
                    "location": LOCATION,
                    "dnsSettings": {"enableProxy": True},
                    "snat": {"privateRanges": ["IANAPrivateRanges"]},
                },
            )
        )
        groups = max(2, self.size // 2500)
        for g in range(groups):
            collections = _rule_collections(self.rng, self.rng.randrange(10, 31), g)
            if g == groups - 1:
                collections.append(
                    {
                        "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                        "name": "allow-kms",
                        "priority": 100.0,
                        "action": {"type": "Allow"},
                        "rules": [
                            {
                                "ruleType": "NetworkRule",
                                "name": "kms",
                                "ipProtocols": ["TCP"],
                                "sourceAddresses": [ALLOWED_SOURCES],
                                "destinationAddresses": list(KMS_IPS),
                                "destinationPorts": ["1688"],
                            }
                        ],
                    }
                )
            add(
                _make(
                    RCG,
                    f"rcg-{g}",
                    {
                        "resourceGroupName": "rg-hub",
                        "firewallPolicyName": U,
                        "priority": float(100 + g * 100),
                        "ruleCollections": collections,
                    },
                    {"firewallPolicyName": [policy.urn]},
                )
            )
        fw = add(
            _make(
                FW,
                "fw-hub",
                {
                    "resourceGroupName": "rg-hub",
                    "location": LOCATION,
                    "sku": {"name": "AZFW_VNet", "tier": "Premium"},
                    "firewallPolicy": {"id": U},
                    "ipConfigurations": [{"name": "fw", "subnet": {"id": U}, "publicIPAddress": {"id": U}}],
                },
                {"firewallPolicy": [policy.urn], "ipConfigurations": [hub.urn, fw_pip.urn]},
            )
        )
        return hub, fw

    def spoke(
        self, index: int, kind: str, hub: Resource, fw: Resource, vms: int
    ) -> list[tuple[str, str, str]]:
        """One spoke; ``vms`` NIC+VM pairs spread over its subnets."""
        rng, add = self.rng, self.add
        name = f"spoke{index:04d}"
        rg = f"rg-{name}"
        base = _base_of(kind, self.spokes.get(kind, 0))
        self.spokes[kind] = self.spokes.get(kind, 0) + 1
        n_subnets = rng.randrange(2, 5)
        inline_subnets = rng.random() < 0.4
        prefixes = [f"{_ip(base + s * 256)}/24" for s in range(n_subnets)]

        rt: Resource | None = None
        if kind != "direct":
            rt_inputs: dict[str, Any] = {
                "resourceGroupName": rg,
                "routeTableName": f"rt-{name}",
                "location": LOCATION,
            }
            rt_deps: dict[str, list[str]] = {}
            standalone: list[dict[str, Any]] = []
            if kind in ("tunnel-inline", "over-limit"):
                count = 399 if kind == "over-limit" else rng.randrange(20, 120)
                default = (
                    _route("default", "0.0.0.0/0", "VirtualNetworkGateway")
                    if kind == "over-limit"
                    else _route("default", "0.0.0.0/0", "VirtualAppliance", U)
                )
                routes = [default, *_filler_routes(rng, count - 1)]
                rt_inputs["routes"] = routes
                rt_deps["routes"] = [fw.urn]
            else:
                hop_ip = NVA_IP if kind == "unknown-nva" else U
                standalone = [
                    _route("default", "0.0.0.0/0", "VirtualAppliance", hop_ip),
                    *_filler_routes(rng, rng.randrange(3, 12)),
                ]
            rt = add(_make(RT, f"rt-{name}", rt_inputs, rt_deps))
            if kind == "over-limit":
                self.over_limit.append(rt.name)
            for r in standalone:
                props = {
                    "resourceGroupName": rg,
                    "routeTableName": U,
                    "addressPrefix": r["addressPrefix"],
                    "nextHopType": r["nextHopType"],
                }
                deps: dict[str, list[str]] = {"routeTableName": [rt.urn]}
                if "nextHopIpAddress" in r:
                    props["nextHopIpAddress"] = r["nextHopIpAddress"]
                    if r["nextHopIpAddress"] == U and r["name"] == "default":
                        deps["nextHopIpAddress"] = [fw.urn]
                    elif r["nextHopIpAddress"] == U:
                        props["nextHopIpAddress"] = "10.0.1.4"  # the firewall subnet's first address
                add(_make(ROUTE, f"{rt.name}-{r['name']}", props, deps))

        nsgs: list[Resource] = []
        for s in range(n_subnets):
            big = rng.random() < 0.05
            count = 1000 if big else rng.randrange(10, 60)
            rules = _nsg_rules(rng, count, deny_kms=kind == "nsg-deny")
            nsg_name = f"nsg-{name}-{s}"
            nsg_base = {"resourceGroupName": rg, "networkSecurityGroupName": nsg_name, "location": LOCATION}
            if rng.random() < 0.7 or big:
                nsg = add(_make(NSG, nsg_name, {**nsg_base, "securityRules": rules}))
            else:
                nsg = add(_make(NSG, nsg_name, nsg_base))
                for rule in rules[: min(len(rules), 25)]:
                    props = {"resourceGroupName": rg, "networkSecurityGroupName": U, **rule}
                    add(
                        _make(
                            RULE, f"{nsg_name}-{rule['name']}", props, {"networkSecurityGroupName": [nsg.urn]}
                        )
                    )
            nsgs.append(nsg)

        subnet_refs: list[tuple[str, str, str]] = []  # (report name, id value, dependency urn)
        vnet_props: dict[str, Any] = {
            "resourceGroupName": rg,
            "location": LOCATION,
            "addressSpace": {"addressPrefixes": [f"{_ip(base)}/22"]},
        }
        vnet_name = f"vnet-{name}"
        if inline_subnets:
            subnets = []
            for s in range(n_subnets):
                # one NSG per subnet: a dependency on all of them would not say which is whose, so
                # inline spokes name their NSGs and refer to them by ARM id, as such programs do
                entry: dict[str, Any] = {
                    "name": f"snet-{s}",
                    "addressPrefix": prefixes[s],
                    "networkSecurityGroup": {"id": _arm(rg, f"networkSecurityGroups/{nsgs[s].name}")},
                }
                if rt is not None:
                    entry["routeTable"] = {"id": U}
                subnets.append(entry)
            vnet_props["subnets"] = subnets
            vnet_props["virtualNetworkName"] = vnet_name
            vnet = add(_make(VNET, vnet_name, vnet_props, {"subnets": [rt.urn] if rt is not None else []}))
            for s in range(n_subnets):
                report = f"{vnet_name}/snet-{s}"
                subnet_refs.append(
                    (report, _arm(rg, f"virtualNetworks/{vnet_name}/subnets/snet-{s}"), vnet.urn)
                )
        else:
            vnet = add(_make(VNET, vnet_name, vnet_props))
            for s in range(n_subnets):
                props = {
                    "resourceGroupName": rg,
                    "virtualNetworkName": U,
                    "subnetName": f"snet-{s}",
                    "addressPrefix": prefixes[s],
                    "networkSecurityGroup": {"id": U},
                }
                deps = {"virtualNetworkName": [vnet.urn], "networkSecurityGroup": [nsgs[s].urn]}
                if rt is not None:
                    props["routeTable"] = {"id": U}
                    deps["routeTable"] = [rt.urn]
                sub = add(_make(SUBNET, f"{name}-snet-{s}", props, deps))
                subnet_refs.append((sub.name, U, sub.urn))
        for report, _, _ in subnet_refs:
            self.expected[report] = VERDICTS[kind]

        add(
            _make(
                PEERING,
                f"{name}-to-hub",
                {
                    "resourceGroupName": rg,
                    "virtualNetworkName": U,
                    "remoteVirtualNetwork": {"id": U},
                    "allowForwardedTraffic": True,
                    "useRemoteGateways": True,
                },
                {"virtualNetworkName": [vnet.urn], "remoteVirtualNetwork": [hub.urn]},
            )
        )
        add(
            _make(
                PEERING,
                f"hub-to-{name}",
                {
                    "resourceGroupName": "rg-hub",
                    "virtualNetworkName": U,
                    "remoteVirtualNetwork": {"id": U},
                    "allowGatewayTransit": True,
                },
                {"virtualNetworkName": [hub.urn], "remoteVirtualNetwork": [vnet.urn]},
            )
        )
        for v in range(vms):
            self.vm(rg, subnet_refs[v % len(subnet_refs)])
        return subnet_refs

    def snapshot(self) -> tuple[Any, ...]:
        return (len(self.out), dict(self.expected), dict(self.spokes), list(self.over_limit), self.vm_counter)

    def restore(self, snap: tuple[Any, ...]) -> None:
        n, self.expected, self.spokes, self.over_limit, self.vm_counter = snap
        del self.out[n:]

    def nic(self, rg: str, subnet: tuple[str, str, str], n: int | None = None) -> Resource:
        if n is None:
            self.vm_counter += 1
            n = self.vm_counter
        _, subnet_id, dep = subnet
        return self.add(
            _make(
                NIC,
                f"nic-{n:05d}",
                {
                    "resourceGroupName": rg,
                    "location": LOCATION,
                    "ipConfigurations": [
                        {
                            "name": "ipconfig1",
                            "subnet": {"id": subnet_id},
                            "privateIPAllocationMethod": "Dynamic",
                            "primary": True,
                        }
                    ],
                },
                {"ipConfigurations": [dep]},
            )
        )

    def vm(self, rg: str, subnet: tuple[str, str, str]) -> None:
        self.vm_counter += 1
        n = self.vm_counter
        nic = self.nic(rg, subnet, n)
        windows = n % 5 != 0
        image = (
            {
                "publisher": "MicrosoftWindowsServer",
                "offer": "WindowsServer",
                "sku": "2022-datacenter-azure-edition",
                "version": "latest",
            }
            if windows
            else {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
        )
        os_profile: dict[str, Any] = {
            "computerName": f"vm{n:05d}",
            "adminUsername": "azureadmin",
            "adminPassword": secret(f"P@ss-{n}"),
        }
        os_profile["windowsConfiguration" if windows else "linuxConfiguration"] = (
            {"enableAutomaticUpdates": True} if windows else {"disablePasswordAuthentication": False}
        )
        self.add(
            _make(
                VM,
                f"vm-{n:05d}",
                {
                    "resourceGroupName": rg,
                    "location": LOCATION,
                    "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                    "licenseType": "Windows_Server" if windows else None,
                    "storageProfile": {
                        "imageReference": image,
                        "osDisk": {"createOption": "FromImage", "diskSizeGB": 128.0},
                    },
                    "osProfile": os_profile,
                    "networkProfile": {"networkInterfaces": [{"id": U, "primary": True}]},
                },
                {"networkProfile": [nic.urn]},
            )
        )


def _arm(rg: str, path: str) -> str:
    return f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{rg}/providers/Microsoft.Network/{path}"


def generate(size: int, seed: int = 1688) -> Estate:
    """An estate of exactly ``size`` resources (at least ~100: the hub plus one spoke)."""
    b = _Builder(size, seed)
    hub, fw = b.hub()
    index = 0
    last: tuple[str, list[tuple[str, str, str]]] | None = None
    while True:
        kind = KINDS[index % len(KINDS)]
        snapshot = b.snapshot()
        vms = b.rng.randrange(4, 24)
        refs = b.spoke(index, kind, hub, fw, vms=vms)
        if len(b.out) > size:
            b.restore(snapshot)  # does not fit: the remainder becomes VMs in the last spoke
            break
        last = (f"rg-spoke{index:04d}", refs)
        index += 1
    if last is None:
        raise ValueError(f"size {size} is too small for a hub and one spoke")
    rg, refs = last
    i = 0
    while size - len(b.out) >= 2:
        b.vm(rg, refs[i % len(refs)])
        i += 1
    if len(b.out) < size:
        b.nic(rg, refs[0])  # a spare NIC, as estates have
    return Estate(
        size=size,
        seed=seed,
        resources=tuple(b.out),
        expected=dict(b.expected),
        spokes=dict(b.spokes),
        over_limit_tables=tuple(b.over_limit),
    )


def _iter_sizes(text: str) -> Iterator[int]:
    for part in text.split(","):
        yield int(part.replace("k", "000"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a synthetic estate and print its shape.")
    parser.add_argument("--size", default="1000", help="total resources, e.g. 1000, 10k, 50k")
    parser.add_argument("--seed", type=int, default=1688)
    args = parser.parse_args(argv)
    for size in _iter_sizes(args.size):
        estate = generate(size, args.seed)
        summary = {
            "size": size,
            "resources": len(estate.resources),
            "spokes": estate.spokes,
            "types": estate.counts(),
            "verdicts": estate.verdict_counts(),
        }
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
