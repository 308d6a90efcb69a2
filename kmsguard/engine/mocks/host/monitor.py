"""A resource monitor that plays the engine's part of ``RegisterResource`` during a preview.

The SDK's ``MockMonitor`` only stores ``(urn, id, state)`` and differs from the engine in exactly the
places a network policy depends on (pulumi-mechanics §2.6). This monitor keeps the SDK's mock plumbing
(invokes, stack transform registration) and does what the engine's resource monitor does instead:

* **URNs** in the engine's format: the root stack type is omitted and a child of a component carries the
  parent's whole qualified type chain (§2.2); the URN handed back to the program is that one, so every
  later dependency and parent the SDK sends is already engine-format;
* **new-style transforms** (§2.3): the resource's own, then each parent's up the chain, then the stack
  transforms registered so far, each seeing the previous one's result (``resmon.RegisterResource``); a
  resource with transforms of its own hands them its dependent properties as output values (``Output``
  objects in the program) and keeps only the dependencies its transforms leave (:meth:`_transform`);
* **default providers**: a custom resource without an explicit provider gets
  ``pulumi:providers:<pkg>::default_<version>``, registered just before its first user, with the
  provider config of that package as inputs; in a preview its id is unknown;
* **Check and PreviewOutputs** for azure-native resources (``shapes``): Check gets the logical name and a
  seed as the engine's ``CheckRequest`` has them, so an unset name is the logical name (child resources)
  or the logical name plus a random suffix (top-level ones); the program gets back the preview outputs,
  so ids, names and output-only fields are unknown exactly as in a real preview.

Everything recorded is JSON in the wire form the engine sends to analyzers (§1.8).
"""

from __future__ import annotations

import hashlib
import importlib
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from _kmsguard_provider import azure_classic as classic
from _kmsguard_provider import azure_native as shapes  # loaded by the runner's bootstrap
from _kmsguard_provider.wire import dict_to_struct as json_to_struct
from _kmsguard_provider.wire import struct_to_dict as struct_to_json
from google.protobuf import struct_pb2
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2

STACK_TYPE: Final = "pulumi:pulumi:Stack"
_RESOURCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG: Final = "d0e6a833031e9bbcd3f4e8bde6ca49a4"  # sdk/go/common/resource/sig: OutputValue


class MonitorError(Exception):
    """A problem in what the program registered (not in the program's own code)."""


class EngineError(MonitorError):
    """A registration the engine refuses, failing the preview with the engine's own message."""

    def __init__(self, message: str, source: list[Any] | None = None) -> None:
        super().__init__(message)
        self.source = source  # [file relative to the project, line] of the refused registration


def duplicate_urn_error(urn: str, source: list[Any] | None = None) -> EngineError:
    """sdk/go/common/diag/errors.go ``GetDuplicateResourceURNError``, raised by the step generator's
    ``generateURN`` (pkg/resource/deploy/step_generator.go) for a second resource with the same URN:
    the deployment bails, whichever of the two the engine happened to see first."""
    return EngineError(f"Duplicate resource URN '{urn}'; try giving it a unique name", source)


def check_failure_error(
    token: str, name: str, failures: list[tuple[str, str]], source: list[Any] | None = None
) -> EngineError:
    """The provider's Check failures as the engine reports them (``issueCheckFailures``,
    pkg/resource/deploy/step_generator.go, with ``diag.GetResourceInvalidError``): the preview fails.
    The SDK's constructors catch a missing required argument given as ``None``; an Output that resolves
    to ``None`` (an offline invoke's empty result, say) reaches Check."""
    return EngineError(
        "\n".join(f"{token} resource '{name}' has a problem: {reason}" for _prop, reason in failures), source
    )


def _field(message: Any, name: str, default: Any = None) -> Any:
    """A request field if the program's own ``pulumi`` knows it, else ``default``.

    The host runs with the program's SDK (any version from 3.100): its generated messages may predate
    fields newer SDKs send (``stackTrace``, ``transforms``, ...), and reading an unknown field raises.
    """
    return getattr(message, name) if name in message.DESCRIPTOR.fields_by_name else default


class NullMocks(Mocks):
    """Invokes return nothing: an offline preview cannot ask Azure anything."""

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return None, {}


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


