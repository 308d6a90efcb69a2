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

import codecs
import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from kmsguard.errors import KmsguardError
from kmsguard.protocol import provider_ref_urn

from ..driver import PackResource
from ..errors import ProgramError
from ..project import Project, load_project, load_stack_config, stack_name
from ..wire import decode_value

__all__ = ["ProgramError", "ProgramRun", "Registration", "run_program"]

_HOST_DIR: Final = Path(__file__).resolve().parent / "host"
_HOST_PACKAGE: Final = "_kmsguard_program_host"
# The offline azure-native provider's Check and preview outputs: one implementation, served over gRPC to
# the real CLI (kmsguard.provider) and called in-process by the host's monitor.
_PROVIDER_DIR: Final = Path(__file__).resolve().parents[2] / "provider"
_PROVIDER_PACKAGE: Final = "_kmsguard_provider"

# Loads the host and provider packages from their files, so the program's interpreter needs neither
# kmsguard nor its dependencies installed (host/__init__.py).
_BOOTSTRAP: Final = f"""
import importlib.util, sys
def _load(name, where):
    spec = importlib.util.spec_from_file_location(name, where + "/__init__.py",
                                                  submodule_search_locations=[where])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
_load({_PROVIDER_PACKAGE!r}, {str(_PROVIDER_DIR)!r})
_load({_HOST_PACKAGE!r}, {str(_HOST_DIR)!r})
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
        return provider_ref_urn(self.provider)


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


def run_program(
    project_dir: Path,
    stack: str,
    *,
    config: Mapping[str, str] | None = None,
    python: str | None = None,
    timeout: float = 300.0,
) -> ProgramRun:
    """Run the Pulumi Python program in ``project_dir`` for ``stack`` as an offline preview.

    ``stack`` is a stack reference as ``pulumi preview --stack`` takes it (``dev``,
    ``organization/dev`` or ``organization/<project>/dev``); the program sees its name part.
    ``config`` adds or overrides stack config as ``--config k=v`` does (keys as in the stack file: bare
    keys get the project namespace), before the project's ``config:`` defaults are merged and checked.
    ``python`` is the interpreter to run the program with; by default the one the Pulumi language host
    would choose (:func:`_interpreter`).

    Raises :class:`KmsguardError` for a missing or bad project/stack file, stack config the CLI would
    refuse, a missing interpreter or a timeout, and :class:`ProgramError` when the program itself fails.
    """
    began = time.perf_counter()
    project = load_project(Path(project_dir))
    stack = stack_name(project, stack)  # URNs, PULUMI_STACK and get_stack() use the name part
    stack_config = load_stack_config(project, stack, overrides=config)
    values = dict(stack_config.values)
    interpreter, activated = _interpreter(project, python)

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
        env = _environment(values, stack_config.secret_keys, project.name, stack, activated)
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
        if error.get("kind") == "engine":
            # `pulumi preview` fails with the engine's diagnostic (exit 2 from the CLI).
            source = error.get("source")
            where = f" ({source[0]}, line {source[1]})" if source else ""
            note = str(error.get("note") or "")
            raise KmsguardError(f"the preview of {project.main} failed: {error['message']}{where}{note}")
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


def _interpreter(project: Project, python: str | None) -> tuple[str, str | None]:
    """The interpreter the Python language host runs the program with, and the virtualenv it activates.

    main.go ``parseOptions`` and python/toolchain ``ResolveToolchain`` (sdk/v3 v3.274.0), through the same
    port the real engine's offline host uses (``pulumi_cli.langhost.toolchain``):

    * ``toolchain: uv|poetry`` (or, with no toolchain option, a ``uv.lock`` / ``poetry.lock`` found from
      the program directory upwards): the virtualenv those tools keep for the project (uv.go ``newUv``,
      poetry.go ``VirtualEnvPath``); the tool must be installed, as the host requires;
    * pip with ``virtualenv``: ``<project>/<virtualenv>/bin/python`` (pip.go ``resolveVirtualEnvironmentPath``);
    * pip without one: ``$PULUMI_PYTHON_CMD``, else ``python3``, else ``python`` on PATH (pip.go
      ``CommandPath``), in the environment as it is.

    The host would create a missing virtualenv (``EnsureVenv``) or ``uv sync`` first; offline nothing is
    installed, so a missing one is an error naming it. ``python`` overrides all of it (no activation).
    """
    if python is not None:
        return python, None
    from ..pulumi_cli.langhost.toolchain import HostError, parse_options, resolve_toolchain

    try:
        options = parse_options(str(project.project_dir), str(project.program_cwd), project.runtime_options)
        toolchain = resolve_toolchain(options)
        toolchain.validate_venv()
        argv = toolchain.command([]).argv
    except HostError as exc:
        raise KmsguardError(f"{project.project_dir}: {exc}") from None
    return argv[0], toolchain.virtualenv_path or None


def _environment(
    values: Mapping[str, str],
    secret_keys: tuple[str, ...],
    project: str,
    stack: str,
    virtualenv: str | None = None,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    if virtualenv:
        # toolchain.go ActivateVirtualEnv: <venv>/bin first on PATH, VIRTUAL_ENV set, PYTHONHOME dropped,
        # so the program's own subprocesses (python, pip) are the virtualenv's too.
        from ..pulumi_cli.langhost.toolchain import activate_virtualenv

        env = activate_virtualenv(env, virtualenv)
    # The language host passes config the same way (§2.4); set_all_config in the host reads the spec.
    env["PULUMI_CONFIG"] = json.dumps(dict(values))
    env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(secret_keys))
    env["PULUMI_PROJECT"] = project
    env["PULUMI_STACK"] = stack
    env["PULUMI_DRY_RUN"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONPATH", None)
    return env


# Where the program's own output (print, stderr, pulumi.log.* — which under mocks prints "info: …" to
# stderr) is echoed while it runs, as `pulumi preview` shows it; None keeps it only in the ProgramRun.
# The CLI sets its stderr: its stdout is the report.
echo: IO[str] | None = None


def _execute(
    argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float, project: str
) -> tuple[str, str, int]:
    from ..children import end, spawn

    try:
        # Its own process group (a timeout or a signal ends the program's own children too), tied to
        # our lifetime: the runner's temporary directory (the spec's folder) goes if we are killed.
        process = spawn(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            remove_on_orphan=[Path(argv[-1]).parent],
        )
    except OSError as exc:
        raise KmsguardError(f"cannot start the program's interpreter {argv[0]}: {exc.strerror}") from None
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}
    lock = threading.Lock()

    def pump(stream: IO[bytes], key: str) -> None:
        fd = stream.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            chunks[key].append(chunk)
            if echo is None:
                continue
            # Whole lines only, so the program's stdout and stderr never interleave mid-line.
            pending += decoder.decode(chunk)
            complete, newline, pending = pending.rpartition("\n")
            if newline:
                _echo(complete + newline, lock)
        if echo is not None:
            # The last line without its newline (a partial character flushed by the final decode).
            tail = pending + decoder.decode(b"", final=True)
            if tail:
                _echo(tail + "\n", lock)
        stream.close()

    assert process.stdout is not None and process.stderr is not None
    readers = [
        threading.Thread(target=pump, args=(process.stdout, "out"), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, "err"), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            for reader in readers:
                reader.join(timeout=5.0)
            raise KmsguardError(
                f"the Pulumi program of project {project!r} did not finish within {timeout:g} s"
                + _tail(b"".join(chunks["err"]).decode("utf-8", "replace"))
            ) from None
    finally:
        # Also on an interruption (children.Interrupted) or any other exception: no process is left.
        end(process)
    for reader in readers:
        reader.join(timeout=5.0)
    out, err = b"".join(chunks["out"]), b"".join(chunks["err"])
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), int(process.returncode)


def _echo(text: str, lock: threading.Lock) -> None:
    sink = echo
    if sink is None:
        return
    with lock, contextlib.suppress(OSError, ValueError):
        sink.write(text)
        sink.flush()


def _kill(process: subprocess.Popen[bytes]) -> None:
    from ..children import end

    end(process)


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
