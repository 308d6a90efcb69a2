"""The ``LanguageRuntime`` servicer: pulumi/pulumi ``sdk/python/cmd/pulumi-language-python/main.go`` (v3.274.0)
method by method, for what ``pulumi preview`` / ``up`` and a directory policy pack need.

- ``Run`` starts ``<python> pulumi-language-python-exec --monitor … --engine … --project … --root_directory …
  --stack … --pwd … --dry_run true|false --parallel N [--tracing …] [--organization …] ENTRYPOINT ARGS…``
  (``constructArguments``; an empty value drops its flag) with ``PULUMI_CONFIG`` (JSON object, when there is
  config) and ``PULUMI_CONFIG_SECRET_KEYS`` (JSON array, always) added to the environment, stdout and stderr
  inherited (the CLI reads them from this host's own pipes). Exit 32 is "the program already showed the
  user an actionable error": ``RunResponse(bail=True)``; another non-zero exit is
  ``RunResponse(error="program exited with non-zero exit code: N")``.
- ``RunPlugin`` (how the CLI starts a policy pack given as a directory, pkg/resource/plugin/plugin.go
  ``ExecPlugin``): ``<python> <packdir> <engine address>`` — or ``python -m pulumi.run.plugin <name>`` for a
  buildable package without ``__main__.py`` — in ``request.pwd``, the virtualenv activated and then the
  CLI's environment (``request.env``) laid over it; output streamed back, the exit code sent only when
  non-zero (a clean exit just ends the stream). For a plugin the ``virtualenv`` option defaults to ``venv``
  when the toolchain is explicitly ``pip``.
- ``GetRequiredPlugins`` / ``GetRequiredPackages`` answer an empty list (the Go host lists the installed
  ``pulumi-*`` packages, and the CLI would then look for — and possibly download — their plugins; here the
  engine loads providers only when the program registers resources, from ``PULUMI_HOME``).
- ``InstallDependencies`` never installs: it checks the virtualenv exists and says so.
- ``Pack``, ``Template``, ``Link``, ``Generate*`` and ``Cancel`` answer UNIMPLEMENTED (the generated base
  servicer's behaviour); the CLI treats an UNIMPLEMENTED ``Cancel`` as acknowledged.

This module must not import kmsguard: the host stays a thin, separately testable process.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc
from google.protobuf import json_format
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

from .toolchain import (
    Command,
    HostError,
    PythonOptions,
    Toolchain,
    ToolchainKind,
    parse_options,
    resolve_toolchain,
)

__all__ = ["HostConfig", "LanguageHost", "merge_environ"]

# main.go pythonProcessExitedAfterShowingUserActionableMessage: the exec script exits with this after
# logging the program's traceback through the engine, so the CLI must not add a second error.
EXIT_USER_ACTIONABLE = 32


@dataclass
class HostConfig:
    """What main.go's ``main`` hands to ``newLanguageHost``."""

    executor: str  # path of pulumi-language-python-exec
    engine_address: str = ""  # positional argument, or Handshake's engine_address
    tracing: str = ""
    version: str = ""  # GetPluginInfo's answer (the Go host reports the CLI version it was built with)


def _abort(context: grpc.ServicerContext, error: BaseException) -> NoReturn:
    # A Go handler returning a plain error reaches the CLI as status UNKNOWN with the error's text.
    context.abort(grpc.StatusCode.UNKNOWN, str(error))
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


def _options(info: Any) -> PythonOptions:
    raw = json_format.MessageToDict(info.options) if info.HasField("options") else {}
    return parse_options(info.root_directory, info.program_directory, raw)


def merge_environ(base: Mapping[str, str] | None, overrides: Sequence[str]) -> dict[str, str] | None:
    """``cmd.Env = append(cmd.Env, req.Env...)``: KEY=VALUE entries over ``base``, the last one winning as in
    Go's exec. ``None`` (inherit this process's environment) only when both are empty, as a nil Go slice."""
    if base is None and not overrides:
        return None
    merged = dict(base or {})
    for entry in overrides:
        key, sep, value = entry.partition("=")
        if sep:
            merged[key] = value
    return merged


