"""What azure-native's ``Check`` adds to inputs and what its ``PreviewOutputs`` makes of them.

Both are derived from the installed ``pulumi_azure_native`` SDK rather than from hand tables, so every
resource type the program uses is covered:

* the **output shape** of a resource is the set of its output getters (``resource_types``), recursing
  into the ``outputs.*Response`` types (``output_type_types``); ``id`` is added because the engine's
  resource id is an output of every custom resource (pulumi-mechanics §1.6, §3.0);
* the **name property** that ``Check`` autonames is the one optional ``<x>Name`` input that is a path
  parameter (an input that is not an output, §3.0), other than ``resourceGroupName``;
* the **API version** is the one the SDK documents for the class ("Uses Azure REST API version …"), or the
  one its versioned module is named after (``network.v20240501``).

The projection follows azure-native's ``previewOutputValue`` (provider/pkg/convert/previewOutputs.go):
a scalar keeps an input of its type, anything else becomes unknown; arrays and maps project element-wise;
objects project onto their response type, every property not given becoming unknown; ``Any`` and unions
(``oneOf``) keep the input as it is; untyped properties keep scalars. Inputs that are not outputs (path
parameters such as ``resourceGroupName``, ``routeTableName``) disappear. Constant-valued properties are not
visible in the Python SDK and are projected like ordinary strings.

Values here are the engine's wire form (JSON-shaped): unknowns are the string sentinel, secrets the
signature objects. The provider sees inputs with secrets unwrapped and the engine marks an output secret
when the same-named input was (§1.8), which is what :func:`preview_outputs` does.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import hashlib
import importlib
import inspect
import re
import sys
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"

_API_VERSION_DOC: Final = re.compile(r"Uses Azure REST API version (\d{4}-\d{2}-\d{2}(?:-preview)?)")
_VERSIONED_MODULE: Final = re.compile(r"\.v(\d{4})(\d{2})(\d{2})(preview)?(?:\.|$)")


@dataclass(frozen=True)
class Shape:
    """One output property's type: ``kind`` is string/integer/number/boolean/untyped/any/array/map/object."""

    kind: str
    item: Shape | None = None  # arrays and maps
    cls: type | None = None  # objects: the ``outputs.*Response`` class


ANY: Final = Shape("any")
_SCALARS: Final[dict[object, str]] = {str: "string", bool: "boolean", int: "integer", float: "number"}


def _shape_of(tp: Any) -> Shape:
    from pulumi import _types

    if tp is Any:
        return ANY
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (collections.abc.Sequence, list, tuple) and args:
        return Shape("array", item=_shape_of(args[0]))
    if origin in (collections.abc.Mapping, dict) and len(args) == 2:
        return Shape("map", item=_shape_of(args[1]))
    if origin is typing.Union:
        # A union of response types is a oneOf: PreviewOutputs keeps the input unchanged.
        return ANY
    if isinstance(tp, type):
        if _types.is_output_type(tp):
            return Shape("object", cls=tp)
        if issubclass(tp, enum.Enum):
            return Shape("string")
        for base, kind in _SCALARS.items():
            if tp is base:
                return Shape(kind)
    return Shape("untyped")


@functools.cache
def object_properties(cls: type) -> dict[str, Shape]:
    """Output property name → shape of one ``outputs.*Response`` type."""
    from pulumi import _types

    return {name: _shape_of(tp) for name, tp in _types.output_type_types(cls).items()}


@functools.cache
def resource_properties(cls: type) -> dict[str, Shape]:
    """Output property name → shape of a resource class (its getters, plus ``id``)."""
    from pulumi import _types

    props = {name: _shape_of(tp) for name, tp in _types.resource_types(cls).items()}
    props.setdefault("id", Shape("string"))
    return props


