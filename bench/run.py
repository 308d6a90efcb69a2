"""Benchmark the kmsguard pack over the real Analyzer gRPC protocol on synthetic estates.

    .venv/bin/python -m bench.run --sizes 1000,10000 --out bench/results.json

Per size (total resources, see ``bench/estate.py``):

* ``AnalyzeStack`` of the pack (``policy/``) next to the floor: the same request sent to
  ``bench/floor_pack``, whose single stack policy only touches every resource, i.e. what
  pulumi_policy spends deserializing the request (pulumi-mechanics §1.6). The pack has three stack
  policies; without ``decode_once`` (``bench/sdk_pack``) the SDK alone costs it about three floors;
* ``Remediate`` + ``Analyze`` per resource, as the engine sends them for every registration (§1.3),
  for the pack and for the floor pack;

RPC times are request sent → response received (``PackProcess.rpc_seconds``): building the request
from Python values is the stand-in engine's cost, not the pack's (the AnalyzeStack time with it is
kept in the JSON as ``analyze_stack_with_encoding_s``).

* pack start-up (process start → port printed), median of several starts;
* peak RSS of the pack process (``VmHWM``);
* in-process, as the pack's stack policies share it: one collect, the reachability analysis and
  ``kms-client-activation`` on the same network, per resource, with the cyclic garbage collector
  paused as the pack pauses it during AnalyzeStack (``kmsguard.policies.gc_pause``);
* whether the pack's violations are the ones the estate was built to produce.

Then, when the reference project exists (``Pulumi.yaml`` and ``stacks/`` at the repo root), the
end-to-end ``kmsguard preview`` of each of its stacks. Figures are wall-clock on a shared machine:
read them as ratios and trends.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench.estate import LOCATION, PROJECT, STACK, Estate, generate
from kmsguard.analysis import analyze
from kmsguard.collect.pulumi import PulumiResource, collect, merge_inputs
from kmsguard.config import parse_settings
from kmsguard.engine import PackProcess, PackResource, Violation
from kmsguard.policies import AUTOFIX, REACHABILITY, UNVERIFIED
from kmsguard.policies.activation import activation_findings
from kmsguard.policies.gc_pause import paused

ROOT = Path(__file__).resolve().parent.parent
PACK_DIR = ROOT / "policy"
FLOOR_DIR = ROOT / "bench" / "floor_pack"
SDK_DIR = ROOT / "bench" / "sdk_pack"  # the same policies without kmsguard.policies.decode_once
CONFIG = {"azure-native:location": LOCATION}
LARGE = 20_000  # from this size on, every measurement runs once


# --- measuring helpers ----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def stack_call(pack: PackProcess, resources: Sequence[PackResource]) -> tuple[float, float, list[Violation]]:
    """One AnalyzeStack: seconds inside the RPC, seconds with the request built from Python values
    (the stand-in engine's encoding, which the Go engine does not pay at this cost), violations."""
    gc.collect()
    rpc_before = pack.rpc_seconds
    total, violations = timed(lambda: pack.analyze_stack(resources))
    return pack.rpc_seconds - rpc_before, total, violations


def pack_pid(pack_dir: Path) -> int | None:
    """The pid of our child running ``pulumi.policy`` for ``pack_dir`` (the driver keeps its own)."""
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in children:
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"pulumi.policy" in argv and str(pack_dir).encode() in argv:
                return int(pid)
    return None


def peak_rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine() -> dict[str, Any]:
    def run(cmd: str) -> str:
        try:
            return subprocess.run(
                shlex.split(cmd), capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return ""

    return {
        "nproc": os.cpu_count(),
        "memory": run("free -h").splitlines()[1:2],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "uptime": run("uptime"),
    }


# --- one size ---------------------------------------------------------------------------------------


def open_pack(pack_dir: Path) -> PackProcess:
    pack = PackProcess(
        pack_dir, project=PROJECT, stack=STACK, dry_run=True, config=CONFIG, rpc_timeout=3600.0
    )
    pack.start()
    pack.analyzer_info()
    pack.configure({})
    return pack


def per_resource(
    pack: PackProcess, resources: Sequence[PackResource]
) -> tuple[list[float], list[PackResource], list[Violation]]:
    """Remediate then Analyze each resource, as the engine does per registration (§1.3 step 2)."""
    costs: list[float] = []
    final: list[PackResource] = []
    violations: list[Violation] = []
    for r in resources:
        # The RPCs only: building requests from Python values is the stand-in engine's cost.
        began = pack.rpc_seconds
        _, remediated = pack.remediate(r)
        found = pack.analyze(remediated)
        costs.append(pack.rpc_seconds - began)
        final.append(remediated)
        violations.extend(found)
    return costs, final, violations


def expected_violations(estate: Estate) -> dict[str, int]:
    verdicts = estate.verdict_counts()
    return {
        REACHABILITY: verdicts.get("blocked", 0),
        UNVERIFIED: verdicts.get("unknown", 0),
        AUTOFIX: len(estate.over_limit_tables),
    }


def count_by_policy(violations: Sequence[Violation]) -> dict[str, int]:
    out = {REACHABILITY: 0, UNVERIFIED: 0, AUTOFIX: 0}
    for v in violations:
        out[v.policy] = out.get(v.policy, 0) + 1
    return out


def to_pulumi(resources: Sequence[PackResource]) -> list[PulumiResource]:
    """The resources as the pack hands them to the collector: outputs completed with the inputs."""
    return [
        PulumiResource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=merge_inputs(r.outputs if r.outputs is not None else r.inputs, r.inputs),
            parent=r.parent,
            dependencies=r.dependencies,
            property_dependencies=dict(r.property_dependencies),
        )
        for r in resources
    ]


def stack_median(
    pack_dir: Path, final: Sequence[PackResource], repeat: int, *, seed_inputs: bool
) -> tuple[list[float], float | None, list[Violation]]:
    """AnalyzeStack times of another pack over the same resources, its peak RSS and its answer.

    ``seed_inputs``: send each resource's Analyze first, as the engine does, for a pack that keeps
    the inputs for its stack analysis (kmsguard does: path parameters are inputs only)."""
    pack = open_pack(pack_dir)
    try:
        if seed_inputs:
            for r in final:
                pack.analyze(r)
        times: list[float] = []
        violations: list[Violation] = []
        for _ in range(repeat):
            t, _, violations = stack_call(pack, final)
            times.append(t)
        return times, peak_rss_mib(pack_pid(pack_dir)), violations
    finally:
        pack.close()


def bench_size(size: int, *, repeat: int, starts: int, seed: int, sdk_baseline: bool) -> dict[str, Any]:
    gen_s, estate = timed(lambda: generate(size, seed))
    resources = estate.pack_resources()
    row: dict[str, Any] = {
        "size": size,
        "generate_s": gen_s,
        "types": estate.counts(),
        "spokes": estate.spokes,
    }

    pack = open_pack(PACK_DIR)
    try:
        row["startup_first_s"] = pack.startup_seconds
        costs, final, resource_violations = per_resource(pack, resources)
        row["per_resource_ms"] = {
            "median": statistics.median(costs) * 1000,
            "p99": percentile(costs, 99) * 1000,
            "max": max(costs) * 1000,
            "total_s": sum(costs),
        }
        stack_times: list[float] = []
        with_encoding: list[float] = []
        stack_violations: list[Violation] = []
        for _ in range(repeat):
            t, total, stack_violations = stack_call(pack, final)
            stack_times.append(t)
            with_encoding.append(total)
        row["analyze_stack_s"] = {"median": statistics.median(stack_times), "all": stack_times}
        row["analyze_stack_with_encoding_s"] = {
            "median": statistics.median(with_encoding),
            "all": with_encoding,
        }
        row["pack_peak_rss_mib"] = peak_rss_mib(pack_pid(PACK_DIR))
        if pack.stderr.strip():
            row["pack_stderr"] = pack.stderr[-2000:]
    finally:
        pack.close()

    got = count_by_policy([*resource_violations, *stack_violations])
    want = expected_violations(estate)
    row["violations"] = got
    row["violations_expected"] = want
    row["violations_match"] = got == want

    floor_pack = open_pack(FLOOR_DIR)
    try:
        floor_costs, _, _ = per_resource(floor_pack, resources)
    finally:
        floor_pack.close()
    row["floor_per_resource_ms"] = {
        "median": statistics.median(floor_costs) * 1000,
        "p99": percentile(floor_costs, 99) * 1000,
    }
    floor_times = stack_median(FLOOR_DIR, final, repeat, seed_inputs=False)
    row["floor_s"] = {"median": statistics.median(floor_times[0]), "all": floor_times[0]}
    row["floor_peak_rss_mib"] = floor_times[1]
    row["ratio_pack_to_floor"] = row["analyze_stack_s"]["median"] / row["floor_s"]["median"]
    if sdk_baseline:
        sdk_times = stack_median(SDK_DIR, final, repeat, seed_inputs=True)
        row["sdk_pack_s"] = {"median": statistics.median(sdk_times[0]), "all": sdk_times[0]}
        row["ratio_sdk_pack_to_floor"] = row["sdk_pack_s"]["median"] / row["floor_s"]["median"]
        row["sdk_pack_same_violations"] = sdk_times[2] == stack_violations

    startups = [row["startup_first_s"]]
    for _ in range(max(0, starts - 1)):
        with PackProcess(PACK_DIR, project=PROJECT, stack=STACK, config=CONFIG) as p:
            startups.append(p.startup_seconds)
    row["startup_s"] = {"median": statistics.median(startups), "all": startups}

    collected = to_pulumi(final)
    # What the pack computes on top of the SDK's decoding, as its stack policies share it: one
    # collect, the reachability analysis (kms-reachability, kms-unverified) and kms-client-activation
    # on the same network, with the cyclic collector paused as the pack pauses it (gc_pause).
    # Warmed up first on a small estate: the pack process pays the catalog load (schema-checked)
    # and its lazy imports once, in the first call that needs them, not in each AnalyzeStack.
    warm_up = to_pulumi(generate(200, seed).pack_resources())
    warm_network = collect(warm_up)
    analyze(warm_network, parse_settings({}))
    activation_findings(warm_up, warm_network)
    stages: dict[str, list[float]] = {"collect": [], "reachability": [], "activation": []}
    for _ in range(repeat):
        gc.collect()
        with paused():
            t, network = timed(lambda: collect(collected))
            stages["collect"].append(t)
            t, _ = timed(partial(analyze, network, parse_settings({})))
            stages["reachability"].append(t)
            t, _ = timed(partial(activation_findings, collected, network))
            stages["activation"].append(t)
        del network
    for stage, times in stages.items():
        row[f"{stage}_s"] = {"median": statistics.median(times), "all": times}
    total = sum(statistics.median(times) for times in stages.values())
    row["in_process_s"] = {"median": total}
    row["in_process_us_per_resource"] = total / size * 1e6
    row["analysis_to_floor"] = total / row["floor_s"]["median"]
    return row


# --- end to end ---------------------------------------------------------------------------------------


def reference_stacks(root: Path) -> list[str]:
    stacks_dir = root / "stacks"
    if not (root / "Pulumi.yaml").is_file() or not stacks_dir.is_dir():
        return []
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def bench_preview(root: Path, repeat: int) -> dict[str, Any]:
    stacks = reference_stacks(root)
    if not stacks:
        return {"skipped": "no reference project (Pulumi.yaml and stacks/ at the repo root)"}
    kmsguard = Path(sys.executable).parent / "kmsguard"
    out: dict[str, Any] = {}
    for stack in stacks:
        argv = [str(kmsguard), "preview", str(root), "--stack", stack, "--format", "json", "--timings"]
        policy_config = root / "stacks" / f"{stack}.policy-config.json"
        if policy_config.is_file():
            argv += ["--policy-config", str(policy_config)]
        phases = ""
        times: list[float] = []
        code = None
        error = ""
        for _ in range(repeat):
            began = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=root)
            times.append(time.perf_counter() - began)
            code = proc.returncode
            # `--timings` prints one line: resources; program, pack start, pack RPCs, analysis, total
            phases = next((ln for ln in proc.stderr.splitlines() if " resources; program " in ln), phases)
            if code not in (0, 1):
                error = (proc.stderr or proc.stdout)[-1000:]
                break
        entry: dict[str, Any] = {
            "exit": code,
            "median_s": statistics.median(times),
            "all": times,
            "phases_last_run": phases.removeprefix("kmsguard: "),
        }
        if error:
            entry["error"] = error
        out[stack] = entry
    return out