def _exit_code(returncode: int) -> int:
    # Go's WaitStatus.ExitStatus() is -1 for a process killed by a signal (Python: -signum).
    return -1 if returncode < 0 else returncode


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """``pythonLanguageHost``."""

    def __init__(self, config: HostConfig, on_engine_address: Callable[[str], None] | None = None) -> None:
        self._config = config
        self._on_engine_address = on_engine_address
        self._lock = threading.Lock()

    # -- identity -------------------------------------------------------------------------------------

    def GetPluginInfo(self, request: Any, context: grpc.ServicerContext) -> Any:
        return plugin_pb2.PluginInfo(version=self._config.version)

    def Handshake(self, request: Any, context: grpc.ServicerContext) -> Any:
        # An attached (PULUMI_DEBUG_LANGUAGES) host learns the engine address here; Go then starts its
        # engine health check, which the caller's hook does.
        with self._lock:
            self._config.engine_address = request.engine_address
        if self._on_engine_address is not None and request.engine_address:
            self._on_engine_address(request.engine_address)
        return language_pb2.LanguageHandshakeResponse()

    # -- dependencies: reported empty, never installed --------------------------------------------------

    def GetRequiredPlugins(self, request: Any, context: grpc.ServicerContext) -> Any:
        return language_pb2.GetRequiredPluginsResponse(plugins=[])

    def GetRequiredPackages(self, request: Any, context: grpc.ServicerContext) -> Any:
        # Go first runs EnsureVenv (which would create the virtualenv); a missing one fails here instead.
        try:
            resolve_toolchain(_options(request.info)).ensure_venv()
        except HostError as error:
            _abort(context, error)
        return language_pb2.GetRequiredPackagesResponse(packages=[])

    def InstallDependencies(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            options = _options(request.info)
            if request.is_plugin and options.toolchain is ToolchainKind.PIP and not options.virtualenv:
                options = PythonOptions(
                    options.root, options.program_dir, "venv", options.typechecker, options.toolchain
                )
            toolchain = resolve_toolchain(options)
            toolchain.ensure_venv()
        except HostError as error:
            _abort(context, error)
        where = toolchain.virtualenv_path or "the ambient Python interpreter"
        yield language_pb2.InstallDependenciesResponse(
            stdout=f"kmsguard's language host installs nothing; using {where}\n\n".encode()
        )

    def GetProgramDependencies(self, request: Any, context: grpc.ServicerContext) -> Any:
        # pip.go ListPackages: `python -m pip list --format json [--not-required]`, names normalised (PEP 503).
        args = ["list", "--format", "json"]
        if not request.transitiveDependencies:
            args.append("--not-required")
        try:
            command = resolve_toolchain(_options(request.info)).module_command("pip", args)
            done = subprocess.run(
                command.argv, env=command.env, cwd=command.cwd, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise HostError(f"failed to get python dependencies: {done.stderr.strip()}")
            listed = json.loads(done.stdout)
        except (HostError, ValueError) as error:
            _abort(context, error)
        return language_pb2.GetProgramDependenciesResponse(
            dependencies=[
                language_pb2.DependencyInfo(name=_normalise(item["name"]), version=item["version"])
                for item in listed
            ]
        )

    def About(self, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            if request.HasField("info"):
                options = _options(request.info)
            else:  # older callers pass no info: Go uses the default pip toolchain
                options = PythonOptions("", "", toolchain=ToolchainKind.PIP)
            command = resolve_toolchain(options).command(
                ["-c", "import platform, sys; print(sys.executable); print(platform.python_version())"]
            )
            done = subprocess.run(
                command.argv, env=command.env, cwd=command.cwd, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise HostError(f"failed to get python executable path: {done.stderr.strip()}")
        except HostError as error:
            _abort(context, error)
        executable, _, version = done.stdout.strip().partition("\n")
        return language_pb2.AboutResponse(executable=executable, version=version.strip())

    def RuntimeOptionsPrompts(self, request: Any, context: grpc.ServicerContext) -> Any:
        raw = json_format.MessageToDict(request.info.options) if request.info.HasField("options") else {}
        string = language_pb2.RuntimeOptionPrompt.STRING
        value = language_pb2.RuntimeOptionPrompt.RuntimeOptionValue
        prompts = []
        if "toolchain" not in raw:
            pip = value(promptType=string, stringValue="pip", displayName="pip")
            # plugin.MakeExecutablePromptChoices: found executables first, others marked "[not found]".
            found = [(name, shutil.which(name) is not None) for name in ("poetry", "uv")]
            found.sort(key=lambda item: not item[1])
            choices = [pip] + [
                value(promptType=string, stringValue=name, displayName=name if ok else f"{name} [not found]")
                for name, ok in found
            ]
            prompts.append(
                language_pb2.RuntimeOptionPrompt(
                    key="toolchain",
                    description="The toolchain to use for installing dependencies and running the program",
                    promptType=string,
                    choices=choices,
                    default=pip,
                )
            )
        elif raw["toolchain"] == "pip" and "virtualenv" not in raw:
            venv = value(promptType=string, stringValue="venv")
            prompts.append(
                language_pb2.RuntimeOptionPrompt(
                    key="virtualenv",
                    description="The virtualenv to use",
                    promptType=string,
                    choices=[venv],
                    default=venv,
                )
            )
        return language_pb2.RuntimeOptionsResponse(prompts=prompts)

    # -- running programs ----------------------------------------------------------------------------------

    def _arguments(self, request: Any) -> list[str]:
        """main.go ``constructArguments``: a flag only when its value is non-empty."""
        args: list[str] = []
        for flag, value in (
            ("monitor", request.monitor_address),
            ("engine", self._config.engine_address),
            ("project", request.project),
            ("root_directory", request.info.root_directory),
            ("stack", request.stack),
            ("pwd", request.pwd),
            ("dry_run", "true" if request.dryRun else "false"),
            ("parallel", str(request.parallel)),
            ("tracing", self._config.tracing),
            ("organization", request.organization),
        ):
            if value:
                args += [f"--{flag}", value]
        # "The engine should always pass a name for entry point, even if its just "." for the program directory."
        args.append(request.info.entry_point)
        args.extend(request.args)
        return args

    def Run(self, request: Any, context: grpc.ServicerContext) -> Any:
        if not self._config.engine_address:
            _abort(context, HostError("when debugging or running explicitly, must call Handshake before Run"))
        try:
            options = _options(request.info)
            if request.attach_debugger:
                # Go starts the program under debugpy; kmsguard never attaches a debugger.
                return language_pb2.RunResponse(
                    error="attaching a debugger is not supported by kmsguard's language host"
                )
            toolchain = resolve_toolchain(options)
            toolchain.validate_venv()
            command = toolchain.command([self._config.executor, *self._arguments(request)])
            env = dict(command.env if command.env is not None else os.environ)
            if request.config:
                env["PULUMI_CONFIG"] = json.dumps(dict(sorted(request.config.items())), separators=(",", ":"))
            # constructConfigSecretKeys gives "[]" for none, so the variable is always set.
            env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(
                list(request.configSecretKeys), separators=(",", ":")
            )
            if options.typechecker:
                self._typecheck(toolchain, options, request.info.program_directory)
        except HostError as error:
            _abort(context, error)

        sys.stdout.flush()
        sys.stderr.flush()
        try:
            # stdout/stderr are inherited: the CLI turns this host's output lines into diagnostics.
            process = subprocess.Popen(command.argv, env=env, cwd=command.cwd, stdin=subprocess.DEVNULL)
        except OSError as error:
            return language_pb2.RunResponse(
                error=f"problem executing program (could not run language executor): {error}"
            )
        # exec.CommandContext: a cancelled RPC (the CLI gave up) kills the program.
        _kill_when_done(context, process)
        returncode = process.wait()
        if returncode == 0:
            return language_pb2.RunResponse()
        if returncode == EXIT_USER_ACTIONABLE:
            return language_pb2.RunResponse(error="", bail=True)
        return language_pb2.RunResponse(
            error=f"program exited with non-zero exit code: {_exit_code(returncode)}"
        )

    def _typecheck(self, toolchain: Toolchain, options: PythonOptions, program_dir: str) -> None:
        """main.go runs ``python -m mypy --exclude <venv relative to the program> <program dir>`` (or
        ``python -m pyright <program dir>``) before the program, failing the run when it fails."""
        args = ["-m", options.typechecker]
        if options.typechecker == "mypy" and toolchain.virtualenv_path:
            args += ["--exclude", os.path.relpath(toolchain.virtualenv_path, program_dir)]
        args.append(program_dir)
        command = toolchain.command(args)
        done = subprocess.run(command.argv, env=command.env, cwd=program_dir or None, check=False)
        if done.returncode != 0:
            raise HostError(f"{options.typechecker} failed: exit status {done.returncode}")

    # -- running plugins (policy packs given as a directory) ----------------------------------------------------

    def _plugin_command(self, request: Any, toolchain: Toolchain, options: PythonOptions) -> Command:
        program_dir = request.info.program_directory
        if not os.path.exists(os.path.join(options.root, "__main__.py")):
            # A buildable package is run through `python -m pulumi.run.plugin <project name>` when the
            # plugin's pulumi SDK has that module; otherwise the directory itself, as below.
            probe = toolchain.command(["-c", "import pulumi.run.plugin"])
            done = subprocess.run(probe.argv, env=probe.env, cwd=probe.cwd, capture_output=True, text=True)
            if "ModuleNotFoundError" not in done.stdout + done.stderr:
                name = _buildable_package_name(options.root)
                return toolchain.module_command("pulumi.run.plugin", [name, *request.args])
        return toolchain.command([program_dir, *request.args])

    def RunPlugin(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            options = _options(request.info)
            # "We don't support running plugins using the global or ambient Python environment."
            if options.toolchain is ToolchainKind.PIP and not options.virtualenv:
                options = PythonOptions(
                    options.root, options.program_dir, "venv", options.typechecker, options.toolchain
                )
            toolchain = resolve_toolchain(options)
            command = self._plugin_command(request, toolchain, options)
        except HostError as error:
            _abort(context, error)
        env = merge_environ(command.env, list(request.env))
        try:
            process = subprocess.Popen(
                command.argv,
                env=env,
                cwd=request.pwd or None,  # cmd.Dir = req.Pwd, overriding poetry's directory as in Go
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as error:
            _abort(
                context,
                HostError(f"problem executing plugin program (could not run language executor): {error}"),
            )
        _kill_when_done(context, process)
        yield from _stream_plugin(process)


def _buildable_package_name(root: str) -> str:
    """pyproject.go ``IsBuildablePackage`` and ``LoadPyproject``: ``[project] name`` + ``[build-system]
    build-backend`` make the directory a runnable plugin package."""
    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as handle:
            pyproject = tomllib.load(handle)
    except FileNotFoundError:
        pyproject = {}
    except tomllib.TOMLDecodeError as error:
        raise HostError(
            f"checking if plugin is a buildable package: parsing pyproject.toml: {error}"
        ) from error
    name = (pyproject.get("project") or {}).get("name", "")
    backend = (pyproject.get("build-system") or {}).get("build-backend", "")
    if not (name and backend):
        raise HostError(
            "plugin is not runnable, it provides neither __main__.py nor a buildable pyproject.toml"
        )
    return str(name)


def _stream_plugin(process: subprocess.Popen[bytes]) -> Iterator[Any]:
    """rpcutil.MakeRunPluginStreams: each read of the plugin's stdout/stderr becomes one message; the exit
    code follows only when it is not zero (a clean exit ends the stream, which the CLI reads as 0)."""
    chunks: queue.Queue[tuple[str, bytes] | None] = queue.Queue()

    def pump(name: str, pipe: Any) -> None:
        try:
            while chunk := os.read(pipe.fileno(), 32 * 1024):
                chunks.put((name, chunk))
        finally:
            pipe.close()
            chunks.put(None)

    readers = [
        threading.Thread(target=pump, args=(name, pipe), daemon=True)
        for name, pipe in (("stdout", process.stdout), ("stderr", process.stderr))
    ]
    for reader in readers:
        reader.start()
    open_pipes = len(readers)
    while open_pipes:
        item = chunks.get()
        if item is None:
            open_pipes -= 1
            continue
        name, chunk = item
        if name == "stdout":
            yield language_pb2.RunPluginResponse(stdout=chunk)
        else:
            yield language_pb2.RunPluginResponse(stderr=chunk)
    returncode = process.wait()
    if returncode != 0:
        yield language_pb2.RunPluginResponse(exitcode=_exit_code(returncode))


def _kill(process: subprocess.Popen[bytes]) -> None:
    # exec.CommandContext kills with SIGKILL once the context is done; a finished process is left alone.
    if process.poll() is None:
        process.kill()


def _kill_when_done(context: grpc.ServicerContext, process: subprocess.Popen[bytes]) -> None:
    """The process dies with its RPC (the CLI cancelled it, or the server stopped), as with
    exec.CommandContext; add_callback refuses an RPC that has already ended, so kill at once then."""
    if not context.add_callback(lambda: _kill(process)):
        _kill(process)


def _normalise(name: str) -> str:
    """toolchain.go ``normalizePythonPackageName`` (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name.lower())
