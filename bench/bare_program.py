"""Run a Pulumi Python program under the SDK's own mocks and nothing else: the floor for the stand-in.

    .venv/bin/python bench/bare_program.py PROJECT_DIR [STACK]

``pulumi.runtime.set_mocks`` with trivial mocks (every resource's outputs are its inputs, every call
answers nothing) and the SDK's own ``MockMonitor``, ``preview=True``, the stack's config from
``Pulumi.<stack>.yaml`` (plain values only); the program's ``__main__.py`` run with ``runpy`` inside
``run_pulumi_func``, as the language host's executor runs it. No kmsguard module is imported (run it as
a script, not with ``-m bench...``, so ``bench/__init__`` and kmsguard stay out). Prints one JSON line:
seconds, resources registered, peak RSS (``ru_maxrss``) and the RSS at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import runpy
import sys
import time
from pathlib import Path
from typing import Any


def _config(project_dir: Path, stack: str) -> dict[str, str]:
    import yaml  # type: ignore[import-untyped]  # pulumi depends on PyYAML

    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    name = project["name"]
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(stack_file.read_text(encoding="utf-8")) if stack_file.is_file() else {}
    out: dict[str, str] = {}
    for key, value in ((data or {}).get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        out[full] = value if isinstance(value, str) else json.dumps(value)
    return out


def main(argv: list[str]) -> int:
    project_dir = Path(argv[0]).resolve()
    stack = argv[1] if len(argv) > 1 else "bench"
    began = time.perf_counter()
    import pulumi
    import pulumi.runtime
    from pulumi.runtime.stack import run_pulumi_func

    class TrivialMocks(pulumi.runtime.Mocks):
        count = 0

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            TrivialMocks.count += 1
            return f"{args.name}_id", dict(args.inputs)

        def call(
            self, args: pulumi.runtime.MockCallArgs
        ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
            return {}, None

    import yaml

    project_name = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
    pulumi.runtime.set_all_config(_config(project_dir, stack), [])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(TrivialMocks(), project=project_name, stack=stack, preview=True)
    sys.path.insert(0, str(project_dir))
    os.chdir(project_dir)
    program = str(project_dir / "__main__.py")
    sys.argv = [program]

    def run() -> None:
        runpy.run_path(program, run_name="__main__")

    loop.run_until_complete(run_pulumi_func(run))
    seconds = time.perf_counter() - began
    rss_now = 0
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_now = int(line.split()[1])
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "resources": TrivialMocks.count,
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "rss_at_end_mib": round(rss_now / 1024, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
