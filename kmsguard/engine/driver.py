"""A stand-in for the engine side of the Pulumi Analyzer protocol.

No Pulumi CLI can be installed on the project's machines, so this module does what the CLI does with
a Python policy pack (docs/pulumi-mechanics.md §1): it starts the pack the way launch path A of §1.2
starts it, reads the port from the first stdout line, talks to it over the real ``pulumirpc.Analyzer``
gRPC service with the stubs shipped in the installed ``pulumi`` package, and applies the engine's
own rules to the answers (config reconciliation and validation §5, remediation handling §1.5,
diagnostic attribution §1.4/§1.6, enforcement levels §1.7).

Two entry points:

* :class:`PackProcess` — one running pack; call the RPCs one by one;
* :func:`drive_pack` — the whole call sequence of one ``pulumi preview`` (§1.3) in one call.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

import grpc
import jsonschema
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from kmsguard.errors import KmsguardError
from kmsguard.protocol import is_urn, logical_name, urn_type

from . import children
from .errors import PackRpcError, PackStartError, PolicyConfigError
from .types import DriveResult, EnforcementLevel, PackResource, PolicyInfo, Remediation, Violation
from .wire import decode_struct, encode_struct, encode_value

__all__ = [
    "ENFORCEMENT_LEVELS",
    "DriveResult",
    "PackProcess",
    "PackResource",
    "PolicyInfo",
    "Remediation",
    "Violation",
    "drive_pack",
]

# §1.2: the CLI raises the gRPC limits from 4 MiB to 400 MiB for analyzers, both ways.
MAX_RPC_MESSAGE_SIZE: Final = 400 * 1024 * 1024
_CHANNEL_OPTIONS: Final = [
    ("grpc.max_receive_message_length", MAX_RPC_MESSAGE_SIZE),
    ("grpc.max_send_message_length", MAX_RPC_MESSAGE_SIZE),
]

# The pack is given the engine's gRPC address as its first positional argument (§1.2). pulumi_policy
# parses but never dials it, and this stand-in has no engine server to offer, so pass what the
# harness sketch of §1.10 passes.
ENGINE_ADDRESS: Final = "127.0.0.1:0"

ENFORCEMENT_LEVELS: Final = tuple(EnforcementLevel)

# Proto enum values (analyzer.proto, §1.1): ADVISORY=0, MANDATORY=1, DISABLED=2, REMEDIATE=3. These two
# maps are the only places a level is a proto int.
_LEVEL_OF_PROTO: Final[Mapping[int, EnforcementLevel]] = {
    analyzer_pb2.ADVISORY: EnforcementLevel.ADVISORY,
    analyzer_pb2.MANDATORY: EnforcementLevel.MANDATORY,
    analyzer_pb2.DISABLED: EnforcementLevel.DISABLED,
    analyzer_pb2.REMEDIATE: EnforcementLevel.REMEDIATE,
}
_PROTO_OF_LEVEL: Final[Mapping[EnforcementLevel, int]] = {
    level: value for value, level in _LEVEL_OF_PROTO.items()
}
_SEVERITY_TO_NAME: Final[Mapping[int, str]] = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_POLICY_TYPE_TO_NAME: Final[Mapping[int, str]] = {
    analyzer_pb2.POLICY_TYPE_UNKNOWN: "",
    analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
    analyzer_pb2.POLICY_TYPE_STACK: "stack",
}

# How much of the pack's stderr to quote in an error about a failed RPC.
_STDERR_TAIL: Final = 4000


# --------------------------------------------------------------------------------------------------
# The pack process
# --------------------------------------------------------------------------------------------------


class PackProcess:
    """A running policy pack, started and driven like the Pulumi CLI does it.

    Use as a context manager: entering starts the process and performs the engine's load sequence
    up to ``GetPluginInfo`` (§1.3 step 1.1-1.3); leaving sends ``Cancel`` and kills the process
    (§1.3 step 4).
    """

    def __init__(
        self,
        pack_dir: Path,
        *,
        project: str = "project",
        stack: str = "stack",
        organization: str = "organization",
        dry_run: bool = True,
        config: Mapping[str, str] | None = None,
        python: str | None = None,
        startup_timeout: float = 30.0,
        stack_tags: Mapping[str, str] | None = None,
        rpc_timeout: float | None = 300.0,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.organization = organization
        self.dry_run = dry_run
        self.config: dict[str, str] = dict(config or {})
        self.stack_tags: dict[str, str] = dict(stack_tags or {})
        self.startup_timeout = startup_timeout
        self.rpc_timeout = rpc_timeout
        self.startup_seconds = 0.0
        # Time spent inside RPCs (request sent → response received), without building the request
        # from Python values or reading the response: what the pack costs an engine, whose own
        # encoding (in Go) is not the stand-in's.
        self.rpc_seconds = 0.0
        self.port = 0
        self.plugin_version = ""
        # Advisory violations the engine derives from remediations that carry a diagnostic (§1.5);
        # remediate() cannot return them, so they collect here.
        self.remediation_violations: list[Violation] = []
        self._python_override = python
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: Any = None
        self._stdout_lines: list[str] = []
        self._stderr_chunks: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self._info: Any = None
        self._pack_name = ""
        self._policies: tuple[PolicyInfo, ...] = ()

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> PackProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stderr(self) -> str:
        """Everything the pack wrote to stderr so far (the CLI shows it as ``info#err``, §1.2)."""
        return b"".join(self._stderr_chunks).decode("utf-8", errors="replace")

    @property
    def stdout(self) -> str:
        """What the pack wrote to stdout after the port line (the CLI shows it as ``info``, §1.2)."""
        return "".join(self._stdout_lines)

    def start(self) -> None:
        """Start the pack and run the engine's load handshake (§1.2, §1.3 step 1)."""
        if self._proc is not None:
            raise KmsguardError("policy pack already started")
        options = _read_runtime_options(self.pack_dir)
        python, env = self._interpreter_and_env(options)
        argv = [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(self.pack_dir)]
        first_line: queue.Queue[bytes] = queue.Queue(maxsize=1)
        began = time.perf_counter()
        try:
            # Its own process group, tied to our lifetime (kmsguard.engine.children): a Ctrl-C reaches
            # kmsguard only, and the pack never outlives it, even when kmsguard is killed outright.
            proc = children.spawn(
                argv,
                cwd=self.pack_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as e:
            raise PackStartError(f"policy pack {self.pack_dir} failed to start: {python}: {e}") from e
        self._proc = proc
        assert proc.stdout is not None and proc.stderr is not None
        self._spawn(self._read_stdout, proc.stdout, first_line)
        self._spawn(self._read_stderr, proc.stderr)
        try:
            self._await_port(first_line, began)
            self._connect(began)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Send ``Cancel``, kill the process and collect the rest of its output. Idempotent."""
        if self._stub is not None:
            # §1.3 step 4: the engine sends Cancel before killing; pulumi_policy answers UNIMPLEMENTED.
            with contextlib.suppress(grpc.RpcError):
                self._stub.Cancel(empty_pb2.Empty(), timeout=2.0)
            self._stub = None
        if self._proc is not None:
            children.end(self._proc)  # the pack's whole process group, reaped
            for thread in self._threads:
                thread.join(timeout=5.0)
            self._threads = []
        if self._channel is not None:
            # Closed after the kill: closing a channel whose server is still up waits ~0.2 s in gRPC core.
            self._channel.close()
            self._channel = None

    # -- RPCs --------------------------------------------------------------------------------------

    def analyzer_info(self) -> tuple[str, tuple[PolicyInfo, ...]]:
        """``GetAnalyzerInfo``: the pack name and its policies. Cached like the engine caches it."""
        if self._info is None:
            info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
            self._info = info
            self._pack_name = str(info.name)
            self._policies = tuple(_policy_info(p) for p in info.policies)
        return self._pack_name, self._policies

    def configure(self, policy_config: Mapping[str, Any]) -> None:
        """Reconcile, validate and send ``Configure`` like the engine does (§5).

        ``policy_config`` is the content of a ``--policy-pack-config`` file. Unlike the CLI (which
        silently forwards them), config for a policy the pack does not have is rejected, because it is
        almost always a typo that would otherwise leave a policy at its default level.

        Every failure is a :class:`PolicyConfigError`: a config the engine's rules refuse, a value that
        cannot be sent, or a pack whose ``Configure`` fails (the pack refused it).
        """
        pack_name, policies = self.analyzer_info()
        try:
            self._configure(pack_name, policies, policy_config)
        except PolicyConfigError:
            raise
        except KmsguardError as exc:
            raise PolicyConfigError(str(exc)) from exc

    def _configure(
        self, pack_name: str, policies: Sequence[PolicyInfo], policy_config: Mapping[str, Any]
    ) -> None:
        parsed = _parse_policy_pack_config(policy_config)
        known = {p.name for p in policies}
        unknown = sorted(k for k in parsed if k != "all" and k not in known)
        if unknown:
            raise PolicyConfigError(
                f"policy pack config for {pack_name}: no policy named "
                + ", ".join(repr(k) for k in unknown)
                + f" (policies: {', '.join(sorted(known))})"
            )
        # proto3 cannot tell an unset level from ADVISORY (0), so, like the engine, a properties-only
        # initial_config entry reads as advisory.
        initial = {
            name: _ParsedConfig(
                _LEVEL_OF_PROTO[cfg.enforcementLevel],
                decode_struct(cfg.properties) if cfg.HasField("properties") else None,
            )
            for name, cfg in self._info.initialConfig.items()
        }
        merged = _reconcile(policies, initial, parsed)
        errors = [
            f"{policy.name}: {problem}"
            for policy in policies
            if policy.config_schema is not None
            for problem in _schema_errors(policy.config_schema, merged[policy.name].properties or {})
        ]
        if errors:
            raise PolicyConfigError("\n".join(f"validating policy config: {pack_name}: {e}" for e in errors))
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, cfg in merged.items():
            entry = request.policyConfig[name]
            entry.enforcementLevel = _PROTO_OF_LEVEL[cfg.level]
            if cfg.properties:
                entry.properties.CopyFrom(encode_struct(cfg.properties))
        self._call("Configure", request)

    def remediate(self, r: PackResource) -> tuple[list[Remediation], PackResource]:
        """``Remediate`` one resource; return the remediations and the resource as the engine keeps it.

        The engine replaces the inputs wholesale with each remediation's properties (§1.5), so the
        returned resource carries the last one's. Outputs given explicitly get the same top-level
        changes, as the engine's preview projects inputs to outputs (§1.6).
        """
        remediations, violations, remediated = self._remediate(r)
        self.remediation_violations.extend(violations)
        return remediations, remediated

    def analyze(self, r: PackResource) -> list[Violation]:
        """``Analyze`` one resource's inputs (§1.4)."""
        response = self._call("Analyze", self._analyze_request(r))
        # §1.4: the engine attributes every Analyze diagnostic to the analyzed resource.
        return [_violation(d, urn=r.urn) for d in response.diagnostics]

    def analyze_stack(self, rs: Sequence[PackResource]) -> list[Violation]:
        """``AnalyzeStack`` over the given resources' outputs (§1.6)."""
        request = analyzer_pb2.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in rs])
        response = self._call("AnalyzeStack", request)
        # §1.6: a diagnostic naming a resource of the stack keeps that URN; anything else belongs to the
        # stack itself, reported here with an empty URN.
        urns = {r.urn for r in rs}
        return [_violation(d, urn=d.urn if d.urn in urns else "") for d in response.diagnostics]

    # -- internals ---------------------------------------------------------------------------------

    def _remediate(self, r: PackResource) -> tuple[list[Remediation], list[Violation], PackResource]:
        # §1.5: Remediate sees the inputs *with* internal "__" keys.
        response = self._call("Remediate", self._analyze_request(r, skip_internal_keys=False))
        current: Mapping[str, Any] = dict(r.inputs)
        remediations: list[Remediation] = []
        violations: list[Violation] = []
        for rem in response.remediations:
            if rem.diagnostic:
                # §1.5: a remediation carrying a diagnostic is reported as an advisory violation and
                # changes nothing.
                violations.append(
                    Violation(
                        policy=str(rem.policyName),
                        pack=str(rem.policyPackName),
                        level=EnforcementLevel.ADVISORY,
                        urn=r.urn,
                        message=str(rem.diagnostic),
                        description=str(rem.description),
                        severity="",
                    )
                )
                continue
            after = decode_struct(rem.properties)
            remediations.append(
                Remediation(
                    policy=str(rem.policyName),
                    pack=str(rem.policyPackName),
                    urn=r.urn,
                    description=str(rem.description),
                    before=current,
                    after=after,
                )
            )
            current = after
        if not remediations:
            return remediations, violations, r
        outputs = None if r.outputs is None else _project_to_outputs(r.inputs, current, r.outputs)
        return remediations, violations, replace(r, inputs=current, outputs=outputs)

    def _analyze_request(self, r: PackResource, *, skip_internal_keys: bool = True) -> Any:
        props = _strip_internal(r.inputs) if skip_internal_keys else r.inputs
        request = analyzer_pb2.AnalyzeRequest(
            type=r.type,
            urn=r.urn,
            name=r.name,
            properties=encode_struct(props),
            options=analyzer_pb2.AnalyzerResourceOptions(parent=r.parent),
        )
        if r.provider_urn:
            request.provider.CopyFrom(_provider(r))
        return request

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            raise KmsguardError("policy pack is not running (use PackProcess as a context manager)")
        try:
            began = time.perf_counter()
            try:
                return getattr(self._stub, method)(request, timeout=self.rpc_timeout)
            finally:
                self.rpc_seconds += time.perf_counter() - began
        except grpc.RpcError as e:
            # §1.7: a policy raising anything but UnknownValueError fails the whole operation.
            raise PackRpcError(
                f"failed to run policy: {method} on {self.pack_dir}: {_rpc_error_text(e)}"
                + self._stderr_suffix()
            ) from e

    def _interpreter_and_env(self, options: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
        env = dict(os.environ)
        # Without a virtualenv the host falls back to the "global" python (§1.2); the interpreter running
        # kmsguard stands in for it. `toolchain: uv|poetry` is not reproduced: such packs run the same way.
        python = self._python_override or sys.executable
        venv = options.get("virtualenv")
        if self._python_override is None and isinstance(venv, str) and venv:
            venv_dir = Path(venv) if os.path.isabs(venv) else self.pack_dir / venv
            venv_python = venv_dir / "bin" / "python"
            if venv_python.exists():
                # §1.2 path A: the python host uses <packDir>/<virtualenv>/bin/python and activates
                # that environment (PATH, VIRTUAL_ENV, no PYTHONHOME).
                python = str(venv_python)
                env["VIRTUAL_ENV"] = str(venv_dir)
                env["PATH"] = os.pathsep.join([str(venv_dir / "bin"), env.get("PATH", "")])
                env.pop("PYTHONHOME", None)
        # §1.2 path A step 4: what the language host puts in the child's environment.
        env.update(
            {
                "PULUMI_PROJECT": self.project,
                "PULUMI_STACK": self.stack,
                "PULUMI_ORGANIZATION": self.organization,
                "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
                "PULUMI_CONFIG": json.dumps(self.config),
            }
        )
        return python, env

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _read_stdout(self, stream: IO[bytes], first_line: queue.Queue[bytes]) -> None:
        # §1.2: exactly one line is the port; the rest is ordinary output. Always drain the pipe so a
        # chatty pack cannot block on a full pipe.
        first_line.put(stream.readline())
        for line in iter(stream.readline, b""):
            self._stdout_lines.append(line.decode("utf-8", errors="replace"))
        stream.close()

    def _read_stderr(self, stream: IO[bytes]) -> None:
        fd = stream.fileno()
        for chunk in iter(lambda: os.read(fd, 65536), b""):
            self._stderr_chunks.append(chunk)
        stream.close()

    def _await_port(self, first_line: queue.Queue[bytes], began: float) -> None:
        assert self._proc is not None
        try:
            line = first_line.get(timeout=self.startup_timeout)
        except queue.Empty:
            self._proc.kill()
            self._proc.wait()
            self._join_readers()
            raise PackStartError(
                f"policy pack {self.pack_dir} failed to start: no port printed within "
                f"{self.startup_timeout:g}s" + self._stderr_suffix()
            ) from None
        self.startup_seconds = time.perf_counter() - began
        text = line.decode("utf-8", errors="replace").strip()
        if not line:
            # The pack exited (or closed stdout) before printing a port, e.g. __main__.py raised.
            code = self._proc.wait()
            self._join_readers()
            raise PackStartError(
                f"policy pack {self.pack_dir} failed to start: exited with code {code} before printing "
                "a port" + self._stderr_suffix()
            )
        try:
            port = int(text)
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            raise PackStartError(
                f"policy pack {self.pack_dir} failed to start: first stdout line {text!r} is not a port"
                + self._stderr_suffix()
            )
        self.port = port

    def _connect(self, began: float) -> None:
        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_CHANNEL_OPTIONS)
        self._channel = channel
        remaining = max(1.0, self.startup_timeout - (time.perf_counter() - began))
        try:
            grpc.channel_ready_future(channel).result(timeout=remaining)
        except grpc.FutureTimeoutError:
            raise PackStartError(
                f"policy pack {self.pack_dir}: could not connect to port {self.port}" + self._stderr_suffix()
            ) from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(channel)
        # §1.3 step 1: Handshake (UNIMPLEMENTED in pulumi_policy, accepted), ConfigureStack, GetPluginInfo.
        try:
            self._stub.Handshake(
                analyzer_pb2.AnalyzerHandshakeRequest(
                    engine_address=ENGINE_ADDRESS,
                    root_directory=str(self.pack_dir),
                    program_directory=str(self.pack_dir),
                ),
                timeout=self.rpc_timeout,
            )
        except grpc.RpcError as e:
            if _rpc_code(e) != grpc.StatusCode.UNIMPLEMENTED:
                raise PackStartError(
                    f"policy pack {self.pack_dir}: Handshake failed: {_rpc_error_text(e)}"
                    + self._stderr_suffix()
                ) from e
        self._call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                organization=self.organization,
                dry_run=self.dry_run,
                config=self.config,
                tags=self.stack_tags,
            ),
        )
        self.plugin_version = str(self._call("GetPluginInfo", empty_pb2.Empty()).version)

    def _join_readers(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5.0)

    def _stderr_suffix(self) -> str:
        text = self.stderr
        if not text.strip():
            return " (the pack wrote nothing to stderr)"
        if len(text) > _STDERR_TAIL:
            text = "..." + text[-_STDERR_TAIL:]
        return "\n--- policy pack stderr ---\n" + text.rstrip("\n")


