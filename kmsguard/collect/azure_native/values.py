"""Pulumi property values as the collector reads them: unknowns, secrets, typed reads, Problems.

Every property bag is decoded once (``decode``) before anything reads it, so the unknown sentinel
is recognised before any value is used (pulumi-mechanics §1.8: it can sit at any depth, in place
of a value of any type, and is always a *string*):

* any of the engine's unknown sentinels → ``UNK``;
* a secret envelope ``{"4dabf181…": "1b470612…", "value"|"plaintext"|"ciphertext": …}`` → its
  leaves wrapped in ``Secret`` (§1.8 for the policy wire, §4.2 for stack exports); a secret whose
  value is not available (``ciphertext``, or the ``"[secret]"`` placeholder of §4.1/§4.2) is ``UNK``.

``Reader`` then reads typed values for one resource. It never raises: a value of the wrong type
becomes an ``Unknown`` in the model plus a ``Problem`` naming the resource and property path, and
messages never contain values (so a secret can never leak into a Problem or an ``Unknown``).

Preview projections. In ``AnalyzeStack`` during a preview, a created or updated resource's
properties are its inputs *projected onto the output shape*, and every output property that was
not an input is the unknown sentinel — nested fields of given objects included (azure-native
``PreviewOutputs``; pulumi-mechanics §0 fact 2, §1.6). So in such a bag a sentinel in an optional
field usually means "not set", not "set to a value unknown until deployment". ``Reader`` tells
the two apart with what the engine gives (§1.6):

* a *top-level* optional property whose sentinel comes with property dependencies was computed from
  other resources (``route_table=rt.id.apply(...)``), so it is a real unknown; without
  dependencies it reads as not set;
* a *nested* optional field (``subnets[0].natGateway``) reads as not set: the SDK sends the objects
  the program builds with their unknown leaves inside (``{"id": <unknown>}``), so a whole nested
  object or flag is unknown only when the program computes it whole with ``apply``, which the
  top-level dependencies cannot tell apart from the fields it left out (a known limit);
* reference ids, IP addresses and other *leaf* values that only come from other resources' outputs
  always read as unknown, and so do list elements (a projected list exists only because the
  program gave it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

from kmsguard import protocol
from kmsguard.model import Problem, Unknown
from kmsguard.model.network import Strs

# §1.8 and §4.1/§4.2: the sentinels, signatures and the placeholder are kmsguard.protocol's; the
# collector only needs the set of sentinels, whatever their type.
UNKNOWN_STRING: Final = protocol.UNKNOWN_STRING
UNKNOWN_SENTINELS: Final = frozenset(protocol.UNKNOWN_SENTINELS)
SIG_KEY: Final = protocol.SIG_KEY
SECRET_SIG: Final = protocol.SECRET_SIG
RESOURCE_REF_SIG: Final = protocol.RESOURCE_REF_SIG
SECRET_PLACEHOLDER: Final = protocol.SECRET_PLACEHOLDER
MAX_DEPTH: Final = 64


class _Unk:
    """A decoded unknown value (any of the sentinels)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unknown>"


UNK: Final = _Unk()


@dataclass(frozen=True, slots=True)
class Secret:
    """A leaf value that came from a secret: usable for analysis, never for display."""

    value: str | float | int | bool

    def __repr__(self) -> str:
        return f"Secret({SECRET_PLACEHOLDER})"


Node: TypeAlias = Any
"""A decoded value: dict[str, Node] | list[Node] | str | float | int | bool | None | UNK | Secret."""


# Strings that decode to UNK: the sentinels and the secret placeholder.
_UNK_STRINGS: Final = UNKNOWN_SENTINELS | {SECRET_PLACEHOLDER}
_PLAIN_SCALARS: Final = (bool, int, float, type(None))


def decode(value: object, secret: bool = False, depth: int = 0) -> Node:
    """Plain Python values with unknowns → ``UNK`` and secret leaves → ``Secret`` (see module doc)."""
    return _decode(value, secret, depth) if secret else _decode_plain(value, depth)


