"""The place a real ``pulumi preview`` runs in, so the user's files and Pulumi settings are never touched.

* a **copy of the project**: ``pulumi stack init`` writes ``encryptionsalt`` into the stack file, and the
  user's ``secure:`` values are encrypted for a passphrase or service kmsguard does not have. In the copy,
  the stack file loses its encryption settings and each secure value is set again, secret, as the
  placeholder ``[secret]`` (what ``pulumi policy analyze`` shows for a secret it cannot decrypt);
  ``runtime.options.virtualenv`` is made absolute so the copy runs in the project's own virtualenv;
* a **file backend** and a **throwaway PULUMI_HOME** in a temporary directory, removed afterwards;
* **no downloads**: no update check, no automatic plugin acquisition, ambient plugins ignored. The
  plugins are installed into the throwaway home: the offline azure-native provider
  (``pulumi plugin install resource azure-native <version> --file``) and, because Pulumi's Go language
  host is not served by the module proxy, kmsguard's Python language host as the ``python`` plugin.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml  # type: ignore[import-untyped]

from kmsguard.errors import KmsguardError
from kmsguard.inputs import load_yaml
from kmsguard.protocol import SECRET_PLACEHOLDER

__all__ = ["PASSPHRASE", "SECRET_PLACEHOLDER", "Sandbox", "copy_project", "secure_paths"]

PASSPHRASE: Final = "kmsguard-offline-preview"

# Never copied: virtualenvs and caches (the copy uses the original virtualenv by absolute path).
_SKIP: Final = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".tox",
    }
)
# Keys of a stack file that belong to the user's secrets provider.
_ENCRYPTION_KEYS: Final = ("encryptionsalt", "secretsprovider", "encryptedkey")


@dataclass(frozen=True)
class Sandbox:
    root: Path
    project: Path  # the copy of the project
    home: Path  # PULUMI_HOME
    state: Path  # the file backend
    bin: Path  # plugin shims
    events: Path  # --event-log
    record: Path  # the pack's record (KMSGUARD_PACK_RECORD)

    @classmethod
    def create(cls) -> Sandbox:
        root = Path(tempfile.mkdtemp(prefix="kmsguard-pulumi-"))
        box = cls(
            root=root,
            project=root / "project",
            home=root / "home",
            state=root / "state",
            bin=root / "bin",
            events=root / "events.jsonl",
            record=root / "pack.record",
        )
        for d in (box.home, box.state, box.bin):
            d.mkdir()
        return box

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def environment(
        self, base: Mapping[str, str], *, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The CLI's environment: the caller's, minus its Pulumi settings (``PULUMI_PYTHON_CMD`` kept:
        the language host reads it), plus the sandbox's."""
        env = {k: v for k, v in base.items() if not k.startswith("PULUMI_") or k == "PULUMI_PYTHON_CMD"}
        env.update(
            {
                "PULUMI_HOME": str(self.home),
                "PULUMI_BACKEND_URL": self.state.as_uri(),
                "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
                "PULUMI_SKIP_UPDATE_CHECK": "true",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
                "PULUMI_SKIP_CONFIRMATIONS": "true",
                "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
                "NO_COLOR": "1",
                # --event-log is a debug flag (pkg/cmd/pulumi/operations/preview.go)
                "PULUMI_DEBUG_COMMANDS": "true",
            }
        )
        env.update(extra or {})
        return env


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIP}


def copy_project(project_dir: Path, into: Path, *, virtualenv: Path | None) -> Path:
    """Copy the project; point ``runtime.options.virtualenv`` at the original's (absolute)."""
    shutil.copytree(project_dir, into, ignore=_ignore, symlinks=True)
    # Virtualenvs inside the project are linked, not copied: a policy pack of the project may name one
    # relative to itself (the reference project's policy/ uses ../.venv).
    for name in (".venv", "venv"):
        if (project_dir / name).is_dir():
            (into / name).symlink_to((project_dir / name).resolve(), target_is_directory=True)
    # A virtualenv inside the project is linked above and its relative path still holds: the file is
    # rewritten (which re-serializes the YAML) only for one outside it.
    if virtualenv is not None and not virtualenv.resolve().is_relative_to(project_dir.resolve()):
        for name in ("Pulumi.yaml", "Pulumi.yml"):
            path = into / name
            if path.is_file():
                data = load_yaml(path, "Pulumi project file (Pulumi.yaml)")
                if isinstance(data, dict) and isinstance(data.get("runtime"), dict):
                    options = data["runtime"].setdefault("options", {})
                    if isinstance(options, dict):
                        options["virtualenv"] = str(virtualenv)
                        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
                break
    return into


def _paths(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, dict) and set(value) == {"secure"}:
        yield prefix
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, f"{prefix}.{k}" if "." not in str(k) else f'{prefix}["{k}"]')
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, f"{prefix}[{i}]")


def _placeholder(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _placeholder(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholder(v) for v in value]
    return value


def secure_paths(stack_file: Path) -> list[tuple[str, bool]]:
    """Strip the user's encryption from the copied stack file and put the placeholder, in the clear, where
    each secure value was; return those config paths (``(path, nested)``) to be set secret again with
    ``pulumi config set --secret [--path]``, which encrypts them with the sandbox's passphrase."""
    if not stack_file.is_file():
        return []
    data = load_yaml(stack_file, "stack file")
    if not isinstance(data, dict):
        return []
    encrypted = [key for key in _ENCRYPTION_KEYS if data.pop(key, None) is not None]
    config = data.get("config")
    found: list[tuple[str, bool]] = []
    if isinstance(config, dict):
        for key, value in list(config.items()):
            for path in _paths(value, str(key)):
                found.append((path, path != str(key)))
            config[key] = _placeholder(value)
    # Re-serialized only when something had to change: the user's file reaches the CLI as written.
    if encrypted or found:
        stack_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return found


def sandbox_error(message: str, output: str) -> KmsguardError:
    tail = output.strip()[-3000:]
    return KmsguardError(f"{message}" + (f":\n{tail}" if tail else ""))


def which(env: Mapping[str, str], name: str) -> str | None:
    return shutil.which(name, path=env.get("PATH", os.defpath))
