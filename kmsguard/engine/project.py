"""A Pulumi project on disk: ``Pulumi.yaml`` and one stack's ``Pulumi.<stack>.yaml``, read and merged as the
Pulumi CLI (v3.274.0) reads them before it runs a program (pulumi-mechanics §2.4).

Followed sources (module ``github.com/pulumi/pulumi/sdk/v3`` unless marked ``pkg/``):

* ``go/common/workspace/paths.go``: the project file is ``Pulumi.json``, ``Pulumi.yaml`` or ``Pulumi.yml``
  (``encoding.Exts`` order); the stack file is ``Pulumi.<stack name>.<same extension>`` in
  ``stackConfigDir`` (``ProjectStackPath``);
* ``go/common/workspace/loaders.go``: ``LoadProjectBytes`` (``config:`` as a string is the old spelling
  of ``stackConfigDir``; shorthand config values), ``LoadProjectStack`` (a missing or empty stack file
  is an empty config), ``stackConfigNamespacedWithProject`` (a bare stack key gets the project's name);
* ``go/common/workspace/project.go``: ``ProjectConfigType``, ``RewriteShorthandConfigValues``,
  ``Project.Validate``, ``ValidateConfigValue``, ``InferFullTypeName`` and the schema ``project.json``;
* ``go/common/resource/config/object.go``: how a stack value becomes the string the program gets
  (``MarshalString``: scalars as JSON text, strings as they are, objects and arrays as JSON);
* ``pkg/workspace/config.go``: ``mergeConfig`` / ``validateStackConfigValues`` (project defaults and values
  under stack values; missing keys; types; ``secret``), with the messages ``pulumi preview`` prints
  after ``validating stack config:`` (``pkg/cmd/pulumi/operations/preview.go``);
* ``pkg/backend/diy/store.go`` ``ParseReference`` and ``pkg/backend/backend.go``
  ``CurrentProjectContradictsWorkspace``: stack references ``stack``, ``organization/stack`` and
  ``organization/<project>/stack`` (:func:`stack_name`).

``{secure: ...}`` values cannot be decrypted offline: they become a placeholder marked secret (the key
is listed in ``secret_keys``), and their type is not checked (the CLI checks the decrypted value).
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from kmsguard.errors import KmsguardError
from kmsguard.protocol import SECRET_PLACEHOLDER

__all__ = [
    "SECRET_PLACEHOLDER",
    "ConfigDeclaration",
    "Project",
    "StackConfig",
    "go_json",
    "load_project",
    "load_stack_config",
    "stack_name",
]

# encoding.Exts, in the order findProjectInDir tries them (sdk/go/common/encoding/marshal.go).
_PROJECT_FILES: Final = ("Pulumi.json", "Pulumi.yaml", "Pulumi.yml")
# project.json $defs/simpleConfigType.
_CONFIG_TYPES: Final = ("string", "integer", "boolean", "array", "object")
# project.json $defs/configTypeDeclaration has additionalProperties: false.
_DECLARATION_KEYS: Final = ("type", "items", "description", "secret", "default", "value")
_ABSENT: Final = object()  # a declaration without default/value (Go's nil `any`)


@dataclass(frozen=True)
class ConfigDeclaration:
    """One entry of ``Pulumi.yaml``'s ``config:`` after ``RewriteShorthandConfigValues``."""

    raw_key: str  # as written: "key", "<project>:key" or "<other>:key"
    key: str  # namespaced: "<project>:key" for a bare key
    type: str | None  # None: not explicitly typed
    items: Mapping[str, Any] | None  # {"type": ..., "items": ...} for arrays
    default: Any = _ABSENT
    value: Any = _ABSENT
    secret: bool = False
    description: str = ""

    @property
    def has_default(self) -> bool:
        return self.default is not _ABSENT

    @property
    def has_value(self) -> bool:
        return self.value is not _ABSENT


