"""Install kmsguard's Python language host where the real Pulumi CLI looks for ``pulumi-language-python``.

Why this exists: the CLI runs Python programs (``runtime: python``) and starts Python policy packs given
as a directory (``--policy-pack policy``, pkg/resource/plugin/plugin.go ``ExecPlugin`` → the language
host's ``RunPlugin``) through the ``python`` language plugin. Its Go module,
``github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`` (pulumi/pulumi
``sdk/python/cmd/pulumi-language-python/main.go``), is not served by the module proxy kmsguard builds the
CLI from, so ``make engine`` cannot build it. ``kmsguard.engine.pulumi_cli.langhost`` re-implements its
``LanguageRuntime`` service in Python; this module writes the executable the CLI starts:

- ``<bin_dir>/pulumi-language-python``: ``#!/bin/sh`` + ``exec <python> -m
  kmsguard.engine.pulumi_cli.langhost -use-executor <bin_dir>/pulumi-language-python-exec
  -plugin-version <version> "$@"`` (the interpreter named absolutely: the CLI starts plugins with its own
  environment, whatever PATH it has);
- ``<bin_dir>/pulumi-language-python-exec``: Pulumi's own script that runs a program (it sets up
  ``pulumi.runtime`` from its flags and runs the program with ``runpy``), copied from the
  ``github.com/pulumi/pulumi/sdk/v3`` module (``python/cmd/pulumi-language-python-exec``); it is not in
  the ``pulumi`` wheel.

How the CLI finds it (sdk/go/common/workspace/plugins.go ``getPluginInfoAndPath``): ``python`` is a bundled
language plugin, so an executable ``pulumi-language-python`` next to the (symlink-resolved) ``pulumi``
binary is used without a warning and without ``PULUMI_HOME``; one found on PATH first is preferred but
warned about ("using pulumi-language-python from $PATH") unless it is that same file. Hence the default
use: ``write_language_host(<engine bin dir>)``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from kmsguard.errors import KmsguardError

__all__ = ["EXEC_NAME", "HOST_NAME", "find_exec_script", "pinned_version", "write_language_host"]

HOST_NAME: Final = "pulumi-language-python"
EXEC_NAME: Final = "pulumi-language-python-exec"
_SDK_MODULE: Final = "github.com/pulumi/pulumi/sdk/v3"
_ENGINE_MODULE_DIR: Final = Path(__file__).resolve().parents[3] / "tools" / "pulumi-engine"
_PINNED: Final = re.compile(r"^\s*github\.com/pulumi/pulumi/pkg/v3 (v\d+\.\d+\.\d+\S*)", re.MULTILINE)


def pinned_version(module_dir: Path = _ENGINE_MODULE_DIR) -> str:
    """The CLI version tools/pulumi-engine/go.mod pins (``v3.274.0``), which the host reports as its own."""
    try:
        found = _PINNED.search((module_dir / "go.mod").read_text(encoding="utf-8"))
    except OSError as error:
        raise KmsguardError(f"cannot read the pinned Pulumi version: {error}") from error
    if found is None:
        raise KmsguardError(f"no github.com/pulumi/pulumi/pkg/v3 version in {module_dir / 'go.mod'}")
    return found.group(1)


def find_exec_script(version: str, module_dir: Path = _ENGINE_MODULE_DIR) -> Path:
    """``python/cmd/pulumi-language-python-exec`` in the sdk/v3 module at ``version``, located with
    ``go list -m`` in the engine's Go module (the module cache already holds it after ``make engine``)."""
    go = shutil.which("go")
    if go is None:
        raise KmsguardError(f"the `go` command is needed to locate {EXEC_NAME} (or pass exec_script)")
    done = subprocess.run(
        [go, "list", "-m", "-f", "{{.Dir}}", f"{_SDK_MODULE}@{version}"],
        cwd=module_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    module_root = done.stdout.strip()
    if done.returncode != 0 or not module_root:
        raise KmsguardError(f"go list -m {_SDK_MODULE}@{version} failed: {done.stderr.strip()}")
    script = Path(module_root) / "python" / "cmd" / EXEC_NAME
    if not script.is_file():
        raise KmsguardError(f"{script} does not exist")
    return script


def write_language_host(
    bin_dir: Path,
    *,
    python: str = sys.executable,
    exec_script: Path | None = None,
    version: str | None = None,
) -> Path:
    """Write ``pulumi-language-python`` (and copy ``pulumi-language-python-exec``) into ``bin_dir``; return
    the shim's path. ``python`` must have kmsguard, ``pulumi`` and ``grpcio`` installed; it only runs the
    host — programs and packs run in the interpreter their ``runtime.options`` name."""
    bin_dir = Path(bin_dir).resolve()
    bin_dir.mkdir(parents=True, exist_ok=True)
    version = version or pinned_version()
    source = exec_script if exec_script is not None else find_exec_script(version)
    target_exec = bin_dir / EXEC_NAME
    if Path(source).resolve() != target_exec:
        shutil.copyfile(source, target_exec)
    # The host runs it as `python <script> …`; executable anyway, like the file Pulumi ships.
    target_exec.chmod(0o755)

    interpreter = os.path.abspath(python)  # not resolved: a virtualenv's python is a symlink that matters
    shim = bin_dir / HOST_NAME
    command = [
        interpreter,
        "-m",
        "kmsguard.engine.pulumi_cli.langhost",
        "-use-executor",
        str(target_exec),
        "-plugin-version",
        version,
    ]
    text = (
        "#!/bin/sh\n"
        "# kmsguard's Python language host for the Pulumi CLI (kmsguard/engine/pulumi_cli/langhost_install.py).\n"
        f'exec {shlex.join(command)} "$@"\n'
    )
    # Written beside and renamed: a CLI starting the host meanwhile never sees half a script.
    partial = shim.with_name(shim.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.chmod(0o755)
    partial.replace(shim)
    return shim
