"""What the pack declares (GetAnalyzerInfo), its config through Configure, one analysis per
AnalyzeStack, one violation per subnet or table, and how the pack directory is set up."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kmsguard.engine import UNKNOWN, PackProcess, PackResource, Secret, drive_pack
from kmsguard.errors import KmsguardError
from kmsguard.findings import Finding

from . import topologies as T
from .bags import Stack, arm_id
from .harness import (
    AUTOFIX,
    INPUTS,
    NO_AUTOFIX,
    POLICY_DIR,
    REACHABILITY,
    REPO,
    UNVERIFIED,
    found,
    messages,
    preview,
)

HOOKS = Path(__file__).resolve().parent / "hooks"
DOCS = "docs/findings.md"
SPOKE = Stack().urn(T.VNET, "spoke")


def doc_anchors() -> set[str]:
    """GitHub's heading anchors of docs/findings.md."""
    text = (REPO / "docs" / "findings.md").read_text(encoding="utf-8")
    return {
        re.sub(r"[^a-z0-9 _-]", "", m.group(1).strip().lower()).replace(" ", "-")
        for m in re.finditer(r"^#+ (.+)$", text, re.M)
    }


# --- GetAnalyzerInfo --------------------------------------------------------------------------------


def test_policies_levels_descriptions_steps_and_urls(pack: PackProcess) -> None:
    name, listed = pack.analyzer_info()
    assert name == "kmsguard"
    # The network policies come first (kms-reachability must run before kms-unverified to share its
    # analysis); other policies of the pack follow.
    policies = listed[:3]
    assert [(p.name, p.policy_type, p.enforcement_level) for p in policies] == [
        (REACHABILITY, "stack", "mandatory"),
        (UNVERIFIED, "stack", "advisory"),
        (AUTOFIX, "resource", "remediate"),
    ]
    anchors = doc_anchors()
    for p in policies:
        assert p.description and p.remediation_steps, p.name
        assert p.url == f"{DOCS}#{p.name}" and p.name in anchors
    assert [p.config_schema is None for p in policies] == [False, True, True]
    [inputs] = [p for p in listed if p.name == INPUTS]
    assert (inputs.policy_type, inputs.enforcement_level, inputs.config_schema) == (
        "resource",
        "remediate",
        None,
    )
    assert inputs.url == f"{DOCS}#kms-inputs" and "kms-inputs" in anchors and inputs.remediation_steps


def test_messages_name_their_findings_and_link_their_sections(pack: PackProcess) -> None:
    """The last line names each finding the analysis made, with its section of docs/findings.md
    (tests/findings checks every section exists)."""
    anchors = doc_anchors()
    cases = [
        (T.vpn_default_site(), {}, Finding.ROUTE_FORCED_TUNNEL),
        (T.nsg_denies_platform_lkm(), {}, Finding.NSG_LKM_DENY),
        (T.private_subnet(nat_gateway=False), {}, Finding.NO_OUTBOUND),
        (T.firewall_without_kms_rule(), NO_AUTOFIX, Finding.FIREWALL_NO_RULE),
        (T.out_of_stack_route_table(), {}, Finding.UNKNOWN_ROUTE),
    ]
    for stack, config, finding in cases:
        [violation] = preview(pack, stack.resources, config).violations
        assert violation.message.split("\n")[-1] == f"Docs: {DOCS}#{finding.anchor} ({finding})"
        assert finding.anchor in anchors


def test_config_schema_of_kms_reachability(pack: PackProcess) -> None:
    [reach] = [p for p in pack.analyzer_info()[1] if p.name == REACHABILITY]
    assert reach.config_schema is not None
    props = reach.config_schema["properties"]
    assert {
        "cloud",
        "scope",
        "excludeSubnets",
        "egressAppliances",
        "trustedDnsServers",
        "extraEndpoints",
    } <= set(props)
    assert props["cloud"]["enum"] == ["public", "usgov", "china", "germany"]
    assert props["scope"]["enum"] == ["all-subnets", "windows-vm-subnets"]
    assert all(isinstance(v.get("description"), str) and v["description"] for v in props.values())


# --- config through Configure -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (
            {"cloud": "mars"},
            'kms-reachability: cloud: cloud must be one of the following: "public", "usgov", "china", "germany"',
        ),
        (
            {"scope": "vms"},
            'kms-reachability: scope: scope must be one of the following: "all-subnets", "windows-vm-subnets"',
        ),
        (
            {"egressAppliances": [{"ip": "10.0.0.4"}]},
            "kms-reachability: egressAppliances.0: {'ip': '10.0.0.4'} is not valid",
        ),
        (
            {"excludeSubnets": "app"},
            "kms-reachability: excludeSubnets: Invalid type. Expected: array, given: string",
        ),
        (
            {"trustedDnsServers": ["dns.corp"]},
            "kms-reachability: trustedDnsServers.0: Does not match pattern",
        ),
    ],
)
def test_bad_config_is_refused_by_the_engine_naming_the_key(
    pack: PackProcess, config: dict[str, Any], error: str
) -> None:
    with pytest.raises(KmsguardError) as info:
        pack.configure({REACHABILITY: config})
    assert str(info.value).startswith(f"validating policy config: kmsguard: {error}")


@pytest.mark.parametrize(
    ("config", "error"),
    [
        # The engine validates only the listed properties (§5); the pack refuses the rest itself.
        ({"clouds": "usgov"}, "clouds: unknown key; known keys: cloud, scope, excludeSubnets"),
        ({"extraEndpoints": [{"fqdn": "kms.corp"}]}, "extraEndpoints"),
    ],
)
def test_config_the_engine_lets_through_is_a_clear_mandatory_error(
    pack: PackProcess, config: dict[str, Any], error: str
) -> None:
    result = preview(pack, T.baseline().resources, {REACHABILITY: config})
    assert found(result) == {(REACHABILITY, "mandatory", "")}
    [message] = messages(result, REACHABILITY)
    assert message.startswith("kmsguard could not evaluate the stack: policy config of kms-reachability: ")
    assert error in message
    assert result.preview_fails is True


def test_config_keys_change_the_verdicts(pack: PackProcess) -> None:
    # excludeSubnets by '<vnet>/<subnet>'; cloud override: the usgov IPs the table routes are then the
    # ones that count, wherever the location says.
    stack = T.vpn_default_site()
    assert found(preview(pack, stack.resources, {REACHABILITY: {"excludeSubnets": ["hub/app"]}})) == set()
    routed = T.udr_to_vpn_gateway(user_kms=T.USGOV_KMS)
    assert found(preview(pack, routed.resources, {**NO_AUTOFIX, REACHABILITY: {"cloud": "usgov"}})) == set()
    assert found(preview(pack, routed.resources, NO_AUTOFIX)) == {(REACHABILITY, "mandatory", SPOKE)}
    # scope windows-vm-subnets: no Windows VM in the stack, nothing to check.
    assert found(preview(pack, stack.resources, {REACHABILITY: {"scope": "windows-vm-subnets"}})) == set()


def test_scope_keeps_a_windows_vm_of_unknown_subnet_in_scope(pack: PackProcess) -> None:
    # Regression: the VM's NIC is in hub/app, but its subnet id is unknown at preview and the property
    # dependency names the hub VNet, which has two subnets. The VM counted for no subnet, so
    # windows-vm-subnets dropped hub/app and the blocked subnet passed.
    result = preview(
        pack, T.windows_vm_behind_default_site().resources, {REACHABILITY: {"scope": "windows-vm-subnets"}}
    )
    ours = {f for f in found(result) if f[0] in (REACHABILITY, UNVERIFIED, AUTOFIX)}
    assert ours == {(REACHABILITY, "mandatory", Stack().urn(T.VNET, "hub"))}
    assert result.preview_fails is True


# --- one analysis per AnalyzeStack, shared ------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[PackProcess]:
    monkeypatch.setenv("PYTHONPATH", str(HOOKS))
    with PackProcess(POLICY_DIR, project="net", stack="dev") as running:
        yield running


def analyses(pack: PackProcess, at_least: int = 0) -> list[dict[str, Any]]:
    """The analysis lines the pack printed. A reader thread collects stderr, so wait (bounded) until
    ``at_least`` lines are in, then a little longer so that a surplus line would show too."""

    def read() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in pack.stderr.splitlines() if line.startswith("{")]
        return [line for line in lines if "kmsguard-test-analysis" in line]

    deadline = time.monotonic() + 10.0
    while len(read()) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    return read()


def test_one_analysis_per_analyze_stack_shared_by_both_stack_policies(counted: PackProcess) -> None:
    stack = T.third_party_appliance()
    # Unknown (kms-unverified reports) in the first, blocked (kms-reachability) in the second.
    first = preview(counted, stack.resources, NO_AUTOFIX)
    assert found(first) == {(UNVERIFIED, "advisory", SPOKE)}
    assert len(analyses(counted, 1)) == 1
    on_prem = {REACHABILITY: {"egressAppliances": [{"ip": T.NVA_IP, "egress": "on-premises"}]}}
    second = preview(counted, stack.resources, {**NO_AUTOFIX, **on_prem})
    assert found(second) == {(REACHABILITY, "mandatory", SPOKE)}
    # Analyze ran for every resource in between: still one analysis per AnalyzeStack.
    assert [a["kmsguard-test-analysis"] for a in analyses(counted, 2)] == [len(stack.resources)] * 2
    # kms-reachability disabled: kms-unverified runs its own, with the defaults.
    third = preview(counted, stack.resources, {**NO_AUTOFIX, REACHABILITY: "disabled"})
    assert found(third) == {(UNVERIFIED, "advisory", SPOKE)}
    assert len(analyses(counted, 3)) == 3
    # And the pack never loaded the provider SDK, after Remediate, Analyze and AnalyzeStack.
    assert not any(a["azure_native_loaded"] for a in analyses(counted))


