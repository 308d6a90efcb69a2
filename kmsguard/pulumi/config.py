"""Validate a Pulumi program's stack config against a JSON Schema before any resource is declared.

A stack file with a typo (``firewal: {...}``, ``gateway.type: vpm``) would otherwise deploy a
network without the part the author meant, which is exactly how KMS routes go missing. So the
program reads every key of its namespace, checks it against the schema, and stops with one message
that names the key and what was expected (``StackConfigError``), before it registers anything.

Pulumi passes config values as strings; structured values are JSON text (mechanics §2.4), and
``true``/``10`` in a stack file arrive as ``"true"``/``"10"``. Each value is read as JSON when it
parses, else kept as the string it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema import ValidationError as SchemaError

from kmsguard.catalog.loader import format_path, json_type
from kmsguard.errors import ValidationError

__all__ = ["StackConfigError", "load_schema", "project_config", "read_stack_config", "validate_stack_config"]


class StackConfigError(ValidationError):
    """A stack config value that does not match the program's schema."""


def load_schema(path: Path) -> Mapping[str, Any]:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(str(path), "", f"cannot read the stack config schema: {exc}") from None
    Draft202012Validator.check_schema(schema)
    if not isinstance(schema, dict):
        raise ValidationError(str(path), "", "the stack config schema must be an object")
    return schema


def _parse(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def project_config(namespace: str) -> dict[str, Any]:
    """Every config value of ``namespace`` the program was given, keys without the namespace."""
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{namespace}:"
    return {k[len(prefix) :]: _parse(v) for k, v in sorted(merged.items()) if k.startswith(prefix)}


def _expected(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "description" in schema:
        return str(schema["description"])
    kind = schema.get("type")
    return f"a {kind}" if isinstance(kind, str) else "a valid value"


def _describe(error: SchemaError) -> tuple[list[str | int], str]:
    path: list[str | int] = list(error.absolute_path)
    kind = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if kind == "required" and isinstance(instance, dict):
        missing = [k for k in value if k not in instance]
        sub = schema.get("properties", {}).get(missing[0], {})
        return [*path, missing[0]], f"is required: {_expected(sub)}"
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        return [*path, extra[0]], f"is not a known key (expected one of: {', '.join(allowed)})"
    if kind == "type":
        names = [value] if isinstance(value, str) else list(value)
        return path, f"expected {' or '.join(names)}, got {json_type(instance)} {json.dumps(instance)}"
    if kind == "enum":
        return path, f"expected one of {', '.join(json.dumps(v) for v in value)}, got {json.dumps(instance)}"
    if kind in ("pattern", "format"):
        return path, f"expected {_expected(schema)}, got {json.dumps(instance)}"
    if kind in ("minimum", "maximum"):
        return (
            path,
            f"expected a number from {schema.get('minimum')} to {schema.get('maximum')}, got {instance}",
        )
    if kind == "minItems":
        return path, f"expected at least {value} item(s), got {len(instance)}"
    if kind == "maxItems":
        return path, f"expected at most {value} item(s), got {len(instance)}"
    if kind == "uniqueItems":
        return path, "expected unique items, got duplicates"
    if kind == "const":
        return path, f"expected {json.dumps(value)}, got {json.dumps(instance)}"
    return path, error.message


def _order(error: SchemaError) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.absolute_path)


def validate_stack_config(values: Mapping[str, Any], schema: Mapping[str, Any], namespace: str) -> None:
    """Raise ``StackConfigError`` for the first bad key (in document order) of ``values``."""
    errors = sorted(Draft202012Validator(schema).iter_errors(dict(values)), key=_order)
    if not errors:
        return
    # Inside a oneOf/anyOf the most specific failure is the useful one.
    best = errors[0]
    while best.context:
        best = max(best.context, key=lambda e: len(list(e.absolute_path)))
    path, problem = _describe(best)
    key = f"{namespace}:{format_path(path)}" if path else namespace
    raise StackConfigError("stack config", key, problem)


def read_stack_config(namespace: str, schema_path: Path) -> dict[str, Any]:
    """The validated config of ``namespace`` (the project name), ready to use."""
    values = project_config(namespace)
    validate_stack_config(values, load_schema(schema_path), namespace)
    return values