# --------------------------------------------------------------------------------------------------
# drive_pack: one preview
# --------------------------------------------------------------------------------------------------


def drive_pack(
    pack_dir: Path,
    resources: Sequence[PackResource],
    *,
    policy_config: Mapping[str, Any] | None = None,
    project: str = "project",
    stack: str = "stack",
    organization: str = "organization",
    dry_run: bool = True,
    config: Mapping[str, str] | None = None,
    python: str | None = None,
    startup_timeout: float = 30.0,
    stack_tags: Mapping[str, str] | None = None,
) -> DriveResult:
    """Run one engine operation against the pack in the engine's call order (§1.3).

    ``GetAnalyzerInfo``, ``Configure`` (always, §1.3 step 1.6), then per resource in registration order
    ``Remediate`` followed by ``Analyze`` on the remediated inputs, then one ``AnalyzeStack`` over all
    resources with their (remediated) outputs.

    With ``dry_run=False`` (``pulumi up``) a mandatory resource violation stops the deployment: no
    later resource is analyzed and ``AnalyzeStack`` is skipped (§1.3 step 3, §1.7).
    """
    timings: dict[str, float] = {"remediate": 0.0, "analyze": 0.0, "analyze_stack": 0.0}
    violations: list[Violation] = []
    remediations: list[Remediation] = []
    final: list[PackResource] = []
    pack = PackProcess(
        pack_dir,
        project=project,
        stack=stack,
        organization=organization,
        dry_run=dry_run,
        config=config,
        python=python,
        startup_timeout=startup_timeout,
        stack_tags=stack_tags,
    )
    with pack:
        timings["start"] = pack.startup_seconds
        with _timed(timings, "configure"):
            pack_name, policies = pack.analyzer_info()
            pack.configure(policy_config or {})
        stopped = False
        for resource in resources:
            with _timed(timings, "remediate"):
                rems, rem_violations, remediated = pack._remediate(resource)
            remediations.extend(rems)
            violations.extend(rem_violations)
            with _timed(timings, "analyze"):
                found = pack.analyze(remediated)
            violations.extend(found)
            final.append(remediated)
            if not dry_run and any(v.level == EnforcementLevel.MANDATORY for v in found):
                stopped = True
                break
        if not stopped:
            with _timed(timings, "analyze_stack"):
                violations.extend(pack.analyze_stack(final))
    return DriveResult(
        pack_name=pack_name,
        policies=policies,
        violations=tuple(violations),
        remediations=tuple(remediations),
        final_resources=tuple(final),
        stderr=pack.stderr,
        timings=timings,
    )