def test_a_shared_analysis_never_outlives_its_call(pack: PackProcess) -> None:
    # Regression: with kms-unverified disabled, kms-reachability's result stayed cached; the next call
    # with the same URNs and kms-reachability disabled reused it (other config, other verdicts).
    stack = T.third_party_appliance()
    on_prem = {REACHABILITY: {"egressAppliances": [{"ip": T.NVA_IP, "egress": "on-premises"}]}}
    first = preview(pack, stack.resources, {**NO_AUTOFIX, **on_prem, UNVERIFIED: "disabled"})
    assert found(first) == {(REACHABILITY, "mandatory", SPOKE)}
    second = preview(pack, stack.resources, {**NO_AUTOFIX, REACHABILITY: "disabled"})
    assert found(second) == {(UNVERIFIED, "advisory", SPOKE)}


def test_pack_imports_never_load_pulumi_azure_native() -> None:
    # Run policy/__main__.py as the pack host does, with PolicyPack replaced by a recorder (the real
    # one never returns), and look at what got imported.
    script = (
        "import runpy, sys, pulumi_policy\n"
        "seen = {}\n"
        "class Recorder:\n"
        "    def __init__(self, **kw): seen.update(kw)\n"
        "pulumi_policy.PolicyPack = Recorder\n"
        f"runpy.run_path({str(POLICY_DIR)!r}, run_name='__main__')\n"
        "print(seen['name'], [p.name for p in seen['policies']][:3], 'pulumi_azure_native' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=POLICY_DIR, capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == f"kmsguard {[REACHABILITY, UNVERIFIED, AUTOFIX]} False"


def references_by_name() -> list[PackResource]:
    """A standalone subnet naming its VNet and route table by literal names (no property dependencies):
    only the Analyze inputs have those path parameters."""
    st = Stack(stack="byname")
    st.add(
        T.VNET,
        "spoke",
        {
            "resourceGroupName": T.RG,
            "virtualNetworkName": "vnet-spoke",
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        },
    )
    st.add(
        T.RT,
        "rt",
        {
            "resourceGroupName": T.RG,
            "routeTableName": "rt-spoke",
            "routes": [T.default_route("VirtualAppliance", Secret("10.0.100.11"))],
        },
    )
    st.add(T.SUBNET, "app", {"resourceGroupName": T.RG, "virtualNetworkName": "vnet-spoke", "subnetName": "app",
                             "addressPrefix": "10.1.0.0/24",
                             "routeTable": {"id": arm_id(T.RG, "routeTables/rt-spoke")}})  # fmt: skip
    return st.resources


@pytest.mark.parametrize("autofix", ["advisory", "disabled"])
def test_inputs_are_recorded_whatever_the_autofix_level(autofix: str) -> None:
    # Regression: only kms-route-autofix recorded the Analyze inputs and learnt secrets, so disabling it
    # lost the references by name (the subnet became unknown) and showed the secret next hop.
    result = drive_pack(
        POLICY_DIR, references_by_name(), policy_config={AUTOFIX: autofix}, project="net", stack="byname"
    )
    subnet = Stack(stack="byname").urn(T.SUBNET, "app")
    ours = {f for f in found(result) if f[0] != AUTOFIX}
    assert ours == {(UNVERIFIED, "advisory", subnet)}
    [message] = messages(result, UNVERIFIED)
    assert message.startswith("Subnet app (westeurope, public cloud): ")
    assert "third-party appliance [secret]" in message and "10.0.100.11" not in message


# --- one violation per subnet or route table ---------------------------------------------------------


def test_one_violation_per_subnet_and_per_unattached_table(pack: PackProcess) -> None:
    st = Stack()
    rt = T.route_table(st, [T.default_route("VirtualNetworkGateway")])
    T.spoke(
        st,
        subnet={"routeTable": {"id": UNKNOWN}},
        deps=[rt.urn],
        extra_subnets=[
            {"name": "data", "addressPrefix": "10.1.1.0/24", "routeTable": {"id": UNKNOWN}},
            {"name": "GatewaySubnet", "addressPrefix": "10.1.255.0/27"},
        ],
    )
    lonely = T.route_table(st, [T.default_route("None")], name="rt-lonely")
    result = preview(pack, st.resources, NO_AUTOFIX)
    assert sorted((v.policy, v.level, v.urn) for v in result.violations) == sorted(
        [
            (REACHABILITY, "mandatory", SPOKE),
            (REACHABILITY, "mandatory", SPOKE),
            (REACHABILITY, "mandatory", lonely.urn),
        ]
    )
    firsts = sorted(m.split(":", 1)[0] for m in messages(result, REACHABILITY))
    assert firsts == ["Subnet rt-lonely (not attached in this stack) (westeurope, public cloud)", "Subnet spoke/app (westeurope, public cloud)", "Subnet spoke/data (westeurope, public cloud)"]  # fmt: skip


def test_standalone_subnet_violation_is_on_the_subnet(pack: PackProcess) -> None:
    result = preview(pack, T.nsg_deny_internet_with_forced_tunnel().resources)
    [violation] = result.violations
    assert violation.urn == Stack().urn(T.SUBNET, "app")
    assert violation.message.split("\n")[1].startswith("Subnet app (westeurope, public cloud): ")


# --- the pack directory ---------------------------------------------------------------------------------


def test_pack_directory_works_from_a_clean_checkout() -> None:
    # `pulumi preview --policy-pack policy` runs policy/__main__.py with ../.venv/bin/python: the venv that
    # `make test` / `make demo` create at the repo root and install the project (with pulumi-policy) into;
    # `pulumi install` in policy/ installs requirements.txt (the project itself) into it too.
    doc = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert doc["runtime"]["name"] == "python"
    venv = (POLICY_DIR / doc["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == REPO / ".venv"
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "VENV := .venv" in makefile and "pip install --quiet -e '.[test]'" in makefile
    assert (POLICY_DIR / "requirements.txt").read_text(encoding="utf-8").split("\n")[-2:] == ["-e ..", ""]
    assert re.search(r'"pulumi-policy==[0-9.]+"', (REPO / "pyproject.toml").read_text(encoding="utf-8"))
    main = (POLICY_DIR / "__main__.py").read_text(encoding="utf-8")
    assert "print(" not in main  # the first stdout line must be the port (§1.2)
    assert doc["version"] == "0.1.0"
    # .gitignore must not hide the pack's files.
    tracked = subprocess.run(
        ["git", "ls-files", "policy"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked == ["policy/PulumiPolicy.yaml", "policy/__main__.py", "policy/requirements.txt"]


def test_pack_started_like_the_cli_has_no_stdout_noise(pack: PackProcess) -> None:
    preview(pack, T.vpn_default_site().resources)
    assert pack.stdout == ""
    assert 1 <= pack.port <= 65535 and pack.startup_seconds > 0


def test_malformed_resource_is_a_clear_report_never_a_crash(pack: PackProcess) -> None:
    # A property of the wrong type: the problem names the resource and the property; the rest of the
    # stack is still analysed.
    weird = PackResource(T.VNET, Stack().urn(T.VNET, "weird"), "weird", {"subnets": "not-a-list"})
    result = preview(pack, [*T.vpn_default_site().resources, weird])
    assert found(result) == {
        (REACHABILITY, "mandatory", Stack().urn(T.VNET, "hub")),
        (UNVERIFIED, "advisory", weird.urn),
    }
    assert messages(result, UNVERIFIED) == [
        "weird: subnets: expected a list, got a string\nDocs: docs/findings.md#kms-invalid-input (KMS-INVALID-INPUT)"
    ]


def test_an_internal_error_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Any exception inside the analysis becomes a violation at the policy's level: the mandatory gate
    # still fails the preview, and no exception reaches the SDK (which would fail it as a gRPC error).
    monkeypatch.setenv("PYTHONPATH", str(HOOKS))
    monkeypatch.setenv("KMSGUARD_TEST_ANALYSIS_ERROR", "boom")
    result = drive_pack(
        POLICY_DIR, T.baseline().resources, policy_config=NO_AUTOFIX, project="net", stack="dev"
    )
    assert found(result) == {(REACHABILITY, "mandatory", ""), (UNVERIFIED, "advisory", "")}
    assert messages(result, REACHABILITY) == [
        "kmsguard internal error in kms-reachability (the stack was not verified): RuntimeError: boom\n"
        "Docs: docs/findings.md#kms-not-evaluated (KMS-NOT-EVALUATED)"
    ]
    assert result.preview_fails is True