@dataclass(frozen=True)
class CheckInfo:
    """What azure-native's ``Check`` needs to know about one resource class (§3.0).

    ``autoname`` is the strategy azure-native's schema generator gives the name property
    (``AutoNamer.AutoName`` in provider/pkg/resources/resources.go): ``random``, ``copy`` or ``uuid``.
    ``required`` are the top-level inputs without a default in the SDK's args class, the SDK's view of the
    schema's required inputs (the autonamed property is not among them: schema.go ``genMethodParameters``
    removes it from the required specs).
    """

    name_property: str | None
    has_location: bool
    api_version: str | None
    autoname: str | None = None
    required: tuple[str, ...] = ()


# Path parameters that sit before the resource provider namespace (``/subscriptions/{subscriptionId}/
# resourceGroups/{resourceGroupName}/providers/Microsoft.X/...``, extension resources under ``/{scope}/``):
# AutoName counts only the parameters after the last ``Microsoft.`` segment.
_BEFORE_NAMESPACE: Final = frozenset(
    {"resourceGroupName", "scope", "resourceUri", "resourceId", "subscriptionId"}
)


@functools.cache
def check_info(cls: type) -> CheckInfo:
    from pulumi import _types

    outputs = resource_properties(cls)
    init_args = _args_class(cls)
    inputs: dict[str, str] = {}
    optional: set[str] = set()
    if isinstance(init_args, type):
        inputs = _types.input_type_py_to_pulumi_names(init_args)
        params: Mapping[str, inspect.Parameter]
        try:
            params = inspect.signature(init_args).parameters
        except (TypeError, ValueError):
            params = {}
        optional = {
            inputs[p] for p, v in params.items() if p in inputs and v.default is not inspect.Parameter.empty
        }
    # The autonamed parameter is the last path segment's ``{<x>Name}``: a path parameter (an input, never an
    # output) that the schema made optional. ``resourceGroupName`` qualifies only on ResourceGroup itself,
    # where it is optional; everywhere else it is a required parent.
    candidates = sorted(
        wire for wire in inputs.values() if wire.endswith("Name") and wire not in outputs and wire in optional
    )
    name_property = candidates[0] if len(candidates) == 1 else None
    required = tuple(sorted(set(inputs.values()) - optional))
    return CheckInfo(
        name_property=name_property,
        has_location="location" in inputs.values(),
        api_version=_api_version(cls) if "azureApiVersion" in outputs else None,
        autoname=_autoname_kind(cls, name_property, set(inputs.values()) - set(outputs))
        if name_property
        else None,
        required=required,
    )


def _autoname_kind(cls: type, name_property: str, path_like: set[str]) -> str:
    """``AutoNamer.AutoName`` (provider/pkg/resources/resources.go) from what the SDK shows.

    The provider decides on the API path: ``uuid`` for ``format: uuid`` parameters and for
    ``roleAssignmentName``/``roleDefinitionId``; ``random`` for ``endpointName``/``customDomainName`` and for a
    path with a single parameter after its last ``Microsoft.`` segment (a top-level resource: RouteTable,
    VirtualNetwork, and ResourceGroup whose path has no namespace at all); ``copy`` (the logical name, no
    suffix) for a child resource, whose path has its parent's name parameter too (Subnet under
    ``virtualNetworks/{virtualNetworkName}/subnets/{subnetName}``, Route, SecurityRule, peerings).

    The Python SDK carries no API path, so the path parameters are read from the resource's ``get_<name>``
    function (its arguments are the GET path parameters plus query options such as ``expand``) intersected
    with the resource's input-only properties. Not visible: ``format: uuid`` and nested provider paths
    (``.../virtualMachines/{vm}/providers/Microsoft.X/y/{name}``, where the parent counts as before the
    namespace); both are rare outside the modules kmsguard reads.
    """
    if name_property in ("endpointName", "customDomainName"):
        return "random"
    if name_property in ("roleAssignmentName", "roleDefinitionId"):
        return "uuid"
    get_args = _getter_args(cls)
    path_params = (
        (get_args & path_like) if get_args is not None else {p for p in path_like if p.endswith("Name")}
    )
    parents = path_params - _BEFORE_NAMESPACE - {name_property}
    return "copy" if parents else "random"


