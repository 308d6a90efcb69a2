"""The offline azure-native provider over gRPC, started the way the engine starts it (the installed shim)."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from kmsguard.engine.pulumi_cli.provider_install import provider_version, write_provider
from kmsguard.provider import azure_native

PYTHON = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python")
U = azure_native.UNKNOWN
URN = "urn:pulumi:dev::p::"
SEED = b"0123456789abcdef0123456789abcdef"


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


def _dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    from kmsguard.provider.wire import struct_to_dict

    return struct_to_dict(struct)


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_provider(tmp_path_factory.mktemp("bin"), python=PYTHON)


@pytest.fixture(scope="module")
def provider(shim: Path, serve: Any) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with serve(shim, {"azure-native:config:location": "westeurope"}) as stub:
        yield stub


def _check(stub: Any, type_: str, name: str, news: dict[str, Any], **extra: Any) -> Any:
    request = provider_pb2.CheckRequest(
        urn=f"{URN}{type_}::{name}", name=name, type=type_, news=_struct(news), **extra
    )
    return stub.Check(request, timeout=120)


def test_install_helpers(shim: Path) -> None:
    text = shim.read_text()
    assert text.startswith("#!/bin/sh\n") and f"exec {PYTHON} -c " in text
    assert os.access(shim, os.X_OK)
    assert provider_version(PYTHON) == importlib.metadata.version("pulumi_azure_native")


def test_plugin_info_and_configure(provider: Any) -> None:
    info = provider.GetPluginInfo(empty_pb2.Empty(), timeout=30)
    assert info.version == importlib.metadata.version("pulumi_azure_native")
    configured = provider.Configure(
        provider_pb2.ConfigureRequest(variables={"azure-native:config:location": "westeurope"}), timeout=30
    )
    assert (configured.supportsPreview, configured.acceptSecrets, configured.acceptResources) == (
        True,
        True,
        True,
    )
    news = _struct({"location": "westeurope"})
    assert provider.CheckConfig(provider_pb2.CheckRequest(news=news), timeout=30).inputs == news
    assert (
        provider.DiffConfig(provider_pb2.DiffRequest(), timeout=30).changes
        == provider_pb2.DiffResponse.DIFF_NONE
    )


def test_child_resource_is_named_after_its_logical_name(provider: Any) -> None:
    # resources.go AutoNamer: .../virtualNetworks/{virtualNetworkName}/subnets/{subnetName} → copy.
    checked = _check(
        provider,
        "azure-native:network:Subnet",
        "GatewaySubnet",
        {"resourceGroupName": "rg", "virtualNetworkName": "hub", "addressPrefix": "10.0.1.0/27"},
        randomSeed=SEED,
    )
    assert list(checked.failures) == []
    assert _dict(checked.inputs) == {
        "resourceGroupName": "rg",
        "virtualNetworkName": "hub",
        "addressPrefix": "10.0.1.0/27",
        "subnetName": "GatewaySubnet",  # the logical name, no suffix and no __createBeforeDelete
        "azureApiVersion": "2024-05-01",  # a Subnet has no location
    }


def test_top_level_resource_gets_a_random_autoname_and_the_config_location(provider: Any) -> None:
    checked = _check(
        provider, "azure-native:network:RouteTable", "rt-spoke", {"resourceGroupName": "rg"}, randomSeed=SEED
    )
    inputs = _dict(checked.inputs)
    assert inputs == {
        "resourceGroupName": "rg",
        "routeTableName": azure_native.unique_name(SEED, "rt-spoke"),
        "__createBeforeDelete": True,
        "location": "westeurope",
        "azureApiVersion": "2024-05-01",
    }
    suffix = inputs["routeTableName"].removeprefix("rt-spoke")
    assert len(suffix) == 8 and set(suffix) <= set("0123456789abcdef")
    # Same seed, same name (the engine's seed makes Check deterministic); a given name is kept.
    again = _check(
        provider, "azure-native:network:RouteTable", "rt-spoke", {"resourceGroupName": "rg"}, randomSeed=SEED
    )
    assert _dict(again.inputs)["routeTableName"] == inputs["routeTableName"]
    named = _check(
        provider, "azure-native:network:RouteTable", "rt", {"resourceGroupName": "rg", "routeTableName": "x"}
    )
    assert _dict(named.inputs)["routeTableName"] == "x" and "__createBeforeDelete" not in _dict(named.inputs)


def test_engine_autonaming_options_come_first(provider: Any) -> None:
    options = provider_pb2.CheckRequest.AutonamingOptions(
        proposed_name="proposed", mode=provider_pb2.CheckRequest.AutonamingOptions.ENFORCE
    )
    checked = _check(
        provider,
        "azure-native:network:Subnet",
        "GatewaySubnet",
        {"resourceGroupName": "rg", "virtualNetworkName": "hub"},
        autonaming=options,
    )
    inputs = _dict(checked.inputs)
    assert (inputs["subnetName"], inputs["__createBeforeDelete"]) == ("proposed", True)


def test_location_from_the_resource_group_is_unknown(shim: Path) -> None:
    process = subprocess.Popen([str(shim)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    try:
        port = int(process.stdout.readline().decode().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            stub.Configure(provider_pb2.ConfigureRequest(), timeout=60)
            checked = _check(
                stub, "azure-native:network:RouteTable", "rt", {"resourceGroupName": "rg"}, randomSeed=SEED
            )
            # provider.go getDefaultLocation reads the group's location from ARM: not offline.
            assert _dict(checked.inputs)["location"] == U
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_missing_required_inputs_are_check_failures(provider: Any) -> None:
    checked = _check(provider, "azure-native:network:Route", "r", {"addressPrefix": "0.0.0.0/0"})
    assert [(f.property, f.reason) for f in checked.failures] == [
        ("", "missing required property 'nextHopType'"),
        ("", "missing required property 'resourceGroupName'"),
        ("", "missing required property 'routeTableName'"),
    ]


def test_create_in_a_preview_returns_the_preview_projection(provider: Any) -> None:
    inputs = {
        "resourceGroupName": U,
        "routeTableName": U,
        "routeName": "default-via-fw",
        "addressPrefix": "0.0.0.0/0",
        "nextHopType": "VirtualAppliance",
        "nextHopIpAddress": U,
        "azureApiVersion": "2024-05-01",
    }
    created = provider.Create(
        provider_pb2.CreateRequest(
            urn=f"{URN}azure-native:network:Route::default-via-fw",
            type="azure-native:network:Route",
            name="default-via-fw",
            properties=_struct(inputs),
            preview=True,
        ),
        timeout=60,
    )
    assert created.id == ""
    assert _dict(created.properties) == {
        "addressPrefix": "0.0.0.0/0",
        "azureApiVersion": "2024-05-01",
        "etag": U,
        "hasBgpOverride": U,
        "name": U,
        "nextHopIpAddress": U,
        "nextHopType": "VirtualAppliance",
        "provisioningState": U,
        "type": U,
    }


def test_create_outside_a_preview_is_refused(provider: Any) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        provider.Create(
            provider_pb2.CreateRequest(
                urn=f"{URN}azure-native:network:RouteTable::rt",
                type="azure-native:network:RouteTable",
                properties=_struct({"resourceGroupName": "rg"}),
                preview=False,
            ),
            timeout=60,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.details() == "offline provider: no Azure account; kmsguard only previews"
    with pytest.raises(grpc.RpcError, match="no Azure account"):
        provider.Delete(
            provider_pb2.DeleteRequest(urn=f"{URN}azure-native:network:RouteTable::rt", id="x"), timeout=30
        )


def test_invokes_answer_nothing_known(provider: Any) -> None:
    for token in ("azure-native:authorization:getClientConfig", "azure-native:network:getSubnet"):
        answered = provider.Invoke(
            provider_pb2.InvokeRequest(tok=token, args=_struct({}), preview=True), timeout=60
        )
        assert _dict(getattr(answered, "return")) == {} and list(answered.failures) == []
    with pytest.raises(grpc.RpcError, match="Invoke type azure-native:network:getNothing not found"):
        provider.Invoke(provider_pb2.InvokeRequest(tok="azure-native:network:getNothing"), timeout=60)


def test_unknown_types_pass_their_inputs_through(provider: Any) -> None:
    news = {"size": 3.0, "label": "x"}
    checked = _check(provider, "azure-native:nothing:Thing", "t", news)
    assert _dict(checked.inputs) == news
    created = provider.Create(
        provider_pb2.CreateRequest(
            urn=f"{URN}azure-native:nothing:Thing::t",
            type="azure-native:nothing:Thing",
            properties=_struct(news),
            preview=True,
        ),
        timeout=60,
    )
    assert (created.id, _dict(created.properties)) == ("", news)


def test_a_preview_with_the_real_cli(tmp_path: Path) -> None:
    """The offline provider under the real CLI, installed as `kmsguard preview --engine pulumi` installs it
    (kmsguard.engine.pulumi_cli.engine.prepare: the sandbox, kmsguard's language host beside a link of
    the binary, `pulumi plugin install resource azure-native --file`)."""
    from kmsguard.engine.project import load_project
    from kmsguard.engine.pulumi_cli.engine import prepare
    from kmsguard.engine.pulumi_cli.install import find_pulumi
    from kmsguard.engine.pulumi_cli.sandbox import Sandbox

    cli = find_pulumi()
    if cli is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no Pulumi CLI: `make engine` runs before the tests in CI")
        pytest.skip("no Pulumi CLI (make engine)")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        "name: p\nruntime:\n  name: python\n  options:\n    virtualenv: "
        + str(Path(PYTHON).parents[1])
        + "\n"
    )
    (project / "Pulumi.dev.yaml").write_text("config:\n  azure-native:location: westeurope\n")
    (project / "__main__.py").write_text(
        "import pulumi\nimport pulumi_azure_native as azure\n"
        "cfg = azure.authorization.get_client_config()\n"
        "vnet = azure.network.VirtualNetwork('hub', resource_group_name='rg',"
        " address_space={'address_prefixes': ['10.0.0.0/16']})\n"
        "subnet = azure.network.Subnet('GatewaySubnet', resource_group_name='rg',"
        " virtual_network_name=vnet.name, address_prefix='10.0.1.0/27')\n"
        "pulumi.export('subnet', subnet.name)\n"
    )
    box = Sandbox.create()
    try:
        ready = prepare(load_project(project), "dev", box, cli)
        done = subprocess.run(
            [str(ready.cli.path), "preview", "--json", "--non-interactive", "--stack", "dev"],
            cwd=box.project,
            env=dict(ready.env),
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        box.remove()
    assert done.returncode == 0, done.stderr + done.stdout
    import json

    steps = {step["urn"].rsplit("::", 1)[-1]: step for step in json.loads(done.stdout)["steps"]}
    subnet = steps["GatewaySubnet"]["newState"]["inputs"]
    assert subnet["subnetName"] == "GatewaySubnet" and subnet["azureApiVersion"] == "2024-05-01"
    hub = steps["hub"]["newState"]["inputs"]
    assert hub["location"] == "westeurope" and hub["virtualNetworkName"].startswith("hub")
    assert hub["__createBeforeDelete"] is True


def test_struct_conversion_keeps_nan_and_infinity() -> None:
    # A program may pass them and the engine accepts them; protobuf's json_format refuses them.
    import math

    from kmsguard.provider.wire import dict_to_struct, struct_to_dict

    back = struct_to_dict(dict_to_struct({"a": math.inf, "b": [-math.inf, {"c": math.nan}], "d": None}))
    assert back["a"] == math.inf and back["b"][0] == -math.inf and math.isnan(back["b"][1]["c"])
    assert back["d"] is None
