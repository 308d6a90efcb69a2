"""Resource limits: pathological inputs finish, and the pack's memory stays within a documented bound.

The default run uses reduced sizes and asserts behaviour only (verdicts, messages), never time.
``KMSGUARD_LIMITS=1`` runs the full sizes (``limits`` marker): 10k routes, 10k NSG rules, 100k-char
strings at full size, plus the 200k-resource stack and the ~400 MB AnalyzeStack message, measuring
wall time and the pack's peak RSS (``VmHWM`` of ``/proc/<pid>/status``). Each measurement is printed
as one ``LIMIT`` line (run with ``-s`` to see them); docs/threat-model.md records the figures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from kmsguard.analysis import Verdict
from kmsguard.engine import PackProcess, PackResource
from kmsguard.engine.driver import MAX_RPC_MESSAGE_SIZE
from kmsguard.errors import KmsguardError

from .conftest import PACK_DIR
from .estate import RG, estate
from .support import REACHABILITY, UNVERIFIED, in_process, run_stack

FULL = os.environ.get("KMSGUARD_LIMITS") == "1"


def vm_hwm_mib(pid: int) -> float:
    """Peak resident set size of a process, from ``/proc/<pid>/status``."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM line")


def pack_pid(pack: PackProcess) -> int:
    proc = pack._proc
    assert proc is not None
    return proc.pid


def report(what: str, seconds: float, pack: PackProcess | None = None) -> None:
    rss = f", pack VmHWM {vm_hwm_mib(pack_pid(pack)):.0f} MiB" if pack is not None else ""
    print(f"LIMIT {what}: {seconds:.2f}s{rss}")


@pytest.fixture
def own_pack() -> Iterator[PackProcess]:
    """A pack process per test, so each VmHWM belongs to one input; no RPC deadline (the engine sets
    none, and 200k resources take minutes on a shared machine)."""
    with PackProcess(PACK_DIR, rpc_timeout=None) as running:
        running.configure({})
        yield running


def _with(resources: list[PackResource], name: str, **changes: Any) -> list[PackResource]:
    i = next(i for i, r in enumerate(resources) if r.name == name)
    out = list(resources)
    out[i] = replace(out[i], inputs={**out[i].inputs, **changes})
    return out


# --- pathological shapes (reduced in CI) -----------------------------------------------------------


