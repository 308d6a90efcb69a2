"""The offline classic ``azure`` provider (pulumi-azure) over gRPC, started the way the engine starts it."""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from kmsguard.engine.pulumi_cli.provider_install import classic_provider_version, write_provider
from kmsguard.errors import KmsguardError
from kmsguard.provider import azure_native
from kmsguard.provider.wire import struct_to_dict

PYTHON = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python")
U = azure_native.UNKNOWN
URN = "urn:pulumi:dev::p::"
SEED = b"0123456789abcdef0123456789abcdef"
ROUTE_TABLE = "azure:network/routeTable:RouteTable"


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_provider(tmp_path_factory.mktemp("bin"), python=PYTHON, package="azure")


@pytest.fixture(scope="module")
def provider(shim: Path, serve: Any) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with serve(shim, {"azure:config:location": "westeurope"}) as stub:
        yield stub


def test_install_helpers(shim: Path, tmp_path: Path) -> None:
    assert shim.name == "pulumi-resource-azure"
    text = shim.read_text()
    assert text.startswith("#!/bin/sh\n") and f"exec {PYTHON} -c " in text
    assert "--kmsguard-package=azure " in text
    assert os.access(shim, os.X_OK)
    assert classic_provider_version(PYTHON) == importlib.metadata.version("pulumi_azure")
    with pytest.raises(KmsguardError, match="no offline provider for package 'aws'"):
        write_provider(tmp_path, python=PYTHON, package="aws")


def test_plugin_info_schema_and_configure(provider: Any) -> None:
    info = provider.GetPluginInfo(empty_pb2.Empty(), timeout=30)
    assert info.version == importlib.metadata.version("pulumi_azure")
    schema = provider.GetSchema(provider_pb2.GetSchemaRequest(), timeout=30)
    assert '"name": "azure"' in schema.schema
    configured = provider.Configure(
        provider_pb2.ConfigureRequest(variables={"azure:config:location": "westeurope"}), timeout=30
    )
    assert (configured.supportsPreview, configured.acceptSecrets, configured.acceptResources) == (
        True,
        True,
        True,
    )


def test_check_returns_the_inputs_without_an_invented_name(provider: Any) -> None:
    news = {
        "resourceGroupName": U,
        "location": "westeurope",
        "routes": [{"name": "r", "addressPrefix": "0.0.0.0/0"}],
    }
    checked = provider.Check(
        provider_pb2.CheckRequest(
            urn=f"{URN}{ROUTE_TABLE}::rt", name="rt", type=ROUTE_TABLE, news=_struct(news), randomSeed=SEED
        ),
        timeout=60,
    )
    assert list(checked.failures) == []
    # No autoname and no location default for a route table: exactly the stand-in's inputs.
    assert struct_to_dict(checked.inputs) == news


RESOURCE_GROUP = "azure:core/resourceGroup:ResourceGroup"


@pytest.mark.parametrize(
    ("token", "news", "checked"),
    [
        # pulumi-azure provider/resources.go, azurerm_resource_group: Default{Config: azureLocation}.
        (RESOURCE_GROUP, {"name": "rg"}, {"name": "rg", "location": "westeurope"}),
        (
            RESOURCE_GROUP,
            {"name": "rg", "location": "northeurope"},
            {"name": "rg", "location": "northeurope"},
        ),
        # Any other resource's default is its resource group's location, fetched from Azure: left out.
        (ROUTE_TABLE, {"name": "rt", "resourceGroupName": "rg"}, {"name": "rt", "resourceGroupName": "rg"}),
    ],
)
def test_a_resource_group_takes_the_provider_location(
    provider: Any, token: str, news: dict[str, Any], checked: dict[str, Any]
) -> None:
    name = news["name"]
    answer = provider.Check(
        provider_pb2.CheckRequest(
            urn=f"{URN}{token}::{name}", name=name, type=token, news=_struct(news), randomSeed=SEED
        ),
        timeout=60,
    )
    assert struct_to_dict(answer.inputs) == checked


def test_create_in_a_preview_echoes_the_inputs_with_an_unknown_id(provider: Any) -> None:
    inputs = {"name": "rt", "resourceGroupName": U, "location": "westeurope", "id": "ignored"}
    created = provider.Create(
        provider_pb2.CreateRequest(
            urn=f"{URN}{ROUTE_TABLE}::rt",
            type=ROUTE_TABLE,
            name="rt",
            properties=_struct(inputs),
            preview=True,
        ),
        timeout=60,
    )
    assert created.id == ""
    assert struct_to_dict(created.properties) == {
        "name": "rt",
        "resourceGroupName": U,
        "location": "westeurope",
    }


def test_real_operations_are_refused_and_invokes_know_nothing(provider: Any) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        provider.Create(
            provider_pb2.CreateRequest(
                urn=f"{URN}{ROUTE_TABLE}::rt", type=ROUTE_TABLE, properties=_struct({})
            ),
            timeout=60,
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    result = provider.Invoke(
        provider_pb2.InvokeRequest(tok="azure:core/getClientConfig:getClientConfig", args=_struct({})),
        timeout=60,
    )
    assert struct_to_dict(getattr(result, "return")) == {}
