"""``kmsguard check`` of a stack export with classic ``azure`` resources: read, or reported as not read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from collect.classic import ClassicStack, arm_id
from collect.test_classic_collect import DENY_INTERNET, UNREAD, forced_tunnel, spoke


def export(tmp_path: Path, s: ClassicStack) -> Path:
    resources = [
        {
            "urn": "urn:pulumi:dev::classic::pulumi:pulumi:Stack::classic-dev",
            "type": "pulumi:pulumi:Stack",
            "custom": False,
        }
    ]
    for r in s.resources:
        resources.append(
            {
                "urn": r.urn,
                "custom": True,
                "type": r.type,
                "inputs": {k: v for k, v in r.props.items() if k != "id"},
                "outputs": dict(r.props),
                "dependencies": list(r.dependencies),
                "propertyDependencies": {k: list(v) for k, v in r.property_dependencies.items()},
            }
        )
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": resources}}))
    return path


def check(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kmsguard.cli", "check", str(path), *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_classic_forced_tunnel_and_nsg_deny_is_blocked(tmp_path: Path) -> None:
    s = ClassicStack()
    _, sub = spoke(s)
    forced_tunnel(s, sub, nsg_rules=[DENY_INTERNET])
    proc = check(export(tmp_path, s), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert [(x["name"], x["verdict"]) for x in report["subnets"]] == [("vnet-spoke-app", "blocked")]
    assert [(v["policy"], v["level"], v["urn"]) for v in report["violations"]] == [
        ("kms-reachability", "mandatory", s.urn("azure:network/subnet:Subnet", "vnet-spoke-app"))
    ]


def test_unread_classic_type_is_an_advisory_and_an_unknown_verdict(tmp_path: Path) -> None:
    s = ClassicStack()
    spoke(s)
    s.add(UNREAD, "erc", {"name": "erc"})
    proc = check(export(tmp_path, s), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [(x["name"], x["verdict"]) for x in report["subnets"]] == [("vnet-spoke-app", "unknown")]
    found = [(v["policy"], v["level"], v["urn"]) for v in report["violations"]]
    assert found == [
        ("kms-unverified", "advisory", s.urn(UNREAD, "erc")),
        ("kms-unverified", "advisory", s.urn("azure:network/subnet:Subnet", "vnet-spoke-app")),
    ]
    assert (
        "azure:network/expressRouteCircuit:ExpressRouteCircuit is a classic azure (pulumi-azure) type"
        in report["violations"][0]["message"]
    )


def test_unread_classic_type_alone_is_never_a_silent_pass(tmp_path: Path) -> None:
    s = ClassicStack()
    s.add(
        "azure:network/virtualHub:VirtualHub", "vhub", {"name": "vhub"}, own_id=arm_id("virtualHubs", "vhub")
    )
    proc = check(export(tmp_path, s))
    assert proc.returncode == 0, proc.stderr
    assert "[advisory] kms-unverified on vhub:" in proc.stdout
    assert "azure:network/virtualHub:VirtualHub is a classic azure (pulumi-azure) type" in proc.stdout