def _py_name(name: str) -> str:
    """Pulumi's Python codegen name for a CamelCase token part (``PublicIPAddress`` → ``public_ip_address``)."""
    step = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z\d])([A-Z])", r"\1_\2", step).lower()


_ARGS_KEY: Final = re.compile(r"__args__\['(\w+)'\]")


def _getter_args(cls: type) -> set[str] | None:
    """Wire names of the arguments of the resource's ``get_<name>`` function, ``None`` if it has none."""
    module = sys.modules.get(cls.__module__.rsplit(".", 1)[0])
    function = getattr(module, "get_" + _py_name(cls.__name__), None)
    if function is None or not callable(function):
        return None
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return None
    return set(_ARGS_KEY.findall(source))


def _args_class(cls: type) -> type | None:
    """The resource's own args class: ``<Name>InitArgs``, or ``<Name>Args`` when no input type took that name."""
    module = sys.modules.get(cls.__module__)
    for attr in (f"{cls.__name__}InitArgs", f"{cls.__name__}Args"):
        found = getattr(module, attr, None)
        if isinstance(found, type) and found.__module__ == cls.__module__:
            return found
    return None


def _api_version(cls: type) -> str | None:
    versioned = _VERSIONED_MODULE.search(cls.__module__)
    if versioned is not None:
        year, month, day, preview = versioned.groups()
        return f"{year}-{month}-{day}" + ("-preview" if preview else "")
    source = _module_text(cls.__module__)
    found = _API_VERSION_DOC.search(source)
    return found.group(1) if found else None


@functools.cache
def _module_text(module_name: str) -> str:
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        return ""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


CREATE_BEFORE_DELETE: Final = "__createBeforeDelete"

# CheckRequest.AutonamingOptions.Mode (pulumi/proto/pulumi/provider.proto)
AUTONAMING_PROPOSE: Final = 0
AUTONAMING_ENFORCE: Final = 1
AUTONAMING_DISABLE: Final = 2


@dataclass(frozen=True)
class Autonaming:
    """The engine's autonaming options for one resource (sent only when ``pulumi:autonaming`` is configured)."""

    mode: int
    proposed_name: str


def unique_name(random_seed: bytes, prefix: str, randlen: int = 8) -> str:
    """``prefix`` plus ``randlen`` hex characters drawn from ``random_seed`` (``resource.NewUniqueName``).

    The Go function seeds ChaCha8 with SHA-256 of the seed; this draws from SHA-256 of the seed instead. The
    shape (logical name + 8 lowercase hex characters) is the same and the engine draws a fresh 32-byte seed
    for every resource in every preview (pkg/resource/deploy/step_generator.go, ``cryptorand.Read``), so
    the exact characters of a real provider's suffix are unknowable anyway; what matters is that the name is
    a known string of that form, deterministic for one seed.
    """
    digest = hashlib.sha256(b"kmsguard-autoname\x00" + random_seed).hexdigest()
    while len(digest) < randlen:
        digest += hashlib.sha256(digest.encode()).hexdigest()
    return prefix + digest[:randlen]