def random_seed(urn: str) -> bytes:
    """The stand-in's ``CheckRequest.randomSeed`` for ``urn``: 32 bytes like the engine's.

    The engine draws a fresh seed from ``crypto/rand`` for every new resource in every preview
    (pkg/resource/deploy/step_generator.go), so a real preview's random name suffixes differ from run to
    run and can never match these; a seed fixed per URN keeps the stand-in's runs reproducible.
    """
    return hashlib.sha256(b"kmsguard-stand-in-seed\x00" + urn.encode()).digest()


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
        self.invokes: list[str] = []  # invoke tokens answered with nothing (offline), in call order
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
        # An offline run cannot ask the provider (or Azure) anything. Answer what the real engine passes
        # on from the offline provider (kmsguard/provider/server.py), from the same function: the empty
        # map. Unknowns cannot be the answer: the engine rejects them in a provider's invoke return, and
        # the SDK's result types reject them in plain invokes (``Expected argument ... to be a str``).
        if request.tok not in self.invokes:
            self.invokes.append(str(request.tok))
        result = shapes.invoke_outputs(str(request.tok), struct_to_json(request.args), unknowns=False)
        return resource_pb2.ResourceInvokeResponse(**{"return": json_to_struct(result)})

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
        self._claim(urn, request)
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

    def _claim(self, urn: str, request: Any) -> None:
        """The engine generates each URN once per deployment (``generateURN``); a second one fails it."""
        if urn in self._by_urn:
            raise duplicate_urn_error(urn, self._source(request))

    def _register(self, request: Any) -> Any:
        parent = str(request.parent)
        urn = self.engine_urn(parent, request.type, request.name)
        self._claim(urn, request)
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
        own = self._resolve(_field(request, "transforms", ()))
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
            # CheckRequest carries the URN (whose last part is the logical name) and a random seed
            # (pkg/resource/deploy/step_generator.go, continueStepsFromImport): a child resource's unset
            # name is its logical name, a top-level one's the logical name plus a suffix from the seed.
            inputs = shapes.check_inputs(
                cls,
                inputs,
                self._provider_location(provider),
                name=str(request.name),
                random_seed=random_seed(urn),
            )
            failures = shapes.check_failures(cls, inputs)
            if failures:
                raise check_failure_error(request.type, str(request.name), failures, self._source(request))
            outputs = shapes.preview_outputs(cls, inputs)
        elif custom and request.type.startswith(f"{classic.PACKAGE}:"):
            inputs = classic.check_inputs(
                inputs, token=request.type, location=self._provider_location(provider)
            )
            outputs = {**inputs, "id": shapes.UNKNOWN}
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
        trace = _field(request, "stackTrace")  # SDK >= 3.1xx sends where the resource was constructed
        frames: Iterable[Any] = trace.frames if trace is not None and request.HasField("stackTrace") else ()
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
        providers = _field(request, "providers", {})
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
        callbacks = list(callbacks)
        if not callbacks:
            return []  # also where the SDK predates transforms (and _resolve_callbacks)
        from pulumi.runtime.mocks import _resolve_callbacks

        return list(_resolve_callbacks(callbacks))

    def _transform(
        self,
        request: Any,
        parent: str,
        props: struct_pb2.Struct,
        dependencies: list[str],
        pdeps: dict[str, set[str]],
        own: list[Any],
    ) -> tuple[struct_pb2.Struct, list[str], dict[str, set[str]]]:
        """``resmon.RegisterResource`` (pkg/resource/deploy/source_eval.go): the transforms, and the
        dependencies the engine keeps afterwards.

        * Only a resource with transforms of its own (``req.Transforms``) has its top-level property values
          upgraded to outputs carrying their property dependencies (``upgradeOutputValues``) before the
          chain runs; every transform of its chain (own, parents', stack) then gets those values as output
          values, which the SDK's callback server deserializes into ``Output`` objects. A resource with
          only parent or stack transforms is sent its plain values (stack transforms are wrapped by the
          same ``wrapTransformCallback`` in ``RegisterStackTransform``; nothing upgrades for them).
        * Afterwards, with transforms of its own, the dependencies are the transformed options'
          ``dependsOn`` and the property dependencies are rebuilt from the output values left in the final
          properties; without, both stay as the SDK sent them (a property a transform removed keeps its
          entry). The Python SDK's callback server serializes a transform's result without output values
          (``serialize_properties(result.props, {})`` in pulumi/runtime/_callbacks.py), so only properties
          that passed through untouched (the transform returned ``None``) still carry dependencies.
        """
        chain = list(own)
        current = parent
        while current:
            chain.extend(self._own_transforms.get(current, ()))
            current = self._parents.get(current, "")
        # Stack transforms exist from the SDK that has them (older MockMonitors lack the method).
        registered = getattr(self, "get_registered_transforms", None)
        chain.extend(registered() if registered is not None else ())
        if not chain:
            return props, dependencies, pdeps
        if own:
            props = json_to_struct(upgrade_output_values(struct_to_json(props), pdeps))
        options = resource_pb2.TransformResourceOptions(
            depends_on=list(request.dependencies),
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(_field(request, "replaceOnChanges", ())),
            version=request.version,
            provider=request.provider,
            plugin_download_url=_field(request, "pluginDownloadURL", ""),
            deleted_with=_field(request, "deletedWith", ""),
            additional_secret_outputs=list(request.additionalSecretOutputs),
        )
        options.providers.update(dict(_field(request, "providers", {})))
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
            props, new_options = self._run_async(_apply_transform(transform, transform_request))
            if new_options is not None:
                options = new_options
        final = struct_to_json(props)
        if own:
            dependencies = list(options.depends_on)
            pdeps = {key: output_dependencies(value) for key, value in final.items()}
        else:
            for key, value in final.items():
                pdeps.setdefault(key, set()).update(output_dependencies(value))
        # The provider and the analyzers get plain values: an output value is its value (secret if it was),
        # or unknown (plugin.MarshalProperties without KeepOutputValues).
        return json_to_struct(plain_values(final)), dependencies, pdeps


