"""Resources exactly as the engine sends them to the pack during ``pulumi preview``.

A ``Stack`` records what a program registers (type token, logical name, the inputs the program
passes, property dependencies) and builds each ``PackResource`` with the two views of
docs/pulumi-mechanics.md:

* ``inputs`` — what ``Remediate``/``Analyze`` receive: the program's inputs after azure-native's
  ``Check`` (§3.0): the name property autonamed (logical name + 8 hex characters, with
  ``__createBeforeDelete``), ``location`` filled from the provider, ``azureApiVersion`` set;
* ``outputs`` — what ``AnalyzeStack`` receives: ``PreviewOutputs`` of those inputs (§1.6), i.e. the
  inputs projected onto the output shape, every other output the unknown sentinel (ids, ``name``,
  a firewall's private IP, ``Subnet.routeTable.routes``...), path parameters absent.

Values may use the driver's ``UNKNOWN`` and ``Secret`` markers (they travel as the engine encodes
them, §1.8) and plain ints (they arrive as floats). The stack also registers the root
``pulumi:pulumi:Stack`` and the default azure-native provider, as a real deployment does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from collect.preview import ANY, BASE, REF, RESOURCE, SHAPES, SUB, U

from kmsguard.engine import UNKNOWN, PackResource, Secret, Unknown

__all__ = ["UNKNOWN", "Secret", "Stack", "arm_id", "shape_of"]

PROVIDER_TYPE = "pulumi:providers:azure-native"
PROVIDER_NAME = "default_3_29_0"

# The name property azure-native's Check autonames (a path parameter: an input, never an output).
NAME_PROPERTY: dict[str, str] = {
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:network:RouteTable": "routeTableName",
    "azure-native:network:Route": "routeName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:SecurityRule": "securityRuleName",
    "azure-native:network:NetworkInterface": "networkInterfaceName",
    "azure-native:compute:VirtualMachine": "vmName",
    "azure-native:network:AzureFirewall": "azureFirewallName",
    "azure-native:network:FirewallPolicy": "firewallPolicyName",
    "azure-native:network:FirewallPolicyRuleCollectionGroup": "ruleCollectionGroupName",
    "azure-native:network:NatGateway": "natGatewayName",
    "azure-native:network:PublicIPAddress": "publicIpAddressName",
    "azure-native:network:VirtualNetworkGateway": "virtualNetworkGatewayName",
    "azure-native:network:LocalNetworkGateway": "localNetworkGatewayName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
}

API_VERSIONS = {"network": "2024-05-01", "compute": "2024-11-01", "privatedns": "2024-06-01"}

# Output shapes beyond tests/collect/preview.py (privatedns, 2024-06-01).
EXTRA_SHAPES: dict[str, dict[str, Any]] = {
    "azure-native:privatedns:PrivateZone": {
        **RESOURCE,
        "numberOfRecordSets": None,
        "maxNumberOfRecordSets": None,
        "internalId": None,
    },
    "azure-native:privatedns:PrivateRecordSet": {
        **BASE,
        "ttl": None,
        "fqdn": None,
        "isAutoRegistered": None,
        "aRecords": [{"ipv4Address": None}],
        "cnameRecord": {"cname": None},
        "azureApiVersion": None,
    },
    "azure-native:privatedns:VirtualNetworkLink": {
        **RESOURCE,
        "virtualNetwork": REF,
        "registrationEnabled": None,
        "resolutionPolicy": None,
        "virtualNetworkLinkState": None,
    },
}


def shape_of(token: str) -> dict[str, Any]:
    return EXTRA_SHAPES.get(token) or SHAPES[token]


def arm_id(rg: str, *pairs: str, provider: str = "Microsoft.Network") -> str:
    return f"{SUB}/resourceGroups/{rg}/providers/{provider}/" + "/".join(pairs)


def _suffix(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def _project(shape: Any, value: Any) -> Any:
    """One ``PreviewOutputs`` step over the driver's value markers (``Secret`` stays a secret)."""
    if isinstance(value, Secret):
        return Secret(_project(shape, value.value))
    if shape is ANY:
        return UNKNOWN if value is _MISSING else value
    if value is _MISSING or isinstance(value, Unknown) or value == U:
        return UNKNOWN
    if isinstance(shape, dict) and isinstance(value, Mapping):
        return {k: _project(s, value.get(k, _MISSING)) for k, s in shape.items()}
    if isinstance(shape, list) and isinstance(value, Sequence) and not isinstance(value, str):
        return [_project(shape[0], v) for v in value]
    if shape is None:
        return value
    return UNKNOWN  # a type the output shape does not have: PreviewOutputs marks it computed


_MISSING = object()


class Stack:
    """The registrations of one program, in order, as ``PackResource``s."""

    def __init__(self, stack: str = "dev", project: str = "net", location: str = "westeurope") -> None:
        self.stack = stack
        self.project = project
        self.location = location
        self.root = self.urn("pulumi:pulumi:Stack", f"{project}-{stack}")
        self.provider = self.urn(PROVIDER_TYPE, PROVIDER_NAME)
        self.resources: list[PackResource] = [
            PackResource("pulumi:pulumi:Stack", self.root, f"{project}-{stack}", {}),
            PackResource(
                PROVIDER_TYPE,
                self.provider,
                PROVIDER_NAME,
                {"location": location, "version": "3.29.0"},
                parent="",
            ),
        ]

    def urn(self, token: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{token}::{name}"

    def add(
        self,
        token: str,
        name: str,
        props: Mapping[str, Any],
        deps: Mapping[str, Sequence[str]] | None = None,
        *,
        autoname: bool = True,
        location: bool = True,
    ) -> PackResource:
        """Register a resource; ``props`` are the program's inputs (camelCase wire names)."""
        checked = dict(props)
        module = token.split(":")[1]
        name_prop = NAME_PROPERTY.get(token)
        if autoname and name_prop and name_prop not in checked:
            checked[name_prop] = f"{name}{_suffix(name)}"
            checked["__createBeforeDelete"] = True
        shape = shape_of(token)
        if location and "location" in shape and "location" not in checked:
            checked["location"] = self.location
        if "azureApiVersion" in shape:
            checked["azureApiVersion"] = API_VERSIONS[module]
        outputs = {k: _project(s, checked.get(k, _MISSING)) for k, s in shape.items()}
        pdeps = {k: tuple(v) for k, v in (deps or {}).items()}
        resource = PackResource(
            type=token,
            urn=self.urn(token, name),
            name=name,
            inputs=checked,
            outputs=outputs,
            parent=self.root,
            dependencies=tuple(dict.fromkeys(u for v in pdeps.values() for u in v)),
            property_dependencies=pdeps,
            provider_urn=self.provider,
            provider_inputs={"location": self.location, "version": "3.29.0"},
        )
        self.resources.append(resource)
        return resource
