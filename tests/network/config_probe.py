"""Run the reference network program under mocks once per stack config read from stdin (JSON list).

For each config, prints one JSON line: the error the program stopped with (type and message) and how
many resources it had declared by then. A subprocess of its own, because ``set_mocks`` configures
process-wide Pulumi runtime state.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROGRAM = Path(__file__).resolve().parents[2] / "network"


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.declared: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.declared.append(f"{args.typ}::{args.name}")
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def main() -> None:
    cases = json.load(sys.stdin)
    sys.path.insert(0, str(PROGRAM))
    os.chdir(PROGRAM)
    recorder = Recorder()
    mocks.set_mocks(recorder, project="kmsguard-network", stack="probe", preview=True)
    for config in cases:
        os.environ["PULUMI_CONFIG"] = json.dumps(config)
        recorder.declared.clear()
        error: dict[str, str] | None = None
        try:
            _sync_await(run_pulumi_func(lambda: runpy.run_path(str(PROGRAM), run_name="__main__")))
        except Exception as exc:
            error = {"type": type(exc).__name__, "message": str(exc)}
        print(json.dumps({"error": error, "declared": list(recorder.declared)}), flush=True)


if __name__ == "__main__":
    main()
