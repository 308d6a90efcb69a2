"""The CLI as a user runs it: exit codes, output, errors naming the bad key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kmsguard.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "networks"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kmsguard.cli", *args], capture_output=True, text=True, check=False
    )


def test_explain_blocked_example_exits_1_and_lists_every_fix() -> None:
    proc = run("explain", str(EXAMPLES / "01-vpn-forced-tunnel-blocked.json"))
    assert proc.returncode == 1
    assert "vnet-spoke/snet-app (VNet vnet-spoke, westeurope, public cloud): BLOCKED" in proc.stdout
    assert "✗ [nsg] NSG nsg-app rule 4000 deny-internet: denied" in proc.stdout
    assert (
        "✗ [route] VPN gateway vgw-hub Default Site (forced tunneling) through peering spoke-to-hub (gateway transit)"
        not in proc.stdout
    ), "the UDR 0/0 wins the tie over the gateway's Default Site route (R2.2)"
    assert (
        "✗ [route] route table rt-spoke route default-to-onprem: 0.0.0.0/0 → VirtualNetworkGateway (selected for "
        "20.118.99.224): traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP (docs/rules.md#azure-public-source)"
        in proc.stdout
    )
    assert "fix (these changes make every KMS endpoint reachable):" in proc.stdout
    assert (
        "1. NSG nsg-app: add outbound rule allow-kms-activation, priority 3999: Allow TCP 1688 to "
        "20.118.99.224/32, 23.102.135.246/32, 40.83.235.53/32" in proc.stdout
    )
    assert (
        "2. route table rt-spoke: add 20.118.99.224/32 → Internet, 23.102.135.246/32 → Internet, "
        "40.83.235.53/32 → Internet (one /32 route per KMS IP, docs/rules.md#kms-routes)" in proc.stdout
    )
    assert proc.stdout.rstrip().endswith("2 subnet(s): 1 blocked, 1 excluded")


def test_explain_fixed_example_exits_0() -> None:
    proc = run("explain", "--brief", str(EXAMPLES / "02-vpn-forced-tunnel-with-kms-routes.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "vnet-spoke/snet-app (VNet vnet-spoke, westeurope, public cloud): REACHABLE" in proc.stdout
    assert "\x1b[" not in proc.stdout, "no colour when stdout is not a terminal"


def test_every_example_is_valid_and_runs() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        assert main(["explain", "--brief", str(path)]) in (0, 1), path


def test_explain_bad_file_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"vnets": [{"name": "V", "location": "eastus", "addressSpace": ["10.0.0.0/16"], "subnet": []}]}
        )
    )
    assert main(["explain", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == f"kmsguard: error: {bad}: vnets[0]: unknown key ('subnet' was unexpected)\n"


def test_explain_bad_settings_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"settings": {"trustedDnsServers": ["10.0.0.300"]}, "vnets": []}))
    assert main(["explain", str(bad)]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"kmsguard: error: {bad}: settings: trustedDnsServers[0]: '10.0.0.300' is not an IPv4 address\n"
    )


def test_explain_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["explain", str(bad)]) == 2
    assert capsys.readouterr().err == (
        f"kmsguard: error: {bad}: line 1 column 2: Expecting property name enclosed in double quotes\n"
    )


def test_explain_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(tmp_path / "nope.json")]) == 2
    assert "cannot read: No such file or directory" in capsys.readouterr().err


def test_catalog_location_pitfall(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--location", "germanywestcentral"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "germanywestcentral: Azure public — Germany West Central is a public-cloud region "
        "(not the closed Microsoft Cloud Deutschland)"
    )
    assert "azkms.core.windows.net           20.118.99.224" in out


def test_catalog_air_gapped_location(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--location", "usseceast"]) == 0
    assert capsys.readouterr().out.startswith("usseceast: cloud unknown (")
