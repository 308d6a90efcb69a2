"""Reading the files a user hands kmsguard: decoded the way the Pulumi CLI would, bounded, one-line errors.

Every file input (``Pulumi.yaml``, ``Pulumi.<stack>.yaml``, a ``pulumi stack export``, a policy pack
config, an ``explain`` network description) goes through here, so each one gets the same guarantees:

* **decoding** — UTF-8, with or without a byte-order mark; UTF-16 and UTF-32 with a BOM (what Windows
  PowerShell's ``>`` writes: ``pulumi stack export > state.json`` is UTF-16 LE with a BOM there) or
  without one (detected from the NUL pattern of the first characters, as RFC 4627 §3 describes); any
  other byte sequence is an error naming the line, column and byte, never a guess (a Latin-1 file
  read as Latin-1 would turn names into other names);
* **size** — a file larger than the limit of its kind is refused before it is read;
* **depth** — containers nested deeper than :data:`MAX_DEPTH` are refused: the pack receives values as
  protobuf ``Struct``\\ s and ``pulumi_policy`` converts them recursively, which fails between 150 and
  300 levels (docs/threat-model.md) and would fail the preview with an RPC error instead of a clear
  message; JSON and YAML parsers are recursive too (a ``RecursionError`` is refused the same way);
* **YAML aliases** — expanded no further than Go's ``gopkg.in/yaml.v3`` (which the Pulumi CLI reads
  ``Pulumi.yaml`` and stack files with) expands them: ``document contains excessive aliasing`` once
  more than 100 values come from aliases and their share passes the library's ratio; a "billion
  laughs" stack file is refused after a few thousand nodes instead of running unbounded;
* **YAML scalars** — timestamps stay text (``2024-01-01`` is the string the Pulumi CLI reads), binary
  and set values are refused with the key path; strings with lone surrogates (``"\\ud800"``) get U+FFFD
  in their place, as Go's decoders do, so no later stage has to encode an unencodable string.

Errors are :class:`~kmsguard.errors.InputError` with one line: ``<file>: <where>: <what>; <what to do>``.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any, ClassVar, Final

import yaml  # type: ignore[import-untyped]  # PyYAML comes with pulumi; no stubs installed

from kmsguard.errors import InputError

__all__ = [
    "MAX_DEPTH",
    "MAX_JSON_BYTES",
    "MAX_YAML_BYTES",
    "decode",
    "load_json",
    "load_yaml",
    "parse_json",
    "parse_yaml",
    "read_text",
]

# Containers nested deeper than this are refused (see the module docstring): the pack answers 150
# levels (docs/threat-model.md "Resource bounds"), and a stack export wraps values in 4-5 levels.
MAX_DEPTH: Final = 128
# A stack export may be large (200 000 resources ≈ 200 MiB); the engine's own request limit is 400 MiB.
MAX_JSON_BYTES: Final = 512 * 1024 * 1024
# Project, stack and policy files are written by hand; Go's yaml.v3 has no size limit, but a 64 MiB
# stack file is a mistake, and PyYAML needs about 100 bytes of memory per byte of YAML.
MAX_YAML_BYTES: Final = 64 * 1024 * 1024

# gopkg.in/yaml.v3 decode.go: alias_ratio_range_low/high and allowedAliasRatio.
_ALIAS_RATIO_LOW: Final = 400_000
_ALIAS_RATIO_HIGH: Final = 4_000_000

_SURROGATE: Final = re.compile("[\ud800-\udfff]")

_BOMS: Final = (
    # Longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)


def read_text(path: Path, what: str, *, limit: int, missing: str | None = None) -> str:
    """The text of ``path`` (see :func:`decode`), refusing a file larger than ``limit`` bytes.

    ``missing`` replaces "cannot read: No such file or directory" when the file does not exist.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: {missing or 'cannot read: ' + (exc.strerror or str(exc))}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: cannot read: is a directory, not a {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(
            f"{path}: the {what} is larger than {_size(limit)}; kmsguard refuses inputs this large"
        )
    return decode(data, str(path), what)


def decode(data: bytes, where: str, what: str) -> str:
    """Bytes → text: a BOM decides; without one, UTF-16/32 is recognised by its NULs, else UTF-8."""
    encoding, name, skip = "utf-8", "UTF-8", 0
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            encoding, name, skip = codec, label, len(bom)
            break
    else:
        # RFC 4627 §3: the first two characters of a JSON (or YAML) text are ASCII, so the NUL
        # pattern of the first four bytes gives the encoding.
        head = data[:4]
        if len(head) == 4 and head[:3] == b"\0\0\0" and head[3]:
            encoding, name = "utf-32-be", "UTF-32 BE"
        elif len(head) == 4 and head[0] and head[1:] == b"\0\0\0":
            encoding, name = "utf-32-le", "UTF-32 LE"
        elif len(head) >= 2 and head[0] == 0 and head[1]:
            encoding, name = "utf-16-be", "UTF-16 BE"
        elif len(head) >= 2 and head[0] and head[1] == 0:
            encoding, name = "utf-16-le", "UTF-16 LE"
    body = data[skip:]
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        before = body[: exc.start].decode(encoding, "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        bad = body[exc.start : min(exc.end, exc.start + 4)].hex(" ")
        raise InputError(
            f"{where}: line {line} column {column}: byte(s) {bad} at offset {skip + exc.start} are not "
            f"valid {name}; save the {what} as UTF-8"
        ) from None


# --- JSON ------------------------------------------------------------------------------------------


def load_json(path: Path, what: str, *, limit: int = MAX_JSON_BYTES) -> Any:
    return parse_json(read_text(path, what, limit=limit), str(path), what)


def parse_json(text: str, where: str, what: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputError(_too_deep(where, what, "")) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts (int_max_str_digits)
        raise InputError(f"{where}: {exc}") from None
    return _clean(data, where, what)


# --- YAML ------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # untyped base
    """``SafeLoader`` without implicit timestamps: Pulumi reads an unquoted ``2024-01-01`` as text."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _scalar_text(loader: _Loader, node: Any) -> str:
    return str(loader.construct_scalar(node))


# An explicit `!!timestamp` stays text as well.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _scalar_text)


def load_yaml(path: Path, what: str, *, limit: int = MAX_YAML_BYTES) -> Any:
    return parse_yaml(read_text(path, what, limit=limit, missing=f"no {what} here"), str(path), what)


def parse_yaml(text: str, where: str, what: str) -> Any:
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise InputError(_too_deep(where, what, "")) from None
        except yaml.YAMLError as exc:
            raise InputError(_yaml_error(exc, where, what)) from None
        if node is None:
            return None
        _check_nodes(node, where, what)
        try:
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise InputError(_yaml_error(exc, where, what)) from None
        except (TypeError, ValueError) as exc:  # e.g. an unhashable key: `? [a]: b`
            raise InputError(f"{where}: the {what} cannot be read: {exc}") from None
    finally:
        loader.dispose()
    return _clean(data, where, what)


def _yaml_error(exc: yaml.YAMLError, where: str, what: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    at = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
    text = f"{context}, {problem}" if context else str(problem)
    return f"{where}: {at}the {what} is not valid YAML: {' '.join(text.split())}"


def _check_nodes(root: Any, where: str, what: str) -> None:
    """Depth and alias expansion of a composed YAML document, counted as yaml.v3 counts them.

    PyYAML shares an aliased node instead of copying it, so the document itself is small; but every
    later walk (config flattening, JSON encoding for the program) expands it. yaml.v3 counts each
    node it decodes, and those decoded inside an alias, and fails once the alias share passes its
    ratio. A node object met a second time is an alias expansion (PyYAML only shares through aliases).
    """
    seen: set[int] = set()
    decoded = aliased = 0
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, in_alias = stack.pop()
        in_alias = in_alias or id(node) in seen
        seen.add(id(node))
        decoded += 1
        aliased += in_alias
        if aliased > 100 and decoded > 1000 and aliased / decoded > _allowed_alias_ratio(decoded):
            raise InputError(
                f"{where}: the {what} contains excessive aliasing (YAML anchors and aliases expand to "
                f"more than {decoded} values); write the values out or use fewer nested aliases"
            )
        if isinstance(node, yaml.CollectionNode):
            if depth > MAX_DEPTH:
                raise InputError(_too_deep(where, what, f"line {node.start_mark.line + 1}: "))
            if isinstance(node, yaml.MappingNode):
                for key, value in reversed(node.value):
                    stack.append((value, depth + 1, in_alias))
                    stack.append((key, depth + 1, in_alias))
            else:
                stack.extend((item, depth + 1, in_alias) for item in reversed(node.value))


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)


# --- both ------------------------------------------------------------------------------------------


def _clean(data: Any, where: str, what: str) -> Any:
    """JSON-shaped values only, no deeper than MAX_DEPTH, lone surrogates replaced by U+FFFD.

    Iterative (the depth is what is being checked); values are replaced in place only where a
    string or a tuple (YAML ``!!pairs``) changes, so a large clean export is walked once, not copied.
    """
    if isinstance(data, str):
        return _replace_surrogates(data)
    if isinstance(data, tuple):
        data = list(data)
    rekeys: list[tuple[dict[Any, Any], str]] = []
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, at = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise InputError(_too_deep(where, what, f"{at or 'the top level'}: "))
            container: Any = value
            items: Any = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    rekeys.append((container, key))
                elif not (key is None or isinstance(key, str | int | float | bool)):
                    raise InputError(
                        f"{where}: {at or 'the top level'}: a key of type {type(key).__name__} is not a "
                        f"key the {what} can hold; write keys as strings"
                    )
                if isinstance(item, str):
                    if _SURROGATE.search(item):
                        container[key] = _replace_surrogates(item)  # an existing key: safe while iterating
                    continue
                if isinstance(item, tuple):
                    item = container[key] = list(item)
                where_next = (
                    f"{at}[{key}]" if isinstance(value, list) else (f"{at}.{key}" if at else str(key))
                )
                stack.append((item, depth + 1, where_next))
        elif value is None or isinstance(value, int | float | bool):
            continue
        else:
            kinds: dict[type, str] = {bytes: "binary data (!!binary)", set: "a set (!!set)"}
            kind = kinds.get(type(value), type(value).__name__)
            raise InputError(
                f"{where}: {at or 'the top level'}: {kind} is not a value the {what} can hold; "
                "write it as a string, number, boolean, list or mapping"
            )
    for mapping, key in rekeys:
        mapping[_replace_surrogates(key)] = mapping.pop(key)
    return data


def _replace_surrogates(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def _too_deep(where: str, what: str, at: str) -> str:
    return (
        f"{where}: {at}values are nested deeper than {MAX_DEPTH} levels, more than a policy pack can "
        f"be sent; flatten the {what}"
    )


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB"
