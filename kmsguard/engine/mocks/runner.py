"""An offline ``pulumi preview`` of a Pulumi Python program: what the engine would send to a policy pack.

:func:`run_program` reads the project (``Pulumi.yaml``) and the stack's config (``Pulumi.<stack>.yaml``),
runs the program in a subprocess with the project's own interpreter under
``pulumi.runtime.set_mocks(..., preview=True)`` and a recording monitor (``host/``), and returns every
registration with what the engine would know about it during a preview (pulumi-mechanics §1.4-§1.6,
§2, §3.0):

* ``inputs`` — what ``Analyze`` receives: the program's inputs after transforms and after azure-native's
  ``Check`` (autoname of an unset name property, ``location``, ``azureApiVersion``), unknowns as
  :data:`~kmsguard.engine.wire.UNKNOWN`, secrets as :class:`~kmsguard.engine.wire.Secret`;
* ``outputs`` — what ``AnalyzeStack`` receives: ``PreviewOutputs(inputs)``, the inputs projected onto the
  resource's output shape with every other output unknown;
* engine-format URNs, parents, dependencies and non-empty property dependencies (URNs sorted: the engine's
  order is arbitrary), the provider reference, and where the program declared the resource.

:meth:`ProgramRun.pack_resources` turns the run into the input of :func:`kmsguard.engine.drive_pack`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kmsguard.errors import KmsguardError

from .driver import PackResource
from .project import load_project, load_stack_config
from .wire import decode_value

__all__ = ["ProgramError", "ProgramRun", "Registration", "run_program"]

_HOST_DIR: Final = Path(__file__).resolve().parent / "host"
_HOST_PACKAGE: Final = "_kmsguard_program_host"

# Loads the host package from its files, so the program's interpreter needs neither kmsguard nor its
# dependencies installed (host/__init__.py).
_BOOTSTRAP: Final = f"""
import importlib.util, sys
_dir = {str(_HOST_DIR)!r}
_spec = importlib.util.spec_from_file_location({_HOST_PACKAGE!r}, _dir + "/__init__.py",
                                               submodule_search_locations=[_dir])