def check_inputs(
    cls: type,
    inputs: dict[str, Any],
    provider_location: Any,
    *,
    name: str | None = None,
    random_seed: bytes | None = None,
    autonaming: Autonaming | None = None,
) -> dict[str, Any]:
    """The inputs after azure-native's ``Check`` for a resource being created (§2.6, §3.0).

    After ``applyDefaults`` in provider/pkg/provider/provider.go:

    * **autoname** (``getDefaultName``) of an unset name property, by the strategy of :func:`check_info`:
      ``copy`` → the logical ``name`` (child resources: a Subnet "GatewaySubnet" without ``subnetName`` is
      named "GatewaySubnet"), no ``__createBeforeDelete``; ``random`` → ``name`` + 8 hex characters and
      ``__createBeforeDelete: true``; ``uuid`` → a UUID and the flag. Engine autonaming options come first:
      ``disable`` leaves the property unset, ``enforce`` (any strategy) and ``propose`` (random/copy) use the
      proposed name with the flag. Without ``name`` the logical name is unknown to the caller, and without
      ``random_seed`` a random name cannot be drawn: the property is then unknown (and not flagged);
    * **location** (``getDefaultLocation``) when the body has one and it is unset: the provider config's
      ``location``; else, with a ``resourceGroupName``, the resource group's location read from ARM, which
      is unknown here (the provider itself makes it unknown when the group name is unknown, and an offline
      provider cannot read a known group's location either); else it stays unset;
    * **azureApiVersion** (v3): the API version of the resource (unknown when the SDK does not document it).
    """
    info = check_info(cls)
    checked = dict(inputs)
    prop = info.name_property
    if prop is not None and not _has_value(checked.get(prop)) and info.autoname is not None:
        value, randomly = _default_name(info.autoname, name, random_seed, autonaming)
        if value is not None:
            checked[prop] = value
            if randomly:
                checked[CREATE_BEFORE_DELETE] = True
    if info.has_location and not _has_value(checked.get("location")):
        if isinstance(provider_location, str):
            checked["location"] = provider_location
        elif "resourceGroupName" in checked:
            checked["location"] = UNKNOWN
    if "azureApiVersion" in resource_properties(cls) and not _has_value(checked.get("azureApiVersion")):
        checked["azureApiVersion"] = info.api_version or UNKNOWN
    return checked


def _has_value(value: Any) -> bool:
    """``PropertyMap.HasValue``: present and not null (an unknown counts as a value)."""
    return value is not None


def _default_name(
    strategy: str, name: str | None, random_seed: bytes | None, autonaming: Autonaming | None
) -> tuple[Any, bool]:
    """``getDefaultName`` (provider/pkg/provider/provider.go) for a resource with no old inputs."""
    if autonaming is not None:
        if autonaming.mode == AUTONAMING_DISABLE:
            return None, False
        if autonaming.mode == AUTONAMING_ENFORCE:
            return autonaming.proposed_name, True
        if autonaming.mode == AUTONAMING_PROPOSE and strategy in ("random", "copy"):
            return autonaming.proposed_name, True
    if strategy == "copy":
        return (name if name is not None else UNKNOWN), False
    if random_seed is None or name is None:
        # The stand-in (no seed): the name is unknown and, as before, ``__createBeforeDelete`` is not
        # claimed for a name that was not drawn; the real engine always sends a seed.
        return UNKNOWN, False
    if strategy == "uuid":
        return str(uuid.UUID(hex=unique_name(random_seed, "", 32))), True
    return unique_name(random_seed, name), True


