"""kmsguard's Python language host (kmsguard/engine/pulumi_cli/langhost): over gRPC on its own, then
under the real Pulumi CLI (``make engine``'s build) running a program and a directory policy pack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from kmsguard.engine.pulumi_cli.install import engine_cache
from kmsguard.engine.pulumi_cli.langhost.server import merge_environ
from kmsguard.engine.pulumi_cli.langhost.toolchain import (
    HostError,
    ToolchainKind,
    activate_virtualenv,
    parse_options,
    resolve_toolchain,
)
from kmsguard.engine.pulumi_cli.langhost_install import (
    EXEC_NAME,
    HOST_NAME,
    pinned_version,
    write_language_host,
)

# Where `make engine` puts the CLI (tools/pulumi-engine/build.sh), wherever the cache is.
PULUMI = engine_cache() / pinned_version() / "bin" / "pulumi"
VENV = Path(sys.prefix)  # the interpreter running the tests has pulumi and pulumi_policy
FAKE_ENGINE = "127.0.0.1:1"

# Stands in for pulumi-language-python-exec: records how the host started it, exits as told by config.
FAKE_EXEC = """\
import json, os, sys
with open(os.environ["LANGHOST_TEST_DUMP"], "w") as out:
    json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "executable": sys.executable,
               "env": {k: v for k, v in os.environ.items()
                       if k.startswith(("PULUMI_", "VIRTUAL_ENV", "PATH"))}}, out)
