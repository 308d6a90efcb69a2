"""A Pulumi project on disk: ``Pulumi.yaml`` and one stack's ``Pulumi.<stack>.yaml`` (pulumi-mechanics §2.4).

What is read, as the CLI reads it:

* ``name``, ``runtime`` (must be ``python``; either a string or ``{name, options}``), ``main`` (a directory
  or a file, relative to the project directory; default the project directory), ``stackConfigDir``
  (where the stack files live; default the project directory), ``runtime.options.virtualenv`` (the
  interpreter is ``<virtualenv>/bin/python``);
* the stack file's ``config:``: a bare key gets the project namespace (``key`` → ``<project>:key``);
  string values stay strings, other scalars become their YAML/JSON text, objects and arrays are passed as
  JSON (what ``require_object`` parses); ``{secure: ...}`` values cannot be decrypted offline, so they
  become a placeholder marked secret (the key is listed in ``secret_keys``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml  # type: ignore[import-untyped]  # PyYAML comes with pulumi; no stubs installed

from kmsguard.errors import KmsguardError

__all__ = ["SECRET_PLACEHOLDER", "Project", "StackConfig", "load_project", "load_stack_config"]

# What `pulumi policy analyze` shows for a secret it cannot decrypt (§4.2); the collector knows it.
SECRET_PLACEHOLDER: Final = "[secret]"


@dataclass(frozen=True)
class Project:
    name: str
    project_dir: Path
    main: Path  # absolute: the program directory or file
    stack_config_dir: Path
    virtualenv: Path | None
    organization: str

    @property
    def program_cwd(self) -> Path:
        return self.main if self.main.is_dir() else self.main.parent


@dataclass(frozen=True)
class StackConfig:
    values: Mapping[str, str]  # "<namespace>:<key>" → string value
    secret_keys: tuple[str, ...]


def _read_yaml(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KmsguardError(f"{path}: no {what} here") from None
    except OSError as exc:
        raise KmsguardError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KmsguardError(f"{path}: the {what} is not valid YAML: {exc}") from None


def load_project(project_dir: Path) -> Project:
    project_dir = project_dir.resolve()
    path = project_dir / "Pulumi.yaml"
    if not path.is_file() and (project_dir / "Pulumi.yml").is_file():
        path = project_dir / "Pulumi.yml"
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
    config_dir_value = data.get("stackConfigDir", ".")
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
    )


def _config_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"))


def load_stack_config(project: Project, stack: str) -> StackConfig:
    path = project.stack_config_dir / f"Pulumi.{stack}.yaml"
    data = _read_yaml(path, f"stack file of stack {stack!r}")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KmsguardError(f"{path}: expected a mapping")
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise KmsguardError(f"{path}: config: expected a mapping")
    values: dict[str, str] = {}
    secrets: list[str] = []
    for raw_key, value in config.items():
        if not isinstance(raw_key, str) or not raw_key:
            raise KmsguardError(f"{path}: config: key {raw_key!r} is not a string")
        key = raw_key if ":" in raw_key else f"{project.name}:{raw_key}"
        if _is_secure(value):
            values[key] = SECRET_PLACEHOLDER
            secrets.append(key)
            continue
        if _has_secure(value):
            # A structured value with secure leaves: the CLI marks the whole key secret.
            values[key] = _config_text(_mask_secure(value))
            secrets.append(key)
            continue
        values[key] = _config_text(value)
    return StackConfig(values=values, secret_keys=tuple(sorted(secrets)))


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


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