def check_failures(cls: type, checked: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(property, reason) for each required top-level input missing after Check.

    provider.go ``Check`` reports ``missing required property '<name>'`` for a required path parameter and
    ``validateType`` the same for a required body property (with a hint for ``location``); azure-native
    leaves ``CheckFailure.property`` empty, so the first element is always ``""``. The SDK's constructors
    already raise for missing required arguments, so this only fires for resources registered generically.
    Nested required properties and value constraints (patterns, lengths) are not visible in the SDK.
    """
    failures: list[tuple[str, str]] = []
    for prop in check_info(cls).required:
        if prop in checked:
            continue
        reason = f"missing required property '{prop}'"
        if prop == "location":
            reason += ". Either set it explicitly or configure it with 'pulumi config set azure-native:location <value>'."
        failures.append(("", reason))
    return failures


def resource_class(token: str) -> type | None:
    """The SDK class of an azure-native resource type token (``azure-native:network:Subnet``), if any.

    Versioned tokens (``azure-native:network/v20240301:RouteTable``) map to the versioned SDK module, which
    the 3.x SDK ships only as a locally generated package: absent, they are ``None`` (unknown type).
    """
    from pulumi import CustomResource

    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native" or not parts[1]:
        return None
    try:
        module = importlib.import_module("pulumi_azure_native." + parts[1].replace("/", "."))
    except ImportError:
        return None
    found = getattr(module, parts[2], None)
    if isinstance(found, type) and issubclass(found, CustomResource):
        return found
    return None


def invoke_function(token: str) -> tuple[Any, type | None] | None:
    """The SDK function and its result type for an invoke token (``azure-native:authorization:getClientConfig``)."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "azure-native" or not parts[1]:
        return None
    try:
        module = importlib.import_module("pulumi_azure_native." + parts[1].replace("/", "."))
    except ImportError:
        return None
    function = getattr(module, _py_name(parts[2]), None)
    if not callable(function):
        return None
    result = getattr(module, parts[2][0].upper() + parts[2][1:] + "Result", None)
    return function, result if isinstance(result, type) else None


def invoke_outputs(token: str, args: Mapping[str, Any], *, unknowns: bool) -> dict[str, Any]:
    """What an offline preview answers for an invoke, which the real provider would ask ARM (or its
    credentials, for ``getClientConfig``).

    The faithful answer is "nothing is known": every property of the function's result type unknown
    (``unknowns=True``), so output-form invokes flow on as unknowns. Neither engine can hand that to a
    program: the SDK's result types type-check their fields, so a plain invoke with unknown fields raises
    ``TypeError: Expected argument ... to be a str`` in the program; and the engine
    unmarshals a *provider's* invoke return with ``RejectUnknowns: true`` (pkg/resource/plugin/
    provider_plugin.go ``provider.Invoke``), so a provider returning unknowns fails the invoke and the
    program with it. A provider therefore answers ``unknowns=False``: the empty map, which is the engine's
    own answer for an invoke whose provider is not fully configured (same function, ``if !pcfg.known``) —
    every result property absent (``None`` in the SDK's result object), never an invented value.
    """
    del args
    if not unknowns:
        return {}
    found = invoke_function(token)
    result_type = found[1] if found is not None else None
    if result_type is None:
        return {}
    from pulumi import _types

    try:
        names = _types.output_type_types(result_type)
    except (AttributeError, TypeError):
        return {}
    return {name: UNKNOWN for name in sorted(names)}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def contains_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


def reveal(value: Any) -> Any:
    """The value with every secret unwrapped (what a provider receives)."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def preview_outputs(cls: type, inputs: dict[str, Any]) -> dict[str, Any]:
    """azure-native's ``PreviewOutputs(inputs)`` for a resource being created (§1.6)."""
    result: dict[str, Any] = {}
    for name, shape in sorted(resource_properties(cls).items()):
        if name not in inputs:
            result[name] = UNKNOWN
            continue
        value = project(reveal(inputs[name]), shape)
        result[name] = {SIG_KEY: SECRET_SIG, "value": value} if contains_secret(inputs[name]) else value
    return result


def project(value: Any, shape: Shape) -> Any:
    """One ``previewOutputValue`` step: an input value onto an output shape."""
    if shape.kind == "any":
        return value
    if value == UNKNOWN:
        return UNKNOWN
    kind = shape.kind
    if kind == "string":
        return value if isinstance(value, str) else UNKNOWN
    if kind == "boolean":
        return value if isinstance(value, bool) else UNKNOWN
    if kind in ("integer", "number"):
        return value if isinstance(value, int | float) and not isinstance(value, bool) else UNKNOWN
    if kind == "array" and isinstance(value, list) and shape.item is not None:
        return [project(v, shape.item) for v in value]
    if kind == "map" and isinstance(value, dict) and shape.item is not None:
        return {k: project(v, shape.item) for k, v in value.items()}
    if kind == "object" and isinstance(value, dict) and shape.cls is not None:
        props = object_properties(shape.cls)
        return {k: project(value[k], s) if k in value else UNKNOWN for k, s in sorted(props.items())}
    if kind == "untyped" and isinstance(value, str | int | float | bool):
        return value
    return UNKNOWN
