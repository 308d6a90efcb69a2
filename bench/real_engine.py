"""The real ``pulumi preview`` of generated programs, with and without the kmsguard pack, and the stand-in.

    .venv/bin/python -m bench.real_engine --sizes 100,1000,5000 --repeat 3 --out bench/results-real.json

Per size, a program of exactly that many resources (``bench/program.py``: the stack and the default
provider included) is written to a temporary directory, and one sandbox is prepared for it as
``kmsguard preview --engine pulumi`` prepares one (``kmsguard.engine.pulumi_cli.engine.prepare``: a copy
of the project, a file backend, a throwaway PULUMI_HOME, kmsguard's Python language host beside a
hard link of ``pulumi``, the offline azure-native provider installed, the stack created). Then, in each
repeat:

* ``bare``: ``pulumi preview --non-interactive --stack bench`` in the sandbox, without a policy pack,
  and without ``KMSGUARD_PACK_RECORD`` (only the pack reads it);
* ``pack``: the same with ``--policy-pack`` the kmsguard pack as ``kmsguard preview`` starts it (an
  executable pack running ``python -m kmsguard.pack`` in this interpreter), again without the record:
  the pack as a user's ``pulumi preview --policy-pack`` runs it;
* ``pack+record`` (``--with-record``): as ``pack`` with ``KMSGUARD_PACK_RECORD`` set, as ``kmsguard
  preview --engine pulumi`` runs it (the pack also writes every resource it is handed to the record);
* ``mocks``: ``kmsguard preview DIR --stack bench --engine mocks --format json`` end to end, the
  stand-in engine (program under the SDK's mocks, the pack driven over gRPC, the report).

The order of ``bare`` and ``pack`` alternates between repeats. The pack's share of the preview is
``(pack − bare) / pack`` on the medians. Peak memory is sampled every 0.2 s over the command's whole
process tree (``/proc``): the peak of the summed RSS, and each process's own ``VmHWM`` by role (the
CLI, the language host, the program, the provider, the pack). Figures are wall-clock on a shared
machine: read them as ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.program import STACK, write_program
from kmsguard.engine.project import load_project
from kmsguard.engine.pulumi_cli.engine import _executable_pack, prepare
from kmsguard.engine.pulumi_cli.install import PulumiCli, find_pulumi
from kmsguard.engine.pulumi_cli.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
RECORD_ENV = "KMSGUARD_PACK_RECORD"


# --- process-tree memory ------------------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
        fields = stat[stat.rindex(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _tree(root: int) -> list[int]:
    children = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in KiB."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return rss, hwm


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def role(pid: int) -> str:
    """What a process of the tree is, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    text = b" ".join(argv).decode("utf-8", "replace")
    exe = Path(argv[0].decode("utf-8", "replace")).name if argv and argv[0] else ""
    if exe == "pulumi":
        return "pulumi"
    if "kmsguard.pack" in text or "pulumi.policy" in text:
        return "pack"
    if "_kmsguard_program_host" in text:  # the stand-in's program runner (it loads the provider too)
        return "program"
    if "_kmsguard_provider" in text or "pulumi-resource-azure-native" in text:
        return "provider"
    if "kmsguard.engine.pulumi_cli.langhost" in text:
        return "language host"
    if "pulumi-language-python-exec" in text:
        return "program"
    if "kmsguard" in text and " preview " in f" {text} ":
        return "kmsguard"
    return exe or "?"


