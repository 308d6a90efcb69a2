"""azure-native network types kmsguard does not read: reported, never skipped (DESIGN "a type kmsguard
does not read is reported, never skipped"), exactly as classic ones (test_classic_collect.py).

Each unread resource is a Problem naming its type (kms-unverified, KMS-INVALID-INPUT) and every
subnet's verdict turns ``unknown``; irrelevant types (monitoring, inbound-only, public DNS …) and
types of other modules change nothing. The meta-test at the end holds the classification to the
installed SDK: every resource token of its network-relevant modules is read, irrelevant with a
reason, or listed as unread.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
from cli.support import REPO, assert_no_traceback, kmsguard
from pulumi.type_token import get_type_token

from collect.classic import ClassicStack
from collect.test_classic_collect import UNREAD as CLASSIC_UNREAD
from collect.test_classic_collect import spoke as classic_spoke
from kmsguard.analysis import Verdict, analyze
from kmsguard.cli import main
from kmsguard.collect.azure_native import coverage
from kmsguard.collect.azure_native.arm import TOKENS
from kmsguard.collect.pulumi import PulumiResource, collect
from kmsguard.model import Unknown

from .preview import U, inputs, preview, urn

RG = "rg-net"
LOC = "westeurope"
VNET = "azure-native:network:VirtualNetwork"
BOTH = pytest.mark.parametrize("deployed", [True, False], ids=["export", "preview"])


def spoke(deployed: bool = True, dns: list[str] | None = None) -> PulumiResource:
    props: dict[str, Any] = {
        "resourceGroupName": RG,
        "location": LOC,
        "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        "subnets": [{"name": "app", "addressPrefix": "10.1.1.0/24"}],
    }
    if dns is not None:
        props["dhcpOptions"] = {"dnsServers": dns}
    return (inputs if deployed else preview)(VNET, "spoke", props)


def avnm_routing(deployed: bool, vnet: PulumiResource) -> list[PulumiResource]:
    """An AVNM routing configuration sending 0.0.0.0/0 to an appliance, deployed by a Routing commit
    (the audit's program, tests/programs/avnm_routing)."""

    def r(kind: str, name: str, props: dict[str, Any], deps: dict[str, list[str]] | None = None) -> PulumiResource:  # fmt: skip
        bag = {"resourceGroupName": RG, "networkManagerName": "anm", **props}
        if not deployed:
            bag = {k: U if k.endswith("Id") or k == "resourceId" else v for k, v in bag.items()}
        return inputs(f"azure-native:network:{kind}", name, bag, deps)

    anm = r("NetworkManager", "anm", {"networkManagerScopeAccesses": ["Routing"]})
    group = r("NetworkGroup", "spokes", {"networkGroupName": "spokes"})
    member = r("StaticMember", "spoke-member", {"networkGroupName": "spokes", "resourceId": "x"},
               {"resourceId": [vnet.urn]})  # fmt: skip
    cfg = r("RoutingConfiguration", "force-nva", {"configurationName": "force-nva"})
    coll = r("RoutingRuleCollection", "coll", {"configurationName": "force-nva", "ruleCollectionName": "coll",
                                               "appliesTo": [{"networkGroupId": U}]}, {"appliesTo": [group.urn]})  # fmt: skip
    rule = r(
        "RoutingRule",
        "default-to-nva",
        {
            "configurationName": "force-nva",
            "ruleCollectionName": "coll",
            "destination": {"type": "AddressPrefix", "destinationAddress": "0.0.0.0/0"},
            "nextHop": {"nextHopType": "VirtualAppliance", "nextHopAddress": "10.0.0.4"},
        },
    )
    commit = r("Commit", "deploy-routing", {"properties": {"commitType": "Routing", "configurationIds": [U],
                                                          "targetLocations": [LOC]}}, {"properties": [cfg.urn]})  # fmt: skip
    return [anm, group, member, cfg, coll, rule, commit]


def message(token: str) -> str:
    return (
        f"{token} is an azure-native type kmsguard does not read yet; it may change the KMS path of any "
        "subnet in the stack, so their verdicts are unknown"
    )


def verdicts(resources: list[PulumiResource]) -> dict[str, str]:
    return {s.name: s.verdict.value for s in analyze(collect(resources)).subnets}


def unread(token: str, name: str) -> PulumiResource:
    return PulumiResource(urn(token, name), token, name, {"resourceGroupName": RG})


# --- the audit's repro: AVNM routing configuration -------------------------------------------------


@BOTH
def test_avnm_routing_configuration_is_reported_and_the_subnet_unknown(deployed: bool) -> None:
    vnet = spoke(deployed)
    assert verdicts([vnet]) == {"spoke/app": "reachable"}
    resources = [vnet, *avnm_routing(deployed, vnet)]
    network = collect(resources)
    rcfg, coll, rule = (f"azure-native:network:{k}" for k in ("RoutingConfiguration", "RoutingRuleCollection", "RoutingRule"))  # fmt: skip
    assert [(p.where, p.prop, p.message, p.urn) for p in network.problems] == [
        # In URN order: the model is built in URN order whatever order the engine registered in.
        ("force-nva", "(type)", message(rcfg), urn(rcfg, "force-nva")),
        ("default-to-nva", "(type)", message(rule), urn(rule, "default-to-nva")),
        ("coll", "(type)", message(coll), urn(coll, "coll")),
    ]
    why = (
        "azure-native resources kmsguard does not read yet may change this path: "
        f"force-nva ({rcfg}), default-to-nva ({rule}), coll ({coll})"
    )
    subnet = network.subnets[f"{vnet.urn}#subnets/app"]
    assert subnet.route_table == Unknown(why)
    assert network.vnets[vnet.urn].dns_servers == Unknown(why)
    result = analyze(network)
    assert {x.name: x.verdict for x in result.subnets} == {"spoke/app": Verdict.UNKNOWN}
    details = [step.detail for e in result.subnets[0].endpoints for step in e.trace]
    assert any(f"default-to-nva ({rule})" in d for d in details)


def test_route_tables_get_the_unknown_route_and_custom_dns_is_kept() -> None:
    vnet = spoke(dns=["10.0.0.4"])
    table = inputs(
        "azure-native:network:RouteTable", "rt", {"resourceGroupName": RG, "location": LOC, "routes": []}
    )
    network = collect([vnet, table, unread("azure-native:network:RouteMap", "rm")])
    routes = network.route_tables[table.urn].routes
    assert isinstance(routes, tuple) and [r.name for r in routes] == ["(azure-native resources not read)"]
    assert routes[0].address_prefix == Unknown(
        "azure-native resources kmsguard does not read yet may change this path: rm (azure-native:network:RouteMap)"
    )
    # A VNet with its own DNS servers keeps them: they decide its resolution (docs/rules.md#custom-dns).
    assert network.vnets[vnet.urn].dns_servers == ("10.0.0.4",)


# Types the audit named, and the version, DNS security and scale set instance forms.
MUST_BE_UNREAD = [
    "azure-native:network:NetworkManagerRoutingConfiguration",
    "azure-native:network:RoutingConfiguration",
    "azure-native:network:RoutingRuleCollection",
    "azure-native:network:RoutingRule",
    "azure-native:network:ConnectivityConfiguration",
    "azure-native:network:VirtualHubBgpConnection",
    "azure-native:network:VirtualRouterPeering",
    "azure-native:network:RouteMap",
    "azure-native:network:ExpressRouteConnection",
    "azure-native:network:ExpressRouteCircuit",
    "azure-native:network:VpnConnection",
    "azure-native:network:VpnGateway",
    "azure-native:network:NetworkVirtualAppliance",
    "azure-native:network:VirtualApplianceSite",
    "azure-native:network:SecurityUserRule",
    "azure-native:network:FirewallPolicyRuleGroup",
    "azure-native:network/v20240501:RoutingRule",
    "azure-native:network/v20230301preview:NetworkManagerRoutingConfiguration",
    "azure-native:dnsresolver:DnsSecurityRule",
    "azure-native:network:DnsSecurityRule",
    "azure-native:compute:VirtualMachineScaleSetVM",
    # A type a later SDK adds to a network module is reported until it is classified.
    "azure-native:network:SomeFutureRouting",
    "azure-native:privatedns:SomeFutureRecord",
]


@pytest.mark.parametrize("token", MUST_BE_UNREAD)
def test_unread_types_are_reported_and_turn_the_subnet_unknown(token: str) -> None:
    vnet = spoke()
    network = collect([vnet, unread(token, "x")])
    assert [(p.where, p.prop, p.message, p.urn) for p in network.problems] == [
        ("x", "(type)", message(token), urn(token, "x"))
    ]
    assert verdicts([vnet, unread(token, "x")]) == {"spoke/app": "unknown"}


IRRELEVANT = [
    "azure-native:network:NetworkWatcher",
    "azure-native:network:FlowLog",
    "azure-native:network/v20230201:FlowLog",
    "azure-native:network:DdosProtectionPlan",
    "azure-native:network:PrivateEndpoint",
    "azure-native:network:PrivateDnsZoneGroup",
    "azure-native:network:BastionHost",
    "azure-native:network:ApplicationGateway",
    "azure-native:network:RouteFilter",
    "azure-native:network:PublicIPPrefix",
    "azure-native:network:IpamPool",
    "azure-native:network:Zone",  # the v2 token of a public DNS zone
    "azure-native:dns:Zone",
    "azure-native:dnsresolver:DnsResolver",
    "azure-native:dnsresolver:OutboundEndpoint",
    "azure-native:compute:Disk",
    "azure-native:compute:VirtualMachineExtension",
    "azure-native:storage:StorageAccount",
    "azure-native:resources:ResourceGroup",
    "pulumi:providers:azure-native",
    "pulumi:pulumi:Stack",
]


@pytest.mark.parametrize("token", IRRELEVANT)
def test_irrelevant_and_other_types_are_not_reported(token: str) -> None:
    vnet = spoke()
    network = collect([vnet, unread(token, "x")])
    assert network.problems == ()
    assert verdicts([vnet, unread(token, "x")]) == {"spoke/app": "reachable"}


def test_unread_type_alone_is_still_reported() -> None:
    # No subnet at all: the report is the Problem (kms-unverified), never "no subnets" silently.
    network = collect([unread("azure-native:network:VpnGateway", "vpngw")])
    assert [(p.where, p.prop) for p in network.problems] == [("vpngw", "(type)")]
    assert network.subnets == {}


# --- mixed stacks: the classic collector reports azure-native types too ---------------------------------


def test_mixed_stack_reports_an_unread_azure_native_type() -> None:
    s = ClassicStack()
    classic_spoke(s)
    rule = "azure-native:network:RoutingRule"
    s.resources.append(unread(rule, "rr"))
    network = collect(s.resources)
    assert [(p.where, p.message) for p in network.problems] == [("rr", message(rule))]
    assert verdicts(s.resources) == {"vnet-spoke-app": "unknown"}


def test_mixed_stack_with_both_kinds_names_both_in_one_reason() -> None:
    s = ClassicStack()
    classic_spoke(s)
    s.add(CLASSIC_UNREAD, "erc", {"name": "erc"})
    rule = "azure-native:network:RoutingRule"
    s.resources.append(unread(rule, "rr"))
    network = collect(s.resources)
    assert [(p.where, p.message.split(" kmsguard")[0]) for p in network.problems] == [
        ("erc", f"{CLASSIC_UNREAD} is a classic azure (pulumi-azure) type"),
        ("rr", f"{rule} is an azure-native type"),
    ]
    (subnet,) = network.subnets.values()
    assert subnet.route_table == Unknown(
        "classic azure and azure-native resources kmsguard does not read yet may change this path: "
        f"erc ({CLASSIC_UNREAD}), rr ({rule})"
    )


# --- kmsguard check: a stack export ----------------------------------------------------------------------


def export(tmp_path: Path, resources: list[PulumiResource]) -> Path:
    items: list[dict[str, Any]] = [
        {"urn": "urn:pulumi:dev::net::pulumi:pulumi:Stack::net-dev", "type": "pulumi:pulumi:Stack", "custom": False}
    ]  # fmt: skip
    for r in resources:
        items.append({"urn": r.urn, "custom": True, "type": r.type, "inputs": dict(r.props), "outputs": dict(r.props),
                      "propertyDependencies": {k: list(v) for k, v in r.property_dependencies.items()}})  # fmt: skip
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": items}}))
    return path


def test_check_of_a_stack_export_reports_the_type_and_the_unknown_subnet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vnet = spoke()
    state = export(tmp_path, [vnet, *avnm_routing(True, vnet)])
    assert main(["check", str(state), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(x["name"], x["verdict"]) for x in report["subnets"]] == [("spoke/app", "unknown")]
    assert sorted((v["policy"], v["level"], v["urn"]) for v in report["violations"]) == sorted(
        [
            ("kms-unverified", "advisory", urn("azure-native:network:RoutingConfiguration", "force-nva")),
            ("kms-unverified", "advisory", urn("azure-native:network:RoutingRuleCollection", "coll")),
            ("kms-unverified", "advisory", urn("azure-native:network:RoutingRule", "default-to-nva")),
            ("kms-unverified", "advisory", vnet.urn),
        ]
    )
    # Strict: the unknown policy set to mandatory blocks.
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"kms-unverified": "mandatory"}))
    assert main(["check", str(state), "--policy-config", str(cfg), "--format", "json"]) == 1
    capsys.readouterr()