class _timed:
    """Add the wall time of a block to ``timings[key]``."""

    def __init__(self, timings: dict[str, float], key: str) -> None:
        self._timings = timings
        self._key = key
        self._began = 0.0

    def __enter__(self) -> None:
        self._began = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self._timings[self._key] = self._timings.get(self._key, 0.0) + time.perf_counter() - self._began


# --------------------------------------------------------------------------------------------------
# Helpers: PulumiPolicy.yaml
# --------------------------------------------------------------------------------------------------


def _read_runtime_options(pack_dir: Path) -> Mapping[str, Any]:
    """Return ``runtime.options`` of ``PulumiPolicy.yaml`` after checking the runtime is python (§1.2)."""
    path = pack_dir / "PulumiPolicy.yaml"
    if not path.is_file():
        raise PackStartError(f"{pack_dir} is not a policy pack: {path.name} not found")
    # PyYAML comes with the pulumi SDK; it ships no type stubs, so load it untyped.
    yaml: Any = importlib.import_module("yaml")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise PackStartError(f"{path}: {e}") from e
    runtime = doc.get("runtime") if isinstance(doc, dict) else None
    name: Any
    options: Any
    if isinstance(runtime, str):
        name, options = runtime, {}
    elif isinstance(runtime, dict):
        name, options = runtime.get("name"), runtime.get("options") or {}
    else:
        raise PackStartError(f"{path}: runtime is required")
    if name != "python":
        raise PackStartError(f"{path}: runtime {name!r} is not supported; only python packs can be driven")
    if not isinstance(options, dict):
        raise PackStartError(f"{path}: runtime.options must be a mapping")
    return options


