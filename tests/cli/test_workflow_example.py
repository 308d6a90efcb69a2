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


def test_credentials_choose_exactly_one_of_the_two_jobs() -> None:
    jobs = load()["jobs"]
    assert jobs["pulumi-preview"]["if"] == "needs.credentials.outputs.present == 'true'"
    assert jobs["kmsguard-preview"]["if"] == "needs.credentials.outputs.present != 'true'"
    assert jobs["kmsguard-preview"]["permissions"]["security-events"] == "write"


def test_pulumi_preview_uses_the_policy_pack() -> None:
    steps = load()["jobs"]["pulumi-preview"]["steps"]
    (cmd,) = [c for s in steps if "run" in s for c in commands(s["run"], "pulumi")]
    assert cmd[:2] == ["preview", "--stack"] and "--policy-pack" in cmd
    assert cmd[cmd.index("--policy-pack") + 1] == "policy"


def test_kmsguard_commands_parse_and_upload_the_sarif_they_write() -> None:
    steps = load()["jobs"]["kmsguard-preview"]["steps"]
    cmds = [c for s in steps if "run" in s for c in commands(s["run"], ".venv/bin/kmsguard")]
    assert len(cmds) == 2
    formats = []
    for cmd in cmds:
        words = [w for w in cmd if w not in ('"${config[@]}"', "${config[@]}")]
        args = _parser().parse_args([w.replace("$STACK", "dev") for w in words])
        assert (args.command, args.stack) == ("preview", "dev")
        formats.append((args.format, str(args.output)))
    assert formats == [("sarif", "kmsguard.sarif"), ("html", "kmsguard.html")]
    (upload,) = [s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert upload["with"]["sarif_file"] == "kmsguard.sarif"