# --- the classification against the installed SDK ---------------------------------------------------------

_ALIAS = re.compile(r'pulumi\.Alias\(type_="(azure-native:[^"]+)"\)')


def sdk_tokens(module: str) -> tuple[set[str], set[str]]:
    """The resource tokens of an installed azure-native module: the classes' own, and their aliases."""
    mod = importlib.import_module(f"pulumi_azure_native.{module}")
    hasattr(mod, "_loaded")  # the SDK's modules are lazy: the first attribute lookup executes them
    own: set[str] = set()
    aliases: set[str] = set()
    for _, cls in inspect.getmembers(mod, inspect.isclass):
        if not issubclass(cls, pulumi.CustomResource):
            continue
        token = get_type_token(cls)
        assert isinstance(token, str), cls
        own.add(token)
        aliases.update(_ALIAS.findall(inspect.getsource(cls)))
    return own, aliases


def decided(token: str) -> bool:
    name = coverage.canonical(token)
    return name is not None and (name in TOKENS or name in coverage.IRRELEVANT or name in coverage.UNREAD)


@pytest.mark.parametrize("module", ["network", "compute", "dnsresolver", "privatedns"])
def test_every_sdk_type_of_a_network_module_is_read_irrelevant_or_reported(module: str) -> None:
    own, aliases = sdk_tokens(module)
    assert len(own) > (100 if module == "network" else 2)  # the SDK was enumerated, not an empty module
    # Decided one by one: a type a new SDK adds fails here until it is classified (it is reported meanwhile).
    assert sorted(t for t in own if not decided(t)) == []
    # The old tokens the classes still accept (API versions, v2 modules) are decided the same way.
    relevant = {
        t for t in aliases if (c := coverage.canonical(t)) and c.split(":")[0] in coverage.NETWORK_MODULES
    }
    assert sorted(t for t in relevant if not decided(t)) == []
    vnet = spoke()
    for token in sorted(own | aliases):
        kind = coverage.classify(token)
        assert kind in ("read", "irrelevant", "unread"), token
        if kind == "read":
            continue
        problems = collect([vnet, unread(token, "x")]).problems
        if kind == "unread":
            assert [(p.prop, p.message) for p in problems] == [("(type)", message(token))], token
        else:
            assert problems == (), token