def upgrade_output_values(props: Mapping[str, Any], pdeps: Mapping[str, set[str]]) -> dict[str, Any]:
    """``upgradeOutputValues`` (source_eval.go) as ``propertyrpc.Marshal`` puts it on the wire
    (sdk/go/propertyrpc/marshal.go): a top-level value with property dependencies becomes an output value
    (``value`` left out when unknown, a secret's value unwrapped with ``secret: true``); values without
    dependencies, and everything nested, stay as they are."""
    upgraded: dict[str, Any] = {}
    for key, value in props.items():
        deps = output_dependencies(value) | set(pdeps.get(key, ()))
        if not deps or _is_output_value(value):
            upgraded[key] = value if not deps else {**value, "dependencies": sorted(deps)}
            continue
        envelope: dict[str, Any] = {shapes.SIG_KEY: _OUTPUT_SIG}
        if isinstance(value, dict) and value.get(shapes.SIG_KEY) == shapes.SECRET_SIG:
            envelope["value"] = value.get("value")
            envelope["secret"] = True
        elif value != shapes.UNKNOWN:
            envelope["value"] = value
        envelope["dependencies"] = sorted(deps)
        upgraded[key] = envelope
    return upgraded


def _is_output_value(value: Any) -> bool:
    return isinstance(value, dict) and value.get(shapes.SIG_KEY) == _OUTPUT_SIG


def output_dependencies(value: Any) -> set[str]:
    """``addOutputDependencies`` (source_eval.go): the dependencies of every output value in ``value``."""
    found: set[str] = set()
    if _is_output_value(value):
        found.update(str(urn) for urn in value.get("dependencies") or ())
        return found | output_dependencies(value.get("value"))
    if isinstance(value, dict):
        for item in value.values():
            found |= output_dependencies(item)
    elif isinstance(value, list):
        for item in value:
            found |= output_dependencies(item)
    return found


def plain_values(value: Any) -> Any:
    """``value`` with every output value replaced by its plain wire form."""
    if _is_output_value(value):
        if "value" not in value:
            return shapes.UNKNOWN
        inner = plain_values(value["value"])
        return {shapes.SIG_KEY: shapes.SECRET_SIG, "value": inner} if value.get("secret") is True else inner
    if isinstance(value, dict):
        return {k: plain_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_values(v) for v in value]
    return value


async def _apply_transform(transform: Any, request: Any) -> tuple[struct_pb2.Struct, Any]:
    """Call one ``ResourceTransform`` the way the SDK's callback server does (``register_transform`` in
    pulumi/runtime/_callbacks.py): output values in the request become ``Output`` objects, and the result
    is serialized without output values, so the dependencies of what the transform returns are dropped
    (the engine never sees them)."""
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
        return request.properties, None
    props = await serialize_properties(result.props, {})
    options = (
        await servicer._transformation_resource_options(result.opts, request.name)
        if result.opts is not None
        else None
    )
    return props, options


class TransformError(Exception):
    """A transform raised: the program's error, reported with the resource it was transforming."""

    def __init__(self, type_: str, name: str, transform: Any, exc: BaseException) -> None:
        label = getattr(transform, "__qualname__", repr(transform))
        super().__init__(f"transform {label} failed on {type_} {name!r}")
        self.original = exc
