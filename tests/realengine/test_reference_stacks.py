"""The reference network's stacks on both engines: the same JSON report apart from the engine field,
the same exit code (the differential suite's core, DESIGN "Engines")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kmsguard.engine.pulumi_cli.install import PulumiCli

ROOT = Path(__file__).resolve().parents[2]
KMSGUARD = str(Path(sys.executable).parent / "kmsguard")
STACKS = {"dev": 0, "hub-firewall": 0, "usgov": 0, "china": 0, "noncompliant": 1}


def preview(stack: str, engine: str) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [KMSGUARD, "preview", str(ROOT), "--stack", stack, "--engine", engine, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_both_engines_give_the_same_report(stack: str, pulumi_cli: PulumiCli) -> None:
    real_code, real = preview(stack, "pulumi")
    mocks_code, mocks = preview(stack, "mocks")
    assert real.pop("engine") == {"name": "pulumi", "version": pulumi_cli.version}
    assert mocks.pop("engine") == {"name": "mocks"}
    assert real == mocks
    assert real_code == mocks_code == STACKS[stack]


def test_the_noncompliant_stack_is_blocked_by_the_engine_with_three_mandatory_violations(
    pulumi_cli: PulumiCli,
) -> None:
    code, doc = preview("noncompliant", "pulumi")
    assert code == 1
    assert doc["blocked"] is True
    violations = doc["violations"]
    assert isinstance(violations, list)
    assert [(v["policy"], v["level"], v["urn"].rsplit("::", 1)[-1]) for v in violations] == [
        ("kms-reachability", "mandatory", "vnet-hub"),
        ("kms-reachability", "mandatory", "snet-app-web"),
        ("kms-reachability", "mandatory", "snet-data-db"),
    ]
    remediations = doc["remediations"]
    assert isinstance(remediations, list)
    assert [(r["policy"], r["name"], [a["name"] for a in r["added"]]) for r in remediations] == [
        ("kms-route-autofix", "rt-app", ["kms-20-118-99-224", "kms-40-83-235-53", "kms-23-102-135-246"])
    ]