@dataclass(frozen=True)
class Project:
    name: str
    project_dir: Path
    main: Path  # absolute: the program directory or file
    stack_config_dir: Path
    virtualenv: Path | None
    organization: str
    runtime_options: Mapping[str, Any] = field(default_factory=dict)  # runtime.options, as written
    config: tuple[ConfigDeclaration, ...] = ()  # the project-level config block (Pulumi >= 3.44)
    file: Path | None = None  # the project file that was read

    @property
    def program_cwd(self) -> Path:
        return self.main if self.main.is_dir() else self.main.parent

    def stack_file(self, stack: str) -> Path:
        """``ProjectStackPath``: ``Pulumi.<stack name>`` with the project file's extension."""
        suffix = self.file.suffix if self.file is not None else ".yaml"
        return self.stack_config_dir / f"Pulumi.{stack_name(self, stack)}{suffix}"


@dataclass(frozen=True)
class StackConfig:
    values: Mapping[str, str]  # "<namespace>:<key>" → string value, as the program receives it
    secret_keys: tuple[str, ...]


def _read_yaml(path: Path, what: str) -> Any:
    """The file as the Pulumi CLI reads it (``kmsguard.inputs``): UTF-8/16/32 by BOM, bounded
    aliasing, size and depth; unquoted dates stay text (config values are strings to Pulumi)."""
    from kmsguard import inputs

    return inputs.load_yaml(path, what)


def load_project(project_dir: Path) -> Project:
    project_dir = project_dir.resolve()
    # findProjectInDir: the first of Pulumi.json / .yaml / .yml that is a file (paths.go).
    path = next((project_dir / n for n in _PROJECT_FILES if (project_dir / n).is_file()), None)
    if path is None:
        path = project_dir / "Pulumi.yaml"  # _read_yaml names it in the "no project file" error
    data = _read_yaml(path, "Pulumi project file (Pulumi.yaml)")
    if not isinstance(data, dict):
        raise KmsguardError(f"{path}: expected a mapping with name and runtime")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise KmsguardError(f"{path}: name: missing or not a string")
    runtime = data.get("runtime")
    options: Any = {}
    if isinstance(runtime, dict):
        options = runtime.get("options") or {}
        runtime = runtime.get("name")
    if runtime != "python":
        raise KmsguardError(f"{path}: runtime: {runtime!r} is not supported (only python programs can run)")
    if not isinstance(options, dict):
        raise KmsguardError(f"{path}: runtime.options: expected a mapping")
    main_value = data.get("main", ".")
    if not isinstance(main_value, str):
        raise KmsguardError(f"{path}: main: expected a path, got {type(main_value).__name__}")
    main = (project_dir / main_value).resolve()
    if not main.exists():
        raise KmsguardError(f"{path}: main: {main_value!r} does not exist ({main})")
    if main.is_dir() and not (main / "__main__.py").is_file():
        raise KmsguardError(f"{path}: main: {main} has no __main__.py")
    config_block = data.get("config")
    config_dir_value = data.get("stackConfigDir")
    if isinstance(config_block, str):
        # RewriteConfigPathIntoStackConfigDir (project.go): `config: <dir>` is the old stackConfigDir.
        if "stackConfigDir" in data:
            raise KmsguardError(
                f"{path}: Should not use both config and stackConfigDir to define the stack directory. "
                "Use only stackConfigDir instead."
            )
        config_dir_value, config_block = config_block, None
    if config_dir_value is None:
        config_dir_value = "."
    if not isinstance(config_dir_value, str):
        raise KmsguardError(f"{path}: stackConfigDir: expected a path")
    venv_value = options.get("virtualenv")
    virtualenv = None
    if venv_value is not None:
        if not isinstance(venv_value, str):
            raise KmsguardError(f"{path}: runtime.options.virtualenv: expected a path")
        virtualenv = (project_dir / venv_value).resolve()
    return Project(
        name=name,
        project_dir=project_dir,
        main=main,
        stack_config_dir=(project_dir / config_dir_value).resolve(),
        virtualenv=virtualenv,
        organization="organization",
        runtime_options=dict(options),
        config=_project_config(path, name, config_block),
        file=path,
    )


# -- stack references (pkg/backend/diy/store.go ParseReference) -------------------------------------