def test_route_table_with_10k_routes(own_pack: PackProcess) -> None:
    n = 10_000 if FULL else 2_000
    routes = [
        {"name": f"r{i}", "addressPrefix": f"10.{i // 256 % 256}.{i % 256}.0/24", "nextHopType": "VnetLocal"}
        for i in range(n)
    ]
    routes.append({"name": "tunnel", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"})
    resources = _with(estate(), "rt-tunnel", routes=routes)
    began = time.perf_counter()
    run = run_stack(own_pack, resources)
    report(f"route table with {n} routes (preview pass)", time.perf_counter() - began, own_pack)
    # More routes than Azure allows: nothing is added, the limit is reported, app stays blocked.
    assert not [r for r in run.remediations if r.urn.endswith("::rt-tunnel")]
    assert any(
        "400-route limit" in v.message for v in run.resource_violations if v.urn.endswith("::rt-tunnel")
    )
    [app] = [s for s in in_process(list(run.final)).subnets if s.name == "app"]
    assert app.verdict is Verdict.BLOCKED


def test_nsg_with_10k_rules(own_pack: PackProcess) -> None:
    n = 10_000 if FULL else 2_000
    rules = [
        {"name": f"allow-{i}", "priority": 100 + i % 3900, "direction": "Outbound", "access": "Allow",
         "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*",
         "destinationAddressPrefix": f"10.{i // 256 % 256}.{i % 256}.0/24", "destinationPortRange": "443"}
        for i in range(n)
    ]  # fmt: skip
    rules.append(
        {"name": "deny-kms", "priority": 4000, "direction": "Outbound", "access": "Deny", "protocol": "*",
         "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*",
         "destinationPortRange": "1688"}
    )  # fmt: skip
    resources = _with(estate(), "nsg-app", securityRules=rules)
    began = time.perf_counter()
    run = run_stack(own_pack, resources)
    report(f"NSG with {n + 1} rules (preview pass)", time.perf_counter() - began, own_pack)
    [app] = [s for s in in_process(list(run.final)).subnets if s.name == "app"]
    # The autofix routes are custom routes for the KMS IPs, so NSGs filter TCP 1688 and deny-kms blocks.
    assert app.verdict is Verdict.BLOCKED


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = {"k": value, "i": [i]} if i % 2 else [value]
    return value


def test_deeply_nested_values(own_pack: PackProcess) -> None:
    # Real azure-native inputs nest fewer than 15 levels; 150 containers deep is answered normally.
    resources = _with(estate(), "hub", tags={"deep": _nested(150)})
    resources = _with(
        resources, "rt-tunnel", routes=[*estate()[7].inputs["routes"], {"name": "x", "extra": _nested(150)}]
    )
    began = time.perf_counter()
    run = run_stack(own_pack, resources)
    report("values nested 150 containers deep", time.perf_counter() - began, own_pack)
    assert {v.policy for v in run.stack_violations} == {REACHABILITY, UNVERIFIED}
    assert not any("internal error" in v.message for v in run.violations)


def test_nesting_beyond_the_sdk_recursion_limit_fails_closed(own_pack: PackProcess) -> None:
    # pulumi_policy converts each request with protobuf's recursive MessageToDict before any policy
    # runs; 300 levels exceed Python's recursion limit there. The RPC fails, so the engine fails the
    # preview (never a pass), and the pack keeps serving the next request.
    with pytest.raises(KmsguardError, match=r"Remediate .*maximum recursion depth exceeded"):
        run_stack(own_pack, _with(estate(), "hub", tags={"deep": _nested(300)}))
    assert run_stack(own_pack, estate()).stack_violations


def test_huge_strings(own_pack: PackProcess) -> None:
    n = 100_000 if FULL else 20_000
    big = "x" * n
    resources = _with(estate(), "app", subnetName=big)
    resources = _with(
        resources, "rt-tunnel", routes=[{"name": big, "addressPrefix": big, "nextHopType": big}]
    )
    resources = _with(resources, "nsg-deny", location=big)
    began = time.perf_counter()
    run = run_stack(own_pack, resources)
    report(f"{n}-character names, prefix, next hop and location", time.perf_counter() - began, own_pack)
    assert not any("internal error" in v.message for v in run.violations)
    [app] = [s for s in in_process(list(run.final)).subnets if s.urn is not None and s.urn.endswith("::app")]
    assert app.verdict is Verdict.UNKNOWN  # a route table whose only route is unreadable
    longest = max(len(v.message) for v in run.violations)
    print(f"LIMIT longest message with {n}-character values: {longest} characters")


# --- memory bounds (KMSGUARD_LIMITS=1 only) ---------------------------------------------------------


def _renamed(value: Any, rg: str) -> Any:
    if isinstance(value, str):
        return value.replace(RG, rg)
    if isinstance(value, dict):
        return {k: _renamed(v, rg) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, rg) for v in value]
    return value


def copies(n_resources: int, *, shared_names: bool = False) -> list[PackResource]:
    """``n_resources`` resources: copies of the estate, each in a resource group of its own (so each
    copy is a separate network), or with ``shared_names`` all in one (every Azure id ambiguous)."""
    base = estate()
    out: list[PackResource] = []
    k = 0
    while len(out) < n_resources:
        rg = RG if shared_names else f"{RG}-{k}"
        for r in base:
            if len(out) == n_resources:
                break
            suffix = f"-{k}"
            out.append(
                replace(r, urn=r.urn + suffix, name=r.name + suffix, inputs=_renamed(dict(r.inputs), rg))
            )
        k += 1
    return out


@pytest.mark.limits
@pytest.mark.parametrize("n", [20_000, 200_000])
def test_stack_of_many_resources(own_pack: PackProcess, n: int) -> None:
    resources = copies(n)
    began = time.perf_counter()
    violations = own_pack.analyze_stack(resources)
    report(f"AnalyzeStack of {n} resources", time.perf_counter() - began, own_pack)
    assert any(v.policy == REACHABILITY for v in violations)


@pytest.mark.limits
@pytest.mark.parametrize("mib", [40, 390])
def test_message_near_the_400_mib_limit(own_pack: PackProcess, mib: int) -> None:
    # One resource carries a padding property that brings the AnalyzeStack request to ``mib`` MiB.
    assert mib * 1024 * 1024 < MAX_RPC_MESSAGE_SIZE
    resources = estate()
    pad = ["p" * 1000 for _ in range(mib * 1024 * 1024 // 1008)]
    resources = _with(resources, "hub", tags={"pad": pad})
    began = time.perf_counter()
    violations = own_pack.analyze_stack(resources)
    report(f"AnalyzeStack message of ~{mib} MiB", time.perf_counter() - began, own_pack)
    assert any(v.policy == REACHABILITY for v in violations)
