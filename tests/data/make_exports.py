"""Writes the ``pulumi stack export`` documents the report and CLI tests read (run from the repo root).

The shape follows docs/pulumi-mechanics §4.2: version 3, a manifest, resources with inputs, outputs
(ARM ids, provisioning state), parent, dependencies, propertyDependencies and provider references.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG = "rg-net"
LOC = "westeurope"
STACK, PROJECT = "prod", "network"
PROVIDER = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:azure-native::default_3_29_0"
PROVIDER_ID = "7f0e3f55-0e52-4a8c-9d63-7a1b2c3d4e5f"
KMS = {"20.118.99.224": "kms-1", "40.83.235.53": "kms-2", "23.102.135.246": "kms-3"}


def urn(token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{token}::{name}"


def arm(*pairs: str) -> str:
    return f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/" + "/".join(pairs)


STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"


def resource(
    token: str, name: str, inputs: dict[str, Any], outputs: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    pdeps = extra.pop("propertyDependencies", {})
    deps = sorted({u for v in pdeps.values() for u in v})
    return {
        "urn": urn(token, name),
        "custom": True,
        "id": outputs["id"],
        "type": token,
        "inputs": inputs,
        "outputs": outputs,
        "parent": STACK_URN,
        "dependencies": deps,
        "provider": f"{PROVIDER}::{PROVIDER_ID}",
        "propertyDependencies": {k: pdeps.get(k, []) for k in inputs},
        "created": "2026-11-30T10:00:00.000000Z",
        "modified": "2026-11-30T10:00:00.000000Z",
    }


def export(kms_routes: bool) -> dict[str, Any]:
    routes = [
        {"name": "default-to-onprem", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"}
    ]
    if kms_routes:
        routes += [
            {"name": f"kms-{ip.replace('.', '-')}", "addressPrefix": f"{ip}/32", "nextHopType": "Internet"}
            for ip in KMS
        ]
    rt_id = arm("routeTables/rt-spoke")
    rt_out_routes = [
        {
            **r,
            "id": f"{rt_id}/routes/{r['name']}",
            "provisioningState": "Succeeded",
            "type": "Microsoft.Network/routeTables/routes",
        }
        for r in routes
    ]
    rt = resource(
        "azure-native:network:RouteTable",
        "rt-spoke",
        {"resourceGroupName": RG, "location": LOC, "routeTableName": "rt-spoke", "routes": routes},
        {
            "id": rt_id,
            "name": "rt-spoke",
            "location": LOC,
            "type": "Microsoft.Network/routeTables",
            "provisioningState": "Succeeded",
            "routes": rt_out_routes,
            "disableBgpRoutePropagation": False,
        },
    )
    nsg_id = arm("networkSecurityGroups/nsg-app")
    nsg = resource(
        "azure-native:network:NetworkSecurityGroup",
        "nsg-app",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "networkSecurityGroupName": "nsg-app",
            "securityRules": [],
        },
        {
            "id": nsg_id,
            "name": "nsg-app",
            "location": LOC,
            "securityRules": [],
            "provisioningState": "Succeeded",
        },
    )
    vnet_id = arm("virtualNetworks/vnet-spoke")
    subnets_in = [
        {
            "name": "snet-app",
            "addressPrefix": "10.1.0.0/24",
            "routeTable": {"id": rt_id},
            "networkSecurityGroup": {"id": nsg_id},
        },
        {"name": "GatewaySubnet", "addressPrefix": "10.1.255.0/27"},
    ]
    subnets_out = [
        {**s, "id": f"{vnet_id}/subnets/{s['name']}", "provisioningState": "Succeeded"} for s in subnets_in
    ]
    vnet = resource(
        "azure-native:network:VirtualNetwork",
        "vnet-spoke",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "virtualNetworkName": "vnet-spoke",
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "subnets": subnets_in,
        },
        {
            "id": vnet_id,
            "name": "vnet-spoke",
            "location": LOC,
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "subnets": subnets_out,
            "provisioningState": "Succeeded",
        },
        propertyDependencies={"subnets": [rt["urn"], nsg["urn"]]},
    )
    shared_id = arm("virtualNetworks/vnet-shared")
    data_id = f"{shared_id}/subnets/snet-data"
    data_out = {
        "id": data_id,
        "name": "snet-data",
        "addressPrefix": "10.2.1.0/24",
        "routeTable": {"id": rt_id},
        "provisioningState": "Succeeded",
    }
    # Azure lists a VNet's child subnets in its outputs even when they are standalone Subnet resources.
    shared = resource(
        "azure-native:network:VirtualNetwork",
        "vnet-shared",
        {
            "resourceGroupName": RG,
            "location": LOC,
            "virtualNetworkName": "vnet-shared",
            "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
        },
        {
            "id": shared_id,
            "name": "vnet-shared",
            "location": LOC,
            "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
            "subnets": [data_out],
            "provisioningState": "Succeeded",
        },
    )
    data = resource(
        "azure-native:network:Subnet",
        "snet-data",
        {
            "resourceGroupName": RG,
            "virtualNetworkName": "vnet-shared",
            "subnetName": "snet-data",
            "addressPrefix": "10.2.1.0/24",
            "routeTable": {"id": rt_id},
        },
        data_out,
        propertyDependencies={"virtualNetworkName": [shared["urn"]], "routeTable": [rt["urn"]]},
    )
    stack = {
        "urn": STACK_URN,
        "custom": False,
        "type": "pulumi:pulumi:Stack",
        "created": "2026-11-30T10:00:00.000000Z",
    }
    provider = {
        "urn": PROVIDER,
        "custom": True,
        "id": PROVIDER_ID,
        "type": "pulumi:providers:azure-native",
        "inputs": {"location": LOC, "version": "3.29.0"},
        "outputs": {"location": LOC, "version": "3.29.0"},
    }
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-30T10:00:00Z", "magic": "", "version": "v3.226.0"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:AAAA"}},
            "resources": [stack, provider, rt, nsg, vnet, shared, data],
        },
    }


def main(out: Path) -> None:
    for name, routes in (("export-blocked.json", False), ("export-compliant.json", True)):
        (out / name).write_text(json.dumps(export(routes), indent=4) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
