"""The README's own command, `pulumi preview --stack S --policy-pack policy`, on the real Pulumi CLI:
the noncompliant stack fails with the three mandatory violations, dev passes, and the autofix's routes
show in the preview's diff. Run in a sandbox (a copy of the project, a file backend, the offline
provider), exactly as typed from the repository root."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmsguard.engine.project import load_project
from kmsguard.engine.pulumi_cli.engine import prepare
from kmsguard.engine.pulumi_cli.install import PulumiCli
from kmsguard.engine.pulumi_cli.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
KMS_ROUTES = ["kms-20-118-99-224", "kms-40-83-235-53", "kms-23-102-135-246"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox.create()
    yield box
    box.remove()


def readme_preview(
    cli: PulumiCli, box: Sandbox, stack: str
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    ready = prepare(load_project(ROOT), stack, box, cli)
    events = box.root / "readme-events.jsonl"
    done = subprocess.run(
        [
            str(ready.cli.path),
            "preview",
            "--stack",
            stack,
            "--policy-pack",
            "policy",
            "--diff",
            "--non-interactive",
            "--color",
            "never",
            "--event-log",
            str(events),
        ],
        cwd=box.project,
        env=dict(ready.env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = events.read_text(encoding="utf-8").splitlines() if events.exists() else []
    return done, [json.loads(line) for line in lines if line.strip()]


def test_noncompliant_fails_with_three_mandatory_violations(pulumi_cli: PulumiCli, sandbox: Sandbox) -> None:
    done, events = readme_preview(pulumi_cli, sandbox, "noncompliant")
    assert done.returncode != 0, done.stdout
    policy = [e["policyEvent"] for e in events if "policyEvent" in e]
    assert sorted(
        (p["policyName"], p["enforcementLevel"], p["resourceUrn"].rsplit("::", 1)[-1]) for p in policy
    ) == [
        ("kms-reachability", "mandatory", "snet-app-web"),
        ("kms-reachability", "mandatory", "snet-data-db"),
        ("kms-reachability", "mandatory", "vnet-hub"),
    ]
    remediated = [e["policyRemediationEvent"] for e in events if "policyRemediationEvent" in e]
    assert [(r["policyName"], r["resourceUrn"].rsplit("::", 1)[-1]) for r in remediated] == [
        ("kms-route-autofix", "rt-app")
    ]
    added = [r["name"] for r in remediated[0]["after"]["routes"]][-3:]
    assert added == KMS_ROUTES
    # The engine previews the remediated inputs: the autofix's routes are in the diff of rt-app.
    for name in KMS_ROUTES:
        assert name in done.stdout
    assert "kms-reachability" in done.stdout


def test_dev_passes(pulumi_cli: PulumiCli, sandbox: Sandbox) -> None:
    done, events = readme_preview(pulumi_cli, sandbox, "dev")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [
        e for e in events if "policyEvent" in e and e["policyEvent"]["enforcementLevel"] == "mandatory"
    ] == []
    # dev's routes come from auto_kms_routes() in the program: nothing left for the autofix.
    assert [e for e in events if "policyRemediationEvent" in e] == []
    assert "kms-20-118-99-224" in done.stdout
