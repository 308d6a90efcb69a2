"""The offline azure-native provider as a gRPC ``ResourceProvider``: what azure-native does in a preview.

The engine (pkg/resource/plugin/provider_plugin.go) needs ``GetPluginInfo``, ``Configure`` and ``Check``
from every provider, ``Create`` with ``preview=true`` when ``Configure`` says ``supportsPreview``, ``Diff``
only for resources with state, and ``Invoke`` for the SDK's ``get_*`` functions. Each answer follows
pulumi/pulumi-azure-native provider/pkg/provider/provider.go, with Azure replaced by "unknown":

* ``Configure``: the provider config (``azure-native:location`` …) is remembered; no credentials are
  read, so nothing here can reach Azure. The response claims what azure-native's does
  (``SupportsPreview``, ``SupportsAutonamingConfiguration``) plus secrets and resource references;
* ``Check``: :func:`azure_native.check_inputs` (autoname, location, ``azureApiVersion``) and
  :func:`azure_native.check_failures` (missing required inputs);
* ``Create`` in a preview: id empty (the engine's "not yet known"), outputs
  :func:`azure_native.preview_outputs` (provider.go ``Create``: ``PreviewOutputs`` when ``req.Preview``);
  any real ``Create``/``Read``/``Update``/``Delete`` is refused, since there is no Azure account;
* ``Invoke``: :func:`azure_native.invoke_outputs` without unknowns (the engine rejects unknowns in a
  provider's invoke return): the empty map.

A type the installed SDK does not know passes its inputs through as its outputs (id empty): nothing is
invented that was not an input.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import threading
from typing import Any, Final

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from . import azure_classic, azure_native
from .wire import dict_to_struct, struct_to_dict

__all__ = [
    "OFFLINE_REFUSAL",
    "OfflineAzureClassicProvider",
    "OfflineAzureNativeProvider",
    "plugin_version",
    "provider_for",
]

PACKAGE: Final = "azure-native"
OFFLINE_REFUSAL: Final = "offline provider: no Azure account; kmsguard only previews"

_log = logging.getLogger(__name__)


def plugin_version() -> str:
    """The version of the installed ``pulumi_azure_native`` SDK: the plugin version the program asks for."""
    try:
        return importlib.metadata.version("pulumi_azure_native")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def _logical_name(urn: str, name: str) -> str:
    """The resource's logical name: the request's ``name``, else the URN's last part (provider.go splits
    the URN on ``::`` and takes the last element)."""
    return name or urn.split("::")[-1]


def _type_of(urn: str, type_: str) -> str:
    if type_:
        return type_
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


class OfflineAzureNativeProvider(provider_pb2_grpc.ResourceProviderServicer):
    """azure-native's ``ResourceProvider`` for previews, without Azure."""

    package: str = PACKAGE

    def __init__(self, engine_address: str = "") -> None:
        self.engine_address = engine_address
        self.config: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- plugin lifecycle ---------------------------------------------------------------------------

    def Handshake(self, request: Any, context: Any) -> provider_pb2.ProviderHandshakeResponse:
        if request.engine_address:
            self.engine_address = str(request.engine_address)
        return provider_pb2.ProviderHandshakeResponse(
            accept_secrets=True,
            accept_resources=True,
            accept_outputs=False,
            supports_autonaming_configuration=True,
        )

    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=self._plugin_version())

    def _plugin_version(self) -> str:
        return plugin_version()

    def Attach(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.engine_address = str(request.address)
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    def GetSchema(self, request: Any, context: Any) -> provider_pb2.GetSchemaResponse:
        # azure-native embeds a ~100 MB schema; the engine does not ask for it in a preview. A minimal schema
        # names the package and version so tooling that does ask gets a well-formed (empty) package.
        if request.version:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unsupported schema version {request.version}")
        return provider_pb2.GetSchemaResponse(
            schema=json.dumps({"name": self.package, "version": self._plugin_version()})
        )

    def GetMapping(self, request: Any, context: Any) -> provider_pb2.GetMappingResponse:
        return provider_pb2.GetMappingResponse(provider="", data=b"")

    def GetMappings(self, request: Any, context: Any) -> provider_pb2.GetMappingsResponse:
        return provider_pb2.GetMappingsResponse()

    # -- configuration ------------------------------------------------------------------------------

    def CheckConfig(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        # provider.go CheckConfig: the news, unchanged.
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        # provider.go DiffConfig: never a change.
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:
        config: dict[str, str] = {}
        # provider.go Configure: variables are keyed ``azure-native:config:<key>`` (older engines) or
        # ``azure-native:<key>``; the prefix is dropped (``azure:`` for the classic provider).
        for key, value in request.variables.items():
            for prefix in (f"{self.package}:config:", f"{self.package}:"):
                if key.startswith(prefix):
                    key = key[len(prefix) :]
                    break
            config[key] = str(value)
        # Newer engines also send the provider's inputs as ``args``; they win where both are set.
        for key, value in struct_to_dict(request.args).items():
            if isinstance(value, str) and value != azure_native.UNKNOWN:
                config[key] = value
        with self._lock:
            self.config = config
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True,
            acceptResources=True,
            acceptOutputs=False,
            supportsPreview=True,
            supports_autonaming_configuration=True,
        )

    def _location(self) -> str | None:
        with self._lock:
            value = self.config.get("location")
        return value if value else None

    # -- resources ----------------------------------------------------------------------------------

    def Check(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        type_ = _type_of(request.urn, request.type)
        news = struct_to_dict(request.news)
        cls = azure_native.resource_class(type_)
        if cls is None:
            return provider_pb2.CheckResponse(inputs=request.news)
        autonaming = None
        if request.HasField("autonaming"):
            autonaming = azure_native.Autonaming(
                mode=int(request.autonaming.mode), proposed_name=str(request.autonaming.proposed_name)
            )
        checked = azure_native.check_inputs(
            cls,
            news,
            self._location(),
            name=_logical_name(request.urn, request.name),
            random_seed=bytes(request.randomSeed) or None,
            autonaming=autonaming,
        )
        failures = [
            provider_pb2.CheckFailure(property=prop, reason=reason)
            for prop, reason in azure_native.check_failures(cls, checked)
        ]
        return provider_pb2.CheckResponse(inputs=dict_to_struct(checked), failures=failures)

    def Diff(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        # A fresh preview has no state, so the engine never asks; with state (which an offline run never
        # writes) compare inputs: equal → no change, else an update, as azure-native does for body changes.
        olds = (
            struct_to_dict(request.old_inputs)
            if request.HasField("old_inputs")
            else struct_to_dict(request.olds)
        )
        news = struct_to_dict(request.news)
        changed = sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed)

    def Create(self, request: Any, context: Any) -> provider_pb2.CreateResponse:
        if not request.preview:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, OFFLINE_REFUSAL)
        inputs = struct_to_dict(request.properties)
        cls = azure_native.resource_class(_type_of(request.urn, request.type))
        outputs = dict(inputs) if cls is None else azure_native.preview_outputs(cls, inputs)
        # The id is the engine's business: empty in a preview means "not yet known" to the engine and the
        # SDK alike (provider_plugin.go accepts an empty id only when ``req.Preview``).
        outputs.pop("id", None)
        return provider_pb2.CreateResponse(id="", properties=dict_to_struct(outputs))

    def Read(self, request: Any, context: Any) -> provider_pb2.ReadResponse:
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{OFFLINE_REFUSAL} (cannot read {request.id!r})")
        raise AssertionError("unreachable")

    def Update(self, request: Any, context: Any) -> provider_pb2.UpdateResponse:
        if request.preview:
            # Only reachable with state, which an offline run never has; project the news like a create.
            cls = azure_native.resource_class(_type_of(request.urn, request.type))
            news = struct_to_dict(request.news)
            outputs = azure_native.preview_outputs(cls, news) if cls is not None else dict(news)
            outputs.pop("id", None)
            return provider_pb2.UpdateResponse(properties=dict_to_struct(outputs))
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, OFFLINE_REFUSAL)
        raise AssertionError("unreachable")

    def Delete(self, request: Any, context: Any) -> empty_pb2.Empty:
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, OFFLINE_REFUSAL)
        raise AssertionError("unreachable")

    # -- functions ----------------------------------------------------------------------------------

    def Invoke(self, request: Any, context: Any) -> provider_pb2.InvokeResponse:
        token = str(request.tok)
        if azure_native.invoke_function(token) is None:
            # provider.go Invoke: a token absent from the metadata is an error.
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invoke type {token} not found")
        result = azure_native.invoke_outputs(token, struct_to_dict(request.args), unknowns=False)
        return provider_pb2.InvokeResponse(**{"return": dict_to_struct(result)})

    def StreamInvoke(self, request: Any, context: Any) -> Any:
        # provider.go StreamInvoke: not implemented by azure-native either.
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "StreamInvoke is not yet implemented")

    def Call(self, request: Any, context: Any) -> provider_pb2.CallResponse:
        # azure-native has no resource methods; answer like an invoke (nothing known) rather than fail.
        return provider_pb2.CallResponse(**{"return": struct_pb2.Struct()})


