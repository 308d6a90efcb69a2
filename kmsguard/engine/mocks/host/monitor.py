"""A resource monitor that plays the engine's part of ``RegisterResource`` during a preview.

The SDK's ``MockMonitor`` only stores ``(urn, id, state)`` and differs from the engine in exactly the
places a network policy depends on (pulumi-mechanics §2.6). This monitor keeps the SDK's mock plumbing
(invokes, stack transform registration) and does what the engine's resource monitor does instead:

* **URNs** in the engine's format: the root stack type is omitted and a child of a component carries the
  parent's whole qualified type chain (§2.2); the URN handed back to the program is that one, so every
  later dependency and parent the SDK sends is already engine-format;
* **new-style transforms** (§2.3): the resource's own, then each parent's up the chain, then the stack
  transforms registered so far, each seeing the previous one's result (``resmon.RegisterResource``);
* **default providers**: a custom resource without an explicit provider gets
  ``pulumi:providers:<pkg>::default_<version>``, registered just before its first user, with the
  provider config of that package as inputs; in a preview its id is unknown;
* **Check and PreviewOutputs** for azure-native resources (``shapes``): the program gets back the
  preview outputs, so ids, autonames and output-only fields are unknown exactly as in a real preview.

Everything recorded is JSON in the wire form the engine sends to analyzers (§1.8).
"""

from __future__ import annotations

import importlib
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from google.protobuf import struct_pb2
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2

from . import shapes

STACK_TYPE: Final = "pulumi:pulumi:Stack"
_RESOURCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"


class MonitorError(Exception):
    """A problem in what the program registered (not in the program's own code)."""


class NullMocks(Mocks):
    """Invokes return nothing: an offline preview cannot ask Azure anything."""

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return None, {}


