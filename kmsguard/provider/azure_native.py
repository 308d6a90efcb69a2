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
import inspect
import re
import sys
import typing
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
    """What azure-native's ``Check`` needs to know about one resource class (§3.0)."""

    name_property: str | None
    has_location: bool
    api_version: str | None


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
    candidates = sorted(
        wire
        for wire in inputs.values()
        if wire.endswith("Name") and wire != "resourceGroupName" and wire not in outputs and wire in optional
    )
    return CheckInfo(
        name_property=candidates[0] if len(candidates) == 1 else None,
        has_location="location" in inputs.values(),
        api_version=_api_version(cls) if "azureApiVersion" in outputs else None,
    )


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


def check_inputs(cls: type, inputs: dict[str, Any], provider_location: Any) -> dict[str, Any]:
    """The inputs after ``Check`` as Analyze sees them (§2.6, §3.0).

    * an unset name property gets an autoname; its random suffix cannot be known before the provider
      runs, so it is unknown here (and ``__createBeforeDelete`` is not claimed, because whether the
      autoname is random or a copy of the logical name is not visible in the SDK);
    * an unset ``location`` gets the provider's ``location`` when that is known; otherwise the provider
      would read the resource group's location from ARM, which an offline run cannot, so it is unknown;
    * ``azureApiVersion`` is set (unknown when the SDK does not document it).
    """
    info = check_info(cls)
    checked = dict(inputs)
    if info.name_property is not None and info.name_property not in checked:
        checked[info.name_property] = UNKNOWN
    if info.has_location and "location" not in checked:
        checked["location"] = provider_location if isinstance(provider_location, str) else UNKNOWN
    if "azureApiVersion" in resource_properties(cls):
        checked["azureApiVersion"] = info.api_version or UNKNOWN
    return checked


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