# --------------------------------------------------------------------------------------------------
# Helpers: messages
# --------------------------------------------------------------------------------------------------


def _policy_info(p: Any) -> PolicyInfo:
    schema: dict[str, Any] | None = None
    if p.HasField("configSchema"):
        # §5 convertSchema: the engine validates against this object schema.
        schema = {"type": "object"}
        properties = decode_struct(p.configSchema.properties)
        if properties:
            schema["properties"] = properties
        if p.configSchema.required:
            schema["required"] = [str(x) for x in p.configSchema.required]
    return PolicyInfo(
        name=str(p.name),
        description=str(p.description),
        enforcement_level=_LEVEL_OF_PROTO[p.enforcementLevel],
        policy_type=_POLICY_TYPE_TO_NAME.get(p.policy_type, ""),
        config_schema=schema,
        remediation_steps=str(p.remediation_steps),
        url=str(p.url),
    )


def _violation(d: Any, *, urn: str) -> Violation:
    level = _LEVEL_OF_PROTO[d.enforcementLevel]
    if level == EnforcementLevel.REMEDIATE:
        # §1.4/§1.6: the engine downgrades remediate diagnostics to mandatory.
        level = EnforcementLevel.MANDATORY
    return Violation(
        policy=str(d.policyName),
        pack=str(d.policyPackName),
        level=level,
        urn=urn,
        message=str(d.message),
        description=str(d.description),
        severity=_SEVERITY_TO_NAME.get(d.severity, ""),
    )


