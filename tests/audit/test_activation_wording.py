"""Audit F: the kms-client-activation advisory says what the VM or scale set really has.

A scale set whose extension list is unknown during a preview has no run command or extension the
stack can see; the advisory says that, and names the run command or extension when there is one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from activation.resources import EXTENSION, GALLERY_IMAGE, RUN_COMMAND, VMSS, resource, windows_vm

from kmsguard.engine import UNKNOWN, PackProcess, PackResource

PACK = Path(__file__).resolve().parents[2] / "policy"
POLICY = "kms-client-activation"


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    with PackProcess(PACK, project="app", stack="dev") as running:
        running.configure({})
        yield running


def advisory(pack: PackProcess, resources: list[PackResource]) -> str:
    for r in resources:
        pack.analyze(r)
    [found] = [v for v in pack.analyze_stack(resources) if v.policy == POLICY]
    return found.message.split("\n", 1)[1]


def scale_set(extension_profile: Any) -> PackResource:
    profile = {
        "storageProfile": {
            "imageReference": {"id": GALLERY_IMAGE},
            "osDisk": {"osType": "Windows", "createOption": "FromImage"},
        },
        "extensionProfile": extension_profile,
    }
    return resource(
        VMSS,
        "web",
        {"vmScaleSetName": "web", "orchestrationMode": "Uniform", "virtualMachineProfile": profile},
    )


def test_scale_set_with_an_unknown_extension_list_says_so(pack: PackProcess) -> None:
    message = advisory(pack, [scale_set(UNKNOWN)])
    assert "its extension list is unknown during this preview" in message
    assert "run command" not in message and "extension on it" not in message


def test_scale_set_extension_with_an_unknown_script_is_named(pack: PackProcess) -> None:
    ext = {
        "name": "bootstrap",
        "publisher": "Microsoft.Compute",
        "type": "CustomScriptExtension",
        "settings": UNKNOWN,
    }
    message = advisory(pack, [scale_set({"extensions": [ext]})])
    assert "extension bootstrap in its VM profile may set up activation, but its script is unknown" in message
    assert "run command" not in message


def test_a_run_command_is_called_a_run_command(pack: PackProcess) -> None:
    vm = windows_vm("app", {"id": GALLERY_IMAGE})
    command = resource(RUN_COMMAND, "setup", {"vmName": "app", "runCommandName": "setup", "source": UNKNOWN})
    message = advisory(pack, [vm, command])
    assert "a run command on it (setup) may set up activation, but its script is unknown" in message


def test_an_extension_is_called_an_extension(pack: PackProcess) -> None:
    vm = windows_vm("app", {"id": GALLERY_IMAGE})
    ext = resource(EXTENSION, "ext", {"vmName": "app", "vmExtensionName": "ext", "settings": UNKNOWN})
    message = advisory(pack, [vm, ext])
    assert "an extension on it (ext) may set up activation, but its script is unknown" in message
