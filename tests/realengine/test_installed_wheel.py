"""kmsguard installed from its wheel into a fresh virtualenv (no checkout on its path) has its pack:
`kmsguard preview` runs on both engines, and the real `pulumi preview` takes the executable pack
`kmsguard-policy-pack` the package installs (README "Using kmsguard in your own Pulumi program")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from kmsguard.engine.project import load_project
from kmsguard.engine.pulumi_cli.engine import prepare
from kmsguard.engine.pulumi_cli.install import PulumiCli
from kmsguard.engine.pulumi_cli.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the built wheel and its dependencies (from the package index)."""
    where = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=where,
    )
    (wheel,) = (where / "dist").glob("kmsguard-*.whl")
    env_dir = where / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    done = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"pip install of the wheel failed:\n{done.stderr[-3000:]}")
    return env_dir


def test_the_installed_package_is_not_the_checkout(installed: Path) -> None:
    done = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import kmsguard.pack, sys; print(kmsguard.pack.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=installed,
    )
    assert done.stdout.startswith(str(installed))


@pytest.mark.parametrize("engine", ["pulumi", "mocks"])
def test_kmsguard_preview_from_the_installed_package(
    installed: Path, engine: str, pulumi_cli: PulumiCli
) -> None:
    done = subprocess.run(
        [
            str(installed / "bin" / "kmsguard"),
            "preview",
            str(ROOT),
            "--stack",
            "noncompliant",
            "--engine",
            engine,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "KMSGUARD_PULUMI": str(pulumi_cli.path)},
    )
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["engine"]["name"] == engine
    assert [v["policy"] for v in doc["violations"] if v["level"] == "mandatory"] == ["kms-reachability"] * 3


def test_pulumi_preview_with_the_executable_pack(installed: Path, pulumi_cli: PulumiCli) -> None:
    box = Sandbox.create()
    try:
        ready = prepare(load_project(ROOT), "noncompliant", box, pulumi_cli)
        events = box.root / "wheel-events.jsonl"
        done = subprocess.run(
            [
                str(ready.cli.path),
                "preview",
                "--stack",
                "noncompliant",
                "--non-interactive",
                "--color",
                "never",
                "--policy-pack",
                str(installed / "bin" / "kmsguard-policy-pack"),
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
        lines = events.read_text(encoding="utf-8").splitlines()
    finally:
        box.remove()
    assert done.returncode != 0
    levels = [json.loads(x)["policyEvent"]["enforcementLevel"] for x in lines if '"policyEvent"' in x]
    assert levels == ["mandatory"] * 3, done.stdout
