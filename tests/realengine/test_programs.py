"""The differential suite: every test program on the real Pulumi CLI and on the stand-in, with the same
report (apart from the engine field) and the same exit code. A program that fails must fail on both,
with the program's own error shown by both."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kmsguard.engine.pulumi_cli.install import PulumiCli

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests" / "programs"
KMSGUARD = str(Path(sys.executable).parent / "kmsguard")

# program directory → stack → (exit code, a line the error output must hold when the program fails)
CASES: dict[str, tuple[str, int, str]] = {
    # An AVNM routing configuration kmsguard does not read: the spoke is unknown, each routing resource is
    # a kms-unverified advisory, and the preview passes (the unknown policy is advisory by default).
    "avnm_routing": ("dev", 0, ""),
    # The classic provider (pulumi-azure) on kmsguard's offline pulumi-resource-azure; the exit codes are
    # the stand-in's (tests/collect/test_classic_programs.py).
    "classic_auto_routes": ("dev", 0, ""),
    "classic_firewall": ("dev", 1, ""),
    "classic_firewall-allowed": ("allowed", 0, ""),
    "classic_forced_tunnel": ("dev", 1, ""),
    "classic_fw_rules": ("dev", 1, ""),
    "classic_fw_rules-allowed": ("allowed", 0, ""),
    "classic_mixed": ("dev", 1, ""),
    "classic_nat": ("dev", 1, ""),
    "classic_nsg": ("dev", 1, ""),
    "classic_private_dns": ("dev", 1, ""),
    "classic_scale_set": ("dev", 1, ""),
    "classic_scale_set-outbound": ("outbound", 1, ""),
    "component": ("prod", 0, ""),
    "config": ("test", 0, ""),
    "config-empty": ("empty", 2, "Missing required configuration variable 'configured:prefix'"),
    "diff_spokes": ("dev", 1, ""),
    "legacy_transformations": ("dev", 0, ""),
    "outputs_flow": ("dev", 0, ""),
    "raises": ("dev", 2, "ValueError"),
    "report_component": ("dev", 1, ""),
    "report_standalone": ("dev", 0, ""),
    "resource_transforms": ("dev", 0, ""),
    # A secret route prefix and a secret inline subnet name: the engine marks the whole routes and
    # subnets outputs secret, and the reports must still name the plain routes and subnets.
    "secret_names": ("dev", 1, ""),
    "special_subnets": ("dev", 0, ""),
    "standalone_routes": ("dev", 1, ""),
    "twenty": ("dev", 1, ""),
}


def run(program: str, stack: str, engine: str) -> subprocess.CompletedProcess[str]:
    directory = PROGRAMS / program.split("-", 1)[0]
    return subprocess.run(
        [KMSGUARD, "preview", str(directory), "--stack", stack, "--engine", engine, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("program", sorted(CASES))
def test_both_engines_agree(program: str, pulumi_cli: PulumiCli) -> None:
    stack, code, error = CASES[program]
    real = run(program, stack, "pulumi")
    mocks = run(program, stack, "mocks")
    assert (real.returncode, mocks.returncode) == (code, code), real.stderr + mocks.stderr
    if code == 2:
        assert error in real.stderr
        assert error in mocks.stderr
        assert "Traceback (most recent call last)" not in real.stderr.split("kmsguard: error:")[-1]
        # The program ran in a sandbox copy; its traceback names the user's own files.
        if program == "raises":
            assert f'File "{PROGRAMS / "raises" / "layout.py"}", line 7' in real.stderr
            assert "kmsguard-pulumi-" not in real.stderr
        return
    real_doc = json.loads(real.stdout)
    mocks_doc = json.loads(mocks.stdout)
    assert real_doc.pop("engine") == {"name": "pulumi", "version": pulumi_cli.version}
    assert mocks_doc.pop("engine") == {"name": "mocks"}
    assert real_doc == mocks_doc