def _strip_internal(props: Mapping[str, Any]) -> dict[str, Any]:
    # §1.4: Analyze/AnalyzeStack are marshalled with SkipInternalKeys (top-level "__*" dropped).
    return {k: v for k, v in props.items() if not k.startswith("__")}


def _provider(r: PackResource) -> Any:
    urn = r.provider_urn
    if not is_urn(urn):
        raise KmsguardError(f"not a Pulumi URN: {urn!r}")
    return analyzer_pb2.AnalyzerProviderResource(
        type=urn_type(urn), name=logical_name(urn), urn=urn, properties=encode_struct(r.provider_inputs)
    )


def _analyzer_resource(r: PackResource) -> Any:
    outputs = r.inputs if r.outputs is None else r.outputs
    resource = analyzer_pb2.AnalyzerResource(
        type=r.type,
        urn=r.urn,
        name=r.name,
        properties=encode_struct(_strip_internal(outputs)),
        options=analyzer_pb2.AnalyzerResourceOptions(parent=r.parent),
        parent=r.parent,
        dependencies=list(r.dependencies),
    )
    for key, urns in r.property_dependencies.items():
        if urns:  # §1.6: the engine drops empty entries.
            resource.propertyDependencies[key].urns.extend(urns)
    if r.provider_urn:
        resource.provider.CopyFrom(_provider(r))
    return resource


