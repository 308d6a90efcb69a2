"""Import layering: no import circle inside ``kmsguard.collect``, and the leaf modules stay leaves.

The graph is read from the source (``ast``), counting every import: module level, under
``TYPE_CHECKING`` and inside functions. A circle through a ``TYPE_CHECKING`` or a lazy import does
not fail at run time, which is why it can come back unnoticed; this test is what notices.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import kmsguard

ROOT = Path(kmsguard.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(package: str) -> dict[str, Path]:
    base = ROOT.parent.joinpath(*package.split("."))
    return {_module_name(p): p for p in sorted(base.rglob("*.py"))}


ALL = _modules("kmsguard")


def _imports(name: str, path: Path) -> set[str]:
    """The kmsguard modules ``name`` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            # `from package import module` imports the module, not only the package.
            found.update(f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in ALL)
    return {m for m in found if m in ALL}


def _cycle(nodes: dict[str, Path]) -> list[str] | None:
    graph = {n: sorted(_imports(n, p) & nodes.keys()) for n, p in nodes.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in graph[n]:
            if state.get(m) == 1:
                return [*path[path.index(m) :], m]
            if m not in state and (found := visit(m)) is not None:
                return found
        path.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)) is not None:
            return found
    return None


def test_the_graph_reader_sees_type_checking_and_relative_imports() -> None:
    collector = _imports(
        "kmsguard.collect.azure_native.collector", ALL["kmsguard.collect.azure_native.collector"]
    )
    assert "kmsguard.collect.resource" in collector  # under TYPE_CHECKING
    assert "kmsguard.engine.wire" in _imports("kmsguard.engine.driver", ALL["kmsguard.engine.driver"])


def test_no_import_circle_in_collect() -> None:
    assert _cycle(_modules("kmsguard.collect")) is None


def test_resource_module_imports_nothing_from_collect() -> None:
    # kmsguard.protocol (standard library only) for the secret signatures merge_inputs re-marks.
    assert _imports("kmsguard.collect.resource", ALL["kmsguard.collect.resource"]) <= {"kmsguard.protocol"}


@pytest.mark.parametrize("leaf", ["kmsguard.protocol", "kmsguard.engine.types", "kmsguard.engine.errors"])
def test_leaf_modules_import_no_other_layer(leaf: str) -> None:
    allowed = {"kmsguard", "kmsguard.errors", "kmsguard.engine", "kmsguard.protocol"}
    assert _imports(leaf, ALL[leaf]) <= allowed


def test_protocol_is_standard_library_only() -> None:
    tree = ast.parse(ALL["kmsguard.protocol"].read_text(encoding="utf-8"))
    roots = {
        (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert roots <= set(sys.stdlib_module_names) | {"__future__"}


def test_resource_and_protocol_import_alone() -> None:
    # A fresh interpreter: each loads without anything else of kmsguard having been imported first.
    code = (
        "import sys, kmsguard.collect.resource, kmsguard.protocol\n"
        "print(sorted(m for m in sys.modules if m.startswith('kmsguard')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(
        ["kmsguard", "kmsguard.collect", "kmsguard.collect.resource", "kmsguard.protocol"]
    )
