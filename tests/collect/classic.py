"""Bags of classic ``azure`` (pulumi-azure 6.40.1) resources, as a stack export or a preview sends them.

Property names are the classic SDK's (``pulumi_azure.network.RouteTable`` …). ``ClassicStack.add``
takes the program's inputs; ``deployed=True`` gives each resource its ARM id (a stack export),
otherwise its ``id`` is the unknown sentinel and references between resources travel as unknown
values with property dependencies (a preview, pulumi-mechanics §1.6).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kmsguard.collect.pulumi import PulumiResource

U = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG = "rg-net"
LOCATION = "westeurope"

SEGMENTS = {
    "azure:network/virtualNetwork:VirtualNetwork": "virtualNetworks",
    "azure:network/routeTable:RouteTable": "routeTables",
    "azure:network/networkSecurityGroup:NetworkSecurityGroup": "networkSecurityGroups",
    "azure:network/networkInterface:NetworkInterface": "networkInterfaces",
    "azure:network/natGateway:NatGateway": "natGateways",
    "azure:network/publicIp:PublicIp": "publicIPAddresses",
    "azure:network/virtualNetworkGateway:VirtualNetworkGateway": "virtualNetworkGateways",
    "azure:network/localNetworkGateway:LocalNetworkGateway": "localNetworkGateways",
    "azure:network/firewall:Firewall": "azureFirewalls",
    "azure:network/firewallPolicy:FirewallPolicy": "firewallPolicies",
    "azure:compute/windowsVirtualMachine:WindowsVirtualMachine": "virtualMachines",
    "azure:privatedns/zone:Zone": "privateDnsZones",
    "azure:network/loadBalancer:LoadBalancer": "loadBalancers",
}
COMPUTE = {"virtualMachines"}


def arm_id(segment: str, name: str, *children: tuple[str, str]) -> str:
    provider = "Microsoft.Compute" if segment in COMPUTE else "Microsoft.Network"
    tail = "".join(f"/{s}/{n}" for s, n in children)
    return f"{SUB}/resourceGroups/{RG}/providers/{provider}/{segment}/{name}{tail}"


class Ref:
    """A reference to another resource's ``id``: its ARM id when deployed, else unknown + dependency."""

    def __init__(self, urn: str, value: str) -> None:
        self.urn, self.value = urn, value


class ClassicStack:
    def __init__(self, deployed: bool = True) -> None:
        self.deployed = deployed
        self.resources: list[PulumiResource] = []

    def urn(self, token: str, name: str) -> str:
        return f"urn:pulumi:dev::classic::{token}::{name}"

    def add(self, token: str, name: str, props: Mapping[str, Any], own_id: str | None = None) -> Ref:
        urn = self.urn(token, name)
        pdeps: dict[str, tuple[str, ...]] = {}
        plain = {k: self._plain(v, k, pdeps) for k, v in props.items()}
        plain.setdefault("resourceGroupName", RG)
        if token.rsplit(":", 1)[-1] not in ("Route", "NetworkSecurityRule", "Subnet", "ARecord") and not any(
            x in token for x in ("Association", "ZoneVirtualNetworkLink", "RuleCollection", "DnsServers")
        ):
            plain.setdefault("location", LOCATION)
        if own_id is None and token in SEGMENTS:
            own_id = arm_id(SEGMENTS[token], str(plain.get("name", name)))
        plain["id"] = own_id if self.deployed and own_id else U
        self.resources.append(
            PulumiResource(
                urn,
                token,
                name,
                plain,
                property_dependencies=pdeps,
                dependencies=tuple(u for us in pdeps.values() for u in us),
            )
        )
        return Ref(urn, own_id or U)

    def _plain(self, value: Any, top: str, pdeps: dict[str, tuple[str, ...]]) -> Any:
        if isinstance(value, Ref):
            pdeps[top] = (*pdeps.get(top, ()), value.urn)
            return value.value if self.deployed else U
        if isinstance(value, dict):
            return {k: self._plain(v, top, pdeps) for k, v in value.items()}
        if isinstance(value, list):
            return [self._plain(v, top, pdeps) for v in value]
        return value
