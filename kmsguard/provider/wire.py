"""``Struct`` ⇄ JSON-shaped Python values, for the offline providers and the stand-in's monitor (which
loads this package as ``_kmsguard_provider``). Walked by hand rather than through protobuf's
``json_format``, which refuses NaN and infinities that a program may pass and the engine accepts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A ``Struct`` as JSON-shaped Python values (numbers stay floats, as on the wire)."""
    return {key: _value(struct.fields[key]) for key in struct.fields}


def _value(value: struct_pb2.Value) -> Any:
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
        return struct_to_dict(value.struct_value)
    return [_value(item) for item in value.list_value.values]


def dict_to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct
