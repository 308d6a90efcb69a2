"""The program runner: real azure-native programs run offline as a preview (tests/programs/*).

Each program runs once per module (a run is a subprocess importing the azure-native SDK); the tests
then assert exactly what the engine would have recorded: URNs, parents, dependencies, property
dependencies, inputs after Check, preview outputs and where each resource was declared.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from kmsguard.engine import UNKNOWN, ProgramError, ProgramRun, Secret, drive_pack, run_program
from kmsguard.engine.project import SECRET_PLACEHOLDER, load_project, load_stack_config
from kmsguard.errors import KmsguardError
from kmsguard.provider import azure_native as shapes

PROGRAMS = Path(__file__).resolve().parents[1] / "programs"
PACK = Path(__file__).resolve().parents[2] / "policy"
PROVIDER = "pulumi:providers:azure-native"


def urn(stack: str, project: str, qualified_type: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{project}::{qualified_type}::{name}"


class Autoname:
    """Equal to a name Check draws for a top-level resource: the logical name and 8 hex characters from
    the engine's random seed (a real engine's differ every preview, so only the form is asserted)."""

    def __init__(self, logical_name: str) -> None:
        self.pattern = re.compile(re.escape(logical_name) + "[0-9a-f]{8}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.pattern.fullmatch(other) is not None

    def __hash__(self) -> int:
        return hash(self.pattern.pattern)

    def __repr__(self) -> str:
        return f"Autoname({self.pattern.pattern!r})"


@pytest.fixture(scope="module")
def routes() -> ProgramRun:
    return run_program(PROGRAMS / "standalone_routes", "dev")


@pytest.fixture(scope="module")
def component() -> ProgramRun:
    return run_program(PROGRAMS / "component", "prod")


@pytest.fixture(scope="module")
def configured() -> ProgramRun:
    return run_program(PROGRAMS / "config", "test")


@pytest.fixture(scope="module")
def flow() -> ProgramRun:
    return run_program(PROGRAMS / "outputs_flow", "dev")


@pytest.fixture(scope="module")
def transforms() -> ProgramRun:
    return run_program(PROGRAMS / "resource_transforms", "dev")


# -- standalone routes: unknowns and the property dependencies that resolve them --------------------


R = "urn:pulumi:dev::routes::"


def test_registration_order_root_stack_default_provider_then_program(routes: ProgramRun) -> None:
    assert [(r.type, r.name) for r in routes.registrations] == [
        ("pulumi:pulumi:Stack", "routes-dev"),
        (PROVIDER, "default_3_29_0"),
        ("azure-native:resources:ResourceGroup", "rg"),
        ("azure-native:network:VirtualNetwork", "hub"),
        ("azure-native:network:PublicIPAddress", "fw-ip"),
        ("azure-native:network:RouteTable", "rt-spoke"),
        ("azure-native:network:Subnet", "fw-subnet"),
        ("azure-native:network:AzureFirewall", "fw"),
        ("azure-native:network:Route", "default-via-fw"),
    ]
    stack, provider = routes.registrations[:2]
    assert stack.urn == R + "pulumi:pulumi:Stack::routes-dev"
    assert (stack.parent, stack.custom, stack.inputs, stack.outputs) == ("", False, {}, {})
    assert provider.urn == R + f"{PROVIDER}::default_3_29_0"
    assert provider.inputs == {"location": "westeurope", "version": "3.29.0"}
    assert (provider.parent, provider.provider, provider.custom) == ("", "", True)


def test_route_table_name_and_firewall_ip_are_unknown_and_resolvable(routes: ProgramRun) -> None:
    route = routes.get("default-via-fw")
    assert route.urn == R + "azure-native:network:Route::default-via-fw"
    assert route.inputs == {
        "resourceGroupName": UNKNOWN,  # ResourceGroup.name is an output: unknown in a preview
        "routeTableName": UNKNOWN,  # the table's autoname
        "routeName": "default-via-fw",  # Check names a child after its logical name (copy rule)
        "addressPrefix": "0.0.0.0/0",
        "nextHopType": "VirtualAppliance",
        "nextHopIpAddress": UNKNOWN,  # the firewall's private IP, assigned by Azure
        "azureApiVersion": "2024-05-01",
    }
    assert route.property_dependencies == {
        "nextHopIpAddress": (R + "azure-native:network:AzureFirewall::fw",),
        "resourceGroupName": (R + "azure-native:resources:ResourceGroup::rg",),
        "routeTableName": (R + "azure-native:network:RouteTable::rt-spoke",),
    }
    assert route.dependencies == (
        R + "azure-native:network:AzureFirewall::fw",
        R + "azure-native:network:RouteTable::rt-spoke",
        R + "azure-native:resources:ResourceGroup::rg",
    )
    assert route.parent == R + "pulumi:pulumi:Stack::routes-dev"
    assert route.provider == R + f"{PROVIDER}::default_3_29_0::" + UNKNOWN.sentinel
    assert route.source == ("__main__.py", 43)
    # Path parameters are not outputs; everything the provider computes is unknown.
    assert route.outputs == {
        "addressPrefix": "0.0.0.0/0",
        "azureApiVersion": "2024-05-01",
        "etag": UNKNOWN,
        "hasBgpOverride": UNKNOWN,
        "id": UNKNOWN,
        "name": UNKNOWN,
        "nextHopIpAddress": UNKNOWN,
        "nextHopType": "VirtualAppliance",
        "provisioningState": UNKNOWN,
        "type": UNKNOWN,
    }


def test_firewall_private_ip_is_an_unknown_nested_output(routes: ProgramRun) -> None:
    fw = routes.get("fw")
    assert fw.inputs["azureFirewallName"] == Autoname("fw")  # a top-level resource: random suffix
    assert fw.inputs["location"] == "westeurope"  # from the provider config azure-native:location
    assert fw.inputs["ipConfigurations"] == [
        {"name": "ipconfig", "publicIPAddress": {"id": UNKNOWN}, "subnet": {"id": UNKNOWN}}
    ]
    assert fw.property_dependencies["ipConfigurations"] == (
        R + "azure-native:network:PublicIPAddress::fw-ip",
        R + "azure-native:network:Subnet::fw-subnet",
    )
    assert fw.outputs["ipConfigurations"] == [
        {
            "etag": UNKNOWN,
            "id": UNKNOWN,
            "name": "ipconfig",
            "privateIPAddress": UNKNOWN,
            "provisioningState": UNKNOWN,
            "publicIPAddress": {"id": UNKNOWN},
            "subnet": {"id": UNKNOWN},
            "type": UNKNOWN,
        }
    ]
    assert fw.outputs["sku"] == {"name": "AZFW_VNet", "tier": "Standard"}


def test_route_table_outputs_are_the_preview_projection(routes: ProgramRun) -> None:
    rt = routes.get("rt-spoke")
    assert rt.inputs == {
        "resourceGroupName": UNKNOWN,
        "routeTableName": Autoname("rt-spoke"),
        "__createBeforeDelete": True,  # a random name lets a replacement be created first
        "location": "westeurope",
        "azureApiVersion": "2024-05-01",
    }
    assert rt.outputs == {
        "azureApiVersion": "2024-05-01",
        "disableBgpRoutePropagation": UNKNOWN,
        "etag": UNKNOWN,
        "id": UNKNOWN,
        "location": "westeurope",
        "name": UNKNOWN,
        "provisioningState": UNKNOWN,
        "resourceGuid": UNKNOWN,
        "routes": UNKNOWN,
        "subnets": UNKNOWN,
        "tags": UNKNOWN,
        "type": UNKNOWN,
    }


def test_sdk_defaults_and_given_names_are_kept(routes: ProgramRun) -> None:
    subnet = routes.get("fw-subnet")
    assert subnet.inputs["subnetName"] == "AzureFirewallSubnet"
    assert subnet.inputs["privateEndpointNetworkPolicies"] == "Disabled"
    assert subnet.inputs["privateLinkServiceNetworkPolicies"] == "Enabled"
    assert "location" not in subnet.inputs  # a Subnet has no location
    assert subnet.outputs["addressPrefix"] == "10.0.0.0/26"
    assert "virtualNetworkName" not in subnet.outputs
    rg = routes.get("rg")
    assert rg.inputs == {
        "resourceGroupName": "rg-net",
        "location": "westeurope",
        "azureApiVersion": "2024-03-01",
    }


def test_runs_are_deterministic(routes: ProgramRun) -> None:
    again = run_program(PROGRAMS / "standalone_routes", "dev")
    assert again.registrations == routes.registrations


def test_pack_resources_carry_provider_inputs(routes: ProgramRun) -> None:
    resources = routes.pack_resources()
    assert [r.urn for r in resources] == [r.urn for r in routes.registrations]
    route = resources[-1]
    assert route.provider_urn == R + f"{PROVIDER}::default_3_29_0"
    assert route.provider_inputs == {"location": "westeurope", "version": "3.29.0"}
    assert route.outputs == routes.get("default-via-fw").outputs
    assert resources[0].provider_urn == ""


def test_blocked_program_end_to_end_through_the_real_pack(routes: ProgramRun) -> None:
    result = drive_pack(PACK, routes.pack_resources(), project=routes.project, stack=routes.stack)
    assert [(v.policy, v.level, v.urn) for v in result.violations] == [
        ("kms-reachability", "mandatory", R + "azure-native:network:RouteTable::rt-spoke")
    ]
    lines = result.violations[0].message.splitlines()
    assert lines[:4] == [
        "Every subnet must reach every Azure KMS endpoint of its cloud on TCP 1688 from an Azure public IP.",
        "Subnet rt-spoke (not attached in this stack) (westeurope, public cloud): Windows cannot activate. "
        "KMS TCP 1688 is blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with "
        "0xC004F074 (no Key Management Service could be contacted).",
        "Blocked by:",
        "- Azure Firewall fw: no network rule allows TCP 1688 to 20.118.99.224, so the default deny drops it (docs/rules.md#firewall-default-deny)",
    ]
    assert (
        "1. firewall fw: add a network rule collection kms-activation (Allow, priority 100) with rule "
        "allow-kms: TCP 1688 from * to 20.118.99.224, 23.102.135.246, 40.83.235.53"
    ) in lines
    assert result.remediations == ()  # standalone Route children are never touched
    assert result.preview_fails


# -- components ----------------------------------------------------------------------------------


C = "urn:pulumi:prod::spokes::"


def test_component_children_carry_the_parent_type_chain(component: ProgramRun) -> None:
    spoke = component.get("spoke1", "net:index:Spoke")
    routing = component.get("spoke1", "net:index:SpokeRouting")
    table = component.get("spoke1-rt")
    vnet = component.get("spoke1", "azure-native:network:VirtualNetwork")
    assert spoke.urn == C + "net:index:Spoke::spoke1"
    assert routing.urn == C + "net:index:Spoke$net:index:SpokeRouting::spoke1"
    assert (
        table.urn == C + "net:index:Spoke$net:index:SpokeRouting$azure-native:network:RouteTable::spoke1-rt"
    )
    assert vnet.urn == C + "net:index:Spoke$azure-native:network:VirtualNetwork::spoke1"
    assert (spoke.parent, routing.parent, table.parent, vnet.parent) == (
        C + "pulumi:pulumi:Stack::spokes-prod",
        spoke.urn,
        routing.urn,
        spoke.urn,
    )
    assert (spoke.custom, spoke.inputs, spoke.provider) == (False, {}, "")
    assert (spoke.source, routing.source, table.source, vnet.source) == (
        ("__main__.py", 5),
        ("spoke.py", 31),
        ("spoke.py", 12),
        ("spoke.py", 32),
    )


def test_inline_route_table_reference_is_unknown_with_its_dependency(component: ProgramRun) -> None:
    vnet = component.get("spoke2", "azure-native:network:VirtualNetwork")
    table_urn = C + "net:index:Spoke$net:index:SpokeRouting$azure-native:network:RouteTable::spoke2-rt"
    assert vnet.inputs["subnets"] == [
        {"name": "app", "addressPrefix": "10.2.0.0/24", "routeTable": {"id": UNKNOWN}}
    ]
    assert vnet.property_dependencies == {"subnets": (table_urn,)}
    assert vnet.inputs["location"] == "northeurope"
    subnet_out = vnet.outputs["subnets"][0]
    assert subnet_out["routeTable"]["id"] == UNKNOWN
    assert subnet_out["routeTable"]["routes"] == UNKNOWN
    assert subnet_out["addressPrefix"] == "10.2.0.0/24"
    assert subnet_out["id"] == UNKNOWN
    table = component.get("spoke2-rt")
    assert table.outputs["routes"][0]["nextHopIpAddress"] == "10.0.0.4"


def test_component_outputs_are_what_it_registered(component: ProgramRun) -> None:
    assert component.get("spoke1", "net:index:SpokeRouting").outputs == {"routeTableId": UNKNOWN}
    assert component.get("spoke1", "net:index:Spoke").outputs == {}


# -- config ----------------------------------------------------------------------------------------


def test_stack_config_reading() -> None:
    project = load_project(PROGRAMS / "config")
    assert project.name == "configured"
    assert project.main == PROGRAMS / "config" / "src"
    assert project.stack_config_dir == PROGRAMS / "config" / "stacks"
    config = load_stack_config(project, "test")
    assert dict(config.values) == {
        "azure-native:location": "swedencentral",
        "configured:prefix": "10.9.0.0/16",
        "configured:subnetCount": "2",
        "configured:dnsServers": '["10.9.0.4","10.9.0.5"]',
        "configured:tags": '{"team":"network"}',
        "configured:owner": "platform",
        "configured:sharedKey": SECRET_PLACEHOLDER,
    }
    assert config.secret_keys == ("configured:sharedKey",)
    assert load_stack_config(project, "empty").values == {}


def test_program_reads_config_and_secure_value_is_a_secret(configured: ProgramRun) -> None:
    vnet = configured.get("vnet")
    assert vnet.inputs["subnets"] == [
        {"name": "s0", "addressPrefix": "10.9.0.0/24"},
        {"name": "s1", "addressPrefix": "10.9.1.0/24"},
    ]
    assert vnet.inputs["dhcpOptions"] == {"dnsServers": ["10.9.0.4", "10.9.0.5"]}
    assert vnet.inputs["tags"] == {"team": "network", "owner": "platform"}
    assert vnet.inputs["location"] == "swedencentral"
    assert vnet.source == ("src/__main__.py", 13)
    gateway = configured.get("onprem")
    assert gateway.inputs["tags"] == {"key": Secret(SECRET_PLACEHOLDER)}
    # The engine marks an output secret when the same-named input was.
    assert gateway.outputs["tags"] == Secret({"key": SECRET_PLACEHOLDER})


def test_config_argument_overrides_the_stack_file() -> None:
    run = run_program(
        PROGRAMS / "config", "test", config={"subnetCount": "1", "azure-native:location": "eastus"}
    )
    vnet = run.get("vnet")
    assert vnet.inputs["subnets"] == [{"name": "s0", "addressPrefix": "10.9.0.0/24"}]
    assert vnet.inputs["location"] == "eastus"


# -- apply, Output.all, depends_on -------------------------------------------------------------------


F = "urn:pulumi:dev::flow::"


def test_apply_and_output_all_flow_as_known_or_unknown(flow: ProgramRun) -> None:
    rule = flow.get("allow-kms")
    nsg, vnet = (
        F + "azure-native:network:NetworkSecurityGroup::nsg",
        F + "azure-native:network:VirtualNetwork::vnet",
    )
    assert rule.inputs["description"] == UNKNOWN  # Output.all over the NSG's Azure name
    assert rule.inputs["networkSecurityGroupName"] == UNKNOWN
    assert rule.inputs["priority"] == 100.0
    assert rule.property_dependencies == {
        "description": (nsg, vnet),
        "networkSecurityGroupName": (nsg,),
        "sourceAddressPrefix": (vnet,),
    }
    assert rule.dependencies == (nsg, vnet)  # depends_on=[vnet] is among them
    assert rule.outputs["description"] == UNKNOWN
    assert "networkSecurityGroupName" not in rule.outputs


def test_echoed_input_is_known_through_apply(flow: ProgramRun) -> None:
    # vnet.address_space is an input echoed by PreviewOutputs, so the apply runs in a preview...
    vnet = flow.get("vnet")
    assert vnet.outputs["addressSpace"] == {
        "addressPrefixes": ["10.4.0.0/16"],
        "ipamPoolPrefixAllocations": UNKNOWN,
    }
    # ...but the SDK treats a value with any unknown inside as unknown, so the apply does not run.
    assert flow.get("allow-kms").inputs["sourceAddressPrefix"] == UNKNOWN


def test_exports_are_the_root_stack_outputs(flow: ProgramRun) -> None:
    stack = flow.registrations[0]
    assert (stack.type, stack.inputs, stack.outputs) == ("pulumi:pulumi:Stack", {}, {"rule": UNKNOWN})


def test_depends_on_alone_adds_a_dependency_without_property_dependency(flow: ProgramRun) -> None:
    rule = flow.get("allow-kms")
    assert F + "azure-native:network:VirtualNetwork::vnet" in rule.dependencies


# -- transformations and transforms ----------------------------------------------------------------


def test_legacy_transformations_run_in_the_sdk() -> None:
    run = run_program(PROGRAMS / "legacy_transformations", "dev")
    table = run.get("rt")
    assert table.inputs["tags"] == {"managed-by": "legacy"}
    assert table.outputs["tags"] == {"managed-by": "legacy"}
    route = run.get("kms")
    assert route.inputs == {
        "resourceGroupName": "rg-legacy",
        "routeTableName": UNKNOWN,
        "routeName": "kms",  # a child resource: its logical name
        "addressPrefix": "20.118.99.224/32",
        "nextHopType": "Internet",
        "azureApiVersion": "2024-05-01",
    }
    assert route.property_dependencies == {
        "routeTableName": ("urn:pulumi:dev::legacy::azure-native:network:RouteTable::rt",)
    }


T = "urn:pulumi:dev::transforms::"
KMS = {"name": "kms-1", "addressPrefix": "20.118.99.224/32", "nextHopType": "Internet"}


def test_stack_transforms_apply_only_to_later_resources(transforms: ProgramRun) -> None:
    before = transforms.get("before")
    assert "routes" not in before.inputs and "tags" not in before.inputs
    assert before.outputs["routes"] == UNKNOWN


def test_stack_transforms_run_in_order_and_keep_property_dependencies(transforms: ProgramRun) -> None:
    later = transforms.get("later")
    assert later.inputs["routes"] == [
        {
            "name": "default",
            "addressPrefix": "0.0.0.0/0",
            "nextHopType": "VirtualAppliance",
            "nextHopIpAddress": UNKNOWN,
        },
        KMS,
    ]
    # count_routes saw add_kms_route's result.
    assert later.inputs["tags"] == {"routes": "2"}
    # Without transforms of its own, the engine keeps the property dependencies the SDK sent.
    assert later.property_dependencies["routes"] == (T + "azure-native:network:NetworkInterface::nva-nic",)
    assert later.dependencies == (T + "azure-native:network:NetworkInterface::nva-nic",)
    assert later.outputs["routes"][1]["name"] == "kms-1"
    assert later.outputs["routes"][0]["nextHopIpAddress"] == UNKNOWN


def test_a_resource_with_own_transforms_gives_every_transform_outputs(transforms: ProgramRun) -> None:
    """source_eval.go ``upgradeOutputValues``: ``routes`` (which depends on the NIC) reaches leave_alone
    (its own, run first) and the stack transforms as an Output; with the NIC's address unknown, the whole
    list is unknown in a preview, and so is the count that count_routes derives from it."""
    after = transforms.get("after")
    assert after.inputs["routes"] == UNKNOWN
    assert after.inputs["tags"] == {"routes": UNKNOWN}
    # The property dependencies are rebuilt from the output values left after the transforms, and the
    # SDK serializes a transform's result without them: none. The dependencies are the transformed
    # options' dependsOn, which kept the NIC.
    assert after.property_dependencies == {}
    assert after.dependencies == (T + "azure-native:network:NetworkInterface::nva-nic",)
    assert after.outputs["routes"] == UNKNOWN


def test_parent_transforms_run_before_stack_transforms(transforms: ProgramRun) -> None:
    table = transforms.get("hub-rt")
    assert table.urn == T + "net:index:Hub$azure-native:network:RouteTable::hub-rt"
    assert table.inputs["disableBgpRoutePropagation"] is True
    assert table.inputs["routes"] == [KMS]
    assert table.inputs["tags"] == {"bgp": "off", "routes": "1"}
    assert table.outputs["disableBgpRoutePropagation"] is True
    nic = transforms.get("nva-nic")
    assert "routes" not in nic.inputs and "tags" not in nic.inputs  # transforms return None for it


# -- child resource names -----------------------------------------------------------------------------


def test_check_names_an_unnamed_child_after_its_logical_name() -> None:
    """azure-native's Check (``getDefaultName``, copy rule) names a child resource whose name path
    parameter is unset after its logical name, with no random suffix: the stand-in passes the logical name
    as the engine does (CheckRequest.urn/name), so a standalone Subnet("GatewaySubnet") is GatewaySubnet."""
    run = run_program(PROGRAMS / "special_subnets", "dev")
    assert run.get("GatewaySubnet").inputs["subnetName"] == "GatewaySubnet"
    assert "__createBeforeDelete" not in run.get("GatewaySubnet").inputs
    assert run.get("fw-mgmt").inputs["subnetName"] == "AzureFirewallManagementSubnet"  # given: kept
    assert run.get("edge").inputs["virtualNetworkName"] == Autoname("edge")  # top-level: random suffix


def test_special_purpose_subnets_are_excluded_however_they_are_named() -> None:
    from kmsguard.analysis.verdict import Verdict
    from kmsguard.evaluate import evaluate_program

    run = run_program(PROGRAMS / "special_subnets", "dev")
    evaluation = evaluate_program(run, pack_dir=PACK)
    verdicts = {s.name: s.verdict for s in evaluation.result.subnets}
    assert verdicts == {
        "hub/AzureBastionSubnet": Verdict.EXCLUDED,  # inline in the VNet
        "hub/app": Verdict.REACHABLE,
        "GatewaySubnet": Verdict.EXCLUDED,  # standalone, named by Check after its logical name
        "RouteServerSubnet": Verdict.EXCLUDED,
        "fw-mgmt": Verdict.EXCLUDED,  # standalone, subnet_name="AzureFirewallManagementSubnet"
        "workload": Verdict.REACHABLE,
    }


# -- failures --------------------------------------------------------------------------------------


def test_program_exception_is_a_program_error_with_its_own_traceback() -> None:
    with pytest.raises(ProgramError) as caught:
        run_program(PROGRAMS / "raises", "dev")
    error = caught.value
    assert error.exit_code == 2
    assert str(error) == (
        f"the Pulumi program {PROGRAMS / 'raises'} failed: "
        "ValueError: '10.300.0.0/16' does not appear to be an IPv4 or IPv6 network"
    )
    tb = error.traceback
    assert tb.startswith("Traceback (most recent call last):\n")
    assert f'File "{PROGRAMS / "raises" / "__main__.py"}", line 10, in <module>' in tb
    assert f'File "{PROGRAMS / "raises" / "layout.py"}", line 7, in spoke_prefix' in tb
    assert tb.rstrip().endswith("ValueError: '10.300.0.0/16' does not appear to be an IPv4 or IPv6 network")
    for runner_frame in ("kmsguard/engine", "runpy", "pulumi/runtime"):
        assert runner_frame not in tb


def test_a_program_that_hangs_times_out() -> None:
    with pytest.raises(
        KmsguardError, match=r"^the Pulumi program of project 'hangs' did not finish within 4 s"
    ):
        run_program(PROGRAMS / "hangs", "dev", timeout=4)


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(KmsguardError, match=r"Pulumi\.yaml: no Pulumi project file \(Pulumi\.yaml\) here"):
        run_program(tmp_path, "dev")


def test_a_stack_without_a_stack_file_runs_with_empty_config() -> None:
    # LoadProjectStack (sdk/go/common/workspace/loaders.go): a missing Pulumi.<stack>.yaml is empty config.
    run = run_program(PROGRAMS / "standalone_routes", "staging")
    assert run.stack == "staging"
    assert run.get("rt-spoke").urn == "urn:pulumi:staging::routes::azure-native:network:RouteTable::rt-spoke"


def test_missing_main(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nmain: app/\n")
    with pytest.raises(KmsguardError, match=r"main: 'app/' does not exist"):
        run_program(tmp_path, "dev")
    (tmp_path / "app").mkdir()
    with pytest.raises(KmsguardError, match=r"main: .*app has no __main__\.py"):
        run_program(tmp_path, "dev")


def test_other_runtimes_and_bad_project_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: nodejs\n")
    with pytest.raises(KmsguardError, match=r"runtime: 'nodejs' is not supported"):
        run_program(tmp_path, "dev")
    (tmp_path / "Pulumi.yaml").write_text("runtime: python\n")
    with pytest.raises(KmsguardError, match=r"name: missing or not a string"):
        run_program(tmp_path, "dev")
    (tmp_path / "Pulumi.yaml").write_text("name: [unclosed\n")
    with pytest.raises(KmsguardError, match=r"is not valid YAML"):
        run_program(tmp_path, "dev")


def test_interpreter_choice(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        f"name: p\nruntime:\n  name: python\n  options:\n    virtualenv: {sys.prefix}\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("import sys\nprint(sys.executable)\n")
    run = run_program(tmp_path, "dev")
    assert run.stdout.strip() == str(Path(sys.prefix) / "bin" / "python")
    assert [r.type for r in run.registrations] == ["pulumi:pulumi:Stack"]
    with pytest.raises(KmsguardError, match=r"cannot start the program's interpreter /nonexistent/python"):
        run_program(tmp_path, "dev", python="/nonexistent/python")
    bare = tmp_path / "bare-python"  # an interpreter without the program's packages
    bare.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    bare.chmod(0o755)
    with pytest.raises(
        KmsguardError, match=r"^the interpreter .* cannot import pulumi \(No module named 'pulumi'\)"
    ):
        run_program(tmp_path, "dev", python=str(bare))
    (tmp_path / "Pulumi.yaml").write_text(
        f"name: p\nruntime:\n  name: python\n  options:\n    virtualenv: {tmp_path}\n"
    )
    # pip.go NewVirtualEnvError: the host would create it; offline it is an error naming it.
    with pytest.raises(
        KmsguardError, match=r"The 'virtualenv' option in Pulumi\.yaml is set to .*doesn't appear"
    ):
        run_program(tmp_path, "dev")


# -- PreviewOutputs rules (previewOutputs.go), directly ----------------------------------------------


def test_projection_rules() -> None:
    from pulumi_azure_native import network

    u = shapes.UNKNOWN
    group = shapes.preview_outputs(
        network.FirewallPolicyRuleCollectionGroup,
        {
            "priority": 100.0,
            "ruleCollections": [{"ruleCollectionType": "FirewallPolicyFilterRuleCollection"}],
        },
    )
    # A union (oneOf) keeps the input as given; a number stays a number.
    assert group["ruleCollections"] == [{"ruleCollectionType": "FirewallPolicyFilterRuleCollection"}]
    assert group["priority"] == 100.0
    route = shapes.preview_outputs(
        network.Route, {"addressPrefix": 10, "nextHopType": u, "routeTableName": "rt"}
    )
    assert route["addressPrefix"] == u  # a value of the wrong type is computed
    assert route["nextHopType"] == u
    assert "routeTableName" not in route
    secret = {shapes.SIG_KEY: shapes.SECRET_SIG, "value": "x"}
    table = shapes.preview_outputs(network.RouteTable, {"tags": {"k": secret}})
    assert table["tags"] == {shapes.SIG_KEY: shapes.SECRET_SIG, "value": {"k": "x"}}


def test_derived_shapes_cover_the_hand_table_of_the_collector_tests() -> None:
    """Every output property the collector's test helper models exists in the SDK-derived shapes."""
    import importlib

    from collect.preview import ANY, SHAPES

    def missing(table: object, shape: shapes.Shape, path: str) -> list[str]:
        if table is None or table is ANY:
            return []
        if isinstance(table, list):
            assert shape.kind == "array" and shape.item is not None, path
            return missing(table[0], shape.item, f"{path}[]")
        assert isinstance(table, dict) and shape.kind == "object" and shape.cls is not None, path
        props = shapes.object_properties(shape.cls)
        out = [f"{path}.{k}" for k in table if k not in props]
        for k, sub in table.items():
            if k in props:
                out += missing(sub, props[k], f"{path}.{k}")
        return out

    gaps: list[str] = []
    for token, table in SHAPES.items():
        _, module, name = token.split(":")
        cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
        props = shapes.resource_properties(cls)
        gaps += [f"{token}.{k}" for k in table if k not in props]
        gaps += [g for k, sub in table.items() if k in props for g in missing(sub, props[k], f"{token}.{k}")]
    # The one difference: a gateway's IP configuration has no `type` in the SDK's response type.
    assert gaps == ["azure-native:network:VirtualNetworkGateway.ipConfigurations[].type"]