def test_irrelevant_types_each_have_a_reason_and_never_overlap_read_or_unread() -> None:
    assert all(len(why) > 20 for why in coverage.IRRELEVANT.values())
    assert not set(coverage.IRRELEVANT) & set(TOKENS)
    assert not set(coverage.IRRELEVANT) & coverage.UNREAD
    assert not coverage.UNREAD & set(TOKENS)


# --- the program: kmsguard preview on the stand-in (the real engine: tests/realengine/test_programs.py) -----

PROGRAM = "tests/programs/avnm_routing"
PROGRAM_URN = "urn:pulumi:dev::avnm-routing::azure-native:network:"


@pytest.mark.parametrize(("strict", "exit_code", "level"), [(False, 0, "advisory"), (True, 1, "mandatory")])
def test_program_with_an_avnm_routing_configuration(tmp_path: Path, strict: bool, exit_code: int, level: str) -> None:  # fmt: skip
    extra: list[str] = []
    if strict:
        cfg = tmp_path / "cfg.json"
        cfg.write_text(json.dumps({"kms-unverified": "mandatory"}))
        extra = ["--policy-config", str(cfg)]
    proc = kmsguard(
        "preview", str(REPO / PROGRAM), "--stack", "dev", "--engine", "mocks", "--format", "json", *extra
    )
    assert_no_traceback(proc)
    assert proc.returncode == exit_code, proc.stderr
    report = json.loads(proc.stdout)
    assert [(x["name"], x["verdict"]) for x in report["subnets"]] == [("spoke/app", "unknown")]
    assert [(v["policy"], v["level"], v["urn"]) for v in report["violations"]] == [
        ("kms-unverified", level, f"{PROGRAM_URN}RoutingConfiguration::force-nva"),
        ("kms-unverified", level, f"{PROGRAM_URN}RoutingRule::default-to-nva"),
        ("kms-unverified", level, f"{PROGRAM_URN}RoutingRuleCollection::coll"),
        ("kms-unverified", level, f"{PROGRAM_URN}VirtualNetwork::spoke"),
    ]
    assert message("azure-native:network:RoutingRule") in report["violations"][1]["message"]