_pkg = importlib.util.module_from_spec(_spec)
sys.modules[{_HOST_PACKAGE!r}] = _pkg
_spec.loader.exec_module(_pkg)
from {_HOST_PACKAGE}.main import main
sys.exit(main(sys.argv[1]))
"""


@dataclass(frozen=True)
class Registration:
    """One resource the program registered, as the engine sees it during a preview."""

    type: str
    name: str
    urn: str
    custom: bool
    parent: str
    dependencies: tuple[str, ...]
    property_dependencies: Mapping[str, tuple[str, ...]]
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    provider: str
    source: tuple[str, int] | None

    @property
    def provider_urn(self) -> str:
        """The provider reference without its id (``urn::id`` → ``urn``)."""
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


@dataclass(frozen=True)
class ProgramRun:
    """One offline preview of a program."""

    project: str
    stack: str
    project_dir: Path
    registrations: tuple[Registration, ...]
    stdout: str
    stderr: str
    seconds: float
    timings: Mapping[str, float] = field(default_factory=dict)

    def pack_resources(self) -> list[PackResource]:
        """The registrations as :func:`kmsguard.engine.drive_pack` takes them, in engine order.

        Each resource carries its provider's inputs, as the engine attaches them (§1.4).
        """
        by_urn = {r.urn: r for r in self.registrations}
        resources: list[PackResource] = []
        for r in self.registrations:
            provider = by_urn.get(r.provider_urn)
            resources.append(
                PackResource(
                    type=r.type,
                    urn=r.urn,
                    name=r.name,
                    inputs=r.inputs,
                    outputs=r.outputs,
                    parent=r.parent,
                    dependencies=r.dependencies,
                    property_dependencies=r.property_dependencies,
                    provider_urn=r.provider_urn,
                    provider_inputs=provider.inputs if provider is not None else {},
                )
            )
        return resources

    def get(self, name: str, type_: str | None = None) -> Registration:
        """The one registration with this logical name (and type); ``KeyError`` if none or several."""
        found = [r for r in self.registrations if r.name == name and (type_ is None or r.type == type_)]
        if len(found) != 1:
            raise KeyError(
                f"{len(found)} registrations named {name!r}" + (f" of type {type_}" if type_ else "")
            )
        return found[0]


class ProgramError(KmsguardError):
    """The program raised: ``traceback`` is the program's own, without the runner's frames."""

    exit_code: int = 2

    def __init__(self, message: str, traceback: str, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback
        self.stdout = stdout
        self.stderr = stderr


def run_program(
    project_dir: Path,
    stack: str,
    *,
    config: Mapping[str, str] | None = None,
    python: str | None = None,
    timeout: float = 300.0,
) -> ProgramRun:
    """Run the Pulumi Python program in ``project_dir`` for ``stack`` as an offline preview.

    ``config`` adds or overrides stack config (keys as in the stack file: bare keys get the project
    namespace). ``python`` is the interpreter to run the program with; by default the project's
    ``runtime.options.virtualenv``, else this interpreter.

    Raises :class:`KmsguardError` for a missing or bad project/stack file, a missing interpreter or a
    timeout, and :class:`ProgramError` when the program itself fails.
    """
    began = time.perf_counter()
    project = load_project(Path(project_dir))
    stack_config = load_stack_config(project, stack)
    values = dict(stack_config.values)
    for key, value in (config or {}).items():
        values[key if ":" in key else f"{project.name}:{key}"] = value
    interpreter = _interpreter(project.virtualenv, python)

    with tempfile.TemporaryDirectory(prefix="kmsguard-run-") as tmp:
        spec_path = Path(tmp) / "spec.json"
        result_path = Path(tmp) / "result.json"
        spec = {
            "project": project.name,
            "stack": stack,
            "organization": project.organization,
            "project_dir": str(project.project_dir),
            "program": str(project.main),
            "cwd": str(project.program_cwd),
            "config": values,
            "secret_keys": list(stack_config.secret_keys),
            "result": str(result_path),
        }
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = _environment(values, stack_config.secret_keys, project.name, stack)
        spawned = time.time()
        stdout, stderr, returncode = _execute(
            [interpreter, "-c", _BOOTSTRAP, str(spec_path)], env, project.program_cwd, timeout, project.name
        )
        if not result_path.is_file():
            raise KmsguardError(
                f"the program runner for {project.project_dir} exited with code {returncode} without a result"
                + _tail(stderr)
            )
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KmsguardError(f"the program runner wrote an unreadable result: {exc}") from None

    error = result.get("error")
    if error is not None:
        if error.get("kind") == "program":
            raise ProgramError(
                f"the Pulumi program {project.main} failed: {error['message']}",
                error["traceback"],
                stdout,
                stderr,
            )
        if error.get("kind") == "environment":
            raise KmsguardError(str(error["message"]))
        raise KmsguardError(
            f"recording the registrations of {project.main} failed: {error['message']}\n{error['traceback']}"
        )
    raw_timings = result.get("timings") or {}
    timings = {k: float(v) for k, v in raw_timings.items() if k != "host_started"}
    if "host_started" in raw_timings:
        timings["interpreter_start"] = max(0.0, float(raw_timings["host_started"]) - spawned)
    registrations = tuple(_registration(record) for record in result["records"])
    seconds = time.perf_counter() - began
    timings["total"] = seconds
    return ProgramRun(
        project=project.name,
        stack=stack,
        project_dir=project.project_dir,
        registrations=registrations,
        stdout=stdout,
        stderr=stderr,
        seconds=seconds,
        timings=timings,
    )


def _interpreter(virtualenv: Path | None, python: str | None) -> str:
    if python is not None:
        return python
    if virtualenv is not None:
        for candidate in (virtualenv / "bin" / "python", virtualenv / "Scripts" / "python.exe"):
            if candidate.exists():
                return str(candidate)
        raise KmsguardError(f"runtime.options.virtualenv: no Python interpreter in {virtualenv}")
    return sys.executable


def _environment(
    values: Mapping[str, str], secret_keys: tuple[str, ...], project: str, stack: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    # The language host passes config the same way (§2.4); set_all_config in the host reads the spec.
    env["PULUMI_CONFIG"] = json.dumps(dict(values))
    env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(secret_keys))
    env["PULUMI_PROJECT"] = project
    env["PULUMI_STACK"] = stack
    env["PULUMI_DRY_RUN"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def _execute(
    argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float, project: str
) -> tuple[str, str, int]:
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # so a timeout can end the program's own children too
        )
    except OSError as exc:
        raise KmsguardError(f"cannot start the program's interpreter {argv[0]}: {exc.strerror}") from None
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        out, err = process.communicate()
        raise KmsguardError(
            f"the Pulumi program of project {project!r} did not finish within {timeout:g} s"
            + _tail(err.decode("utf-8", "replace"))
        ) from None
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), process.returncode


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _tail(stderr: str, limit: int = 4000) -> str:
    text = stderr.strip()
    if not text:
        return ""
    return "\n" + (text if len(text) <= limit else "…" + text[-limit:])


def _registration(record: Mapping[str, Any]) -> Registration:
    source = record.get("source")
    return Registration(
        type=str(record["type"]),
        name=str(record["name"]),
        urn=str(record["urn"]),
        custom=bool(record["custom"]),
        parent=str(record["parent"]),
        dependencies=tuple(record["dependencies"]),
        property_dependencies={k: tuple(v) for k, v in record["propertyDependencies"].items()},
        inputs=decode_value(record["inputs"]),
        outputs=decode_value(record["outputs"]),
        provider=str(record["provider"]),
        source=(str(source[0]), int(source[1])) if source else None,
    )