def test_twenty_resource_program() -> None:
    run = run_program(PROGRAMS / "twenty", "dev")
    assert len(run.registrations) == 22  # root stack, default provider, 20 resources
    subnets = [r for r in run.registrations if r.type == "azure-native:network:Subnet" and r.name != "hub-fw"]
    assert [s.property_dependencies["routeTable"] for s in subnets] == [
        (f"urn:pulumi:dev::twenty::azure-native:network:RouteTable::spoke{i}-rt",) for i in (1, 2, 3)
    ]
    assert all(s.inputs["routeTable"] == {"id": UNKNOWN} for s in subnets)
    assert set(run.timings) == {
        "interpreter_start",
        "import_pulumi",
        "import_azure_native",
        "program",
        "transforms",
        "total",
    }


def test_a_failing_transform_is_the_program_error_of_that_resource(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "import pulumi_azure_native as azure\n"
        "\n"
        "def needs_routes(args):\n"
        "    return pulumi.ResourceTransformResult(props={**args.props, 'n': len(args.props['routes'])}, opts=args.opts)\n"
        "\n"
        "pulumi.runtime.register_resource_transform(needs_routes)\n"
        "azure.network.RouteTable('rt', resource_group_name='rg')\n"
    )
    with pytest.raises(ProgramError) as caught:
        run_program(tmp_path, "dev")
    assert str(caught.value) == (
        f"the Pulumi program {tmp_path} failed: transform needs_routes failed on "
        "azure-native:network:RouteTable 'rt': KeyError: 'routes'"
    )
    assert f'File "{tmp_path / "__main__.py"}", line 5, in needs_routes' in caught.value.traceback