class OfflineAzureClassicProvider(OfflineAzureNativeProvider):
    """The classic ``azure`` provider (pulumi-azure) for previews, without Azure: see
    :mod:`azure_classic` (inputs pass through, id unknown, invokes know nothing)."""

    package: str = azure_classic.PACKAGE

    def _plugin_version(self) -> str:
        return azure_classic.plugin_version()

    def Check(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        checked = azure_classic.check_inputs(
            struct_to_dict(request.news), token=_type_of(request.urn, request.type), location=self._location()
        )
        return provider_pb2.CheckResponse(inputs=dict_to_struct(checked))

    def Create(self, request: Any, context: Any) -> provider_pb2.CreateResponse:
        if not request.preview:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, OFFLINE_REFUSAL)
        outputs = azure_classic.preview_outputs(struct_to_dict(request.properties))
        return provider_pb2.CreateResponse(id="", properties=dict_to_struct(outputs))

    def Update(self, request: Any, context: Any) -> provider_pb2.UpdateResponse:
        if request.preview:
            outputs = azure_classic.preview_outputs(struct_to_dict(request.news))
            return provider_pb2.UpdateResponse(properties=dict_to_struct(outputs))
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, OFFLINE_REFUSAL)
        raise AssertionError("unreachable")

    def Invoke(self, request: Any, context: Any) -> provider_pb2.InvokeResponse:
        result = azure_classic.invoke_outputs(str(request.tok), struct_to_dict(request.args))
        return provider_pb2.InvokeResponse(**{"return": dict_to_struct(result)})


_PROVIDERS: Final[dict[str, type[OfflineAzureNativeProvider]]] = {
    PACKAGE: OfflineAzureNativeProvider,
    azure_classic.PACKAGE: OfflineAzureClassicProvider,
}


def provider_for(package: str, engine_address: str = "") -> OfflineAzureNativeProvider:
    """The offline provider serving ``package`` (``azure-native`` or the classic ``azure``)."""
    try:
        cls = _PROVIDERS[package]
    except KeyError:
        raise ValueError(f"no offline provider for package {package!r}") from None
    return cls(engine_address=engine_address)
