"""kmsguard.engine.errors: each failure has its class, so callers tell them apart by type, not text.

The messages themselves are pinned elsewhere (test_driver, tests/cli/test_contract); here only which
class each failure raises, and that the names tests and callers import keep working.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from kmsguard import cli, evaluate
from kmsguard.engine import PackProcess, PackResource
from kmsguard.engine import errors as engine_errors
from kmsguard.engine.driver import _parse_policy_pack_config
from kmsguard.engine.errors import (
    EngineUnavailable,
    PackRpcError,
    PackStartError,
    PolicyConfigError,
    ProgramError,
)
from kmsguard.engine.mocks import runner
from kmsguard.engine.pulumi_cli import engine as cli_engine
from kmsguard.engine.pulumi_cli import install, provider_install
from kmsguard.errors import KmsguardError

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "packs" / "sample"


@pytest.mark.parametrize("name", engine_errors.__all__)
def test_every_engine_error_is_a_kmsguard_error(name: str) -> None:
    # The CLI's exit 2 with one line depends on it.
    assert issubclass(getattr(engine_errors, name), KmsguardError)


def test_the_old_names_are_the_new_classes() -> None:
    assert runner.ProgramError is ProgramError
    assert evaluate.PolicyConfigError is PolicyConfigError
    assert issubclass(cli_engine.PulumiProgramError, ProgramError)
    assert ProgramError("m", "tb").exit_code == 2


@pytest.mark.parametrize(
    "config",
    [
        {"p": "strict"},
        {"p": {"enforcementLevel": 1}},
        {"p": {"enforcementLevel": "loud"}},
        {"p": 3},
    ],
)
def test_a_malformed_policy_config_is_a_policy_config_error(config: dict[str, object]) -> None:
    with pytest.raises(PolicyConfigError, match=r"^parsing "):
        _parse_policy_pack_config(config)


def test_configure_refusals_are_policy_config_errors() -> None:
    with PackProcess(SAMPLE) as pack:
        with pytest.raises(PolicyConfigError, match="no policy named 'nope'"):
            pack.configure({"nope": "advisory"})
        # A value the wire cannot carry is the config's problem too (it names the property).
        with pytest.raises(PolicyConfigError, match="cannot be sent to a policy pack"):
            pack.configure({"echo-inputs": {"x": {1, 2}}})


def test_a_directory_that_is_no_pack_fails_to_start(tmp_path: Path) -> None:
    with pytest.raises(PackStartError, match="is not a policy pack"):
        PackProcess(tmp_path).start()


def test_a_pack_that_exits_before_its_port_fails_to_start(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n", encoding="utf-8")
    (tmp_path / "__main__.py").write_text("raise SystemExit(4)\n", encoding="utf-8")
    with pytest.raises(PackStartError, match="exited with code"):
        PackProcess(tmp_path, python=sys.executable, startup_timeout=20.0).start()


def test_a_failing_rpc_is_a_pack_rpc_error() -> None:
    thing = PackResource(
        type="test:index:Thing", urn="urn:pulumi:s::p::test:index:Thing::t", name="t", inputs={}
    )
    with PackProcess(SAMPLE, rpc_timeout=10.0) as pack:
        assert pack._proc is not None
        pack._proc.kill()  # the pack dies between two calls
        pack._proc.wait()
        with pytest.raises(PackRpcError, match=r"^failed to run policy: Analyze on "):
            pack.analyze(thing)


def test_no_cli_is_engine_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install, "find_pulumi", lambda: None)
    monkeypatch.delenv("KMSGUARD_PULUMI", raising=False)
    with pytest.raises(EngineUnavailable, match="no pulumi CLI found"):
        install.require_pulumi()


def test_a_provider_without_offline_support_is_engine_unavailable(tmp_path: Path) -> None:
    output = "error: no resource plugin 'pulumi-resource-aws' found in the workspace"
    with pytest.raises(EngineUnavailable, match="needs the aws provider"):
        cli_engine._no_offline_provider(output, tmp_path, "dev")
    cli_engine._no_offline_provider(output.replace("aws", "azure-native"), tmp_path, "dev")


def test_an_sdk_that_is_not_installed_is_told_by_exit_code() -> None:
    assert provider_install._sdk_version(sys.executable, "no-such-kmsguard-sdk") is None
    assert provider_install._sdk_version(sys.executable, "pytest") == pytest.__version__


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (ProgramError("the Pulumi program failed", "Traceback: boom"), "Traceback: boom\n"),
        (cli_engine.PulumiProgramError("`pulumi preview` failed", "engine said no\n"), "engine said no\n"),
        (KmsguardError("plain"), ""),
    ],
)
def test_only_program_errors_show_a_traceback(
    error: KmsguardError, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    cli._report_error(error)
    assert err.getvalue() == f"{shown}kmsguard: error: {error}\n"