def test_sys_exit_zero_ends_the_program_normally(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import sys\nimport pulumi_azure_native as azure\n"
        "azure.network.RouteTable('rt', resource_group_name='rg')\nsys.exit(0)\n"
    )
    assert [r.name for r in run_program(tmp_path, "dev").registrations] == ["p-dev", "default_3_29_0", "rt"]
    (tmp_path / "__main__.py").write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(ProgramError, match=r"failed: SystemExit: 3$"):
        run_program(tmp_path, "dev")


def test_invokes_are_unknown_offline(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    main = (
        "import pulumi_azure_native as azure\n"
        "client = azure.authorization.get_client_config_output()\n"
        "azure.network.RouteTable('rt', resource_group_name='rg', tags={'sub': client.subscription_id})\n"
    )
    (tmp_path / "__main__.py").write_text(main)
    rt = run_program(tmp_path, "dev").get("rt")
    # Nothing is known offline: the answer is the empty map, as the real engine passes on from the offline
    # provider (it rejects unknowns in a provider's invoke return), so the result's fields are None.
    assert rt.inputs["tags"] == {"sub": None}
    (tmp_path / "__main__.py").write_text(main + "azure.authorization.get_client_config()\n")
    run = run_program(tmp_path, "dev")  # a plain invoke no longer ends the run
    assert run.get("rt").inputs["tags"] == {"sub": None}


def test_an_empty_invoke_result_in_a_required_input_fails_check_as_on_the_engine(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_azure_native as azure\n"
        "rg = azure.resources.get_resource_group_output(resource_group_name='rg')\n"
        "azure.network.RouteTable('rt', resource_group_name=rg.name)\n"
    )
    # The SDK's constructor sees an Output, not None; the provider's Check reports the missing path
    # parameter and the engine fails the preview (issueCheckFailures), with the file and line.
    with pytest.raises(KmsguardError) as failed:
        run_program(tmp_path, "dev")
    assert str(failed.value).endswith(
        "failed: azure-native:network:RouteTable resource 'rt' has a problem: missing required property "
        "'resourceGroupName' (__main__.py, line 3)\n(an offline preview cannot ask Azure: these invokes "
        "returned no data, every field None: azure-native:resources:getResourceGroup; give the program "
        "those values from its config)"
    )


def test_main_may_name_a_file(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nmain: infra/app.py\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  p:rg: rg-file\n")
    (tmp_path / "infra" / "names.py").write_text("TABLE = 'rt'\n")
    (tmp_path / "infra" / "app.py").write_text(
        "import os\nimport pulumi\nimport pulumi_azure_native as azure\nfrom names import TABLE\n"
        "print(os.getcwd())\n"
        "azure.network.RouteTable(TABLE, resource_group_name=pulumi.Config().require('rg'))\n"
    )
    run = run_program(tmp_path, "dev")
    assert run.stdout.strip() == str(tmp_path / "infra")  # the program runs in its own directory
    table = run.get("rt")
    assert table.inputs["resourceGroupName"] == "rg-file"
    assert table.source == ("infra/app.py", 6)


def test_a_generic_custom_resource_gets_the_shapes_its_token_names(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "pulumi.CustomResource('azure-native:network:Route', 'r', {'routeTableName': 'rt', "
        "'resourceGroupName': 'rg', 'addressPrefix': '0.0.0.0/0', 'nextHopType': 'Internet'})\n"
        "pulumi.CustomResource('other:index:Thing', 't', {'size': 3})\n"
    )
    run = run_program(tmp_path, "dev")
    route = run.get("r")
    assert route.inputs["routeName"] == "r"  # Check's copy rule needs only the logical name
    assert route.outputs["nextHopType"] == "Internet"
    assert "routeTableName" not in route.outputs
    assert route.provider == "urn:pulumi:dev::p::pulumi:providers:azure-native::default::" + UNKNOWN.sentinel
    thing = run.get("t")  # a provider the runner does not model: outputs echo inputs, id unknown
    assert (thing.inputs, thing.outputs) == ({"size": 3.0}, {"size": 3.0, "id": UNKNOWN})
    assert thing.provider == "urn:pulumi:dev::p::pulumi:providers:other::default::" + UNKNOWN.sentinel


# -- what the CLI does before the program runs: config, stack names, interpreter ---------------------


def write_project(root: Path, pulumi_yaml: str, program: str, stack_yaml: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text(pulumi_yaml)
    (root / "__main__.py").write_text(program)
    if stack_yaml is not None:
        (root / "Pulumi.dev.yaml").write_text(stack_yaml)
    return root


PRINT_CONFIG = (
    "import json, os, pulumi\n"
    "print(json.dumps({'config': json.loads(os.environ['PULUMI_CONFIG']), 'stack': pulumi.get_stack(),\n"
    "                  'size': pulumi.Config().get('size'), 'zones': pulumi.Config().get_object('zones'),\n"
    "                  'region': pulumi.Config('aws').get('region')}))\n"
)


def test_project_config_block_reaches_the_program(tmp_path: Path) -> None:
    # pkg/workspace/config.go mergeConfig: project defaults/values under the stack's values, as strings
    # and JSON text in PULUMI_CONFIG (the runner ignored the block before).
    write_project(
        tmp_path,
        "name: p\nruntime: python\nconfig:\n  size: small\n  zones: [1, 2]\n  aws:region: us-east-1\n"
        "  count:\n    type: integer\n    default: 3\n",
        PRINT_CONFIG,
        "config:\n  p:size: large\n",
    )
    seen = json.loads(run_program(tmp_path, "dev").stdout)
    assert seen["config"] == {
        "p:size": "large",
        "p:zones": "[1,2]",
        "aws:region": "us-east-1",
        "p:count": "3",
    }
    assert (seen["size"], seen["zones"], seen["region"]) == ("large", [1, 2], "us-east-1")
    # The CLI refuses a stack value of the wrong type for a typed key, before the program runs.
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  p:count: many\n")
    with pytest.raises(
        KmsguardError,
        match=r"^validating stack config: Stack 'dev' with configuration key 'count' must be of type 'integer'$",
    ):
        run_program(tmp_path, "dev")
    # A --config value is a stack value: it is checked the same way.
    assert json.loads(run_program(tmp_path, "dev", config={"count": "4"}).stdout)["config"]["p:count"] == "4"


def test_full_stack_references_run_the_stack_name(tmp_path: Path) -> None:
    # pkg/backend/diy/store.go ParseReference: organization/<project>/<stack>; the URNs, the stack file
    # and pulumi.get_stack() use the name part.
    write_project(
        tmp_path,
        "name: p\nruntime: python\n",
        PRINT_CONFIG + "pulumi.CustomResource('other:index:Thing', 't', {})\n",
        "config:\n  size: from-file\n",
    )
    for reference in ("organization/p/dev", "organization/dev"):
        run = run_program(tmp_path, reference)
        seen = json.loads(run.stdout.splitlines()[0])
        assert (run.stack, seen["stack"], seen["size"]) == ("dev", "dev", "from-file")
        assert run.get("t").urn == "urn:pulumi:dev::p::other:index:Thing::t"
    with pytest.raises(KmsguardError, match=r'^provided project name "q" doesn\'t match Pulumi\.yaml$'):
        run_program(tmp_path, "organization/q/dev")
    with pytest.raises(KmsguardError, match=r"^organization name must be 'organization'$"):
        run_program(tmp_path, "p/dev")


PRINT_PYTHON = "import json, os, sys\nprint(json.dumps([sys.executable, os.environ.get('PICKED'), os.environ.get('VIRTUAL_ENV')]))\n"


def wrapper(path: Path, label: str) -> Path:
    """An executable that runs this interpreter (which has pulumi) and says which name was picked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nPICKED={label} exec "{sys.executable}" "$@"\n')
    path.chmod(0o755)
    return path


def test_interpreter_without_a_virtualenv_is_the_language_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sdk/python/toolchain/pip.go CommandPath: PULUMI_PYTHON_CMD, else python3, else python on PATH
    # (the runner used its own interpreter before).
    project_dir = write_project(tmp_path / "proj", "name: p\nruntime: python\n", PRINT_PYTHON)
    bin_dir = tmp_path / "bin"
    wrapper(bin_dir / "python3", "python3")
    wrapper(bin_dir / "python", "python")
    wrapper(tmp_path / "custom" / "mypython", "custom")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PULUMI_PYTHON_CMD", str(tmp_path / "custom" / "mypython"))
    assert json.loads(run_program(project_dir, "dev").stdout)[1] == "custom"
    monkeypatch.delenv("PULUMI_PYTHON_CMD")
    assert json.loads(run_program(project_dir, "dev").stdout)[1] == "python3"
    (bin_dir / "python3").unlink()
    assert json.loads(run_program(project_dir, "dev").stdout)[1] == "python"
    (bin_dir / "python").unlink()
    with pytest.raises(KmsguardError, match=r"failed to locate any of .*python3.*python.* on your PATH"):
        run_program(project_dir, "dev")
    # An explicit interpreter still wins over all of it.
    assert json.loads(run_program(project_dir, "dev", python=sys.executable).stdout)[0] == sys.executable


def test_uv_and_poetry_toolchains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # sdk/python/toolchain/toolchain.go ResolveToolchain, uv.go newUv, poetry.go VirtualEnvPath.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.delenv("UV_PROJECT_ENVIRONMENT", raising=False)
    uv_project = write_project(
        tmp_path / "uvproj",
        "name: p\nruntime:\n  name: python\n  options:\n    toolchain: uv\n",
        PRINT_PYTHON,
    )
    with pytest.raises(KmsguardError, match=r"Could not find `uv` executable\.\nInstall uv"):
        run_program(uv_project, "dev")
    (bin_dir / "uv").write_text("#!/bin/sh\necho 'uv 0.9.0'\n")
    (bin_dir / "uv").chmod(0o755)
    with pytest.raises(KmsguardError, match=r"\.venv.*(doesn't exist|is not a virtualenv)"):
        run_program(uv_project, "dev")  # offline nothing creates the virtualenv (no `uv sync`)
    venv = uv_project / ".venv"
    wrapper(venv / "bin" / "python", "uv-venv")
    _, picked, virtual_env = json.loads(run_program(uv_project, "dev").stdout)
    assert (picked, virtual_env) == ("uv-venv", str(venv))  # the virtualenv is activated
    # Without a toolchain option, a uv.lock from the program directory upwards means uv too.
    auto = write_project(tmp_path / "uvproj" / "sub", "name: p\nruntime: python\n", PRINT_PYTHON)
    (uv_project / "uv.lock").write_text("")
    assert json.loads(run_program(auto, "dev").stdout)[1] == "uv-venv"

    poetry_project = write_project(
        tmp_path / "poetryproj",
        "name: p\nruntime:\n  name: python\n  options:\n    toolchain: poetry\n",
        PRINT_PYTHON,
    )
    with pytest.raises(KmsguardError, match=r"Could not find `poetry` executable"):
        run_program(poetry_project, "dev")
    poetry_venv = tmp_path / "poetry-venvs" / "p-py3.11"
    wrapper(poetry_venv / "bin" / "python", "poetry-venv")
    (bin_dir / "poetry").write_text(
        f"#!/bin/sh\n[ \"$1 $2 $3\" = 'env info --path' ] && echo {poetry_venv}\n"
    )
    (bin_dir / "poetry").chmod(0o755)
    assert json.loads(run_program(poetry_project, "dev").stdout)[1:] == ["poetry-venv", str(poetry_venv)]

    (poetry_project / "Pulumi.yaml").write_text(
        "name: p\nruntime:\n  name: python\n  options:\n    toolchain: conda\n"
    )
    with pytest.raises(KmsguardError, match=r"unsupported toolchain option: conda"):
        run_program(poetry_project, "dev")


# -- an older pulumi SDK in the program's virtualenv --------------------------------------------------

OLD_SDK = "pulumi==3.100.0"  # the oldest SDK kmsguard supports; its protobufs predate stackTrace, transforms


@pytest.fixture(scope="session")
def old_sdk_venv(request: pytest.FixtureRequest) -> Path:
    """A virtualenv with the old SDK, built once and kept in the pytest cache."""
    import subprocess

    root = Path(request.config.cache.mkdir("kmsguard-old-pulumi-sdk"))
    venv = root / "venv"
    stamp = venv / f".installed-{OLD_SDK}"
    if stamp.is_file():
        return venv
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True, timeout=300
        )
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--only-binary=:all:", OLD_SDK],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot create a virtualenv with {OLD_SDK}: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot install {OLD_SDK} (offline?): {done.stderr.strip()[-500:]}")
    stamp.write_text("")
    return venv


def test_a_program_with_an_older_pulumi_sdk(tmp_path: Path, old_sdk_venv: Path) -> None:
    # The host feature-detects request fields (monitor._field): RegisterResourceRequest of 3.100 has no
    # stackTrace, transforms, ... and reading them crashed the runner.
    write_project(
        tmp_path,
        f"name: p\nruntime:\n  name: python\n  options:\n    virtualenv: {old_sdk_venv}\n",
        "import pulumi\n"
        "class Comp(pulumi.ComponentResource):\n"
        "    def __init__(self, name):\n"
        "        super().__init__('my:index:Comp', name)\n"
        "        pulumi.CustomResource('other:index:Thing', 't', {'size': pulumi.Config().get('size')},\n"
        "                              opts=pulumi.ResourceOptions(parent=self))\n"
        "        self.register_outputs({})\n"
        "Comp('c')\n"
        "pulumi.export('answer', 42)\n",
        "config:\n  size: big\n",
    )
    run = run_program(tmp_path, "dev")
    assert [r.urn for r in run.registrations] == [
        "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
        "urn:pulumi:dev::p::my:index:Comp::c",
        "urn:pulumi:dev::p::pulumi:providers:other::default",
        "urn:pulumi:dev::p::my:index:Comp$other:index:Thing::t",
    ]
    assert run.get("t").inputs == {"size": "big"}
    assert run.registrations[0].outputs == {"answer": 42.0}
    assert run.get("t").source is None  # that SDK does not say where a resource was declared


# -- duplicate URNs ------------------------------------------------------------------------------------


def test_duplicate_urns_fail_the_preview(tmp_path: Path) -> None:
    # pkg/resource/deploy/step_generator.go generateURN → diag.GetDuplicateResourceURNError: the preview
    # fails (it was an advisory before, and which one won changed between runs).
    write_project(
        tmp_path,
        "name: p\nruntime: python\n",
        "import pulumi\n"
        "class Thing(pulumi.CustomResource):\n"
        "    def __init__(self, name, n):\n"
        "        super().__init__('other:index:Thing', name, {'n': n})\n"
        "Thing('same', 1)\n"
        "Thing('same', 2)\n",
    )
    urn = "urn:pulumi:dev::p::other:index:Thing::same"
    message = (
        rf"Duplicate resource URN '{re.escape(urn)}'; try giving it a unique name \(__main__\.py, line 6\)$"
    )
    with pytest.raises(KmsguardError, match=message):
        run_program(tmp_path, "dev")
    from kmsguard.cli import main

    assert main(["preview", str(tmp_path), "--stack", "dev", "--engine", "mocks"]) == 2
