"""The Pulumi wire facts kmsguard reads and writes, in one place (docs/pulumi-mechanics.md §1.8, §4).

Standard library only, and no kmsguard import: the pack, the collectors, the engines and the reports
all read these, and none of them should pull in another's dependencies to do it.

The processes that run in the Pulumi program's interpreter (``kmsguard.provider``,
``kmsguard.engine.mocks.host``, ``kmsguard.engine.pulumi_cli.langhost``) cannot import kmsguard, so
they keep their own copies; tests/test_protocol.py holds those copies equal to these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "OUTPUT_VALUE_SIG",
    "RESOURCE_REF_SIG",
    "SECRET_PLACEHOLDER",
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN_SENTINELS",
    "UNKNOWN_STRING",
    "is_urn",
    "logical_name",
    "parent_types",
    "provider_ref_urn",
    "qualified_type",
    "stack_and_project",
    "urn_type",
]

# The special signature key of an object that is not plain data, and the signatures kmsguard meets
# under it (sdk/go/common/resource/properties.go, mirrored in pulumi_policy/deserialize.py).
SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
# {SIG_KEY: SECRET_SIG, "value"|"plaintext"|"ciphertext": ...}: a secret, on the wire and in exports.
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
# {SIG_KEY: RESOURCE_REF_SIG, "urn": ..., "id": ...}: a resource reference.
RESOURCE_REF_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
# {SIG_KEY: OUTPUT_VALUE_SIG, "value"?, "secret"?, "dependencies"?}: an output value (the SDK's
# monitor protocol; only the stand-in's program host meets it).
OUTPUT_VALUE_SIG: Final = "d0e6a833031e9bbcd3f4e8bde6ca49a4"

# §1.8: the string sentinel is the one the engine (and the Python SDK feeding it) sends for every
# unknown, whatever the real type.
UNKNOWN_STRING: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# Every typed sentinel pulumi_policy/proxy.py treats as unknown, with the type name it reports in
# "<type> value at .<path> can't be known during preview".
UNKNOWN_SENTINELS: Final[Mapping[str, str]] = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7": "boolean",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421": "number",
    UNKNOWN_STRING: "string",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2": "Array",
    "030794c1-ac77-496b-92df-f27374a8bd58": "asset",
    "e48ece36-62e2-4504-bad9-02848725956a": "archive",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff": "Object",
}

# §4.1/§4.2: what preview JSON and `pulumi policy analyze --file` show for a secret they cannot
# decrypt; kmsguard shows the same wherever a secret would otherwise appear.
SECRET_PLACEHOLDER: Final = "[secret]"

# urn:pulumi:<stack>::<project>::<parent type>$...$<type>::<name> (§4.2)
_URN_PREFIX: Final = "urn:pulumi:"
_SEP: Final = "::"


def is_urn(text: object) -> bool:
    """Whether ``text`` has the shape of a Pulumi URN: the prefix and all four parts."""
    return isinstance(text, str) and text.startswith(_URN_PREFIX) and text.count(_SEP) >= 3


def logical_name(urn: str) -> str:
    """The resource's logical name: the URN's last part (the whole text when it has no ``::``)."""
    return urn.rsplit(_SEP, 1)[-1]


def qualified_type(urn: str) -> str:
    """The ``$``-joined type chain (parents' types, then the resource's); "" when not a URN."""
    parts = urn.split(_SEP)
    return parts[2] if len(parts) >= 4 else ""


def urn_type(urn: str) -> str:
    """The resource's own type token, the last of the chain; "" when not a URN."""
    return qualified_type(urn).rsplit("$", 1)[-1]


def parent_types(urn: str) -> tuple[str, ...]:
    """The types of the resource's parents, outermost first (the stack's own type included)."""
    return tuple(qualified_type(urn).split("$")[:-1])


def stack_and_project(urn: str) -> tuple[str, str]:
    """The stack and project names a URN was made for ("" for each when not a URN)."""
    if not is_urn(urn):
        return "", ""
    stack, project = urn.removeprefix(_URN_PREFIX).split(_SEP)[:2]
    return stack, project


def provider_ref_urn(ref: str) -> str:
    """The provider's URN in a provider reference ``<provider urn>::<provider id>`` (§4.2); "" when
    ``ref`` is not one (it needs the URN's four parts and the id)."""
    return ref.rsplit(_SEP, 1)[0] if ref.count(_SEP) >= 4 else ""
