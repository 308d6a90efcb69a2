"""examples/github-actions/kmsguard.yml stays in step with the CLI it calls."""

from __future__ import annotations

import importlib
import shlex
from pathlib import Path
from typing import Any

from kmsguard.cli import _parser

WORKFLOW = Path(__file__).resolve().parent.parent.parent / "examples" / "github-actions" / "kmsguard.yml"


def load() -> Any:
    yaml: Any = importlib.import_module("yaml")  # PyYAML ships with the pulumi SDK, untyped
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def commands(run: str, program: str) -> list[list[str]]:
    out = []
    for line in run.replace("\\\n", " ").splitlines():
        words = shlex.split(line.split("||")[0].strip(), comments=True)
        if words and words[0] == program:
            out.append(words[1:])
    return out


def test_credentials_gate_the_real_preview_and_the_diff_runs_on_every_pull_request() -> None:
    jobs = load()["jobs"]
    assert jobs["pulumi-preview"]["if"] == "needs.credentials.outputs.present == 'true'"
    assert "if" not in jobs["kmsguard-diff"] and "needs" not in jobs["kmsguard-diff"]
    assert jobs["kmsguard-diff"]["permissions"]["security-events"] == "write"
    # The base is the pull request's base commit, which --base-ref reads from the full history.
    assert jobs["kmsguard-diff"]["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    (checkout,) = [s for s in jobs["kmsguard-diff"]["steps"] if s.get("uses") == "actions/checkout@v4"]
    assert checkout["with"]["fetch-depth"] == 0


def test_pulumi_preview_uses_the_policy_pack() -> None:
    steps = load()["jobs"]["pulumi-preview"]["steps"]
    (cmd,) = [c for s in steps if "run" in s for c in commands(s["run"], "pulumi")]
    assert cmd[:2] == ["preview", "--stack"] and "--policy-pack" in cmd
    assert cmd[cmd.index("--policy-pack") + 1] == "policy"


def test_kmsguard_commands_diff_against_the_base_and_fail_on_regressions_only() -> None:
    steps = load()["jobs"]["kmsguard-diff"]["steps"]
    (step,) = [s for s in steps if s.get("id") == "kmsguard"]
    cmds = commands(step["run"], ".venv/bin/kmsguard")
    assert len(cmds) == 3
    seen = []
    for cmd in cmds:
        words = [w for w in cmd if w not in ('"${config[@]}"', "${config[@]}")]
        redirect = words[words.index(">>") + 1] if ">>" in words else None
        words = words[: words.index(">>")] if ">>" in words else words
        args = _parser().parse_args([w.replace("$STACK", "dev") for w in words])
        assert (args.command, args.stack, args.base_ref) == ("preview", "dev", "$BASE_SHA")
        seen.append((args.format, str(args.output or redirect), args.fail_on))
    assert seen == [
        ("markdown", "$GITHUB_STEP_SUMMARY", None),  # appended: the summary may hold other steps' text
        ("sarif", "kmsguard.sarif", "regression"),
        ("html", "kmsguard.html", None),
    ]
    # The exit code that gates the job is the SARIF run's: the line right after it.
    lines = [line.strip() for line in step["run"].splitlines()]
    sarif_line = next(i for i, line in enumerate(lines) if "--format sarif" in line)
    assert lines[sarif_line + 1] == "rc=$?"
    (fail,) = [s for s in steps if s.get("name") == "fail on a regression"]
    assert fail["if"] == "steps.kmsguard.outputs.exit-code == '1'"
    (upload,) = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert upload["with"]["sarif_file"] == "kmsguard.sarif"
