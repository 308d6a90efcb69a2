"""Which Python interpreter runs a program or a plugin: the Go host's ``python/toolchain`` package, minus
every step that would create a virtualenv or install a package.

Followed files (pulumi/pulumi at v3.274.0, module ``github.com/pulumi/pulumi/sdk/v3``):

- ``python/toolchain/toolchain.go``: ``ResolveToolchain`` (``Auto`` looks up ``uv.lock``, then
  ``poetry.lock``, from the program directory, else pip), ``ActivateVirtualEnv``;
- ``python/toolchain/pip.go``: the ``virtualenv`` option is relative to the project root; no virtualenv
  means the ambient interpreter (``PULUMI_PYTHON_CMD``, else ``python3``, else ``python`` on PATH);
  ``IsVirtualEnv`` (``<venv>/bin/python`` exists); ``NewVirtualEnvError``'s message;
- ``python/toolchain/poetry.go``: the virtualenv is ``poetry env info --path`` in the program directory;
- ``python/toolchain/uv.go``: the virtualenv is the option, else ``UV_PROJECT_ENVIRONMENT`` or ``.venv``
  next to the nearest ``uv.lock`` / ``pyproject.toml``.

Deliberate differences: ``EnsureVenv`` / ``InstallDependencies`` never create anything here (a missing
virtualenv is an error naming it), and uv's ``Command`` does not run ``uv sync`` first (it could download).
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "Command",
    "HostError",
    "PythonOptions",
    "Toolchain",
    "ToolchainKind",
    "activate_virtualenv",
    "is_virtualenv",
    "parse_options",
    "resolve_toolchain",
]

_UV_DEFAULT_VENV: Final = ".venv"  # uv.go defaultVirtualEnv


class HostError(Exception):
    """An error the Go host returns from an RPC as a plain Go error (gRPC status UNKNOWN)."""


class ToolchainKind(enum.Enum):
    AUTO = "auto"  # no `toolchain` option: detected from lock files (toolchain.go Auto)
    PIP = "pip"
    POETRY = "poetry"
    UV = "uv"


@dataclass(frozen=True)
class PythonOptions:
    """main.go ``parseOptions``: the runtime options of Pulumi.yaml / PulumiPolicy.yaml."""

    root: str
    program_dir: str
    virtualenv: str = ""
    typechecker: str = ""  # "", "mypy" or "pyright"
    toolchain: ToolchainKind = ToolchainKind.AUTO


def parse_options(root: str, program_dir: str, options: Mapping[str, object]) -> PythonOptions:
    """Validate the options as main.go ``parseOptions`` does (same messages)."""
    virtualenv = options.get("virtualenv", "")
    if not isinstance(virtualenv, str):
        raise HostError("virtualenv option must be a string")
    typechecker = options.get("typechecker", "")
    if not isinstance(typechecker, str):
        raise HostError("typechecker option must be a string")
    if typechecker not in ("", "mypy", "pyright"):
        raise HostError(f"unsupported typechecker option: {typechecker}")
    kind = ToolchainKind.AUTO
    if "toolchain" in options:
        name = options["toolchain"]
        if not isinstance(name, str):
            raise HostError("toolchain option must be a string")
        if name not in ("pip", "poetry", "uv"):
            raise HostError(f"unsupported toolchain option: {name}")
        kind = ToolchainKind(name)
    return PythonOptions(root, program_dir, virtualenv, typechecker, kind)


@dataclass(frozen=True)
class Command:
    """An ``exec.Cmd`` before it runs: ``env`` None inherits the host's environment, as in Go."""

    argv: list[str]
    env: dict[str, str] | None = None
    cwd: str | None = None


def is_virtualenv(path: str) -> bool:
    """pip.go ``IsVirtualEnv``: a directory is a virtualenv when ``bin/python`` is a file in it."""
    return bool(path) and Path(path, "bin", "python").is_file()


def activate_virtualenv(environ: Mapping[str, str], venv: str) -> dict[str, str]:
    """toolchain.go ``ActivateVirtualEnv``: ``<venv>/bin`` first on PATH, ``VIRTUAL_ENV`` set, ``PYTHONHOME``
    dropped (a PYTHONHOME of the CLI's environment would break the virtualenv's interpreter)."""
    venv_bin = str(Path(venv, "bin"))
    result: dict[str, str] = {}
    for key, value in environ.items():
        if key.upper() == "PATH":
            result[key] = venv_bin + os.pathsep + value
        elif key.upper() in ("PYTHONHOME", "VIRTUAL_ENV"):
            continue
        else:
            result[key] = value
    if not any(key.upper() == "PATH" for key in result):
        result["PATH"] = venv_bin
    result["VIRTUAL_ENV"] = venv
    return result


def _searchup(start: str, name: str) -> Path | None:
    """toolchain.go ``searchup``: the nearest directory from ``start`` upwards holding ``name``."""
    current = Path(start)
    while True:
        if (current / name).exists():
            return current
        if current.parent == current:
            return None
        current = current.parent


def _resolve_venv_path(root: str, virtualenv: str) -> str:
    """pip.go ``resolveVirtualEnvironmentPath``: relative to the project root (not to the cwd)."""
    if not virtualenv:
        return ""
    return virtualenv if os.path.isabs(virtualenv) else os.path.join(root, virtualenv)


