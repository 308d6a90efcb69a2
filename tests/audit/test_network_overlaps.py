"""Audit D: the reference network refuses overlapping address spaces and subnet prefixes.

Peered VNets must not overlap (Azure refuses the peering) and neither may two subnets of one VNet
(ARM rejects the second); the program stops before declaring anything, with a message naming
both keys, like the other checks a JSON Schema cannot express (network/stack_settings.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROBE = Path(__file__).resolve().parent.parent / "network" / "config_probe.py"
NS = "kmsguard-network"
HUB = {"addressSpace": "10.0.0.0/16"}


def spoke(name: str, space: str, *prefixes: str) -> dict[str, Any]:
    return {
        "name": name,
        "addressSpace": space,
        "subnets": [{"name": f"s{i}", "prefix": p} for i, p in enumerate(prefixes or (space,))],
    }


def config(hub: dict[str, Any], *spokes: dict[str, Any]) -> dict[str, str]:
    values = {"location": "westeurope", "hub": hub, "spokes": list(spokes)}
    return {f"{NS}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


CASES: list[tuple[str, dict[str, str], str | None]] = [
    (
        "two spokes with the same address space",
        config(HUB, spoke("a", "10.1.0.0/16", "10.1.1.0/24"), spoke("b", "10.1.0.0/16", "10.1.2.0/24")),
        "kmsguard-network:spokes[1].addressSpace: 10.1.0.0/16 overlaps kmsguard-network:spokes[0].addressSpace "
        "10.1.0.0/16",
    ),
    (
        "a spoke inside another",
        config(HUB, spoke("a", "10.1.0.0/16", "10.1.1.0/24"), spoke("b", "10.1.128.0/17", "10.1.128.0/24")),
        "kmsguard-network:spokes[1].addressSpace: 10.1.128.0/17 is inside kmsguard-network:spokes[0].addressSpace "
        "10.1.0.0/16",
    ),
    (
        "a spoke containing the hub",
        config(HUB, spoke("a", "10.0.0.0/8", "10.2.0.0/24")),
        "kmsguard-network:spokes[0].addressSpace: 10.0.0.0/8 contains kmsguard-network:hub.addressSpace 10.0.0.0/16",
    ),
    (
        "duplicate subnet prefixes",
        config(HUB, spoke("a", "10.1.0.0/16", "10.1.1.0/24", "10.1.1.0/24")),
        "kmsguard-network:spokes[0].subnets[1].prefix: 10.1.1.0/24 overlaps "
        "kmsguard-network:spokes[0].subnets[0].prefix 10.1.1.0/24",
    ),
    (
        "overlapping subnet prefixes",
        config(HUB, spoke("a", "10.1.0.0/16", "10.1.0.0/23", "10.1.1.0/24")),
        "kmsguard-network:spokes[0].subnets[1].prefix: 10.1.1.0/24 is inside "
        "kmsguard-network:spokes[0].subnets[0].prefix 10.1.0.0/23",
    ),
    (
        "hub subnet overlapping the firewall subnet",
        config(
            {
                "addressSpace": "10.0.0.0/16",
                "firewall": {"subnetPrefix": "10.0.1.0/26"},
                "subnets": [{"name": "mgmt", "prefix": "10.0.1.0/24"}],
            },
            spoke("a", "10.1.0.0/16", "10.1.1.0/24"),
        ),
        "kmsguard-network:hub.subnets[0].prefix: 10.0.1.0/24 contains kmsguard-network:hub.firewall.subnetPrefix "
        "10.0.1.0/26",
    ),
    (
        "disjoint spaces and subnets (the control)",
        config(HUB, spoke("a", "10.1.0.0/16", "10.1.0.0/24", "10.1.1.0/24"), spoke("b", "10.2.0.0/16")),
        None,
    ),
]


@pytest.fixture(scope="module")
def probed() -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, str(PROBE)],
        input=json.dumps([c for _, c, _ in CASES]),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize(
    ("index", "message"), [(i, m) for i, (_, _, m) in enumerate(CASES)], ids=[c[0] for c in CASES]
)
def test_overlaps_stop_the_program_naming_both_keys(
    probed: list[dict[str, Any]], index: int, message: str | None
) -> None:
    result = probed[index]
    if message is None:
        assert result["error"] is None and result["declared"], result
        return
    assert result["error"] == {"type": "StackConfigError", "message": f"stack config: {message}"}
    assert result["declared"] == []