def _project_to_outputs(
    before: Mapping[str, Any], after: Mapping[str, Any], outputs: Mapping[str, Any]
) -> dict[str, Any]:
    """Carry the top-level changes a remediation made to the inputs over to explicit outputs.

    In preview the provider computes outputs from the (remediated) inputs (§1.6), so a property the
    remediation set, changed or removed is set, changed or removed in the outputs too; every output
    the remediation did not touch (ids, unknowns, read-only lists) stays as given.
    """
    projected = dict(outputs)
    for key in before.keys() - after.keys():
        if not key.startswith("__"):
            projected.pop(key, None)
    for key, value in after.items():
        if key.startswith("__"):
            continue
        if key not in before or encode_value(before[key]) != encode_value(value):
            projected[key] = value
    return projected


def _rpc_code(e: grpc.RpcError) -> Any:
    code = getattr(e, "code", None)
    return code() if callable(code) else None


def _rpc_error_text(e: grpc.RpcError) -> str:
    code = _rpc_code(e)
    details = getattr(e, "details", None)
    text = details() if callable(details) else str(e)
    return f"{getattr(code, 'name', code)}: {text}"


# --------------------------------------------------------------------------------------------------
# Helpers: policy config (§5, pkg/resource/analyzer/config.go)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ParsedConfig:
    """One entry of a config layer: a level and/or properties, either may be absent."""

    level: EnforcementLevel | None
    properties: Mapping[str, Any] | None