class TreeMemory:
    """Samples the process tree under ``pid`` until stopped."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_sum_kib = 0
        self.hwm_kib: dict[int, int] = {}
        self.roles: dict[int, str] = {}
        self.cpu_ticks: dict[int, int] = {}  # utime + stime, the last sample of each process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        total = 0
        for pid in _tree(self.pid):
            status = _status_kib(pid)
            if status is None:
                continue
            rss, hwm = status
            ticks = _cpu_ticks(pid)
            if ticks is not None:
                self.cpu_ticks[pid] = max(self.cpu_ticks.get(pid, 0), ticks)
            total += rss
            self.hwm_kib[pid] = max(self.hwm_kib.get(pid, 0), hwm)
            if pid not in self.roles or self.roles[pid] == "?":
                self.roles[pid] = role(pid)
        self.peak_sum_kib = max(self.peak_sum_kib, total)

    def cpu_s(self) -> float:
        return sum(self.cpu_ticks.values()) / _TICKS

    def cpu_by_role_s(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, ticks in self.cpu_ticks.items():
            r = self.roles.get(pid, "?")
            out[r] = round(out.get(r, 0.0) + ticks / _TICKS, 2)
        return dict(sorted(out.items()))

    def by_role_mib(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, hwm in self.hwm_kib.items():
            r = self.roles.get(pid, "?")
            out[r] = max(out.get(r, 0.0), round(hwm / 1024, 1))
        return dict(sorted(out.items()))


def run_measured(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float, output: Path
) -> dict[str, Any]:
    """Run ``argv`` (stdout and stderr to ``output``); wall seconds, exit code, peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with output.open("wb") as sink:
        began = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        with TreeMemory(process.pid) as memory:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                for pid in reversed(_tree(process.pid)):
                    with contextlib.suppress(OSError):
                        os.kill(pid, 9)
                process.wait()
                raise
        seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the whole tree: every process of it that was waited for (the CLI waits for its plugins, the
    # language host for the program) adds its own and its children's time to its parent's on exit.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": round(seconds, 3),
        "cpu_s": round(memory.cpu_s(), 2),  # sampled: each process's last utime + stime seen
        "cpu_waited_s": round(cpu, 3),  # RUSAGE_CHILDREN: only the processes that were waited for
        "cpu_by_role_s": memory.cpu_by_role_s(),
        "exit": process.returncode,
        "peak_tree_rss_mib": round(memory.peak_sum_kib / 1024, 1),
        "peak_rss_by_role_mib": memory.by_role_mib(),
    }


# --- one size ------------------------------------------------------------------------------------------


def preview_args(pack: Path | None) -> list[str]:
    args = ["preview", "--non-interactive", "--stack", STACK, "--color", "never"]
    if pack is not None:
        args += ["--policy-pack", str(pack)]
    return args


def summary(output: Path) -> dict[str, Any]:
    """What the preview said: the resource summary line and the policy lines, as a cross-check."""
    text = output.read_text(encoding="utf-8", errors="replace")
    found = re.findall(r"^\s*\+?\s*(\d+) to create\s*$", text, re.MULTILINE)
    creates = int(found[-1]) if found else None
    shown = set(re.findall(r"\+  (\S+:\S+:\S+) (\S+) create", text))
    return {
        "to_create": creates,
        "shown_to_create": len(shown),
        "mandatory_lines": text.count("[mandatory]"),
        "advisory_lines": text.count("[advisory]"),
        "tail": text.strip().splitlines()[-1:] if text.strip() else [],
    }


