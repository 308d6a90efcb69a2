"""Run a KmsActivation under ``pulumi.runtime.set_mocks`` (preview) and print what it registered.

Run in a subprocess (one root stack per process, pulumi-mechanics §2.1): ``python mock_program.py
'<json case>'``. Prints one JSON object: ``{"resources": [...]}`` or ``{"error": "..."}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

RECORDED: list[dict[str, Any]] = []


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return "<unknown>"


class Monitor(mocks.MockMonitor):  # type: ignore[misc]
    def RegisterResource(self, request: Any) -> Any:
        RECORDED.append(
            {
                "type": request.type,
                "name": request.name,
                "parent": request.parent.rsplit("::", 1)[-1],
                "inputs": plain(rpc.deserialize_properties(request.object)),
                "propertyDependencies": {
                    k: sorted(u.rsplit("::", 1)[-1] for u in v.urns)
                    for k, v in request.propertyDependencies.items()
                    if v.urns
                },
            }
        )
        return super().RegisterResource(request)


class Mocks(pulumi.runtime.Mocks):  # type: ignore[misc]
    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        # Like a preview: ids and the provider-assigned name stay unknown.
        return None, dict(args.inputs)

    def call(self, args: Any) -> dict[str, Any]:
        return {}


def program(case: dict[str, Any]) -> None:
    import pulumi_azure_native.compute as compute

    from kmsguard.pulumi.activation import KmsActivation

    image = case.get("image")
    if case.get("scale_set"):
        vm: Any = compute.VirtualMachineScaleSet(
            "app-vmss",
            resource_group_name="rg-app",
            location="eastus",
            virtual_machine_profile={"storage_profile": {"image_reference": image}},
        )
    else:
        vm = compute.VirtualMachine(
            "app-vm",
            resource_group_name="rg-app",
            location="eastus",
            storage_profile={"image_reference": image},
        )
    KmsActivation(
        "activation", vm=vm, resource_group_name="rg-app", image_reference=image, **case.get("args", {})
    )


def main() -> None:
    case = json.loads(sys.argv[1])
    pulumi.runtime.set_mocks(Mocks(), project="app", stack="dev", preview=True, monitor=Monitor(Mocks()))
    try:
        _sync_await(run_pulumi_func(lambda: program(case)))
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return
    print(json.dumps({"resources": RECORDED}))


if __name__ == "__main__":
    main()