config = json.loads(os.environ.get("PULUMI_CONFIG", "{}"))
sys.exit(int(config.get("test:exit", "0")))
"""


def _info(root: Path, **options: str) -> Any:
    struct = struct_pb2.Struct()
    struct.update(options)
    return language_pb2.ProgramInfo(
        root_directory=str(root), program_directory=str(root), entry_point=".", options=struct
    )


class Host:
    """A started ``pulumi-language-python`` shim and a client for it."""

    def __init__(self, shim: Path, engine: str | None, dump: Path) -> None:
        env = dict(os.environ, LANGHOST_TEST_DUMP=str(dump))
        args = [str(shim)] + ([engine] if engine else [])
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline().strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = language_pb2_grpc.LanguageRuntimeStub(self.channel)
        self.dump = dump

    def close(self) -> None:
        self.channel.close()
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bin_dir = tmp_path_factory.mktemp("bin")
    fake = tmp_path_factory.mktemp("exec") / EXEC_NAME
    fake.write_text(FAKE_EXEC, encoding="utf-8")
    return write_language_host(bin_dir, exec_script=fake, version="v3.274.0")


@pytest.fixture
def host(shim: Path, tmp_path: Path) -> Iterator[Host]:
    started = Host(shim, FAKE_ENGINE, tmp_path / "dump.json")
    yield started
    started.close()


# -- the shim -------------------------------------------------------------------------------------------


def test_shim_execs_the_host_with_an_absolute_interpreter(shim: Path) -> None:
    assert shim.name == HOST_NAME
    text = shim.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n")
    assert os.access(shim, os.X_OK)
    assert f"exec {os.path.abspath(sys.executable)} -m kmsguard.engine.pulumi_cli.langhost" in text
    assert f"-use-executor {shim.parent / EXEC_NAME}" in text
    assert text.rstrip().endswith('"$@"')
    assert (shim.parent / EXEC_NAME).is_file()


def test_host_without_an_executor_fails_like_the_go_host(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kmsguard.engine.pulumi_cli.langhost", "-use-executor", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "missing executor" in done.stderr


# -- the servicer over gRPC --------------------------------------------------------------------------------


def test_plugin_info_and_health(host: Host) -> None:
    assert host.stub.GetPluginInfo(empty_pb2.Empty()).version == "v3.274.0"
    check = host.channel.unary_unary("/grpc.health.v1.Health/Check")
    assert check(b"", timeout=10) == b"\x08\x01"  # SERVING


def test_required_plugins_and_packages_are_empty(host: Host) -> None:
    info = _info(VENV.parent, virtualenv=str(VENV))
    assert list(host.stub.GetRequiredPlugins(language_pb2.GetRequiredPluginsRequest(info=info)).plugins) == []
    assert (
        list(host.stub.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest(info=info)).packages) == []
    )


def test_missing_virtualenv_is_named_and_never_created(host: Host, tmp_path: Path) -> None:
    info = _info(tmp_path, virtualenv="venv-that-is-not-there")
    with pytest.raises(grpc.RpcError) as raised:
        host.stub.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest(info=info))
    assert raised.value.code() == grpc.StatusCode.UNKNOWN
    assert str(tmp_path / "venv-that-is-not-there") in (raised.value.details() or "")
    with pytest.raises(grpc.RpcError) as raised:
        list(host.stub.InstallDependencies(language_pb2.InstallDependenciesRequest(info=info)))
    assert "never creates a virtual environment" in (raised.value.details() or "")
    assert not (tmp_path / "venv-that-is-not-there").exists()


def test_install_dependencies_installs_nothing(host: Host) -> None:
    request = language_pb2.InstallDependenciesRequest(info=_info(VENV.parent, virtualenv=str(VENV)))
    out = b"".join(reply.stdout for reply in host.stub.InstallDependencies(request))
    assert b"installs nothing" in out
    assert str(VENV).encode() in out


def test_run_builds_the_exec_command_line_and_environment(host: Host, tmp_path: Path) -> None:
    request = language_pb2.RunRequest(
        project="proj",
        stack="dev",
        pwd=str(tmp_path),
        args=["extra"],
        config={"proj:b": "2", "proj:a": "1"},
        configSecretKeys=["proj:b"],
        dryRun=True,
        parallel=8,
        monitor_address="127.0.0.1:2",
        organization="org",
        info=_info(tmp_path, virtualenv=str(VENV)),
    )
    assert host.stub.Run(request) == language_pb2.RunResponse()
    seen = json.loads(host.dump.read_text(encoding="utf-8"))
    assert seen["argv"] == [
        *("--monitor", "127.0.0.1:2", "--engine", FAKE_ENGINE, "--project", "proj"),
        *("--root_directory", str(tmp_path), "--stack", "dev", "--pwd", str(tmp_path)),
        *("--dry_run", "true", "--parallel", "8", "--organization", "org", ".", "extra"),
    ]
    env = seen["env"]
    assert json.loads(env["PULUMI_CONFIG"]) == {"proj:a": "1", "proj:b": "2"}
    assert json.loads(env["PULUMI_CONFIG_SECRET_KEYS"]) == ["proj:b"]
    assert env["VIRTUAL_ENV"] == str(VENV)
    assert env["PATH"].split(os.pathsep)[0] == str(VENV / "bin")
    assert seen["executable"] == str(VENV / "bin" / "python")


def test_run_without_config_still_sets_secret_keys(host: Host, tmp_path: Path) -> None:
    request = language_pb2.RunRequest(stack="dev", info=_info(tmp_path, virtualenv=str(VENV)))
    host.stub.Run(request)
    env = json.loads(host.dump.read_text(encoding="utf-8"))["env"]
    assert "PULUMI_CONFIG" not in env
    assert env["PULUMI_CONFIG_SECRET_KEYS"] == "[]"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("32", language_pb2.RunResponse(bail=True)),
        ("3", language_pb2.RunResponse(error="program exited with non-zero exit code: 3")),
    ],
)
def test_run_reports_program_failures(
    host: Host, tmp_path: Path, code: str, expected: language_pb2.RunResponse
) -> None:
    request = language_pb2.RunRequest(config={"test:exit": code}, info=_info(tmp_path, virtualenv=str(VENV)))
    assert host.stub.Run(request) == expected


def test_run_needs_an_engine_until_handshake(shim: Path, tmp_path: Path) -> None:
    host = Host(shim, None, tmp_path / "dump.json")
    try:
        request = language_pb2.RunRequest(info=_info(tmp_path, virtualenv=str(VENV)))
        with pytest.raises(grpc.RpcError) as raised:
            host.stub.Run(request)
        assert "must call Handshake before Run" in (raised.value.details() or "")
        host.stub.Handshake(language_pb2.LanguageHandshakeRequest(engine_address=FAKE_ENGINE))
        assert host.stub.Run(request) == language_pb2.RunResponse()
        assert FAKE_ENGINE in json.loads(host.dump.read_text(encoding="utf-8"))["argv"]
    finally:
        host.close()


def test_run_plugin_streams_output_and_exit_code(host: Host, tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "__main__.py").write_text(
        textwrap.dedent(
            """\
            import os, sys
            print("out", sys.argv[1:], os.getcwd(), os.environ["FROM_CLI"], flush=True)
            print("err", file=sys.stderr, flush=True)
            sys.exit(int(sys.argv[1]))
            """
        ),
        encoding="utf-8",
    )

    def run(code: str) -> tuple[bytes, bytes, list[int]]:
        request = language_pb2.RunPluginRequest(
            pwd=str(tmp_path),
            args=[code],
            env=["FROM_CLI=first", "FROM_CLI=last"],
            info=_info(plugin, virtualenv=str(VENV)),
            kind="analyzer",
        )
        replies = list(host.stub.RunPlugin(request))
        stdout = b"".join(r.stdout for r in replies)
        stderr = b"".join(r.stderr for r in replies)
        codes = [r.exitcode for r in replies if r.WhichOneof("output") == "exitcode"]
        return stdout, stderr, codes

    stdout, stderr, codes = run("0")
    assert stdout.decode() == f"out ['0'] {tmp_path} last\n"
    assert stderr == b"err\n"
    assert codes == []  # a clean exit just ends the stream
    assert run("5")[2] == [5]


def test_cancelled_run_plugin_kills_the_plugin(host: Host, tmp_path: Path) -> None:
    plugin = tmp_path / "sleeper"
    plugin.mkdir()
    (plugin / "__main__.py").write_text(
        "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(600)\n", encoding="utf-8"
    )
    request = language_pb2.RunPluginRequest(pwd=str(tmp_path), info=_info(plugin, virtualenv=str(VENV)))
    stream = host.stub.RunPlugin(request)
    pid = int(next(stream).stdout)
    stream.cancel()  # what the CLI's kill() does: cancel the RunPlugin context
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # A killed child stays a zombie until the host reaps it: that counts as gone.
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return
        except FileNotFoundError:
            return
        time.sleep(0.1)
    pytest.fail(f"plugin process {pid} still runs after its RunPlugin was cancelled")


def test_unimplemented_methods(host: Host) -> None:
    for call, request in (
        (host.stub.Cancel, empty_pb2.Empty()),
        (host.stub.Pack, language_pb2.PackRequest()),
        (host.stub.Link, language_pb2.LinkRequest()),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            call(request)
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_runtime_option_prompts_and_about(host: Host) -> None:
    prompts = host.stub.RuntimeOptionsPrompts(language_pb2.RuntimeOptionsRequest(info=_info(VENV.parent)))
    assert [p.key for p in prompts.prompts] == ["toolchain"]
    about = host.stub.About(language_pb2.AboutRequest(info=_info(VENV.parent, virtualenv=str(VENV))))
    assert about.executable == str(VENV / "bin" / "python")
    assert about.version == ".".join(map(str, sys.version_info[:3]))


# -- toolchain rules (python/toolchain in the Go module) ------------------------------------------------


def test_options_are_validated_like_parse_options(tmp_path: Path) -> None:
    with pytest.raises(HostError, match="unsupported toolchain option: conda"):
        parse_options(str(tmp_path), str(tmp_path), {"toolchain": "conda"})
    with pytest.raises(HostError, match="virtualenv option must be a string"):
        parse_options(str(tmp_path), str(tmp_path), {"virtualenv": 3})


def test_relative_virtualenv_is_resolved_against_the_root(tmp_path: Path) -> None:
    options = parse_options(str(tmp_path), str(tmp_path / "src"), {"virtualenv": "venv"})
    toolchain = resolve_toolchain(options)
    assert toolchain.kind is ToolchainKind.PIP
    assert toolchain.virtualenv_path == str(tmp_path / "venv")


def test_activation_and_environment_merge() -> None:
    env = activate_virtualenv({"PATH": "/usr/bin", "PYTHONHOME": "/x", "HOME": "/h"}, "/v")
    assert env == {"PATH": f"/v/bin{os.pathsep}/usr/bin", "HOME": "/h", "VIRTUAL_ENV": "/v"}
    assert merge_environ(None, []) is None
    assert merge_environ({"A": "1"}, ["A=2", "B=x=y"]) == {"A": "2", "B": "x=y"}


# -- under the real CLI ------------------------------------------------------------------------------------------


def _require_cli() -> None:
    if PULUMI.is_file() and shutil.which("go") is not None:
        return
    reason = f"the real Pulumi CLI is not built ({PULUMI}; `make engine`) or `go` is missing"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class Cli:
    def __init__(self, root: Path) -> None:
        _require_cli()
        self.root = root
        bin_dir = root / "bin"
        bin_dir.mkdir()
        # The CLI takes a bundled plugin from next to its own (symlink-resolved) executable: a hard link of
        # the binary beside the shim makes the shim "bundled" — no PATH warning — without touching the cache.
        try:
            os.link(PULUMI, bin_dir / "pulumi")
        except OSError:
            shutil.copy2(PULUMI, bin_dir / "pulumi")
        write_language_host(bin_dir, python=str(VENV / "bin" / "python"))
        self.pulumi = bin_dir / "pulumi"
        (root / "home").mkdir()
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_BACKEND_URL": f"file://{root / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE": "x",
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_DEBUG_COMMANDS": "true",  # --event-log is a debug flag at v3.274.0
        }
        (root / "backend").mkdir()

    def project(self, name: str, program: str) -> Path:
        directory = self.root / name
        directory.mkdir()
        (directory / "Pulumi.yaml").write_text(
            f"name: {name}\nruntime:\n  name: python\n  options:\n    virtualenv: {VENV}\n", encoding="utf-8"
        )
        (directory / "__main__.py").write_text(textwrap.dedent(program), encoding="utf-8")
        self.run(directory, "stack", "init", "dev", "--non-interactive", check=True)
        return directory

    def run(self, cwd: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.pulumi), *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(tmp_path_factory.mktemp("cli"))


GOOD_PROGRAM = """\
import pulumi

