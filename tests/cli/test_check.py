"""`kmsguard check STATE.json`: exit codes, formats, policy config and bad input, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kmsguard.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"
BLOCKED = DATA / "export-blocked.json"
COMPLIANT = DATA / "export-compliant.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kmsguard.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def config(tmp_path: Path, value: object) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(value) if not isinstance(value, str) else value)
    return path


def test_blocked_export_exits_1_with_the_text_report() -> None:
    proc = run("check", str(BLOCKED))
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert out.startswith("kmsguard check (deployed state): project network, stack prod\n")
    assert "vnet-spoke/snet-app (VNet vnet-spoke, westeurope, public cloud): BLOCKED" in out
    assert (
        "remediations that the next `pulumi up` would apply (1):\n  kms-route-autofix on rt-spoke:\n" in out
    )
    assert "    + route kms-20-118-99-224: 20.118.99.224/32 → Internet\n" in out
    # The autofix's finding is a note (the deployed state is what is judged), and a check never
    # claims a preview would fail: a preview applies the autofix first.
    assert out.endswith(
        "BLOCKED: 2 mandatory violation(s) in the deployed state; 1 note(s) on what the next `pulumi up` "
        "with this pack would add\n"
    )
    assert "\x1b[" not in out and proc.stderr == ""


def test_compliant_export_exits_0() -> None:
    proc = run("check", str(COMPLIANT), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["blocked"] is False and doc["violations"] == []
    assert proc.stdout == (DATA / "golden" / "export-compliant.report.json").read_text()


def test_output_file_gets_the_report_and_stdout_stays_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.sarif"
    assert main(["check", str(BLOCKED), "--format", "sarif", "--output", str(out)]) == 1
    assert capsys.readouterr().out == ""
    log = json.loads(out.read_text())
    assert log["version"] == "2.1.0" and len(log["runs"][0]["results"]) == 3


def test_advisory_levels_in_the_policy_config_let_the_run_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path, {"kms-reachability": "advisory", "kms-route-autofix": "disabled"})
    assert main(["check", str(BLOCKED), "--policy-config", str(cfg), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["blocked"] is False
    assert [(v["policy"], v["level"]) for v in doc["violations"]] == [
        ("kms-reachability", "advisory"),
        ("kms-reachability", "advisory"),
    ]
    assert doc["remediations"] == [], "a disabled remediation neither runs nor reports"
    assert [s["verdict"] for s in doc["subnets"]] == ["blocked", "excluded", "blocked"], (
        "verdicts do not change"
    )


def test_policy_config_properties_reach_the_analysis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(
        tmp_path, {"kms-reachability": {"excludeSubnets": ["snet-data"]}, "kms-route-autofix": "advisory"}
    )
    assert main(["check", str(BLOCKED), "--policy-config", str(cfg), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(s["name"], s["verdict"]) for s in doc["subnets"]] == [
        ("vnet-spoke/snet-app", "blocked"),
        ("vnet-spoke/GatewaySubnet", "excluded"),
        ("snet-data", "excluded"),
    ]
    assert [(v["policy"], v["level"]) for v in doc["violations"]] == [
        ("kms-route-autofix", "advisory"),
        ("kms-reachability", "mandatory"),
    ]


def test_empty_policy_config_file_is_allowed(tmp_path: Path) -> None:
    assert main(["check", str(COMPLIANT), "--policy-config", str(config(tmp_path, ""))]) == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"kms-reachability": {"cloud": "mars"}},
            "validating policy config: kmsguard: kms-reachability: cloud: cloud must be one of the following: "
            '"public", "usgov", "china", "germany"',
        ),
        ({"all": "strict"}, 'parsing enforcement level for "all": "strict" is not a valid enforcement level'),
        (
            {"kms-reachabilty": "advisory"},
            "policy pack config for kmsguard: no policy named 'kms-reachabilty'",
        ),
        (
            {"kms-reachability": {"trustedDnsServers": "10.0.0.1"}},
            "kms-reachability: trustedDnsServers: Invalid type. Expected: array, given: string",
        ),
        (
            {"kms-reachability": {"extraEndpoints": [{"cloud": "public"}]}},
            "policy config of kms-reachability: extraEndpoints: [0].fqdn: is required",
        ),
        ("[1, 2]", "a policy pack config is a JSON object, not an array"),
        ("{", "line 1 column 2: Expecting property name enclosed in double quotes"),
    ],
)
def test_bad_policy_config_names_the_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: object, message: str
) -> None:
    cfg = config(tmp_path, value)
    assert main(["check", str(COMPLIANT), "--policy-config", str(cfg)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line, *_) = captured.err.splitlines()
    assert line.startswith(f"kmsguard: error: {cfg}: ")
    assert message in captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "{path}: line 1 column 2: Expecting property name enclosed in double quotes"),
        ("[]", "{path}: not a `pulumi stack export` file (the top level is an array, not an object)"),
        ('{"version": 3}', '{path}: not a `pulumi stack export` file (no "deployment" object)'),
        ('{"deployment": {"resources": {}}}', "{path}: deployment.resources must be an array"),
        ('{"deployment": {"resources": []}}', "{path}: the export has no resources (an empty stack)"),
        (
            '{"deployment": {"resources": [{"urn": "rt", "type": "x"}]}}',
            "{path}: deployment.resources[0]: urn: 'rt' is not a Pulumi URN",
        ),
        (
            '{"deployment": {"resources": [{"urn": "urn:pulumi:s::p::azure-native:network:RouteTable::rt", '
            '"type": "azure-native:network:RouteTable", "inputs": [1]}]}}',
            "{path}: resource urn:pulumi:s::p::azure-native:network:RouteTable::rt: inputs: must be an object, not an array",
        ),
        (
            '{"deployment": {"resources": [{"urn": "urn:pulumi:s::p::azure-native:network:RouteTable::rt", '
            '"type": "azure-native:network:RouteTable", "outputs": {"4dabf18193072939515e22adb298388d": '
            '"1b47061264138c4ac30d75fd1eb44270", "plaintext": "{}"}}]}}',
            "{path}: resource urn:pulumi:s::p::azure-native:network:RouteTable::rt: outputs: must be an object of "
            "properties, not a secret value",
        ),
    ],
)
def test_malformed_state_file_is_one_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == f"kmsguard: error: {message.format(path=path)}\n"


def test_missing_state_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    assert main(["check", str(missing)]) == 2
    assert capsys.readouterr().err == f"kmsguard: error: {missing}: cannot read: No such file or directory\n"


def test_secret_envelopes_in_the_export_are_read_and_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(BLOCKED.read_text())
    sig = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    for r in data["deployment"]["resources"]:
        if r["type"] == "azure-native:network:RouteTable":
            r["inputs"]["tags"] = {**sig, "ciphertext": "v1:AAAA:c2VjcmV0"}
            r["outputs"]["tags"] = {**sig, "plaintext": '{"owner": "s3cret-owner"}'}
    path = tmp_path / "state.json"
    path.write_text(json.dumps(data))
    assert main(["check", str(path), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert "s3cret-owner" not in out and "c2VjcmV0" not in out
    doc = json.loads(out)
    assert [v["policy"] for v in doc["violations"]] == ["kms-reachability", "kms-reachability"]
    assert [n["policy"] for n in doc["notes"]] == ["kms-route-autofix"]


def test_usage_errors_exit_2() -> None:
    proc = run("check")
    assert proc.returncode == 2
    assert "the following arguments are required: state" in proc.stderr
    proc = run("check", str(BLOCKED), "--format", "xml")
    assert proc.returncode == 2
    assert "invalid choice: 'xml'" in proc.stderr


def test_colour_only_when_asked_or_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BLOCKED), "--color", "always"]) == 1
    out = capsys.readouterr().out
    assert "vnet-spoke/snet-app (VNet vnet-spoke, westeurope, public cloud): \x1b[31mBLOCKED\x1b[0m" in out
    assert main(["check", str(BLOCKED), "--color", "always", "--format", "json"]) == 1
    assert "\x1b[" not in capsys.readouterr().out, "colour is for the text report only"


def test_policy_pack_option_drives_another_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(COMPLIANT), "--policy-pack", str(tmp_path)]) == 2
    assert (
        capsys.readouterr().err
        == f"kmsguard: error: {tmp_path} is not a policy pack: PulumiPolicy.yaml not found\n"
    )
