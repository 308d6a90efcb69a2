"""Stack config fuzzing for the reference network project (``stacks/stack-config.schema.json``).

Starting from every stack file in ``stacks/``, one value is replaced by junk, one key is dropped or
one unknown key is added. ``validate_stack_config`` must agree with the schema (an independent
JSON Schema validator) and, when it rejects, raise ``StackConfigError`` naming the edited key; the
program never gets to declare a resource with a config the schema refuses.
"""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from kmsguard.pulumi.config import StackConfigError, load_schema, validate_stack_config

from .mutations import paths
from .support import scaled

STACKS = Path(__file__).resolve().parents[2] / "stacks"
NAMESPACE = "kmsguard-network"
SCHEMA = load_schema(STACKS / "stack-config.schema.json")
VALIDATOR = Draft202012Validator(SCHEMA)
yaml: Any = importlib.import_module("yaml")


def _stack_configs() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(STACKS.glob("Pulumi.*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        prefix = f"{NAMESPACE}:"
        out[path.name] = {
            k[len(prefix) :]: v for k, v in (doc.get("config") or {}).items() if k.startswith(prefix)
        }
    return out


CONFIGS = _stack_configs()
JUNK: list[Any] = [
    7,
    -1,
    3.5,
    True,
    None,
    "",
    "x",
    "Ünïcødé",
    [],
    {},
    ["x"],
    {"x": 1},
    "10.0.0.0/33",
    "999.1.1.1",
]


def test_every_stack_file_is_valid() -> None:
    assert CONFIGS
    for name, config in CONFIGS.items():
        assert VALIDATOR.is_valid(config), name
        validate_stack_config(config, SCHEMA, NAMESPACE)


@st.composite
def edited(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """(config, the key that names the edit, what was done)."""
    config = copy.deepcopy(CONFIGS[draw(st.sampled_from(sorted(CONFIGS)))])
    where = [p for p in paths(config, ()) if p]
    where = [(k,) for k in config] + [p for p in where if len(p) > 1]
    path = draw(st.sampled_from(where))
    parent: Any = config
    for p in path[:-1]:
        parent = parent[p]
    key = path[-1]
    named = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
    action = draw(st.sampled_from(["junk", "drop", "add"]))
    if action == "drop" and isinstance(key, str):
        del parent[key]
    elif action == "add" and isinstance(parent, dict):
        named = draw(st.sampled_from(["firewal", "Location", "routestyle", "extra"]))
        parent[named] = draw(st.sampled_from(JUNK))
    else:
        action = "junk"
        parent[key] = draw(st.sampled_from(JUNK))
    return config, named, action


@settings(max_examples=scaled(200), deadline=None)
@given(edited())
def test_edited_stack_config_is_judged_like_the_schema_and_names_the_key(
    case: tuple[dict[str, Any], str, str],
) -> None:
    config, named, action = case
    note(f"{action} {named}: {config}")
    if VALIDATOR.is_valid(config):
        validate_stack_config(config, SCHEMA, NAMESPACE)
        return
    try:
        validate_stack_config(config, SCHEMA, NAMESPACE)
    except StackConfigError as exc:
        text = str(exc)
        assert text.startswith(f"stack config: {NAMESPACE}"), text
        assert named in text, text
    else:
        raise AssertionError("accepted a config the schema rejects")