def struct_to_json(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {key: _value_to_json(struct.fields[key]) for key in struct.fields}


def _value_to_json(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "number_value":
        return float(value.number_value)
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        return bool(value.bool_value)
    if kind == "struct_value":
        return struct_to_json(value.struct_value)
    return [_value_to_json(item) for item in value.list_value.values]


def analyzer_view(value: Any) -> Any:
    """§1.8: analyzers get a resource reference as its id when known, else its URN."""
    if isinstance(value, dict):
        if value.get(shapes.SIG_KEY) == _RESOURCE_SIG:
            ref_id = value.get("id")
            return ref_id if isinstance(ref_id, str) and ref_id else value.get("urn", shapes.UNKNOWN)
        return {k: analyzer_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [analyzer_view(v) for v in value]
    return value


def json_to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


def _qualified_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[2] if len(parts) >= 4 else ""


class RecordingMonitor(MockMonitor):
    """Records every registration as the engine would see it after Check, in registration order."""

    def __init__(
        self,
        *,
        project: str,
        stack: str,
        project_dir: Path,
        config: Mapping[str, str],
        run_async: Callable[[Any], Any],
    ) -> None:
        super().__init__(NullMocks())
        self.project = project
        self.stack = stack
        self.project_dir = project_dir
        self.config = dict(config)
        self.records: list[dict[str, Any]] = []
        self.classes: dict[str, type] = {}
        self.error: BaseException | None = None
        self.transform_seconds = 0.0  # wall time in new-style transforms (outermost; what they pump included)
        self._transform_depth = 0
        self.invokes: list[str] = []  # invoke tokens answered "unknown", in call order
        self._run_async = run_async
        self._by_urn: dict[str, dict[str, Any]] = {}
        self._own_transforms: dict[str, list[Any]] = {}
        self._parents: dict[str, str] = {}
        self._default_providers: dict[str, str] = {}

    # -- URNs -------------------------------------------------------------------------------------

    def engine_urn(self, parent: str, type_: str, name: str) -> str:
        qualified = type_
        if parent and _qualified_type(parent) != STACK_TYPE:
            qualified = f"{_qualified_type(parent)}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{qualified}::{name}"

    # -- RPCs -------------------------------------------------------------------------------------

    def RegisterResource(self, request: Any) -> Any:
        try:
            return self._register(request)
        except TransformError:
            raise  # the program's own error, reported as such
        except BaseException as exc:
            # Keep the first one: later failures are usually its consequences.
            if self.error is None:
                self.error = exc
            raise

    def Invoke(self, request: Any) -> Any:
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)  # type: ignore[no-untyped-call]
        # An offline run cannot ask the provider (or Azure) anything. The engine's own answer for an
        # invoke it cannot serve yet is "wholly unknown": output-form invokes then flow as unknowns, and
        # a plain invoke fails in the program instead of handing it a made-up value.
        if request.tok not in self.invokes:
            self.invokes.append(str(request.tok))
        return resource_pb2.ResourceInvokeResponse(unknown=True)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        record = self._by_urn.get(request.urn)
        if record is not None and not record["custom"]:
            record["outputs"] = analyzer_view(struct_to_json(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]

    def ReadResource(self, request: Any) -> Any:
        try:
            return self._read(request)
        except BaseException as exc:
            if self.error is None:
                self.error = exc
            raise

    def _read(self, request: Any) -> Any:
        # A read resource's state comes from the cloud even in a preview, so every output but the
        # given id is unknown offline.
        urn = self.engine_urn(request.parent, request.type, request.name)
        cls = self._class_for(request.type)
        outputs: dict[str, Any] = shapes.preview_outputs(cls, {}) if cls is not None else {}
        outputs["id"] = request.id or shapes.UNKNOWN
        self._record(
            request,
            urn=urn,
            parent=request.parent,
            custom=True,
            inputs={},
            outputs=outputs,
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={},
            provider=self._provider_for(request, request.parent),
        )
        return resource_pb2.ReadResourceResponse(urn=urn, properties=json_to_struct(outputs))

    # -- registration -----------------------------------------------------------------------------

    def _register(self, request: Any) -> Any:
        parent = str(request.parent)
        urn = self.engine_urn(parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self._record(
                request,
                urn=urn,
                parent="",
                custom=False,
                inputs={},
                outputs={},
                dependencies=[],
                property_dependencies={},
                provider="",
            )
            return resource_pb2.RegisterResourceResponse(urn=urn)
        custom = bool(request.custom)
        props = request.object
        dependencies = list(request.dependencies)
        pdeps: dict[str, set[str]] = {k: set(v.urns) for k, v in request.propertyDependencies.items()}
        own = self._resolve(request.transforms)
        began = time.perf_counter()
        self._transform_depth += 1
        try:
            props, dependencies, pdeps = self._transform(request, parent, props, dependencies, pdeps, own)
        finally:
            self._transform_depth -= 1
            if not self._transform_depth:
                self.transform_seconds += time.perf_counter() - began
        inputs = analyzer_view(struct_to_json(props))
        provider = self._provider_for(request, parent) if custom else ""
        cls = self._class_for(request.type) if custom else None
        if custom and request.type.startswith("pulumi:providers:"):
            # The engine records the plugin version among a provider's inputs (resmon.RegisterResource).
            if request.version:
                inputs["version"] = str(request.version)
            outputs = dict(inputs)
        elif custom and cls is not None and request.type.startswith("azure-native:"):
            inputs = shapes.check_inputs(cls, inputs, self._provider_location(provider))
            outputs = shapes.preview_outputs(cls, inputs)
        elif custom:
            # A provider whose preview behaviour is not modelled: outputs echo the inputs, id unknown.
            outputs = {**inputs, "id": shapes.UNKNOWN}
        else:
            outputs = {}
        all_deps = set(dependencies)
        for urns in pdeps.values():
            all_deps |= urns
        self._record(
            request,
            urn=urn,
            parent=parent,
            custom=custom,
            inputs=inputs,
            outputs=outputs,
            dependencies=sorted(all_deps),
            property_dependencies={k: sorted(v) for k, v in sorted(pdeps.items()) if v},
            provider=provider,
        )
        self._own_transforms[urn] = own
        self._parents[urn] = parent
        program_view = {} if not custom else {k: v for k, v in outputs.items() if k != "id"}
        return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=json_to_struct(program_view))

    def _record(
        self,
        request: Any,
        *,
        urn: str,
        parent: str,
        custom: bool,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        dependencies: list[str],
        property_dependencies: dict[str, list[str]],
        provider: str,
    ) -> None:
        record = {
            "type": str(request.type),
            "name": str(request.name),
            "urn": urn,
            "custom": custom,
            "parent": parent,
            "dependencies": dependencies,
            "propertyDependencies": property_dependencies,
            "inputs": inputs,
            "outputs": outputs,
            "provider": provider,
            "source": self._source(request),
        }
        self.records.append(record)
        self._by_urn[urn] = record

    def _source(self, request: Any) -> list[Any] | None:
        """The innermost caller inside the project (not in an installed package) of the constructor."""
        frames: Iterable[Any] = request.stackTrace.frames if request.HasField("stackTrace") else ()
        for frame in frames:
            uri = frame.pc.uri if frame.HasField("pc") else ""
            if not uri.startswith("file://"):
                continue
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path))
            if not path.is_relative_to(self.project_dir):
                path = path.resolve()  # the program may sit behind a symlink (project_dir is resolved)
            if not path.is_relative_to(self.project_dir):
                continue
            rel = path.relative_to(self.project_dir)
            if "site-packages" in rel.parts or "dist-packages" in rel.parts:
                continue
            return [rel.as_posix(), int(frame.pc.line)]
        return None

    def _class_for(self, token: str) -> type | None:
        """The SDK class of an azure-native type: the one the program constructed, else the one the
        token names (a program may construct a generic ``CustomResource`` with the token)."""
        found = self.classes.get(token)
        if found is not None and found.__module__.startswith("pulumi_azure_native"):
            return found
        parts = token.split(":")
        if len(parts) != 3 or parts[0] != "azure-native":
            return found
        try:
            module = importlib.import_module("pulumi_azure_native." + parts[1].replace("/", "."))
        except ImportError:
            return found
        cls = getattr(module, parts[2], None)
        return cls if isinstance(cls, type) else found

    # -- providers --------------------------------------------------------------------------------

    def _provider_for(self, request: Any, parent: str) -> str:
        if request.type.startswith("pulumi:providers:"):
            return ""
        package = str(request.type).split(":", 1)[0]
        if request.provider:
            return str(request.provider)
        providers = request.providers if "providers" in request.DESCRIPTOR.fields_by_name else {}
        if package in providers:
            return str(providers[package])
        return self._default_provider(package, str(request.version))

    def _default_provider(self, package: str, version: str) -> str:
        ref = self._default_providers.get(package)
        if ref is not None:
            return ref
        name = f"default_{version.replace('.', '_').replace('-', '_')}" if version else "default"
        type_ = f"pulumi:providers:{package}"
        urn = self.engine_urn("", type_, name)
        prefix = f"{package}:"
        inputs: dict[str, Any] = {
            key[len(prefix) :]: value for key, value in sorted(self.config.items()) if key.startswith(prefix)
        }
        if version:
            inputs["version"] = version
        record = {
            "type": type_,
            "name": name,
            "urn": urn,
            "custom": True,
            "parent": "",
            "dependencies": [],
            "propertyDependencies": {},
            "inputs": inputs,
            "outputs": dict(inputs),
            "provider": "",
            "source": None,
        }
        self.records.append(record)
        self._by_urn[urn] = record
        ref = f"{urn}::{shapes.UNKNOWN}"
        self._default_providers[package] = ref
        return ref

    def _provider_location(self, provider_ref: str) -> Any:
        record = self._by_urn.get(provider_ref.rsplit("::", 1)[0])
        if record is None:
            return None
        value = record["inputs"].get("location")
        return value if isinstance(value, str) and value != shapes.UNKNOWN else None

    # -- transforms -------------------------------------------------------------------------------

    def _resolve(self, callbacks: Iterable[Any]) -> list[Any]:
        from pulumi.runtime.mocks import _resolve_callbacks

        return list(_resolve_callbacks(list(callbacks)))

    def _transform(
        self,
        request: Any,
        parent: str,
        props: struct_pb2.Struct,
        dependencies: list[str],
        pdeps: dict[str, set[str]],
        own: list[Any],
    ) -> tuple[struct_pb2.Struct, list[str], dict[str, set[str]]]:
        chain = list(own)
        current = parent
        while current:
            chain.extend(self._own_transforms.get(current, ()))
            current = self._parents.get(current, "")
        chain.extend(self.get_registered_transforms())
        if not chain:
            return props, dependencies, pdeps
        options = resource_pb2.TransformResourceOptions(
            depends_on=list(request.dependencies),
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            version=request.version,
            provider=request.provider,
            plugin_download_url=request.pluginDownloadURL,
            deleted_with=request.deletedWith,
            additional_secret_outputs=list(request.additionalSecretOutputs),
        )
        options.providers.update(dict(request.providers))
        if request.deleteBeforeReplace:
            options.delete_before_replace = True
        for transform in chain:
            transform_request = resource_pb2.TransformRequest(
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=parent,
                properties=props,
                options=options,
            )
            props, new_options, added = self._run_async(_apply_transform(transform, transform_request))
            if new_options is not None:
                options = new_options
            keys = set(props.fields)
            pdeps = {k: v for k, v in pdeps.items() if k in keys}
            for key, urns in added.items():
                pdeps.setdefault(key, set()).update(urns)
        return props, list(options.depends_on), pdeps


async def _apply_transform(
    transform: Any, request: Any
) -> tuple[struct_pb2.Struct, Any, dict[str, set[str]]]:
    """Call one ``ResourceTransform`` the way the SDK's callback server does (``_callbacks.py``),
    keeping the dependencies of the values it returns."""
    import inspect as _inspect

    from pulumi.resource import ResourceTransformArgs
    from pulumi.runtime._callbacks import _CallbackServicer
    from pulumi.runtime.rpc import deserialize_properties, serialize_properties

    servicer = _CallbackServicer._servicers[-1]
    args = ResourceTransformArgs(
        custom=request.custom,
        type_=request.type,
        name=request.name,
        props=deserialize_properties(request.properties),
        opts=servicer._resource_options(request),
    )
    try:
        result = transform(args)
        if _inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        raise TransformError(request.type, request.name, transform, exc) from exc
    if result is None:
        return request.properties, None, {}
    deps: dict[str, list[Any]] = {}
    props = await serialize_properties(result.props, deps)
    options = (
        await servicer._transformation_resource_options(result.opts, request.name)
        if result.opts is not None
        else None
    )
    added: dict[str, set[str]] = {}
    for key, resources in deps.items():
        for resource in resources:
            urn = await resource.urn.future()
            if urn:
                added.setdefault(key, set()).add(str(urn))
    return props, options, added


class TransformError(Exception):
    """A transform raised: the program's error, reported with the resource it was transforming."""

    def __init__(self, type_: str, name: str, transform: Any, exc: BaseException) -> None:
        label = getattr(transform, "__qualname__", repr(transform))
        super().__init__(f"transform {label} failed on {type_} {name!r}")
        self.original = exc
