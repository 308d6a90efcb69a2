"""Python values <-> ``google.protobuf.Struct`` in exactly the encoding the Pulumi engine uses.

The engine marshals resource properties for analyzers with ``KeepUnknowns=true, KeepSecrets=true``
(docs/pulumi-mechanics.md §1.8). That encoding has no native notion of "unknown" or "secret", so
both travel as ordinary JSON values that pulumi_policy recognises on the other side:

* an unknown is a *string* sentinel; the engine (and the Python SDK feeding it) always picks the
  string one, ``04da6b54-80e4-46f7-96ec-b56ff0331ba9``, whatever the real type (§1.8, §0 fact 3);
* a secret is an object ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  "value": <v>}``;
* every number is a protobuf double, so an ``int`` arrives in the pack as a ``float``.

On the Python side the driver represents these with :data:`UNKNOWN` (an :class:`Unknown`) and
:class:`Secret`, so tests and callers never have to spell the sentinels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import struct_pb2

from kmsguard.errors import KmsguardError
from kmsguard.protocol import SECRET_SIG, SIG_KEY, UNKNOWN_SENTINELS
from kmsguard.protocol import UNKNOWN_STRING as UNKNOWN_STRING_SENTINEL

__all__ = [
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN",
    "UNKNOWN_SENTINELS",
    "UNKNOWN_STRING_SENTINEL",
    "Secret",
    "Unknown",
    "decode_struct",
    "decode_value",
    "encode_struct",
    "encode_value",
]

# The signature key, the secret signature and the unknown sentinels are kmsguard.protocol's, re-exported
# here for the callers that speak the wire through this module.


@dataclass(frozen=True)
class Unknown:
    """A value that is not known during preview; encodes to one of the sentinel strings.

    Use the :data:`UNKNOWN` singleton (string sentinel, what the engine really sends). Other typed
    sentinels exist only so that a decoded value re-encodes byte-for-byte.
    """

    sentinel: str = UNKNOWN_STRING_SENTINEL

    def __post_init__(self) -> None:
        if self.sentinel not in UNKNOWN_SENTINELS:
            raise ValueError(f"not an unknown sentinel: {self.sentinel!r}")

    @property
    def type_name(self) -> str:
        """The type pulumi_policy names in its "<type> value at .<path>" message."""
        return UNKNOWN_SENTINELS[self.sentinel]

    def __repr__(self) -> str:
        return "UNKNOWN" if self.sentinel == UNKNOWN_STRING_SENTINEL else f"Unknown({self.type_name})"


UNKNOWN: Final = Unknown()


@dataclass(frozen=True)
class Secret:
    """A secret value. The pack sees the plain value (pulumi_policy unwraps it, §1.8)."""

    value: Any


def encode_value(value: Any) -> Any:
    """Turn a Python value into the JSON-shaped value the engine would put on the wire.

    The result contains only ``None``, ``bool``, ``float``, ``str``, ``list`` and ``dict``.
    """
    return _encode(value, "")


def _encode(value: Any, path: str) -> Any:
    if isinstance(value, Unknown):
        return value.sentinel
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": _encode(value.value, f"{path}.value")}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        # §1.8: the engine's numbers are float64; a Struct can only carry doubles. NaN/inf cannot be
        # written as JSON by the pack's json_format.MessageToDict, so refuse them here.
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise KmsguardError(f"property {path or '.'}: {value!r} cannot be sent to a policy pack")
        return number
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise KmsguardError(f"property {path or '.'}: key {key!r} is not a string")
            out[key] = _encode(item, f"{path}.{key}")
        return out
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_encode(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise KmsguardError(
        f"property {path or '.'}: values of type {type(value).__name__} cannot be sent to a policy pack"
    )


def encode_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Encode a property map as a ``google.protobuf.Struct`` (what ``properties`` fields carry)."""
    struct = struct_pb2.Struct()
    encoded = _encode(props, "")
    if not isinstance(encoded, dict):
        raise KmsguardError("properties must be a mapping")
    struct.update(encoded)
    return struct


def decode_value(value: Any) -> Any:
    """Inverse of :func:`encode_value`: sentinels become :class:`Unknown`, secret objects :class:`Secret`.

    Numbers stay ``float`` (the wire cannot tell ``1`` from ``1.0``). Objects with another signature
    (assets, archives) are kept as plain dicts so they re-encode unchanged.
    """
    if isinstance(value, str):
        if value == UNKNOWN_STRING_SENTINEL:
            return UNKNOWN
        if value in UNKNOWN_SENTINELS:
            return Unknown(value)
        return value
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            if "value" not in value:
                raise KmsguardError("secret without a value on the wire")
            return Secret(decode_value(value["value"]))
        return {key: decode_value(item) for key, item in value.items()}
    return value


def decode_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Decode a ``google.protobuf.Struct`` into Python values (see :func:`decode_value`)."""
    return {key: decode_value(_struct_value_to_python(struct.fields[key])) for key in struct.fields}


def _struct_value_to_python(value: struct_pb2.Value) -> Any:
    # Walk the Value oneof ourselves instead of json_format.MessageToDict, which refuses NaN/inf.
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
        fields = value.struct_value.fields
        return {key: _struct_value_to_python(fields[key]) for key in fields}
    return [_struct_value_to_python(item) for item in value.list_value.values]