@dataclass(frozen=True)
class _PolicyConfig:
    """One policy's reconciled config: what ``Configure`` sends for it."""

    level: EnforcementLevel
    properties: Mapping[str, Any] | None


def _parse_policy_pack_config(config: Mapping[str, Any]) -> dict[str, _ParsedConfig]:
    """``parsePolicyPackConfig``: split each entry into a level and properties, with the CLI's errors."""
    result: dict[str, _ParsedConfig] = {}
    for key, value in config.items():
        if key == "environments":
            # v3.231.0+: ESC environments for the pack, not a policy. This stand-in has no ESC.
            continue
        if isinstance(value, str):
            if (parsed := EnforcementLevel.parse(value)) is None:
                raise PolicyConfigError(
                    f"parsing enforcement level for {json.dumps(key)}: {json.dumps(value)} is not a valid "
                    "enforcement level"
                )
            result[key] = _ParsedConfig(parsed, None)
        elif isinstance(value, Mapping):
            props = dict(value)
            level = props.pop("enforcementLevel", None)
            if level is not None and not isinstance(level, str):
                raise PolicyConfigError(
                    f"parsing enforcement level for {json.dumps(key)}: {level!r} is not a valid enforcement "
                    "level; must be a string"
                )
            parsed_level = EnforcementLevel.parse(level)
            if level is not None and parsed_level is None:
                raise PolicyConfigError(
                    f"parsing enforcement level for {json.dumps(key)}: {json.dumps(level)} is not a valid "
                    "enforcement level"
                )
            if parsed_level is None and not props:
                continue  # "Don't bother including empty configs."
            result[key] = _ParsedConfig(parsed_level, props or None)
        else:
            raise PolicyConfigError(
                f"parsing {json.dumps(key)}: {value!r} is not a valid value; must be a string or object"
            )
    return result