class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)
        self.register_outputs({})

Box("box")
pulumi.export("greeting", "hello " + (pulumi.Config().get("who") or "world"))
"""


@pytest.fixture(scope="module")
def good(cli: Cli) -> Path:
    project = cli.project("good", GOOD_PROGRAM)
    cli.run(project, "config", "set", "who", "kms", "--stack", "dev", check=True)
    return project


def test_cli_previews_a_python_program(cli: Cli, good: Path) -> None:
    done = cli.run(good, "preview", "--non-interactive", "--stack", "dev")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "test:index:Box" in output
    assert 'greeting: "hello kms"' in output
    assert "from $PATH" not in output  # found as the bundled plugin, no ambient-plugin warning


def test_cli_shows_the_traceback_of_a_failing_program(cli: Cli) -> None:
    project = cli.project(
        "bad",
        """\
        def helper():
            raise RuntimeError("kaboom from the program")

        helper()
        """,
    )
    done = cli.run(project, "preview", "--non-interactive", "--stack", "dev")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Program failed with an unhandled exception" in output
    assert 'raise RuntimeError("kaboom from the program")' in output
    assert "non-zero exit code" not in output  # exit 32: the host bails, adding no second error


def test_cli_runs_a_directory_policy_pack_through_run_plugin(cli: Cli, good: Path) -> None:
    pack = cli.root / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {VENV}\n", encoding="utf-8"
    )
    (pack / "__main__.py").write_text(
        textwrap.dedent(
            """\
            from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy

            def check(args, report_violation):
                report_violation(f"{len(args.resources)} resources")

            PolicyPack(
                name="langhost-test-pack",
                enforcement_level=EnforcementLevel.MANDATORY,
                policies=[StackValidationPolicy(name="always-reports", description="Always.", validate=check)],
            )
            """
        ),
        encoding="utf-8",
    )
    log = cli.root / "events.jsonl"
    done = cli.run(
        good,
        "preview",
        "--non-interactive",
        "--stack",
        "dev",
        "--policy-pack",
        str(pack),
        "--event-log",
        str(log),
    )
    assert done.returncode != 0, done.stdout + done.stderr
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    policy = [e["policyEvent"] for e in events if "policyEvent" in e]
    assert [(p["policyPackName"], p["policyName"], p["enforcementLevel"]) for p in policy] == [
        ("langhost-test-pack", "always-reports", "mandatory")
    ]
    assert "2 resources" in policy[0]["message"]
