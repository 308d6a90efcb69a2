"""Reading the catalog's JSON files and turning JSON Schema failures into ``ValidationError``.

Nothing here knows what an endpoint or a GVLK is; the catalog package builds its objects from the
documents this module returns. The split keeps the error-message plumbing (which users read when
they edit a catalog copy) in one place and testable on its own.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema import ValidationError as SchemaValidationError

from kmsguard.errors import ValidationError

SCHEMA_FILE = "catalog.schema.json"

# Which $defs entry of the schema describes which data file.
SCHEMA_DEFS: Mapping[str, str] = {
    "version.json": "versionFile",
    "endpoints.json": "endpointsFile",
    "locations.json": "locationsFile",
    "gvlk.json": "gvlkFile",
    "images.json": "imagesFile",
}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def data_dir() -> Traversable:
    return resources.files("kmsguard.catalog").joinpath("data")


def format_path(parts: Iterable[str | int]) -> str:
    """``["clouds", 0, "ip"]`` -> ``clouds[0].ip``; keys that are not identifiers are quoted."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part)}]")
    return "".join(out)


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages ("got integer")."""
    # bool before int: True is an int in Python but a boolean in JSON.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if value is None:
        return "null"
    return type(value).__name__


def _type_phrase(name: str) -> str:
    if name == "null":
        return "null"
    article = "an" if name[0] in "aeiou" else "a"
    return f"{article} {name}"


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last duplicate; in a hand-edited catalog that hides a typo.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def read_json(file: Traversable, where: str) -> object:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(where, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(where, "", f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ValidationError(where, "", f"cannot read file: {exc.strerror or exc}") from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            where, "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise ValidationError(where, "", f"not valid JSON: {exc}") from None


@functools.cache
def load_schema() -> Mapping[str, Any]:
    # The schema always comes from the package, even when the data comes from another directory:
    # a corrupted copy of the data must not be able to loosen its own checks.
    schema = read_json(data_dir().joinpath(SCHEMA_FILE), SCHEMA_FILE)
    if not isinstance(schema, dict):
        raise ValidationError(SCHEMA_FILE, "", f"must be an object, got {json_type(schema)}")
    Draft202012Validator.check_schema(schema)
    return schema


@functools.cache
def _validator(definition: str) -> Draft202012Validator:
    # 2020-12 allows $ref next to $defs, so the root schema can be pointed at one file's definition.
    return Draft202012Validator({**load_schema(), "$ref": f"#/$defs/{definition}"})


def _order(error: SchemaValidationError) -> tuple[tuple[int, int, str], ...]:
    # Report the error that comes first in the document so that one corruption gives one message.
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.absolute_path)


def _describe(error: SchemaValidationError) -> tuple[list[str | int], str]:
    """The JSON path of the bad value and a one-line problem for a JSON Schema failure."""
    path: list[str | int] = list(error.absolute_path)
    kind = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if kind == "required" and isinstance(instance, dict):
        missing = [key for key in value if key not in instance]
        return [*path, missing[0]], "is required"
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        extra = [key for key in instance if key not in allowed]
        return [*path, extra[0]], f"is not an allowed key (allowed: {', '.join(allowed)})"
    if kind == "type":
        names = [value] if isinstance(value, str) else list(value)
        wanted = " or ".join(_type_phrase(name) for name in names)
        return path, f"must be {wanted}, got {json_type(instance)}"
    if kind in ("pattern", "format") and "description" in schema:
        return path, f"{instance!r} is not {schema['description']}"
    if kind == "enum":
        return path, f"{instance!r} is not one of {', '.join(repr(v) for v in value)}"
    if kind == "minItems":
        return path, "must not be empty" if value == 1 else f"must have at least {value} items"
    if kind == "minLength":
        return path, "must not be empty" if value == 1 else f"must be at least {value} characters long"
    if kind == "maxLength":
        return path, f"must be at most {value} characters long"
    if kind in ("minimum", "maximum"):
        low = schema.get("minimum")
        high = schema.get("maximum")
        return path, f"{instance!r} is not between {low} and {high}"
    return path, error.message


def _check_strings(value: object, path: list[str | int], where: str) -> None:
    # JSON Schema "pattern" uses re.search, whose "$" also matches before a trailing newline, so
    # "20.118.99.224\n" would pass the schema; no catalog string has surrounding whitespace.
    if isinstance(value, str):
        if value != value.strip():
            raise ValidationError(where, format_path(path), f"{value!r} has leading or trailing whitespace")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(item, [*path, key], where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, [*path, index], where)


def validate(document: object, where: str) -> Any:
    """Validate one data file's document against its schema definition; return it for building."""
    errors: Sequence[SchemaValidationError] = sorted(
        _validator(SCHEMA_DEFS[where]).iter_errors(document), key=_order
    )
    if errors:
        path, problem = _describe(errors[0])
        raise ValidationError(where, format_path(path), problem)
    _check_strings(document, [], where)
    return document