_STACK_NAME: Final = re.compile(rb"^[A-Za-z0-9_.-]*")  # tokens/stack_name.go stackNameRegex
_NAME: Final = re.compile(r"[A-Za-z0-9_.-][A-Za-z0-9_.-]*")  # tokens/names.go NameRegexp


def stack_name(project: Project | str, stack: str) -> str:
    """The stack's name part of a stack reference, checked as the CLI's file backend checks it.

    ``ParseReference`` accepts ``<stack>``, ``<org>/<stack>`` and ``<org>/<project>/<stack>``, where the
    organization must be ``organization``; the project, when given, must be the project's own name
    (``CurrentProjectContradictsWorkspace``). The stack file, the URNs and ``pulumi.get_stack()`` use
    the name part only (``stack.Ref().Name()``).
    """
    project_name = project if isinstance(project, str) else project.name
    if stack == "":
        raise KmsguardError("stack name must not be empty")
    parts = stack.split("/")
    org, proj, name = "", "", ""
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        org, name = parts
    elif len(parts) == 3:
        org, proj, name = parts
    # More than three parts match no case of Go's switch: the name stays empty (ParseStackName fails).
    if (org or "organization") != "organization":
        raise KmsguardError("organization name must be 'organization'")
    if proj:
        if len(proj) > 100:
            raise KmsguardError("project names are limited to 100 characters")
        if not _NAME.fullmatch(proj):
            raise KmsguardError(
                "project names may only contain alphanumerics, hyphens, underscores, and periods"
            )
    _check_stack_name(name)
    if proj and proj != project_name:
        raise KmsguardError(f'provided project name "{proj}" doesn\'t match Pulumi.yaml')
    return name


def _check_stack_name(name: str) -> None:
    """tokens/stack_name.go ``ParseStackName`` (positions are byte offsets, as in Go)."""
    if name == "":
        raise KmsguardError("a stack name may not be empty")
    raw = name.encode("utf-8")
    if len(raw) > 100:
        raise KmsguardError("a stack name cannot exceed 100 characters")
    match = _STACK_NAME.match(raw)
    failure = match.end() if match is not None else 0
    if failure != len(raw):
        char = chr(raw[failure])  # Go's %q of a byte: the rune of that byte value, single-quoted
        shown = "'\\''" if char == "'" else f"'{char}'" if char.isprintable() else f"'\\x{raw[failure]:02x}'"
        raise KmsguardError(
            "a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
            f"invalid character {shown} at position {failure}"
        )


# -- the project's config block (project.go, project.json) -------------------------------------------


def _namespaced_by_project(project: str, raw_key: str) -> bool:
    """project.go ``configKeyIsNamespacedByProject``."""
    return ":" not in raw_key or raw_key.startswith(project + ":")


def _parse_key(raw_key: str, project: str) -> str:
    """``parseConfigKey`` (pkg/workspace/config.go) then ``config.ParseKey`` (resource/config/key.go):
    a bare key gets the project's namespace; ``ns:config:name`` is the old spelling of ``ns:name``."""
    if ":" not in raw_key:
        return f"{project}:{raw_key}"
    parts = raw_key.split(":")
    if len(parts) == 2:
        return raw_key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    raise KmsguardError(
        f"could not parse {raw_key} as a configuration key "
        "(configuration keys should be of the form `<namespace>:<name>`)"
    )


def _namespace(key: str) -> str:
    return key.split(":", 1)[0]


def _is_go_primitive(value: Any) -> bool:
    """``isPrimitiveValue`` (project.go, config.go): what yaml.v3 decodes to string, int or bool."""
    if isinstance(value, bool | str):
        return True
    return isinstance(value, int) and -(2**63) <= value < 2**63


