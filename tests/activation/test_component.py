"""KmsActivation under mocks (a preview), one subprocess per program: the child's exact properties."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from kmsguard.activation import activation_target, bootstrap_command, render_script
from kmsguard.errors import ValidationError

PROGRAM = Path(__file__).resolve().parent / "mock_program.py"
REPO = PROGRAM.parents[2]
AZURE_EDITION = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-datacenter-azure-edition",
    "version": "latest",
}
GALLERY = "/subscriptions/0/resourceGroups/rg-app/providers/Microsoft.Compute/galleries/g/images/win2019/versions/1.0.0"


@cache
def _run(case_json: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(PROGRAM), case_json],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(case: dict[str, Any]) -> dict[str, Any]:
    return _run(json.dumps(case, sort_keys=True))


def registered(case: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = run(case)
    assert "error" not in result, result
    return {r["name"]: r for r in result["resources"]}


def digest(script: str) -> str:
    return hashlib.sha256(script.encode("utf-8")).hexdigest()[:16]


def test_run_command_for_a_marketplace_azure_edition_vm() -> None:
    by_name = registered({"image": AZURE_EDITION, "args": {"location": "eastus"}})
    assert [(r["type"], r["parent"]) for r in by_name.values()] == [
        ("pulumi:pulumi:Stack", ""),
        ("azure-native:compute:VirtualMachine", "app-dev"),
        ("kmsguard:activation:KmsActivation", "app-dev"),
        ("azure-native:compute:VirtualMachineRunCommandByVirtualMachine", "activation"),
    ]
    run_command = by_name["activation-run-command"]
    script = render_script(activation_target("2022", "Datacenter: Azure Edition", "public"))
    assert run_command["inputs"] == {
        "resourceGroupName": "rg-app",
        "vmName": "<unknown>",  # the VM's name output: unknown in a preview, linked by dependency
        "runCommandName": "kmsguard-activation",
        "location": "eastus",
        "source": {"script": script},
        "asyncExecution": False,
        "treatFailureAsDeploymentFailure": True,
        "timeoutInSeconds": 540.0,
        "tags": {"kmsguard-activation": "Windows Server 2022 Datacenter: Azure Edition"},
    }
    assert run_command["propertyDependencies"]["vmName"] == ["app-vm"]
    assert by_name["activation"]["inputs"] == {}


def test_custom_script_extension_for_a_gallery_image_in_us_gov() -> None:
    case = {
        "image": {"id": GALLERY},
        "args": {
            "windows_version": "2019",
            "windows_edition": "Standard",
            "location": "usgovvirginia",
            "method": "extension",
            "attempts": 6,
            "delay_seconds": 10,
        },
    }
    extension = registered(case)["activation-extension"]
    script = render_script(activation_target("2019", "Standard", "usgov", attempts=6, delay_seconds=10))
    assert extension["type"] == "azure-native:compute:VirtualMachineExtension"
    assert extension["inputs"] == {
        "resourceGroupName": "rg-app",
        "vmName": "<unknown>",
        "vmExtensionName": "kmsguard-activation",
        "location": "usgovvirginia",
        "publisher": "Microsoft.Compute",
        "type": "CustomScriptExtension",
        "typeHandlerVersion": "1.10",
        "autoUpgradeMinorVersion": True,
        "forceUpdateTag": digest(script),
        "settings": {"commandToExecute": bootstrap_command(script)},
        "tags": {"kmsguard-activation": "Windows Server 2019 Standard"},
    }
    payload = re.search(r"FromBase64String\('([^']+)'\)", extension["inputs"]["settings"]["commandToExecute"])
    assert payload is not None
    carried = gzip.decompress(base64.b64decode(payload.group(1))).decode("utf-8")
    assert '"gvlk": "N69G4-B89J2-4G8F4-WWYCC-J464C"' in carried
    assert '"kmsHost": "azkms.core.usgovcloudapi.net"' in carried and '"attempts": 6' in carried


def test_scale_set_gets_a_scale_set_extension() -> None:
    case = {
        "scale_set": True,
        "image": {"id": GALLERY},
        "args": {"windows_version": "2016", "windows_edition": "Datacenter", "cloud": "china"},
    }
    extension = registered(case)["activation-extension"]
    script = render_script(activation_target("2016", "Datacenter", "china"))
    assert extension["type"] == "azure-native:compute:VirtualMachineScaleSetExtension"
    assert extension["propertyDependencies"]["vmScaleSetName"] == ["app-vmss"]
    assert extension["inputs"] == {
        "resourceGroupName": "rg-app",
        "vmScaleSetName": "<unknown>",
        "vmssExtensionName": "kmsguard-activation",
        "publisher": "Microsoft.Compute",
        "type": "CustomScriptExtension",
        "typeHandlerVersion": "1.10",
        "autoUpgradeMinorVersion": True,
        "forceUpdateTag": digest(script),
        "settings": {"commandToExecute": bootstrap_command(script)},
    }


def test_unknown_sku_fails_the_program_at_construction() -> None:
    image = {**AZURE_EDITION, "sku": "2022-datacenter-hotpatch"}
    result = run({"image": image, "args": {"location": "eastus"}})
    assert result == {
        "error": "ValidationError: KmsActivation activation: image_reference.sku: SKU '2022-datacenter-hotpatch' of "
        "image MicrosoftWindowsServer/WindowsServer is not in the catalog; give windows_version and windows_edition"
    }


ERRORS: list[tuple[dict[str, Any], str]] = [
    (
        {"image_reference": {"id": GALLERY}},
        "KmsActivation a: image_reference.id: a custom or gallery image does not say its edition; give "
        "windows_version and windows_edition",
    ),
    (
        {"image_reference": {"sharedGalleryImageId": "/sharedGalleries/g/images/win/versions/1"}},
        "KmsActivation a: image_reference.shared_gallery_image_id: a custom or gallery image does not say its "
        "edition; give windows_version and windows_edition",
    ),
    (
        {"image_reference": None},
        "KmsActivation a: image_reference: give the VM's Marketplace image reference, or windows_version and "
        "windows_edition",
    ),
    (
        {"image_reference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer"}},
        "KmsActivation a: image_reference: publisher, offer and sku must be plain strings (the edition is chosen "
        "at preview); or give windows_version and windows_edition",
    ),
    (
        {"image_reference": None, "windows_version": "2022"},
        "KmsActivation a: windows_version/windows_edition: give both or neither",
    ),
    (
        {"image_reference": None, "windows_version": "2022", "windows_edition": "Enterprise"},
        "KmsActivation a: edition: no KMS client setup key (GVLK) for Windows version '2022' edition 'Enterprise' "
        "(docs/rules.md#image-channel); kmsguard/catalog/data/gvlk.json lists the known pairs",
    ),
]


ERRORS.append(
    (
        {
            "image_reference": {
                "publisher": "MicrosoftWindowsServer",
                "offer": "WindowsServer",
                "sku": "2019-datacenter",
            },
            "windows_version": "2022",
            "windows_edition": "Datacenter",
        },
        "KmsActivation a: windows_edition: 2022 Datacenter contradicts image SKU '2019-datacenter' (2019 Datacenter)",
    )
)


@pytest.mark.parametrize(("kwargs", "message"), ERRORS)
def test_edition_errors(kwargs: dict[str, Any], message: str) -> None:
    from kmsguard.pulumi.activation import target_for_image

    args = {"windows_version": None, "windows_edition": None, **kwargs}
    with pytest.raises(ValidationError) as info:
        target_for_image(
            "a", args["image_reference"], args["windows_version"], args["windows_edition"], "public"
        )
    assert str(info.value) == message


def test_output_image_reference_is_an_error() -> None:
    import pulumi

    from kmsguard.pulumi.activation import target_for_image

    with pytest.raises(ValidationError) as info:
        target_for_image("a", pulumi.Output.from_input({"sku": "2022-datacenter"}), None, None, "public")
    assert str(info.value) == (
        "KmsActivation a: image_reference: is an Output; pass the plain dict or ImageReferenceArgs the VM uses "
        "(the edition is chosen at preview), or give windows_version and windows_edition"
    )


def test_image_reference_args_object_is_read_like_a_dict() -> None:
    import pulumi_azure_native.compute as compute

    from kmsguard.pulumi.activation import target_for_image

    ref = compute.ImageReferenceArgs(
        publisher="MicrosoftWindowsServer", offer="WindowsServer", sku="2019-datacenter-gensecond"
    )
    target = target_for_image("a", ref, None, None, "public")
    assert (target.version, target.edition, target.key) == (
        "2019",
        "Datacenter",
        "WMDGN-G9PQG-XVVXX-R3X43-63DFG",
    )