def _median(runs: Sequence[Mapping[str, Any]], key: str = "seconds") -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def measure_size(
    size: int,
    *,
    repeat: int,
    cli: PulumiCli,
    work: Path,
    timeout: float,
    with_record: bool,
    mocks: bool,
    on_run: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Measure one size; ``on_run`` gets the result so far after every run (a long run keeps them)."""
    program = write_program(work / f"program-{size}", size, virtualenv=VENV)
    project = load_project(program)
    box = Sandbox.create()
    result: dict[str, Any] = {"size": size, "program": str(program)}
    try:
        began = time.perf_counter()
        ready = prepare(project, STACK, box, cli)
        result["prepare_s"] = round(time.perf_counter() - began, 3)
        pack = _executable_pack(box)
        base_env = {k: v for k, v in ready.env.items() if k != RECORD_ENV}
        record_env = dict(ready.env)
        runs: dict[str, list[dict[str, Any]]] = {"bare": [], "pack": []}
        if with_record:
            runs["pack+record"] = []
        if mocks:
            runs["mocks"] = []
        for r in range(repeat):
            order = ["bare", "pack"] if r % 2 == 0 else ["pack", "bare"]
            if with_record:
                order.append("pack+record")
            if mocks:
                order.append("mocks")
            for what in order:
                out = box.root / f"{what.replace('+', '-')}-{r}.out"
                if what == "mocks":
                    argv = [
                        str(VENV / "bin" / "kmsguard"),
                        "preview",
                        str(program),
                        "--stack",
                        STACK,
                        "--engine",
                        "mocks",
                        "--timeout",
                        str(int(timeout)),
                        "--format",
                        "json",
                        "--output",
                        str(box.root / f"mocks-{r}.json"),
                        "--timings",
                    ]
                    env: Mapping[str, str] = {
                        k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")
                    }
                    cwd = program
                else:
                    argv = [str(ready.cli.path), *preview_args(None if what == "bare" else pack)]
                    env = record_env if what == "pack+record" else base_env
                    cwd = box.project
                if what == "pack+record" and box.record.exists():
                    box.record.unlink()
                t = time.strftime("%H:%M:%S")
                run = run_measured(argv, cwd=cwd, env=env, timeout=timeout, output=out)
                run["started"] = t
                if what == "mocks":
                    text = out.read_text(encoding="utf-8", errors="replace").strip().splitlines()
                    run["timings"] = text[-1] if text else ""
                    report = box.root / f"mocks-{r}.json"
                    if report.is_file():
                        data = json.loads(report.read_text(encoding="utf-8"))
                        run["violations"] = _policy_counts(data.get("violations", []))
                else:
                    run.update(summary(out))
                    if what == "pack+record" and box.record.exists():
                        run["record_mib"] = round(box.record.stat().st_size / 2**20, 1)
                run["valid"] = _valid(what, run, size)
                if not run["valid"] or run["exit"] not in (0, None):
                    lines = out.read_text(encoding="utf-8", errors="replace").strip().splitlines()
                    run["output_tail"] = lines[-25:]
                runs[what].append(run)
                if on_run is not None:
                    on_run({**result, "runs": runs, "partial": True})
                print(
                    f"  {size:>6} {what:<12} #{r + 1}: {run['seconds']:8.2f} s  CPU {run['cpu_s']:8.2f} s  exit {run['exit']}  "
                    f"tree peak {run['peak_tree_rss_mib']:.0f} MiB  {run.get('to_create', '')}",
                    file=sys.stderr,
                    flush=True,
                )
        result["runs"] = runs
        summarise(result)
    finally:
        box.remove()
    return result


def _valid(what: str, run: Mapping[str, Any], size: int) -> bool:
    """A run that did the whole job: a preview that showed every resource (all but the default
    provider), a stand-in run that reported (exit 0 or 1, blocked)."""
    if what == "mocks":
        return run["exit"] in (0, 1) and f"{size} resources" in str(run.get("timings", ""))
    # A preview blocked by a mandatory violation prints no summary: count the resources it showed (runs
    # measured before the count tolerated the progress dots may miss one line).
    if run.get("to_create") == size - 1:
        return True
    return bool(run.get("mandatory_lines", 0) > 0 and run.get("shown_to_create", 0) >= size - 2)


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Medians over the valid runs, the pack's share, peaks: in ``result`` (one size), from its runs."""
    runs: dict[str, list[dict[str, Any]]] = result["runs"]
    size = int(result["size"])
    for what, rs in runs.items():
        for run in rs:
            run["valid"] = _valid(what, run, size)
    valid = {what: [r for r in rs if r["valid"]] for what, rs in runs.items()}
    result["invalid_runs"] = {what: len(rs) - len(valid[what]) for what, rs in runs.items()}
    medians = {what: _median(rs) for what, rs in valid.items()}
    result["median_s"] = medians
    cpu = {what: _median(rs, "cpu_s") for what, rs in valid.items()}
    result["median_cpu_s"] = cpu
    cpu_bare, cpu_pack = cpu.get("bare"), cpu.get("pack")
    if cpu_bare is not None and cpu_pack:
        result["pack_cpu_share"] = round((cpu_pack - cpu_bare) / cpu_pack, 4)
    bare, with_pack = medians.get("bare"), medians.get("pack")
    if bare is not None and with_pack:
        result["pack_share"] = round((with_pack - bare) / with_pack, 4)
    recorded = medians.get("pack+record")
    if recorded and bare is not None:
        result["pack_record_share"] = round((recorded - bare) / recorded, 4)
    result["peak_tree_rss_mib"] = {
        what: max((r["peak_tree_rss_mib"] for r in rs), default=None) for what, rs in valid.items()
    }
    result["peak_rss_by_role_mib"] = {
        what: {
            role: max(r["peak_rss_by_role_mib"].get(role, 0.0) for r in rs)
            for role in sorted({k for r in rs for k in r["peak_rss_by_role_mib"]})
        }
        for what, rs in valid.items()
    }
    result["pack_peak_rss_mib"] = max(
        (r["peak_rss_by_role_mib"].get("pack", 0.0) for r in valid.get("pack", [])), default=None
    )
    return result


def _policy_counts(violations: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in violations:
        out[str(v.get("policy"))] = out.get(str(v.get("policy")), 0) + 1
    return dict(sorted(out.items()))


def machine() -> dict[str, Any]:
    """bench.run's description of the machine, with the time it was taken."""
    from bench.run import machine as described

    return {**described(), "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000", help="comma-separated resource counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3600.0, help="per command, seconds")
    parser.add_argument(
        "--with-record", action="store_true", help="also run the pack with KMSGUARD_PACK_RECORD"
    )
    parser.add_argument(
        "--no-mocks", action="store_true", help="skip the stand-in (kmsguard preview --engine mocks)"
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--merge",
        type=Path,
        action="append",
        default=[],
        help="instead of measuring: merge these results files (sizes in order, summaries recomputed) into --out",
    )
    args = parser.parse_args(argv)
    if args.merge:
        merged: dict[str, Any] = {"sizes": []}
        for path in args.merge:
            part = json.loads(path.read_text(encoding="utf-8"))
            merged.setdefault("runs_of", []).append({k: v for k, v in part.items() if k != "sizes"})
            merged["sizes"].extend(summarise(entry) for entry in part["sizes"])
        merged["sizes"].sort(key=lambda e: e["size"])
        text = json.dumps(merged, indent=2) + "\n"
        if args.out is not None:
            args.out.write_text(text, encoding="utf-8")
        else:
            print(text)
        return 0

    cli = find_pulumi()
    if cli is None:
        print("no pulumi CLI found: run `make engine` (or set KMSGUARD_PULUMI)", file=sys.stderr)
        return 2
    sizes = [int(s.replace("k", "000")) for s in args.sizes.split(",") if s]
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, "-m", "bench.real_engine", *(argv or sys.argv[1:])]),
        "machine_before": machine(),
        "pulumi": cli.version,
        "sizes": [],
    }

    def save(partial: dict[str, Any]) -> None:
        if args.out is not None:
            text = json.dumps({**results, "sizes": [*results["sizes"], partial]}, indent=2) + "\n"
            args.out.write_text(text, encoding="utf-8")

    with tempfile.TemporaryDirectory(prefix="kmsguard-bench-real-") as tmp:
        for size in sizes:
            began = time.perf_counter()
            entry = measure_size(
                size,
                repeat=args.repeat,
                cli=cli,
                work=Path(tmp),
                timeout=args.timeout,
                with_record=args.with_record,
                mocks=not args.no_mocks,
                on_run=save,
            )
            entry["wall_s"] = round(time.perf_counter() - began, 1)
            entry["uptime_after"] = machine()["uptime"]
            results["sizes"].append(entry)
            print(
                f"{size}: medians {entry['median_s']}  pack share {entry.get('pack_share')}  "
                f"CPU {entry.get('median_cpu_s')}  pack CPU share {entry.get('pack_cpu_share')}  "
                f"({entry['wall_s']} s)",
                file=sys.stderr,
                flush=True,
            )
            if args.out is not None:  # after each size, so a long run keeps what it measured
                args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    results["machine_after"] = machine()
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    else:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
