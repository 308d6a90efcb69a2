"""`kmsguard preview` on real azure-native programs run offline, through the real pack over gRPC.

Each case runs the program once (importing pulumi_azure_native takes seconds), so the module keeps
the runs it needs and renders the other formats from the same evaluation.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kmsguard.cli import main
from kmsguard.engine import UNKNOWN
from kmsguard.engine.mocks.runner import run_program
from kmsguard.evaluate import Evaluation, evaluate_program
from kmsguard.report import junit, sarif

ROOT = Path(__file__).resolve().parent.parent.parent
PROGRAMS = ROOT / "tests" / "programs"
COMPONENT = PROGRAMS / "report_component"
STANDALONE = PROGRAMS / "report_standalone"
KMS_ROUTES = [
    {"addressPrefix": "20.118.99.224/32", "nextHopType": "Internet", "name": "kms-20-118-99-224"},
    {"addressPrefix": "40.83.235.53/32", "nextHopType": "Internet", "name": "kms-40-83-235-53"},
    {"addressPrefix": "23.102.135.246/32", "nextHopType": "Internet", "name": "kms-23-102-135-246"},
]
IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]


def spoke(kind: str, name: str) -> str:
    return f"urn:pulumi:dev::spokes::spokes:index:Spoke$azure-native:network:{kind}::{name}"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    # The stand-in's runner is what these tests are about; tests/realengine holds the real CLI to the
    # same reports.
    engine = ["--engine", "mocks"] if args and args[0] == "preview" and "--engine" not in args else []
    return subprocess.run(
        [sys.executable, "-m", "kmsguard.cli", *args, *engine],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def component() -> tuple[int, dict[str, Any]]:
    proc = cli("preview", str(COMPONENT), "--stack", "dev", "--format", "json")
    assert proc.stderr == ""
    return proc.returncode, json.loads(proc.stdout)


def test_component_program_exact_report(component: tuple[int, dict[str, Any]]) -> None:
    code, doc = component
    assert code == 1, "spoke-data's NSG deny is mandatory and no remediation touches it"
    assert (doc["project"], doc["stack"], doc["blocked"]) == ("spokes", "dev", True)
    assert [
        (s["name"], s["urn"], s["vnet"], s["location"], s["cloud"], s["verdict"]) for s in doc["subnets"]
    ] == [
        (
            "spoke-app-vnet/workload",
            spoke("VirtualNetwork", "spoke-app-vnet"),
            "spoke-app-vnet",
            "westeurope",
            "public",
            "reachable",
        ),
        (
            "spoke-data-vnet/workload",
            spoke("VirtualNetwork", "spoke-data-vnet"),
            "spoke-data-vnet",
            "westeurope",
            "public",
            "blocked",
        ),
        (
            "spoke-ops-vnet/workload",
            spoke("VirtualNetwork", "spoke-ops-vnet"),
            "spoke-ops-vnet",
            "westeurope",
            "public",
            "unknown",
        ),
        (
            "spoke-web-vnet/workload",
            spoke("VirtualNetwork", "spoke-web-vnet"),
            "spoke-web-vnet",
            "westeurope",
            "public",
            "reachable",
        ),
    ]
    # The verdicts are those of the remediated plan: the routes autofix added carry KMS to Internet.
    app = doc["subnets"][0]["endpoints"][0]
    assert (app["ip"], app["verdict"]) == ("20.118.99.224", "reachable")
    assert app["trace"][-2:] == [
        {
            "step": "route",
            "detail": "route table spoke-app-rt route kms-20-118-99-224: 20.118.99.224/32 → Internet (selected for 20.118.99.224)",
            "urn": spoke("RouteTable", "spoke-app-rt"),
        },
        {
            "step": "egress",
            "detail": "Internet next hop: default outbound access of subnet spoke-app-vnet/workload (Azure public IP)",
            "urn": spoke("VirtualNetwork", "spoke-app-vnet"),
        },
    ]
    data = doc["subnets"][1]
    deny = {
        "step": "nsg",
        "detail": "NSG spoke-data-nsg rule 200 deny-kms: denied",
        "urn": spoke("NetworkSecurityGroup", "spoke-data-nsg"),
        "finding": "KMS-NSG-DENY",
    }
    assert [e["verdict"] for e in data["endpoints"]] == ["blocked"] * 3
    assert all(deny in e["trace"] for e in data["endpoints"])
    assert [(f["kind"], f["target"], f["detail"]) for f in data["fixes"]] == [
        (
            "add-nsg-rule",
            "spoke-data-nsg",
            "NSG spoke-data-nsg: add outbound rule allow-kms-activation, priority 199: Allow TCP 1688 to "
            "20.118.99.224/32, 23.102.135.246/32, 40.83.235.53/32",
        )
    ]
    assert [(v["policy"], v["level"], v["urn"], v["message"].splitlines()[0]) for v in doc["violations"]] == [
        (
            "kms-reachability",
            "mandatory",
            spoke("VirtualNetwork", "spoke-data-vnet"),
            "Subnet spoke-data-vnet/workload (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is "
            "blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key "
            "Management Service could be contacted).",
        ),
        (
            "kms-unverified",
            "advisory",
            spoke("VirtualNetwork", "spoke-ops-vnet"),
            "Subnet spoke-ops-vnet/workload (westeurope, public cloud): KMS TCP 1688 reachability to 20.118.99.224, "
            "40.83.235.53, 23.102.135.246 cannot be proven from the stack, so Windows activation may fail with "
            "0xC004F074.",
        ),
    ]
    assert doc["remediations"] == [
        {
            "policy": "kms-route-autofix",
            "urn": spoke("RouteTable", f"spoke-{n}-rt"),
            "name": f"spoke-{n}-rt",
            "added": KMS_ROUTES,
        }
        for n in ("app", "data", "ops", "web")
    ]


def test_component_program_without_autofix_blocks_every_forced_tunnel(tmp_path: Path) -> None:
    cfg = tmp_path / "policy.json"
    cfg.write_text(json.dumps({"kms-route-autofix": "disabled"}))
    proc = cli("preview", str(COMPONENT), "--stack", "dev", "--policy-config", str(cfg), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(s["name"], s["verdict"]) for s in doc["subnets"]] == [
        ("spoke-app-vnet/workload", "blocked"),
        ("spoke-data-vnet/workload", "blocked"),
        ("spoke-ops-vnet/workload", "blocked"),
        ("spoke-web-vnet/workload", "blocked"),
    ]
    assert [(v["policy"], v["urn"]) for v in doc["violations"]] == [
        ("kms-reachability", spoke("VirtualNetwork", f"spoke-{n}-vnet"))
        for n in ("app", "data", "ops", "web")
    ]
    assert doc["remediations"] == []


@pytest.fixture(scope="module")
def standalone() -> Evaluation:
    run = run_program(STANDALONE, "dev")
    # The premise: the route's table name and next-hop IP are unknown during the preview.
    route = run.get("default-via-fw").inputs
    assert (route["routeTableName"], route["nextHopIpAddress"]) == (UNKNOWN, UNKNOWN)
    # The table itself is auto-named by Check, as azure-native names it: logical name + 8 hex digits.
    assert re.fullmatch(r"rt-spoke[0-9a-f]{8}", run.get("rt-spoke").inputs["routeTableName"])
    return evaluate_program(run)


def test_standalone_routes_with_preview_unknowns_exact_report(standalone: Evaluation) -> None:
    """The route table's name and the firewall's private IP are unknown at preview; the routes find
    their table and next hop through property dependencies, and the firewall policy allows KMS."""
    from kmsguard.report import document

    doc = document.document(standalone)
    u = "urn:pulumi:dev::hubspoke::azure-native:network"
    assert doc["blocked"] is False
    assert [(s["name"], s["urn"], s["vnet"], s["verdict"]) for s in doc["subnets"]] == [
        ("fw-subnet", f"{u}:Subnet::fw-subnet", "hub", "excluded"),
        ("snet-app", f"{u}:Subnet::snet-app", "spoke", "reachable"),
    ]
    for ip, e in zip(IPS, doc["subnets"][1]["endpoints"], strict=True):
        assert (e["ip"], e["verdict"]) == (ip, "reachable")
        assert [(t["step"], t["detail"], t["urn"]) for t in e["trace"][-3:]] == [
            (
                "route",
                f"route table rt-spoke route default-via-fw: 0.0.0.0/0 → VirtualAppliance (selected for {ip}) (Azure Firewall fw)",
                f"{u}:Route::default-via-fw",
            ),
            (
                "firewall",
                f"firewall policy fwp rule collection group fwp-platform collection windows-activation rule kms: TCP 1688 to {ip} allowed",
                f"{u}:FirewallPolicyRuleCollectionGroup::fwp-platform",
            ),
            (
                "firewall",
                "AzureFirewallSubnet of fw: default system route: 0.0.0.0/0 → Internet; SNAT to the firewall's public IP (docs/rules.md#firewall-snat)",
                None,  # a system route is no resource of the stack
            ),
        ]
    assert doc["violations"] == [] and doc["remediations"] == []
    root = ET.fromstring(junit.render(standalone))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("2", "0", "1")


def test_preview_sarif_points_at_the_declaring_line(standalone: Evaluation, tmp_path: Path) -> None:
    broken = tmp_path / "program"
    broken.mkdir()
    source = (STANDALONE / "__main__.py").read_text()
    # Without the firewall rule the path is blocked at the firewall.
    (broken / "__main__.py").write_text(
        source.replace('destination_ports=["1688"]', 'destination_ports=["443"]')
    )
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        (broken / name).write_text((STANDALONE / name).read_text())
    ev = evaluate_program(run_program(broken, "dev"))
    assert ev.blocked
    log = sarif.log(ev, cwd=tmp_path)
    (result,) = log["runs"][0]["results"]
    assert (result["ruleId"], result["properties"]["policy"]) == ("KMS-FIREWALL-NO-RULE", "kms-reachability")
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "program/__main__.py", "uriBaseId": "SRCROOT"}
    line = (broken / "__main__.py").read_text().splitlines()[physical["region"]["startLine"] - 1]
    assert line.startswith("azure.network.Subnet("), line


def test_program_error_exits_2_with_the_programs_traceback(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: bad\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        'import pulumi\n\n\ndef build():\n    raise ValueError("no subnet size given")\n\n\nbuild()\n'
    )
    proc = cli("preview", str(tmp_path), "--stack", "dev")
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = proc.stderr.splitlines()
    assert err[0] == "Traceback (most recent call last):"
    assert f'  File "{tmp_path / "__main__.py"}", line 5, in build' in err
    assert err[-2] == "ValueError: no subnet size given"
    assert (
        err[-1] == f"kmsguard: error: the Pulumi program {tmp_path} failed: ValueError: no subnet size given"
    )


def test_missing_stack_and_project_are_one_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A stack without Pulumi.<stack>.yaml is empty config to the CLI (loaders.go); a bad reference is not.
    assert main(["preview", str(COMPONENT), "--stack", "acme/prod", "--engine", "mocks"]) == 2
    assert capsys.readouterr().err == "kmsguard: error: organization name must be 'organization'\n"
    assert main(["preview", str(tmp_path), "--stack", "dev"]) == 2
    assert (
        capsys.readouterr().err
        == f"kmsguard: error: {tmp_path}/Pulumi.yaml: no Pulumi project file (Pulumi.yaml) here\n"
    )


def test_preview_usage_error_exits_2() -> None:
    proc = cli("preview", str(COMPONENT))
    assert proc.returncode == 2
    assert "the following arguments are required: --stack/-s" in proc.stderr