# --- output -------------------------------------------------------------------------------------------


def markdown(rows: Sequence[Mapping[str, Any]], preview: Mapping[str, Any]) -> str:
    head = (
        "| resources | AnalyzeStack pack (s) | floor (s) | pack / floor | without shared decoding / floor "
        "| analysis in-process (s) | analysis / floor | µs / resource | Remediate+Analyze median / p99 (ms) "
        "| floor Remediate+Analyze median (ms) | start-up median (s) | pack peak RSS (MiB) "
        "| violations as built |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"
    )
    lines = [head]
    for r in rows:
        rss = r.get("pack_peak_rss_mib")
        sdk = f"{r['ratio_sdk_pack_to_floor']:.2f}×" if "ratio_sdk_pack_to_floor" in r else "–"
        lines.append(
            f"| {r['size']:,} | {r['analyze_stack_s']['median']:.2f} | {r['floor_s']['median']:.2f} "
            f"| {r['ratio_pack_to_floor']:.2f}× | {sdk} "
            f"| {r['in_process_s']['median']:.2f} | {r['analysis_to_floor']:.2f} "
            f"| {r['in_process_us_per_resource']:.0f} "
            f"| {r['per_resource_ms']['median']:.2f} / {r['per_resource_ms']['p99']:.2f} "
            f"| {r['floor_per_resource_ms']['median']:.2f} "
            f"| {r['startup_s']['median']:.3f} | {rss:.0f} | {'yes' if r['violations_match'] else 'NO'} |"
            if rss is not None
            else f"| {r['size']:,} | (no RSS) |"
        )
    if "skipped" in preview:
        lines.append(f"\nEnd-to-end `kmsguard preview`: skipped ({preview['skipped']}).")
    elif preview:
        lines.append(
            "\n| reference stack | `kmsguard preview` median (s) | exit | phases (last run, `--timings`) |"
            "\n|---|---:|---:|---|"
        )
        for stack, e in preview.items():
            lines.append(f"| {stack} | {e['median_s']:.2f} | {e['exit']} | {e.get('phases_last_run', '')} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated totals, e.g. 1000,10k,50k")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="AnalyzeStack / in-process repetitions (sizes from 20,000 on: one, to spare memory and time)",
    )
    parser.add_argument("--starts", type=int, default=7, help="pack starts for the start-up median")
    parser.add_argument("--seed", type=int, default=1688)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--no-preview", action="store_true", help="skip the end-to-end kmsguard preview")
    parser.add_argument("--preview-repeat", type=int, default=1, help="runs of each reference stack")
    parser.add_argument(
        "--no-sdk-baseline",
        action="store_true",
        help="skip the pack without shared decoding (bench/sdk_pack)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s.strip().lower().replace("k", "000")) for s in args.sizes.split(",") if s.strip()]

    began = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    before = machine()
    rows = []
    for size in sizes:
        print(f"size {size:,} …", file=sys.stderr, flush=True)
        rows.append(
            bench_size(
                size,
                repeat=args.repeat if size < LARGE else 1,
                starts=args.starts,
                seed=args.seed,
                sdk_baseline=not args.no_sdk_baseline,
            )
        )
    preview = {"skipped": "--no-preview"} if args.no_preview else bench_preview(ROOT, args.preview_repeat)
    after = machine()
    table = markdown(rows, preview)
    print(table)
    if args.out is not None:
        doc = {
            "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
            "started": began,
            "machine": before,
            "uptime_after": after["uptime"],
            "sizes": rows,
            "preview": preview,
            "table": table,
        }
        args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["violations_match"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
