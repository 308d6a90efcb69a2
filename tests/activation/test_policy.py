"""kms-client-activation over gRPC: the real pack driven like a preview (Remediate, Analyze, AnalyzeStack)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmsguard.engine import UNKNOWN, PackProcess, PackResource, Violation, drive_pack

from .resources import (
    EXTENSION,
    GALLERY_IMAGE,
    VMSS,
    deny_imds,
    kms_activation,
    nic,
    nsg,
    resource,
    windows_vm,
)

PACK = Path(__file__).resolve().parents[2] / "policy"
POLICY = "kms-client-activation"
DESCRIPTION = "Windows VMs from custom images need a KMS activation set-up; Azure Edition needs IMDS."
SETUP_HINT = (
    "Add kmsguard.pulumi.KmsActivation(vm=..., windows_version=..., windows_edition=...), which installs the GVLK "
    "on RETAIL/AVMA images, sets the KMS host of the cloud and retries activation."
)
CONSEQUENCE = (
    "A custom image can be RETAIL or AVMA and fail activation with 0xC004F074 or 0xC004FD01 however good the "
    "network is (docs/rules.md#image-channel)."
)
MARKETPLACE_2022 = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-datacenter",
    "version": "latest",
}
AZURE_EDITION = {**MARKETPLACE_2022, "sku": "2022-datacenter-azure-edition"}


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    # One pack process for the module; each test sends Analyze per resource, then AnalyzeStack,
    # as the engine does in a preview (§1.3).
    with PackProcess(PACK, project="app", stack="dev") as running:
        running.configure({})
        yield running


def advisories(pack: PackProcess, resources: list[PackResource]) -> list[tuple[str, str]]:
    violations: list[Violation] = []
    for r in resources:
        violations.extend(pack.analyze(r))
    violations.extend(pack.analyze_stack(resources))
    found = [v for v in violations if v.policy == POLICY]
    assert all(v.level == "advisory" and v.message.startswith(DESCRIPTION + "\n") for v in found)
    # Each message ends with its finding (tests/findings checks the sections); the text before it is asserted.
    out = []
    for v in found:
        text, docs = v.message.split("\n", 1)[1].rsplit("\n", 1)
        assert docs in {
            "Docs: docs/findings.md#kms-activation-setup (KMS-ACTIVATION-SETUP)",
            "Docs: docs/findings.md#kms-azure-edition-imds (KMS-AZURE-EDITION-IMDS)",
        }, docs
        assert ("IMDS" in docs) == ("AzurePlatformIMDS" in text)
        out.append((v.urn, text))
    return out


def test_policy_is_listed_as_advisory_stack_policy() -> None:
    result = drive_pack(PACK, [windows_vm("app", {"id": GALLERY_IMAGE})], project="app", stack="dev")
    (info,) = [p for p in result.policies if p.name == POLICY]
    assert (info.policy_type, info.enforcement_level) == ("stack", "advisory")
    # The full engine sequence (Remediate, Analyze, AnalyzeStack) reports the same advisory.
    assert [(v.policy, v.level) for v in result.violations if v.policy == POLICY] == [(POLICY, "advisory")]


def test_custom_image_without_setup_is_reported(pack: PackProcess) -> None:
    vm = windows_vm("app", {"id": GALLERY_IMAGE})
    assert advisories(pack, [vm]) == [
        (
            vm.urn,
            f"Windows VM app is built from custom or gallery image {GALLERY_IMAGE}, and nothing in the stack sets "
            f"up KMS activation. {CONSEQUENCE} {SETUP_HINT}",
        )
    ]


def test_custom_image_with_kms_activation_is_clean(pack: PackProcess) -> None:
    vm = windows_vm("app", {"id": GALLERY_IMAGE})
    assert advisories(pack, [vm, *kms_activation("act", vm)]) == []


def test_equivalent_custom_script_extension_linked_by_vm_name_is_clean(pack: PackProcess) -> None:
    vm = windows_vm("app", {"id": GALLERY_IMAGE})
    extension = resource(
        EXTENSION,
        "activate",
        {
            "resourceGroupName": "rg-app",
            "vmName": "app",
            "vmExtensionName": "activate",
            "publisher": "Microsoft.Compute",
            "type": "CustomScriptExtension",
            "settings": {
                "commandToExecute": "cscript slmgr.vbs /skms azkms.core.windows.net:1688 && cscript slmgr.vbs /ato"
            },
        },
    )
    assert advisories(pack, [vm, extension]) == []


def test_unrelated_extension_does_not_count(pack: PackProcess) -> None:
    vm = windows_vm("app", {"id": GALLERY_IMAGE})
    extension = resource(
        EXTENSION,
        "monitor",
        {
            "vmName": "app",
            "vmExtensionName": "monitor",
            "settings": {"commandToExecute": "powershell ./install-agent.ps1"},
        },
    )
    assert [urn for urn, _ in advisories(pack, [vm, extension])] == [vm.urn]


def test_extension_with_unknown_script_is_cannot_tell(pack: PackProcess) -> None:
    vm = windows_vm("app", {"id": GALLERY_IMAGE})
    extension = resource(EXTENSION, "ext", {"vmName": "app", "vmExtensionName": "ext", "settings": UNKNOWN})
    [(urn, message)] = advisories(pack, [vm, extension])
    assert urn == vm.urn
    assert message.startswith(
        f"Windows VM app is built from custom or gallery image {GALLERY_IMAGE}, and an extension on it (ext) "
        "may set up activation, but its script is unknown."
    )


def test_marketplace_image_needs_no_setup(pack: PackProcess) -> None:
    assert advisories(pack, [windows_vm("app", MARKETPLACE_2022)]) == []


def test_non_microsoft_publisher_and_attached_disk_are_custom(pack: PackProcess) -> None:
    third_party = windows_vm(
        "vendor", {"publisher": "contoso", "offer": "hardened-windows", "sku": "2022", "version": "latest"}
    )
    attached = windows_vm("migrated", None)
    # In URN order, as every stack policy reports (kms-reachability collects the stack sorted by URN).
    assert advisories(pack, [third_party, attached]) == [
        (
            attached.urn,
            "Windows VM migrated is built from no image reference (an attached or specialized OS disk), and nothing "
            f"in the stack sets up KMS activation. {CONSEQUENCE} {SETUP_HINT}",
        ),
        (
            third_party.urn,
            "Windows VM vendor is built from non-Microsoft image contoso/hardened-windows/2022, and nothing in the "
            f"stack sets up KMS activation. {CONSEQUENCE} {SETUP_HINT}",
        ),
    ]


def test_unknown_image_is_cannot_tell_not_a_pass(pack: PackProcess) -> None:
    # storage_profile computed from another resource's output: the whole property is unknown.
    gallery = "urn:pulumi:dev::app::azure-native:compute:GalleryImageVersion::v1"
    base = windows_vm("app", {"id": GALLERY_IMAGE})
    inputs = {
        **base.inputs,
        "storageProfile": UNKNOWN,
        "osProfile": {"windowsConfiguration": {"provisionVMAgent": True}},
    }
    outputs = {**(base.outputs or {}), "storageProfile": UNKNOWN, "osProfile": inputs["osProfile"]}
    vm = PackResource(
        base.type, base.urn, base.name, inputs, outputs, property_dependencies={"storageProfile": (gallery,)}
    )
    image = PackResource(
        "azure-native:compute:GalleryImageVersion", gallery, "v1", {"galleryImageVersionName": "1.0.0"}
    )
    [(urn, message)] = advisories(pack, [image, vm])
    assert urn == vm.urn
    assert message == (
        "cannot tell whether Windows VM app has the KMS client key: its image reference is unknown "
        "(storageProfile of VirtualMachine app is not known until deployment), and nothing in the stack sets up "
        f"KMS activation. {CONSEQUENCE} {SETUP_HINT}"
    )


def test_linux_is_not_applicable(pack: PackProcess) -> None:
    linux = windows_vm("lin", {"id": GALLERY_IMAGE}, os_type="Linux")
    assert advisories(pack, [linux]) == []


def test_azure_edition_with_nsg_denying_imds(pack: PackProcess) -> None:
    vm = windows_vm("ae", AZURE_EDITION)
    assert advisories(pack, [vm, nic("ae-nic", "nsg-app"), nsg("nsg-app", [deny_imds(200)])]) == [
        (
            vm.urn,
            "Azure Edition VM ae: NSG nsg-app rule 200 deny-imds denies AzurePlatformIMDS. KMS activation can succeed, "
            "but Windows shows the activation watermark because the attested state comes from IMDS 169.254.169.254 "
            "(docs/rules.md#azure-edition-imds). Remove the rule, or allow AzurePlatformIMDS ahead of it.",
        )
    ]


@pytest.mark.parametrize(
    "rule",
    [
        {**deny_imds(), "access": "Allow"},
        {**deny_imds(), "destinationAddressPrefix": "Internet"},
        {**deny_imds(), "direction": "Inbound"},
        {**deny_imds(), "protocol": "Udp"},
        {**deny_imds(), "destinationPortRange": "443"},
    ],
    ids=["allow", "internet", "inbound", "udp", "port-443"],
)
def test_azure_edition_with_harmless_nsg_rules(pack: PackProcess, rule: dict[str, Any]) -> None:
    vm = windows_vm("ae", AZURE_EDITION)
    assert advisories(pack, [vm, nic("ae-nic", "nsg-app"), nsg("nsg-app", [rule])]) == []


def test_imds_deny_on_a_datacenter_vm_is_not_reported(pack: PackProcess) -> None:
    vm = windows_vm("dc", MARKETPLACE_2022)
    assert advisories(pack, [vm, nic("dc-nic", "nsg-app"), nsg("nsg-app", [deny_imds()])]) == []


def test_custom_azure_edition_via_kms_activation_checks_imds(pack: PackProcess) -> None:
    vm = windows_vm("cae", {"id": GALLERY_IMAGE})
    setup = kms_activation("act", vm, edition="Windows Server 2025 Datacenter: Azure Edition")
    found = advisories(pack, [vm, *setup, nic("cae-nic", "nsg-app"), nsg("nsg-app", [deny_imds(300)])])
    assert [m.split(":", 1)[0] for _, m in found] == ["Azure Edition VM cae"]


def test_scale_set_with_inline_activation_extension_is_clean(pack: PackProcess) -> None:
    profile = {
        "storageProfile": {
            "imageReference": {"id": GALLERY_IMAGE},
            "osDisk": {"osType": "Windows", "createOption": "FromImage"},
        },
        "extensionProfile": {
            "extensions": [
                {
                    "name": "kmsguard-activation",
                    "publisher": "Microsoft.Compute",
                    "type": "CustomScriptExtension",
                }
            ]
        },
    }
    clean = resource(
        VMSS,
        "web",
        {"vmScaleSetName": "web", "orchestrationMode": "Uniform", "virtualMachineProfile": profile},
    )
    bare_profile = {k: v for k, v in profile.items() if k != "extensionProfile"}
    bare = resource(
        VMSS,
        "api",
        {"vmScaleSetName": "api", "orchestrationMode": "Uniform", "virtualMachineProfile": bare_profile},
    )
    assert [urn for urn, _ in advisories(pack, [clean, bare])] == [bare.urn]