def _project_config(path: Path, project: str, block: Any) -> tuple[ConfigDeclaration, ...]:
    """``LoadProjectBytes``: schema checks (project.json), ``RewriteShorthandConfigValues``, then
    ``Project.Validate`` (whose errors the CLI wraps in ``could not unmarshal '<file>'``)."""
    if block is None:
        return ()
    invalid = f"could not validate '{path}'"
    if not isinstance(block, dict):
        raise KmsguardError(f"{invalid}: #/config: expected object, string or null")
    declarations: list[ConfigDeclaration] = []
    for raw_key, entry in block.items():
        if not isinstance(raw_key, str):
            raise KmsguardError(f"{invalid}: expected only string keys, got '{raw_key}'")
        where = f"{invalid}: #/config/{raw_key}"
        if _is_go_primitive(entry) or isinstance(entry, list):
            # Shorthand: a project key's plain value is its default, another namespace's is its value.
            entry = {"default": entry} if _namespaced_by_project(project, raw_key) else {"value": entry}
        elif not isinstance(entry, dict):
            raise KmsguardError(
                f"{where}: expected a string, an integer, a boolean, an array or a config type declaration"
            )
        unknown = sorted(k for k in entry if k not in _DECLARATION_KEYS)
        if unknown:
            allowed = ", ".join(f"'{k}'" for k in sorted(_DECLARATION_KEYS))
            raise KmsguardError(
                f"{where}: additional properties {unknown} not allowed; the allowed attributes are {allowed}"
            )
        type_ = entry.get("type")
        if type_ is not None and type_ not in _CONFIG_TYPES:
            raise KmsguardError(f"{where}/type: value must be one of {', '.join(map(repr, _CONFIG_TYPES))}")
        items = entry.get("items")
        if items is not None:
            _check_items(f"{where}/items", items)
        description = entry.get("description") or ""
        if not isinstance(description, str):
            raise KmsguardError(f"{where}/description: expected string")
        secret = entry.get("secret") or False
        if not isinstance(secret, bool):
            raise KmsguardError(f"{where}/secret: expected boolean")
        # A YAML null is Go's nil `any`: the same as leaving the attribute out.
        default = entry["default"] if entry.get("default") is not None else _ABSENT
        value = entry["value"] if entry.get("value") is not None else _ABSENT
        declarations.append(
            ConfigDeclaration(
                raw_key=raw_key,
                key=_parse_key(raw_key, project),
                type=type_,
                items=items,
                default=default,
                value=value,
                secret=secret,
                description=description,
            )
        )
    declarations.sort(key=lambda d: d.raw_key)  # Go ranges over a map; sorted keeps the first error stable
    for d in declarations:
        _validate_declaration(path, project, d)
    return tuple(declarations)


def _check_items(where: str, items: Any) -> None:
    """project.json ``configItemsType``: ``type`` required; an array's ``items`` too."""
    if not isinstance(items, dict):
        raise KmsguardError(f"{where}: expected object")
    if "type" not in items:
        raise KmsguardError(f"{where}: missing property 'type'")
    if not isinstance(items["type"], str) or items["type"] not in _CONFIG_TYPES:
        raise KmsguardError(f"{where}/type: value must be one of {', '.join(map(repr, _CONFIG_TYPES))}")
    if items["type"] == "array" and "items" not in items:
        raise KmsguardError(f"{where}: missing property 'items'")
    if items.get("items") is not None:
        _check_items(f"{where}/items", items["items"])


def _validate_declaration(path: Path, project: str, d: ConfigDeclaration) -> None:
    """project.go ``Project.Validate``, same messages."""
    fail = f"could not unmarshal '{path}'"
    if d.has_default and d.has_value:
        raise KmsguardError(
            f"{fail}: project config '{d.raw_key}' cannot have both a 'default' and 'value' attribute"
        )
    if _namespaced_by_project(project, d.raw_key):
        if d.type == "array" and d.items is None:
            raise KmsguardError(
                f"{fail}: The configuration key '{d.raw_key}' declares an array "
                "but does not specify the underlying type via the 'items' attribute"
            )
        if d.type is not None and d.has_default and not _valid_config_value(d.type, d.items, d.default):
            raise KmsguardError(
                f"{fail}: The default value specified for configuration key '{d.raw_key}' "
                f"is not of the expected type '{_full_type_name(d.type, d.items)}'"
            )
        return
    if d.type is not None:
        raise KmsguardError(
            f"{fail}: Configuration key '{d.raw_key}' is not namespaced by the project and should not define a type"
        )
    if d.has_default:
        raise KmsguardError(
            f"{fail}: Configuration key '{d.raw_key}' is not namespaced by the project and "
            "should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?"
        )
    if not d.has_value:
        raise KmsguardError(
            f"{fail}: Configuration key '{d.raw_key}' is namespaced and must provide an attribute 'value'"
        )