def _virtualenv_error(option: str, full_path: str) -> HostError:
    """pip.go ``NewVirtualEnvError``, with the advice to create it by hand: this host never does."""
    message = (
        "doesn't exist" if not os.path.exists(full_path) else "doesn't appear to be a virtual environment"
    )
    venv_python = os.path.join(full_path, "bin", "python")
    return HostError(
        f"The 'virtualenv' option in Pulumi.yaml is set to {json.dumps(option)}, but {json.dumps(full_path)} "
        f"{message}; "
        "kmsguard's language host never creates a virtual environment or installs packages, "
        "so create it first:\n\n"
        f"    1. python3 -m venv {full_path}\n"
        f"    2. {venv_python} -m pip install -r requirements.txt\n"
    )


def _ambient_python() -> str:
    """pip.go ``CommandPath``: ``PULUMI_PYTHON_CMD`` (looked up on PATH), else ``python3``, else ``python``."""
    configured = os.environ.get("PULUMI_PYTHON_CMD", "")
    candidates = [configured] if configured else ["python3", "python"]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise HostError(
        f"failed to locate any of {candidates!r} on your PATH. Have you installed Python 3.6 or greater?"
    )


@dataclass(frozen=True)
class Toolchain:
    """A resolved toolchain: the interpreter to run and the environment to run it in."""

    kind: ToolchainKind  # never AUTO once resolved
    virtualenv_option: str  # as written in the options ("" when none)
    virtualenv_path: str  # absolute; "" means the ambient interpreter (pip without a virtualenv)
    cwd: str | None = None  # poetry runs its commands in the program directory

    def command(self, args: Sequence[str]) -> Command:
        """``Toolchain.Command``: ``python ARGS`` with the virtualenv activated."""
        if not self.virtualenv_path:
            return Command([_ambient_python(), *args])
        python = os.path.join(self.virtualenv_path, "bin", "python")
        return Command([python, *args], activate_virtualenv(os.environ, self.virtualenv_path), self.cwd)

    def module_command(self, module: str, args: Sequence[str]) -> Command:
        return self.command(["-m", module, *args])

    def validate_venv(self) -> None:
        """``Toolchain.ValidateVenv`` (pip only checks when a virtualenv is configured)."""
        if self.kind is ToolchainKind.PIP:
            if self.virtualenv_option and not is_virtualenv(self.virtualenv_path):
                raise _virtualenv_error(self.virtualenv_option, self.virtualenv_path)
        elif not is_virtualenv(self.virtualenv_path):
            raise _virtualenv_error(self.virtualenv_option or self.virtualenv_path, self.virtualenv_path)

    def ensure_venv(self) -> None:
        """``Toolchain.EnsureVenv`` would create a missing virtualenv and pip-install requirements.txt into
        it; here a missing one is an error that names it (nothing may be downloaded)."""
        self.validate_venv()


def _poetry_venv(program_dir: str) -> str:
    """poetry.go ``VirtualEnvPath``: ``poetry env info --path`` in the program directory."""
    poetry = shutil.which("poetry")
    if poetry is None:
        raise HostError(
            "Could not find `poetry` executable.\n"
            "Install poetry and make sure it is in your PATH, or set the toolchain option in Pulumi.yaml to `pip`."
        )
    done = subprocess.run(
        [poetry, "env", "info", "--path"],
        cwd=program_dir or None,
        capture_output=True,
        text=True,
        check=False,
    )
    path = done.stdout.strip()
    if done.returncode != 0 or not path:
        raise HostError(
            f"failed to get venv path: poetry env info --path: {done.stderr.strip() or 'no output'}"
        )
    return path


def _uv_venv(root: str, virtualenv: str) -> str:
    """uv.go ``newUv``: where uv keeps the project's virtualenv."""
    if shutil.which("uv") is None:
        raise HostError("Could not find `uv` executable.\nInstall uv and make sure it is in your PATH.")
    if not virtualenv:
        project_dir = _searchup(root, "uv.lock") or _searchup(root, "pyproject.toml") or Path(root)
        configured = os.environ.get("UV_PROJECT_ENVIRONMENT", "")
        virtualenv = str(project_dir / (configured or _UV_DEFAULT_VENV))
    return virtualenv if os.path.isabs(virtualenv) else os.path.join(root, virtualenv)


def resolve_toolchain(options: PythonOptions) -> Toolchain:
    """toolchain.go ``ResolveToolchain``."""
    kind = options.toolchain
    if kind is ToolchainKind.AUTO:
        # Detection starts at the program directory, as in Go (not at the root).
        if _searchup(options.program_dir or ".", "uv.lock") is not None:
            kind = ToolchainKind.UV
        elif _searchup(options.program_dir or ".", "poetry.lock") is not None:
            kind = ToolchainKind.POETRY
        else:
            kind = ToolchainKind.PIP
    if kind is ToolchainKind.POETRY:
        return Toolchain(
            kind, options.virtualenv, _poetry_venv(options.program_dir), options.program_dir or None
        )
    if kind is ToolchainKind.UV:
        # newUv is given the program directory as its root in Go (ResolveToolchain passes ProgramDir).
        venv = options.virtualenv
        if venv and not os.path.isabs(venv):
            venv = os.path.join(options.root, venv)
        return Toolchain(kind, options.virtualenv, _uv_venv(options.program_dir or options.root, venv))
    return Toolchain(kind, options.virtualenv, _resolve_venv_path(options.root, options.virtualenv))
