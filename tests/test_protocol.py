"""kmsguard.protocol: the wire facts, the URN helpers, and the copies that must not drift from them.

The provider, the stand-in's program host and the language host run in the program's interpreter and
never import kmsguard, so each keeps its own copy of what it needs; these tests read those copies from
the source and hold them equal to kmsguard.protocol's.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import kmsguard
from kmsguard import protocol

ROOT = Path(kmsguard.__file__).resolve().parent
# Run in the program's interpreter: stdlib, pulumi and their own package only.
ISOLATED = [
    ROOT / "provider",
    ROOT / "engine" / "mocks" / "host",
    ROOT / "engine" / "pulumi_cli" / "langhost",
]
SIGNATURES = {
    protocol.SIG_KEY,
    protocol.SECRET_SIG,
    protocol.RESOURCE_REF_SIG,
    protocol.OUTPUT_VALUE_SIG,
}
_HEX32 = re.compile(r"[0-9a-f]{32}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _isolated_files() -> list[Path]:
    return sorted(p for d in ISOLATED for p in d.rglob("*.py"))


def _constants(path: Path) -> dict[str, str]:
    """The module-level string constants of ``path`` (``NAME = "..."`` or ``NAME: Final = "..."``)."""
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        elif (
            isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        ):
            target, value = node.targets[0].id, node.value
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found[target] = value.value
    return found


def _string_literals(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


# --- the copies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name", "expected"),
    [
        (ROOT / "provider" / "azure_native.py", "UNKNOWN", protocol.UNKNOWN_STRING),
        (ROOT / "provider" / "azure_native.py", "SIG_KEY", protocol.SIG_KEY),
        (ROOT / "provider" / "azure_native.py", "SECRET_SIG", protocol.SECRET_SIG),
        (ROOT / "engine" / "mocks" / "host" / "monitor.py", "_RESOURCE_SIG", protocol.RESOURCE_REF_SIG),
        (ROOT / "engine" / "mocks" / "host" / "monitor.py", "_OUTPUT_SIG", protocol.OUTPUT_VALUE_SIG),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_isolated_copies_equal_protocol(path: Path, name: str, expected: str) -> None:
    assert _constants(path).get(name) == expected


def test_every_wire_literal_of_the_isolated_processes_is_a_protocol_fact() -> None:
    # A new copy (or a typo in one) that the table above does not name still has to be a known fact.
    strays = {
        f"{path.relative_to(ROOT)}: {text!r}"
        for path in _isolated_files()
        for text in _string_literals(path)
        if (_UUID.fullmatch(text) and text not in protocol.UNKNOWN_SENTINELS)
        or (_HEX32.fullmatch(text) and text not in SIGNATURES)
    }
    assert not strays


def test_the_isolated_processes_never_import_kmsguard() -> None:
    for path in _isolated_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            assert not [n for n in names if n.split(".")[0] == "kmsguard"], path


def test_provider_urn_parsing_agrees_with_protocol() -> None:
    from kmsguard.provider import server

    for urn in (
        "urn:pulumi:dev::net::azure-native:network:RouteTable::rt",
        "urn:pulumi:dev::net::pkg:index:Hub$azure-native:network:Subnet::hub-app",
        "not-a-urn",
    ):
        assert server._logical_name(urn, "") == protocol.logical_name(urn)
        assert server._type_of(urn, "") == protocol.urn_type(urn)


def test_nothing_else_in_kmsguard_spells_the_wire_facts() -> None:
    facts = {protocol.UNKNOWN_STRING, protocol.SIG_KEY, protocol.SECRET_SIG, protocol.RESOURCE_REF_SIG}
    isolated = set(_isolated_files())
    spelled = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if path not in isolated and path.name != "protocol.py" and _string_literals(path) & facts
    )
    assert spelled == []


# --- the helpers ---------------------------------------------------------------------------------

NESTED = (
    "urn:pulumi:dev::net::pkg:index:Hub$azure-native:network:VirtualNetwork$azure-native:network:Subnet::app"
)


def test_urn_parts() -> None:
    assert protocol.is_urn(NESTED)
    assert protocol.logical_name(NESTED) == "app"
    assert protocol.qualified_type(NESTED).endswith("$azure-native:network:Subnet")
    assert protocol.urn_type(NESTED) == "azure-native:network:Subnet"
    assert protocol.parent_types(NESTED) == ("pkg:index:Hub", "azure-native:network:VirtualNetwork")
    assert protocol.stack_and_project(NESTED) == ("dev", "net")


@pytest.mark.parametrize(
    "text", ["", "rt", "a::b", "urn:pulumi:dev::net::t", "urn:x:dev::net::t::n", 3, None]
)
def test_not_urns(text: object) -> None:
    assert not protocol.is_urn(text)
    if isinstance(text, str) and text.count("::") < 3:
        assert protocol.urn_type(text) == protocol.qualified_type(text) == ""
        assert protocol.parent_types(text) == ()
        assert protocol.stack_and_project(text) == ("", "")


def test_logical_name_of_a_bare_name_is_the_name() -> None:
    assert protocol.logical_name("rt-hub") == "rt-hub"


def test_provider_reference() -> None:
    provider = "urn:pulumi:dev::net::pulumi:providers:azure-native::default_3_0_0"
    assert protocol.provider_ref_urn(f"{provider}::04da6b54-80e4-46f7-96ec-b56ff0331ba9") == provider
    assert protocol.provider_ref_urn(provider) == ""
    assert protocol.provider_ref_urn("") == ""


def test_unknown_sentinels_name_their_types() -> None:
    assert protocol.UNKNOWN_SENTINELS[protocol.UNKNOWN_STRING] == "string"
    assert len(set(protocol.UNKNOWN_SENTINELS.values())) == len(protocol.UNKNOWN_SENTINELS) == 7
