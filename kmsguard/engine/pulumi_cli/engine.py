"""``--engine pulumi``: one real ``pulumi preview --policy-pack`` of a project, offline, in a sandbox.

The engine's own events decide the outcome: each ``policyEvent`` (with its enforcement level) becomes a
violation, each ``policyRemediationEvent`` a remediation the engine applied, and the preview's failure
without a mandatory violation is a program or engine error. The pack's record (``record.py``) gives the
resources the engine handed the pack, which the reports analyse as they analyse the stand-in's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kmsguard.engine import children
from kmsguard.engine.driver import DriveResult, Remediation, Violation
from kmsguard.engine.errors import EngineUnavailable, ProgramError
from kmsguard.engine.project import Project, load_project, load_stack_config
from kmsguard.engine.types import EnforcementLevel
from kmsguard.errors import KmsguardError

from .events import EngineEvents, read_events
from .install import PulumiCli, require_pulumi
from .record import read_record
from .sandbox import SECRET_PLACEHOLDER, Sandbox, copy_project, sandbox_error, secure_paths

__all__ = ["CliPreview", "PulumiProgramError", "preview_with_cli"]

# The kmsguard pack's PulumiPolicy.yaml when it is started as an executable (see kmsguard.pack).
# Seconds the CLI gets to end its plugins on SIGTERM before SIGKILL.
_GRACE: Final = 6.0
_PACK_PROJECT: Final = "runtime: python\nversion: {version}\ndescription: kmsguard policy pack\n"


class PulumiProgramError(ProgramError):
    """The preview failed for a reason other than a mandatory policy violation (program, config, engine):
    ``traceback`` is what the engine reported."""


# The engine's message when a program registers a resource of a provider whose plugin is not
# installed (downloads are off in the sandbox): kmsguard ships offline azure-native and classic azure
# (pulumi-azure) providers only, installed by prepare() when the program's interpreter has their SDK.
_MISSING_PLUGIN = re.compile(r"no resource plugin 'pulumi-resource-([A-Za-z0-9_-]+)' found")


def _no_offline_provider(output: str, project_dir: Path, stack: str) -> None:
    """Raise a clear error when the preview failed for want of a provider kmsguard cannot serve offline."""
    found = _MISSING_PLUGIN.search(output)
    if found is None or found.group(1) in ("azure-native", "azure"):
        return
    plugin = found.group(1)
    raise EngineUnavailable(
        f"`pulumi preview` of {project_dir} (stack {stack}) needs the {plugin} provider: kmsguard has no "
        f"offline pulumi-resource-{plugin} for the real engine (it ships offline azure-native and classic "
        f"azure providers only, and the sandbox downloads nothing). Run it on the stand-in engine instead: "
        f"kmsguard preview {project_dir} --stack {stack} --engine mocks"
    )


@dataclass(frozen=True)
class CliPreview:
    cli: PulumiCli
    project: str
    stack: str
    project_dir: Path
    drive: DriveResult
    events: EngineEvents
    exit_code: int
    stdout: str
    stderr: str
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def program_output(self) -> str:
        """What the program printed and logged, as the CLI shows it (info and warning diagnostics)."""
        return "".join(
            d.message for d in self.events.diagnostics if d.severity in ("info", "info#err", "warning")
        )


def _run(
    cli: PulumiCli,
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    sandbox: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """One ``pulumi`` command, tied to kmsguard's lifetime (kmsguard.engine.children): a timeout, a
    signal or kmsguard's death ends the CLI and every plugin it started, and removes the sandbox."""
    process = children.spawn(
        [str(cli.path), *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # The CLI ends its plugins on SIGTERM (pkg/resource/plugin/plugin.go: 5 s, then SIGKILL).
        grace=_GRACE,
        remove_on_orphan=[sandbox] if sandbox is not None else [],
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        children.end(process, grace=_GRACE)
        raise KmsguardError(
            f"`pulumi {args[0]}` did not finish within {timeout:.0f} s (kmsguard preview --timeout)"
        ) from None
    finally:
        children.end(process, grace=_GRACE)
    return subprocess.CompletedProcess(process.args, process.returncode, _text(out), _text(err))


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _check(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        raise sandbox_error(
            f"the sandbox's `pulumi {what}` failed (exit {done.returncode})", done.stderr + done.stdout
        )


def _program_python(project: Project) -> str:
    """The interpreter the language host runs the program with (for the provider's SDK version)."""
    from kmsguard.engine.mocks.runner import _interpreter

    return _interpreter(project, None)[0]


def _executable_pack(box: Sandbox) -> Path:
    """kmsguard's own pack as an executable policy pack running in this interpreter (kmsguard.pack)."""
    from kmsguard import __version__ as version

    pack = box.root / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text(_PACK_PROJECT.format(version=version), encoding="utf-8")
    exe = pack / "kmsguard-policy-pack"
    exe.write_text(f'#!/bin/sh\nexec {_quote(sys.executable)} -u -m kmsguard.pack "$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    return exe


def _linked(cli: PulumiCli, bin_dir: Path) -> PulumiCli:
    target = bin_dir / "pulumi"
    _link_or_copy(Path(os.path.realpath(cli.path)), target)
    return PulumiCli(path=target, version=cli.version)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem: a copy (the CLI binary is about 120 MB)
        shutil.copy2(source, target)


def _is_kmsguard_shim(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return b"kmsguard" in f.read(512)
    except OSError:
        return False


def cli_exec_script(cli: PulumiCli) -> Path | None:
    """``pulumi-language-python-exec`` as ``make engine`` leaves it beside the original binary, if there."""
    beside = Path(os.path.realpath(cli.path)).parent / "pulumi-language-python-exec"
    return beside if beside.is_file() else None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


@dataclass(frozen=True)
class Prepared:
    cli: PulumiCli  # the sandbox's link to the binary, with the language host beside it
    env: Mapping[str, str]  # the environment every `pulumi` command of the run gets


def prepare(project: Project, stack: str, box: Sandbox, cli: PulumiCli) -> Prepared:
    """Make ``box`` ready for ``pulumi`` commands on a copy of ``project``'s ``stack``: the copy with its
    secrets re-encrypted for the sandbox, the language host and the offline provider installed, the stack
    created in the file backend."""
    from .langhost_install import write_language_host
    from .provider_install import (
        CLASSIC_PACKAGE,
        NATIVE_PACKAGE,
        classic_provider_version,
        provider_version,
        write_provider,
    )

    copy_project(project.project_dir, box.project, virtualenv=project.virtualenv)
    stack_name = stack.rsplit("/", 1)[-1]
    config_dir = box.project / project.stack_config_dir.relative_to(project.project_dir)
    secrets = secure_paths(config_dir / f"Pulumi.{stack_name}.yaml")
    env = box.environment(os.environ, extra={"KMSGUARD_PACK_RECORD": str(box.record)})
    program_python = _program_python(project)

    # The language host beside the CLI: `python` is a bundled language plugin, found next to the
    # (symlink-resolved) pulumi binary (sdk/go/common/workspace/plugins.go), hence a hard link of the
    # binary in the sandbox's bin with the host written next to it.
    # A Pulumi installation with its own Go language host keeps it: only a CLI built by `make engine`
    # (whose language host module the proxy does not serve) gets kmsguard's.
    own_host = Path(os.path.realpath(cli.path)).parent / "pulumi-language-python"
    exec_script = cli_exec_script(cli)
    cli = _linked(cli, box.bin)
    if own_host.is_file() and not _is_kmsguard_shim(own_host):
        _link_or_copy(own_host, box.bin / own_host.name)
    else:
        write_language_host(box.bin, python=sys.executable, exec_script=exec_script, version=cli.version)
    # The offline providers, each at the version the program's SDK asks for: azure-native and the
    # classic azure (pulumi-azure), for whichever SDK the program's interpreter has.
    for package, version in (
        (NATIVE_PACKAGE, provider_version(program_python)),
        (CLASSIC_PACKAGE, classic_provider_version(program_python)),
    ):
        if version is None:
            continue
        provider = write_provider(box.bin, python=program_python, package=package)
        install = ["plugin", "install", "resource", package, version, "--file", str(provider)]
        _check(
            _run(cli, install, cwd=box.root, env=env, timeout=120, sandbox=box.root),
            f"plugin install resource {package}",
        )
    init = ["stack", "init", stack, "--non-interactive"]
    _check(_run(cli, init, cwd=box.project, env=env, timeout=120, sandbox=box.root), f"stack init {stack}")
    for path, nested in secrets:
        args = [
            "config",
            "set",
            "--secret",
            "--stack",
            stack,
            *(["--path"] if nested else []),
            path,
            SECRET_PLACEHOLDER,
        ]
        _check(
            _run(cli, args, cwd=box.project, env=env, timeout=120, sandbox=box.root),
            f"config set --secret {path}",
        )
    return Prepared(cli=cli, env=env)


def preview_with_cli(
    project_dir: Path,
    stack: str,
    *,
    pack: Path | None = None,
    policy_config: Mapping[str, Any] | None = None,
    timeout: float = 600.0,
    cli: PulumiCli | None = None,
) -> CliPreview:
    """``pulumi preview --policy-pack`` of ``project_dir``'s ``stack`` in a sandbox.

    ``pack`` is a policy pack directory or executable; by default kmsguard's own pack, started as an
    executable in this interpreter.
    """
    began = time.perf_counter()
    project = load_project(Path(project_dir))
    # The stack's config read and validated as the stand-in reads it: a malformed, oversized or invalid
    # stack file stops here with the same one-line error, before any sandbox exists.
    load_stack_config(project, stack)
    box = Sandbox.create()
    timings: dict[str, float] = {}
    try:
        ready = prepare(project, stack, box, cli or require_pulumi())
        cli, env = ready.cli, ready.env
        timings["sandbox"] = time.perf_counter() - began

        pack_arg = pack if pack is not None else _executable_pack(box)
        args = [
            "preview",
            "--non-interactive",
            "--stack",
            stack,
            "--color",
            "never",
            "--policy-pack",
            str(pack_arg),
            "--event-log",
            str(box.events),
        ]
        if policy_config:
            config_file = box.root / "policy-config.json"
            config_file.write_text(json.dumps(policy_config), encoding="utf-8")
            args += ["--policy-pack-config", str(config_file)]
        t = time.perf_counter()
        done = _run(cli, args, cwd=box.project, env=env, timeout=timeout, sandbox=box.root)
        timings["preview"] = time.perf_counter() - t
        events = read_events(box.events)
        record = read_record(box.record) if box.record.exists() else None
    finally:
        box.remove()
    violations = tuple(
        Violation(
            policy=v.policy,
            pack=v.pack,
            level=v.level,
            urn=v.urn,
            message=v.message,
            description=_description(record, v.policy),
            severity=v.severity,
        )
        for v in events.violations
    )
    remediations = tuple(
        Remediation(
            policy=r.policy,
            pack=r.pack,
            urn=r.urn,
            description=_description(record, r.policy),
            before=r.before,
            after=r.after,
        )
        for r in events.remediations
    )

    # The program ran in the sandbox's copy: its tracebacks and messages name the user's files.
    def relocated(text: str) -> str:
        return text.replace(str(box.project), str(project.project_dir))

    _echo_program_output(events, relocated)
    blocked = any(v.level == EnforcementLevel.MANDATORY for v in violations)
    if done.returncode != 0 and not blocked:
        errors = [d.message for d in events.diagnostics if d.severity == "error"] + list(events.errors)
        detail = relocated("\n".join(e.rstrip() for e in errors if e.strip()))
        stdout, stderr = relocated(done.stdout), relocated(done.stderr)
        _no_offline_provider(detail + stderr + stdout, project.project_dir, stack)
        raise PulumiProgramError(
            f"`pulumi preview` of {project.project_dir} (stack {stack}) failed with exit code {done.returncode}",
            detail or (stderr + stdout)[-4000:],
            stdout,
            stderr,
        )
    if record is None:
        raise KmsguardError("the policy pack recorded nothing: it did not run under `pulumi preview`")
    if record.analyze_stack_calls == 0:
        # Without AnalyzeStack no stack policy judged anything: never a report of "no subnets".
        raise KmsguardError(
            "`pulumi preview` never called the policy pack's AnalyzeStack: nothing was judged"
        )
    drive = DriveResult(
        pack_name=record.pack_name,
        policies=record.policies,
        violations=violations,
        remediations=remediations,
        final_resources=record.resources,
        stderr=done.stderr,
        timings=timings,
    )
    timings["total"] = time.perf_counter() - began
    return CliPreview(
        cli=cli,
        project=project.name,
        stack=stack,
        project_dir=project.project_dir,
        drive=drive,
        events=events,
        exit_code=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        timings=timings,
    )


def _echo_program_output(events: EngineEvents, relocated: Callable[[str], str]) -> None:
    """The program's print output and log messages on kmsguard's stderr, as the stand-in shows them
    (kmsguard.engine.mocks.runner.echo, set by the CLI), after the run: the engine reports them as
    diagnostics, which the event log holds."""
    from kmsguard.engine.mocks import runner

    sink = runner.echo
    if sink is None:
        return
    # Errors are left to the error report (PulumiProgramError carries them).
    for d in events.diagnostics:
        if d.severity in ("info", "info#err", "warning"):
            text = ("warning: " if d.severity == "warning" else "") + relocated(d.message)
            sink.write(text if text.endswith("\n") else text + "\n")
    sink.flush()


def _description(record: Any, policy: str) -> str:
    if record is None:
        return ""
    for p in record.policies:
        if p.name == policy:
            return str(p.description)
    return ""
