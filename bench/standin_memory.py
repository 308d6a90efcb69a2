"""Peak memory of the stand-in (``kmsguard preview --engine mocks``) against the bare SDK under mocks.

    .venv/bin/python -m bench.standin_memory --size 20000 --out bench/results-standin-20k.json

One generated program (``bench/program.py``) of ``--size`` resources, run twice, one after the other:

* ``bare``: ``bench/bare_program.py`` — the program under ``pulumi.runtime.set_mocks`` with trivial mocks
  and the SDK's own ``MockMonitor``, nothing of kmsguard;
* ``standin``: ``kmsguard preview DIR --stack bench --engine mocks --format json --timeout T --timings``
  end to end (the program under kmsguard's recording monitor, then the pack driven over gRPC, then
  the analysis and the report).

Memory is sampled every 0.2 s over each command's process tree (``bench.real_engine.TreeMemory``): each
process's ``VmHWM`` by role and the peak of the summed RSS. The ratios: the stand-in's program process
against the bare program, and the stand-in's whole tree against the bare program.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.program import STACK, write_program
from bench.real_engine import VENV, machine, run_measured

BARE = Path(__file__).resolve().parent / "bare_program.py"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    results: dict[str, object] = {"size": args.size, "machine_before": machine()}
    with tempfile.TemporaryDirectory(prefix="kmsguard-bench-standin-") as tmp:
        program = write_program(Path(tmp) / "program", args.size, virtualenv=VENV)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
        runs: dict[str, dict[str, object]] = {}
        commands = {
            "bare": [str(VENV / "bin" / "python"), str(BARE), str(program), STACK],
            "standin": [
                str(VENV / "bin" / "kmsguard"),
                "preview",
                str(program),
                "--stack",
                STACK,
                "--engine",
                "mocks",
                "--timeout",
                str(int(args.timeout)),
                "--format",
                "json",
                "--output",
                str(Path(tmp) / "report.json"),
                "--timings",
            ],
        }
        for what, command in commands.items():
            if what == "bare" and args.skip_bare:
                continue
            out = Path(tmp) / f"{what}.out"
            started = time.strftime("%H:%M:%S")
            run = run_measured(command, cwd=program, env=env, timeout=args.timeout, output=out)
            run["started"] = started
            run["output_tail"] = out.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            runs[what] = run
            print(f"{what}: {json.dumps(run)}", file=sys.stderr, flush=True)
            if args.out is not None:
                results["runs"] = runs
                args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        results["runs"] = runs
        if "bare" in runs and "standin" in runs:
            bare = runs["bare"]["peak_rss_by_role_mib"]
            standin = runs["standin"]["peak_rss_by_role_mib"]
            assert isinstance(bare, dict) and isinstance(standin, dict)
            floor = max(bare.values())
            results["ratio_program"] = round(standin.get("program", 0.0) / floor, 3)
            results["ratio_tree"] = round(float(runs["standin"]["peak_tree_rss_mib"]) / floor, 3)  # type: ignore[arg-type]
    results["machine_after"] = machine()
    text = json.dumps(results, indent=2) + "\n"
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