def _reconcile(
    policies: Sequence[PolicyInfo],
    initial: Mapping[str, _ParsedConfig],
    given: Mapping[str, _ParsedConfig],
) -> dict[str, _PolicyConfig]:
    """``ReconcilePolicyPackConfig``: defaults < initial_config < the file; "all" first in each layer."""
    result: dict[str, _PolicyConfig] = {}
    for p in policies:
        defaults = {
            k: v["default"]
            for k, v in ((p.config_schema or {}).get("properties") or {}).items()
            if isinstance(v, Mapping) and "default" in v
        }
        result[p.name] = _PolicyConfig(p.enforcement_level, defaults or None)
    for layer in (initial, given):
        everything = layer.get("all")
        if everything is not None and everything.level is not None:
            for name, current in result.items():
                result[name] = _PolicyConfig(everything.level, current.properties)
        for name, entry in layer.items():
            if name == "all" or name not in result:
                continue
            old = result[name]
            props = dict(old.properties or {})
            props.update(entry.properties or {})
            result[name] = _PolicyConfig(entry.level or old.level, props or None)
    return result


def _schema_errors(schema: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Validate like gojsonschema does in the engine, phrasing each error the way the CLI prints it."""
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: [str(p) for p in e.absolute_path])
    return [_gojsonschema_message(e) for e in errors]


def _gojsonschema_message(e: jsonschema.ValidationError) -> str:
    # gojsonschema prints "<field>: <description>", with the "(root): " prefix trimmed (§5).
    path = ".".join(str(p) for p in e.absolute_path)
    field_name = path or "(root)"
    validator = e.validator
    value: Any = e.validator_value
    if validator == "required":
        # jsonschema reports one error per missing key, as "'<key>' is a required property".
        missing = e.message.removesuffix(" is a required property").strip("'\"")
        return f"{path}: {missing} is required" if path else f"{missing} is required"
    if validator == "type":
        expected = ", ".join(value) if isinstance(value, list) else str(value)
        description = f"Invalid type. Expected: {expected}, given: {_json_type(e.instance)}"
    elif validator == "enum":
        description = f"{field_name} must be one of the following: " + ", ".join(_json(v) for v in value)
    elif validator == "const":
        description = f"{field_name} does not match: {_json(value)}"
    elif validator == "minLength":
        description = f"String length must be greater than or equal to {_json(value)}"
    elif validator == "maxLength":
        description = f"String length must be less than or equal to {_json(value)}"
    elif validator == "minimum":
        description = f"Must be greater than or equal to {_json(value)}"
    elif validator == "maximum":
        description = f"Must be less than or equal to {_json(value)}"
    elif validator == "exclusiveMinimum":
        description = f"Must be greater than {_json(value)}"
    elif validator == "exclusiveMaximum":
        description = f"Must be less than {_json(value)}"
    elif validator == "pattern":
        description = f"Does not match pattern '{value}'"
    elif validator == "minItems":
        description = f"Array must have at least {_json(value)} items"
    elif validator == "maxItems":
        description = f"Array must have at most {_json(value)} items"
    else:
        description = e.message
    return f"{path}: {description}" if path else description


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def _json(value: Any) -> str:
    # Schema numbers crossed the wire as doubles (§1.8); print 3.0 as 3 like Go's JSON does.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value)