def _decode_plain(value: object, depth: int) -> Node:
    """``decode`` outside a secret, for the exact JSON types the SDK builds.

    Every property tree is copied through here, so strings, the common leaves, are decoded inline
    rather than by a call each; any other type, a signature object, and the depth limit take the
    general path, which gives the same result."""
    if depth >= MAX_DEPTH:
        return _decode(value, False, depth)
    kind = type(value)
    if kind is str:
        return UNK if value in _UNK_STRINGS else value
    if kind is dict:
        assert isinstance(value, dict)
        if SIG_KEY in value:
            return _decode(value, False, depth)
        below = depth + 1
        return {
            (k if type(k) is str else str(k)): (UNK if v in _UNK_STRINGS else v)
            if type(v) is str
            else _decode_plain(v, below)
            for k, v in value.items()
        }
    if kind is list:
        assert isinstance(value, list)
        below = depth + 1
        return [
            (UNK if v in _UNK_STRINGS else v) if type(v) is str else _decode_plain(v, below) for v in value
        ]
    if kind in _PLAIN_SCALARS:
        return value
    return _decode(value, False, depth)


def _decode(value: object, secret: bool, depth: int) -> Node:
    """``decode`` for any value: secrets, signature objects, other types, the depth limit."""
    if depth > MAX_DEPTH:
        return UNK
    if isinstance(value, str):
        if value in _UNK_STRINGS:
            return UNK
        return Secret(value) if secret else value
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return Secret(value) if secret else value
    if isinstance(value, Mapping):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            if "value" in value:
                return decode(value["value"], True, depth + 1)
            plaintext = value.get("plaintext")
            if isinstance(plaintext, str):
                try:
                    return decode(json.loads(plaintext), True, depth + 1)
                except ValueError:
                    return UNK
            return UNK  # ciphertext only: the value cannot be known here
        if sig == RESOURCE_REF_SIG:
            # §4.2: a resource reference serialises as its id when known, else its URN.
            ref_id = value.get("id")
            return decode(
                ref_id if isinstance(ref_id, str) and ref_id else value.get("urn"), secret, depth + 1
            )
        if sig is not None:
            return UNK  # assets and archives: nothing the network model reads
        return {str(k): decode(v, secret, depth + 1) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [decode(v, secret, depth + 1) for v in value]
    return UNK


def peel(node: Node) -> Node:
    return node.value if isinstance(node, Secret) else node


def is_unk(node: Node) -> bool:
    return node is UNK


def type_name(node: Node) -> str:
    """The JSON type of a value, for messages (never the value itself)."""
    node = peel(node)
    if isinstance(node, bool):
        return "a boolean"
    if isinstance(node, int | float):
        return "a number"
    if isinstance(node, str):
        return "a string"
    if isinstance(node, dict):
        return "an object"
    if isinstance(node, list):
        return "a list"
    return "null" if node is None else "an unsupported value"


Presence = Literal["optional", "leaf", "required"]
"""How a missing or unknown field reads:

* ``optional``: missing → absent; unknown → absent in a preview projection unless its top-level
  property has property dependencies, else unknown;
* ``leaf``: a value only other resources provide (ids, IPs): missing → absent, unknown → unknown;
* ``required``: missing → a Problem, unknown → unknown.
"""

_MISSING: Final = object()


def top_of(path: str) -> str:
    """The top-level property of a path (``routes[2].nextHopIpAddress`` → ``routes``)."""
    # str.find runs in C: this is asked for every unset field of every projected rule and route
    dot, bracket = path.find("."), path.find("[")
    ends = [i for i in (dot, bracket) if i >= 0]
    return path[: min(ends)] if ends else path


@dataclass
class Reader:
    """Typed reads of one resource's decoded properties."""

    name: str  # logical name, for Problems
    urn: str
    kind: str
    projected: bool
    property_dependencies: Mapping[str, tuple[str, ...]]
    problems: list[Problem] = field(default_factory=list)

    # --- problems and unknowns -------------------------------------------------------------------

    def problem(self, path: str, message: str) -> Unknown:
        self.problems.append(Problem(self.name, path, message, self.urn))
        return Unknown(f"{path} of {self.kind} {self.name} is invalid ({message})")

    def unknown(self, path: str) -> Unknown:
        return Unknown(f"{path} of {self.kind} {self.name} is not known until deployment")

    def has_deps(self, path: str) -> bool:
        return bool(self.property_dependencies.get(top_of(path)))

    def _missing_or_unknown(self, node: object, path: str, presence: Presence) -> Unknown | None:
        if node is _MISSING or node is None:
            if presence == "required":
                return self.problem(path, "required property is missing")
            return None
        # node is UNK; a path with a separator is a nested field (``top_of(path) != path``)
        if (
            presence == "optional"
            and self.projected
            and ("." in path or "[" in path or not self.has_deps(path))
        ):
            return None  # a preview projection: the program did not set it (module doc)
        return self.unknown(path)

    def get(self, obj: Mapping[str, Node], key: str, path: str, presence: Presence = "optional") -> Node:
        """The raw node of ``obj[key]``; ``None`` or an ``Unknown`` when absent or unknown."""
        node = obj.get(key, _MISSING)
        if node is _MISSING or node is None or node is UNK:
            return self._missing_or_unknown(node, path, presence)
        return node

    # --- typed conversions of a node that is present ---------------------------------------------

    def to_str(self, node: Node, path: str) -> str | Unknown:
        if type(node) is str:
            return node
        if node is UNK:
            return self.unknown(path)
        if isinstance(node, Unknown):
            return node
        value = peel(node)
        if isinstance(value, str):
            return value
        return self.problem(path, f"expected a string, got {type_name(node)}")

    def to_bool(self, node: Node, path: str) -> bool | Unknown:
        if node is UNK:
            return self.unknown(path)
        if isinstance(node, Unknown):
            return node
        value = peel(node)
        if isinstance(value, bool):
            return value
        return self.problem(path, f"expected a boolean, got {type_name(node)}")

    def to_int(self, node: Node, path: str) -> int | Unknown:
        """§1.8: numbers arrive as floats (priority 100 → 100.0); a fraction is a Problem."""
        if node is UNK:
            return self.unknown(path)
        if isinstance(node, Unknown):
            return node
        value = peel(node)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self.problem(path, f"expected a number, got {type_name(node)}")
        if isinstance(value, float):
            if not math.isfinite(value) or not value.is_integer():
                return self.problem(path, "expected a whole number")
            return int(value)
        return value

    def to_dict(self, node: Node, path: str) -> dict[str, Node] | Unknown:
        if node is UNK:
            return self.unknown(path)
        if isinstance(node, Unknown):
            return node
        if isinstance(node, dict):
            return node
        return self.problem(path, f"expected an object, got {type_name(node)}")

    def to_list(self, node: Node, path: str) -> list[Node] | Unknown:
        if node is UNK:
            return self.unknown(path)
        if isinstance(node, Unknown):
            return node
        if isinstance(node, list):
            return node
        return self.problem(path, f"expected a list, got {type_name(node)}")

    # --- field reads -------------------------------------------------------------------------------

    def text(
        self, obj: Mapping[str, Node], key: str, path: str, presence: Presence = "optional"
    ) -> str | Unknown | None:
        node = self.get(obj, key, path, presence)
        return node if node is None or isinstance(node, Unknown) else self.to_str(node, path)

    def flag(
        self, obj: Mapping[str, Node], key: str, path: str, presence: Presence = "optional"
    ) -> bool | Unknown | None:
        node = self.get(obj, key, path, presence)
        return node if node is None or isinstance(node, Unknown) else self.to_bool(node, path)

    def number(
        self, obj: Mapping[str, Node], key: str, path: str, presence: Presence = "optional"
    ) -> int | Unknown | None:
        node = self.get(obj, key, path, presence)
        return node if node is None or isinstance(node, Unknown) else self.to_int(node, path)

    def mapping(
        self, obj: Mapping[str, Node], key: str, path: str, presence: Presence = "optional"
    ) -> dict[str, Node] | Unknown | None:
        node = self.get(obj, key, path, presence)
        return node if node is None or isinstance(node, Unknown) else self.to_dict(node, path)

    def seq(
        self, obj: Mapping[str, Node], key: str, path: str, presence: Presence = "optional"
    ) -> list[Node] | Unknown | None:
        node = self.get(obj, key, path, presence)
        return node if node is None or isinstance(node, Unknown) else self.to_list(node, path)

    def strs(
        self, obj: Mapping[str, Node], key: str, path: str, presence: Presence = "optional"
    ) -> Strs | None:
        """A list of strings (``None`` when absent); each item may be unknown."""
        items = self.seq(obj, key, path, presence)
        if items is None or isinstance(items, Unknown):
            return items
        return tuple(self.to_str(v, f"{path}[{i}]") for i, v in enumerate(items))

    def merged(self, obj: Mapping[str, Node], single: str, plural: str, path: str) -> Strs:
        """ARM's single/plural pairs (``sourceAddressPrefix`` / ``sourceAddressPrefixes``) → one tuple.

        ARM rejects a rule that sets both; reading both as one list could widen an Allow, so that
        is a Problem and an unknown."""
        many = self.strs(obj, plural, f"{path}{plural}")
        one = self.text(obj, single, f"{path}{single}")
        if isinstance(many, tuple) and many and one is not None:
            return self.problem(f"{path}{plural}", f"both {single} and {plural} are set")
        if isinstance(many, Unknown):
            return many
        if many:
            return many
        if isinstance(one, Unknown):
            return one
        return () if one is None else (one,)

    # --- reads under a path prefix: the path is built only when a message needs it ----------------

    def text_at(
        self, obj: Mapping[str, Node], key: str, prefix: str, presence: Presence
    ) -> str | Unknown | None:
        """``text(obj, key, prefix + key, presence)``."""
        node = obj.get(key)
        if type(node) is str:
            return node
        return self.text(obj, key, f"{prefix}{key}", presence)

    def number_at(
        self, obj: Mapping[str, Node], key: str, prefix: str, presence: Presence
    ) -> int | Unknown | None:
        """``number(obj, key, prefix + key, presence)``."""
        node = obj.get(key)
        if type(node) is int:
            return node
        if type(node) is float and math.isfinite(node) and node.is_integer():
            return int(node)
        return self.number(obj, key, f"{prefix}{key}", presence)

    def merged_at(self, obj: Mapping[str, Node], single: str, plural: str, prefix: str) -> Strs:
        """``merged(obj, single, plural, prefix)`` with the common shapes read directly."""
        many, one = obj.get(plural), obj.get(single)
        if many is UNK and self._unset_in_projection(prefix, plural):
            many = None
        if one is UNK and self._unset_in_projection(prefix, single):
            one = None
        if many is None:
            if one is None:
                return ()
            if type(one) is str:
                return (one,)
        elif one is None and type(many) is list and all(type(v) is str for v in many):
            return tuple(many)
        return self.merged(obj, single, plural, prefix)

    def _unset_in_projection(self, prefix: str, key: str) -> bool:
        """Whether an unknown optional ``prefix + key`` reads as not set (``_missing_or_unknown``),
        told without building the path; ``False`` when only the path can tell."""
        if not self.projected:
            return False
        if "." in prefix or "[" in prefix:
            return True  # a nested field
        return not prefix and not self.property_dependencies.get(key)

    def label(self, obj: Mapping[str, Node], key: str, path: str, fallback: str) -> str:
        """A display name: the value when it is a plain known string, else ``fallback``.

        Secret names display as ``[secret]`` (DESIGN: never show a secret in a trace)."""
        node = obj.get(key)
        if isinstance(node, Secret):
            return SECRET_PLACEHOLDER
        if isinstance(node, str) and node:
            return node
        if node is not None and node is not UNK and not isinstance(node, str):
            self.problem(path, f"expected a string, got {type_name(node)}")
        return fallback
