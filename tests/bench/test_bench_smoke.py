"""The benchmark keeps working: the estate generator's shape, and one small run over gRPC.

No timing is asserted (figures are measured by ``python -m bench.run`` and reported, not tested);
what is asserted is what the benchmark relies on: exact sizes, determinism, preview unknowns,
secrets, floats and property dependencies in the bags, every spoke kind, and that the pack — with
and without the shared decoding of ``kmsguard.policies.decode_once`` — gives exactly the violations
the estate was built to produce.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

# bench/ is a top-level package of the repository, not of the installed project.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.estate import KINDS, VERDICTS, Estate, generate  # noqa: E402
from bench.run import bench_size, markdown, percentile  # noqa: E402
from kmsguard.engine import UNKNOWN  # noqa: E402
from kmsguard.policies import AUTOFIX, REACHABILITY, UNVERIFIED, analyze_resources  # noqa: E402

U = UNKNOWN.sentinel
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def walk(value: Any) -> list[Any]:
    """Every value at every depth."""
    out = [value]
    if isinstance(value, dict):
        for v in value.values():
            out.extend(walk(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(walk(v))
    return out


@pytest.fixture(scope="module")
def small() -> Estate:
    return generate(200)


@pytest.fixture(scope="module")
def medium() -> Estate:
    return generate(1500)


def test_sizes_are_exact_and_generation_is_deterministic(small: Estate) -> None:
    for size in (137, 200, 1000, 1001):
        assert len(generate(size).resources) == size
    again = generate(200)
    assert again.resources == small.resources
    assert generate(200, seed=7).resources != small.resources
    assert len({r.urn for r in small.resources}) == 200
    with pytest.raises(ValueError, match="too small"):
        generate(40)


def test_bags_carry_preview_unknowns_secrets_floats_and_dependencies(small: Estate) -> None:
    outputs = [v for r in small.resources for v in walk(dict(r.outputs))]
    inputs = [v for r in small.resources for v in walk(dict(r.inputs))]
    # §1.6: ids and names are unknown in every projected resource; inputs carry unknowns too
    # (the firewall's private IP as next hop, references by id).
    projected = [r for r in small.resources if not r.type.startswith("pulumi:")]
    assert all(r.outputs["id"] == U for r in projected)
    assert all(r.outputs.get("name", U) == U for r in projected)
    assert U in inputs and outputs.count(U) > inputs.count(U)
    assert any(isinstance(v, dict) and SECRET_SIG in v for v in inputs)
    assert any(isinstance(v, float) for v in inputs)
    assert sum(1 for r in small.resources if r.property_dependencies) > len(small.resources) // 2
    # path parameters are inputs only (§3.0)
    vms = [r for r in small.resources if r.type == "azure-native:compute:VirtualMachine"]
    assert vms and all("resourceGroupName" in r.inputs and "resourceGroupName" not in r.outputs for r in vms)


def test_medium_estate_has_every_kind_and_the_big_bags(medium: Estate) -> None:
    assert set(medium.spokes) == set(KINDS)
    counts = medium.counts()
    for token in ("Route", "SecurityRule", "Subnet", "VirtualNetworkPeering", "NetworkInterface"):
        assert counts[f"azure-native:network:{token}"] > 0  # standalone sub-resources
    by_type = Counter(r.type for r in medium.resources)
    assert by_type["azure-native:network:FirewallPolicyRuleCollectionGroup"] == 2
    tables = [r for r in medium.resources if r.type == "azure-native:network:RouteTable"]
    assert max(len(r.inputs.get("routes", [])) for r in tables) == 399
    nsgs = [r for r in medium.resources if r.type == "azure-native:network:NetworkSecurityGroup"]
    assert max(len(r.inputs.get("securityRules", [])) for r in nsgs) == 1000
    vnets = [r for r in medium.resources if r.type == "azure-native:network:VirtualNetwork"]
    assert any("subnets" in r.inputs for r in vnets[1:]) and any("subnets" not in r.inputs for r in vnets)
    assert len(medium.over_limit_tables) == medium.spokes["over-limit"]


def test_in_process_verdicts_are_the_ones_built(medium: Estate) -> None:
    result = analyze_resources(medium.pulumi_resources(), {})
    assert result.problems == ()
    got = {s.name: s.verdict.value for s in result.subnets}
    assert got == dict(medium.expected)
    assert set(medium.verdict_counts()) == {*VERDICTS.values(), "excluded"}


def test_percentile_is_nearest_rank() -> None:
    sample = [float(i) for i in range(1, 101)]
    assert (percentile(sample, 50), percentile(sample, 99), percentile(sample, 100)) == (50.0, 99.0, 100.0)
    assert percentile([3.0], 99) == 3.0


def test_smoke_run_over_grpc(small: Estate) -> None:
    row = bench_size(200, repeat=1, starts=1, seed=small.seed, sdk_baseline=True)
    verdicts = small.verdict_counts()
    assert row["violations_expected"] == {
        REACHABILITY: verdicts.get("blocked", 0),
        UNVERIFIED: verdicts.get("unknown", 0),
        AUTOFIX: len(small.over_limit_tables),
    }
    assert row["violations"] == row["violations_expected"]
    assert row["violations_match"] is True
    assert row["sdk_pack_same_violations"] is True
    for key in ("analyze_stack_s", "floor_s", "sdk_pack_s", "in_process_s", "startup_s"):
        assert row[key]["median"] > 0
    assert row["per_resource_ms"]["p99"] >= row["per_resource_ms"]["median"] > 0
    assert row["pack_peak_rss_mib"] is not None and row["pack_peak_rss_mib"] > 0
    table = markdown([row], {"skipped": "not in this test"})
    assert table.splitlines()[2].startswith("| 200 | ")
    assert table.splitlines()[2].endswith("| yes |")
    json.dumps(row)  # the JSON report can hold it