def _full_type_name(type_name: str | None, items: Mapping[str, Any] | None) -> str:
    """project.go ``InferFullTypeName`` (it looks at ``items``, not at the type name)."""
    if items is not None:
        return f"array<{_full_type_name(items.get('type'), items.get('items'))}>"
    return type_name or ""


_GO_INT: Final = re.compile(r"[+-]?[0-9]+")


def _valid_config_value(type_name: str | None, items: Mapping[str, Any] | None, value: Any) -> bool:
    """project.go ``ValidateConfigValue`` over decoded YAML/JSON values."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):  # YAML/JSON give floats; a whole number is allowed
            return math.isfinite(value) and value == math.trunc(value)
        if isinstance(value, str):  # strconv.Atoi: optional sign, digits, within int64
            return bool(_GO_INT.fullmatch(value)) and -(2**63) <= int(value) < 2**63
        return False
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(_valid_config_value(items.get("type"), items.get("items"), item) for item in value)


# -- the stack's config ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """``config.Value``: the text the program gets, whether it is secure, whether it is JSON."""

    text: str
    secure: bool = False
    object: bool = False
    has_secure: bool = False  # a secure value somewhere inside: the real value is unknown offline


def load_stack_config(
    project: Project, stack: str, overrides: Mapping[str, str] | None = None
) -> StackConfig:
    """The config the program of ``stack`` receives: the stack file's values, then ``overrides`` (as
    ``pulumi preview --config k=v`` saves them into the stack file first), then the project's defaults and
    values for keys the stack does not set, validated against the project's declarations.

    ``stack`` may be a full reference (``organization/<project>/<stack>``); see :func:`stack_name`.
    """
    name = stack_name(project, stack)
    path = project.stack_file(stack)
    # LoadProjectStack (loaders.go): a stack without a stack file has an empty config.
    data = _read_yaml(path, f"stack file of stack {name!r}") if path.exists() else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KmsguardError(f"{path}: expected a mapping")
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise KmsguardError(f"{path}: config: expected a mapping")
    values: dict[str, _Value] = {}
    for raw_key, value in config.items():
        if not isinstance(raw_key, str) or not raw_key:
            raise KmsguardError(f"{path}: config: key {raw_key!r} is not a string")
        try:
            values[_parse_key(raw_key, project.name)] = _stack_value(value)
        except KmsguardError as exc:
            raise KmsguardError(f"{path}: config: {raw_key}: {exc}") from None
    for raw_key, text in (overrides or {}).items():
        values[_parse_key(raw_key, project.name)] = _Value(str(text))
    try:
        _merge_project_config(project, name, values)
    except KmsguardError as exc:
        # What `pulumi preview` prints for a failed ValidateStackConfigAndApplyProjectConfig (preview.go).
        raise KmsguardError(f"validating stack config: {exc}") from None
    secrets = sorted(k for k, v in values.items() if v.secure or v.has_secure)
    return StackConfig(values={k: v.text for k, v in values.items()}, secret_keys=tuple(secrets))


def _merge_project_config(project: Project, stack: str, values: dict[str, _Value]) -> None:
    """pkg/workspace/config.go ``mergeConfig`` with ``validate`` set, as ``pulumi preview`` runs it."""
    missing: list[str] = []
    for d in project.config:  # sorted by key, as Go sorts them
        if d.key in values:
            continue
        if not d.has_value and not d.has_default:
            if _namespace(d.key) == project.name:
                missing.append(d.raw_key)
            continue
        values[d.key] = _created_value(d.default if d.has_default else d.value)
    if missing:
        # missingStackConfigurationKeysError / formatMissingKeys.
        quoted = [f"'{k}'" for k in sorted(missing)]
        listed = (
            quoted[0] if len(quoted) == 1 else ", ".join([*quoted[:-2], f"{quoted[-2]} and {quoted[-1]}"])
        )
        noun = "value" if len(missing) == 1 else "values"
        raise KmsguardError(f"Stack '{stack}' is missing configuration {noun} {listed}")
    for d in project.config:  # validateStackConfigValues: typed keys only
        if d.type is None:
            continue
        value = values.get(d.key, _Value(""))
        if d.secret and not value.secure:
            raise KmsguardError(
                f"Stack '{stack}' with configuration key '{d.raw_key}' must be encrypted as it's secret"
            )
        if value.secure or value.has_secure:
            continue  # the CLI checks the decrypted value, which cannot be known offline
        content: Any = json.loads(value.text) if value.object else value.text
        if not _valid_config_value(d.type, d.items, content):
            raise KmsguardError(
                f"Stack '{stack}' with configuration key '{d.raw_key}' "
                f"must be of type '{_full_type_name(d.type, d.items)}'"
            )


def _created_value(raw: Any) -> _Value:
    """config.go ``createConfigValue``: strings, ints and bools as ``%v``; anything else as JSON."""
    if isinstance(raw, bool):
        return _Value("true" if raw else "false")
    if _is_go_primitive(raw):
        return _Value(str(raw))
    return _Value(go_json(_plain(raw)), object=True)


def _stack_value(raw: Any) -> _Value:
    """object.go ``unmarshalObject`` + ``MarshalString`` for one stack file value."""
    if raw is None:
        # yaml.v3 leaves a null node's Value at its zero value: the empty string (the CLI warns about it).
        return _Value("")
    if _is_secure(raw):
        return _Value(SECRET_PLACEHOLDER, secure=True)
    if isinstance(raw, dict | list):
        if _has_secure(raw):
            # A structured value with secure leaves: the CLI marks the whole key secret.
            return _Value(go_json(_plain(_mask_secure(raw))), object=True, has_secure=True)
        return _Value(go_json(_plain(raw)), object=True)
    if isinstance(raw, str):
        return _Value(raw)
    return _Value(go_json(_plain(raw)))  # bool, int64, float64: their JSON text


def _plain(value: Any) -> Any:
    """What yaml.v3 would have kept as a string: PyYAML turns timestamps into dates."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _is_secure(value: Any) -> bool:
    """object.go ``isSecureValue``: exactly ``{secure: <string>}``."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _has_secure(value: Any) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _mask_secure(value: Any) -> Any:
    if _is_secure(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _mask_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secure(v) for v in value]
    return value


# -- Go's encoding/json ---------------------------------------------------------------------------------

_GO_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def go_json(value: Any) -> str:
    """``json.Marshal`` as Go (1.22+) writes it: map keys sorted, no spaces, ``<``, ``>``, ``&``, U+2028 and
    U+2029 escaped, other non-ASCII kept, floats in Go's shortest form (``1`` for 1.0, ``1e+21``)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_go_string(k)}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise KmsguardError(f"json: unsupported type: {type(value).__name__}")


def _go_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char < " " or char in "<>&\u2028\u2029":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _go_float(value: float) -> str:
    """encoding/json ``floatEncoder``: 'f' format unless the magnitude is below 1e-6 or at least 1e21."""
    if not math.isfinite(value):
        raise KmsguardError(f"json: unsupported value: {value!r}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    exact = Decimal(repr(value))  # the shortest digits that round-trip, as strconv's -1 precision
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        sign, digits, exponent = exact.as_tuple()
        assert isinstance(exponent, int)
        mantissa = "".join(map(str, digits)).rstrip("0") or "0"
        power = exponent + len(digits) - 1
        text = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        # Go writes e-07 as e-7 but keeps a sign and two digits otherwise (e+21).
        suffix = f"e-{-power}" if power < 0 else f"e+{power:02d}"
        return ("-" if sign else "") + text + suffix
    text = format(exact, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
