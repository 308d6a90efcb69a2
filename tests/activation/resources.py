"""Pack resources for the kms-client-activation tests, shaped as a first preview sends them."""

from __future__ import annotations

from typing import Any

from kmsguard.engine import UNKNOWN, PackResource

RG = "rg-app"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
VM = "azure-native:compute:VirtualMachine"
VMSS = "azure-native:compute:VirtualMachineScaleSet"
NIC = "azure-native:network:NetworkInterface"
NSG = "azure-native:network:NetworkSecurityGroup"
RUN_COMMAND = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"
EXTENSION = "azure-native:compute:VirtualMachineExtension"
COMPONENT = "kmsguard:activation:KmsActivation"
GALLERY_IMAGE = (
    f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/galleries/gal/images/win2022/versions/1.0.0"
)


def urn(token: str, name: str, parent: str = "") -> str:
    chain = f"{parent}${token}" if parent else token
    return f"urn:pulumi:dev::app::{chain}::{name}"


def arm(kind: str, name: str) -> str:
    return f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/{kind}/{name}"


def resource(
    token: str,
    name: str,
    inputs: dict[str, Any],
    *,
    outputs: dict[str, Any] | None = None,
    parent: str = "",
    parent_type: str = "",
    property_dependencies: dict[str, tuple[str, ...]] | None = None,
) -> PackResource:
    return PackResource(
        type=token,
        urn=urn(token, name, parent_type),
        name=name,
        inputs=inputs,
        outputs=outputs,
        parent=parent,
        property_dependencies=property_dependencies or {},
    )


def windows_vm(
    name: str, image: dict[str, Any] | None, *, nic: str | None = None, os_type: str = "Windows"
) -> PackResource:
    storage: dict[str, Any] = {
        "osDisk": {"osType": os_type, "createOption": "FromImage" if image else "Attach"}
    }
    if image is not None:
        storage["imageReference"] = image
    inputs = {
        "location": "eastus",
        "resourceGroupName": RG,
        "vmName": name,
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": storage,
        "networkProfile": {
            "networkInterfaces": [{"id": nic if nic is not None else arm("networkInterfaces", f"{name}-nic")}]
        },
    }
    outputs = {k: v for k, v in inputs.items() if k not in ("resourceGroupName", "vmName")}
    outputs.update({"id": UNKNOWN, "name": UNKNOWN, "vmId": UNKNOWN})
    return resource(VM, name, inputs, outputs=outputs)


def nsg(name: str, rules: list[dict[str, Any]]) -> PackResource:
    inputs = {
        "location": "eastus",
        "resourceGroupName": RG,
        "networkSecurityGroupName": name,
        "securityRules": rules,
    }
    outputs = {
        "location": "eastus",
        "securityRules": rules,
        "id": arm("networkSecurityGroups", name),
        "name": name,
    }
    return resource(NSG, name, inputs, outputs=outputs)


def nic(name: str, nsg_name: str | None) -> PackResource:
    inputs: dict[str, Any] = {
        "location": "eastus",
        "resourceGroupName": RG,
        "networkInterfaceName": name,
        "ipConfigurations": [
            {"name": "ipconfig1", "subnet": {"id": arm("virtualNetworks/vnet/subnets", "app")}}
        ],
    }
    if nsg_name is not None:
        inputs["networkSecurityGroup"] = {"id": arm("networkSecurityGroups", nsg_name)}
    outputs = {k: v for k, v in inputs.items() if k not in ("resourceGroupName", "networkInterfaceName")}
    outputs.update({"id": arm("networkInterfaces", name), "name": name})
    return resource(NIC, name, inputs, outputs=outputs)


def deny_imds(priority: int = 200) -> dict[str, Any]:
    return {
        "name": "deny-imds",
        "priority": priority,
        "direction": "Outbound",
        "access": "Deny",
        "protocol": "*",
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "AzurePlatformIMDS",
        "destinationPortRange": "*",
    }


def kms_activation(
    name: str, vm: PackResource, *, edition: str = "Windows Server 2022 Datacenter"
) -> list[PackResource]:
    """KmsActivation as the component registers it: the component, then its run command child."""
    component = resource(COMPONENT, name, {})
    child = resource(
        RUN_COMMAND,
        f"{name}-run-command",
        {
            "location": "eastus",
            "resourceGroupName": RG,
            "vmName": UNKNOWN,
            "runCommandName": "kmsguard-activation",
            "source": {"script": "# kmsguard ..."},
            "asyncExecution": False,
            "treatFailureAsDeploymentFailure": True,
            "tags": {"kmsguard-activation": edition},
        },
        parent=component.urn,
        parent_type=COMPONENT,
        property_dependencies={"vmName": (vm.urn,)},
    )
    return [component, child]
