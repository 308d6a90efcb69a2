"""The Pulumi code kmsguard prints is the fix it checked (audit: "printed code is the checked fix").

``program/`` declares one blocked subnet per kind of fix, in the styles users write (inline and
standalone routes and NSG rules, a firewall policy, a base policy, classic rule collections, a
private DNS zone, a private subnet, a VPN default site). The test analyses it, pastes every fix's
printed code into the program as a user would (``program/__main__.py`` says how), runs it again
under the real azure-native SDK (3.29.0) offline, and asserts that

* the SDK accepts the code (required arguments, typed ``...Args``: a dict with snake_case keys in a
  union-typed input would reach the provider as ``rule_type``, ``ip_protocols``...),
* what the SDK sends is the fix's data (what the repair loop applied), and
* kmsguard finds every subnet reachable in the program with the code pasted in.

A run is a subprocess (``run_program``), so the SDK's global state never leaks into the test process.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from kmsguard.analysis import Fix, NetworkResult, Verdict
from kmsguard.engine import ProgramRun, run_program
from kmsguard.engine.mocks.runner import Registration
from kmsguard.evaluate import pack_view
from kmsguard.policies import analyze_resources

PROGRAM = Path(__file__).resolve().parent / "program"
NET = "azure-native:network:"


def _analyze(run: ProgramRun) -> NetworkResult:
    return analyze_resources([pack_view(r) for r in run.pack_resources()], {})


@pytest.fixture(scope="module")
def before() -> tuple[ProgramRun, NetworkResult]:
    run = run_program(PROGRAM, "dev", python=sys.executable)
    return run, _analyze(run)


@pytest.fixture(scope="module")
def fixes(before: tuple[ProgramRun, NetworkResult]) -> list[Fix]:
    return [f for s in before[1].subnets for f in s.fixes]


@pytest.fixture(scope="module")
def after(fixes: list[Fix], tmp_path_factory: pytest.TempPathFactory) -> tuple[ProgramRun, NetworkResult]:
    pasted: dict[str, list[str]] = {}
    for fix in fixes:
        pasted.setdefault(fix.target, []).append(fix.code)
    path = tmp_path_factory.mktemp("fixes") / "fixes.json"
    path.write_text(json.dumps(pasted))
    run = run_program(PROGRAM, "dev", python=sys.executable, config={"fixes": str(path)})
    return run, _analyze(run)


def test_every_kind_of_fix_is_printed_as_code_and_checked(before: tuple[ProgramRun, NetworkResult]) -> None:
    blocked = {s.name: s for s in before[1].subnets if s.verdict is Verdict.BLOCKED}
    assert set(blocked) == {
        "snet-route-inline",
        "snet-route-standalone",
        "snet-default-site",
        "snet-nsg-inline",
        "snet-nsg-standalone",
        "snet-spoke-child",
        "snet-spoke-parent",
        "snet-spoke-classic",
        "snet-dns",
        "snet-private",
    }
    for s in blocked.values():
        assert s.fixes_verified, s.name
        assert s.fixes and all(f.code for f in s.fixes), s.name


def test_styles_follow_the_users(fixes: list[Fix]) -> None:
    by_target = {f.target: f for f in fixes}
    assert by_target["rt-inline"].code.startswith("routes=[..., azure_native.network.RouteArgs(")
    assert by_target["rt-standalone"].code.startswith("azure_native.network.Route(")
    assert by_target["nsg-inline"].code.startswith(
        "security_rules=[..., azure_native.network.SecurityRuleArgs("
    )
    assert by_target["nsg-standalone"].code.startswith("azure_native.network.SecurityRule(")
    for fix in fixes:
        assert "{" not in fix.code.split("  #")[0], fix.code  # typed Args, never dicts


def test_parent_policy_deny_is_fixed_in_the_parent(
    fixes: list[Fix], before: tuple[ProgramRun, NetworkResult]
) -> None:
    run = before[0]
    fix = next(f for f in fixes if f.kind == "add-firewall-rule" and "fwp-based" in f.detail)
    assert fix.target == "fwp-parent"
    assert fix.data["policy"] == run.get("fwp-parent", f"{NET}FirewallPolicy").urn
    assert fix.data["priority"] == 299  # strictly before the denying group (300)


def test_pasted_code_makes_every_subnet_reachable(after: tuple[ProgramRun, NetworkResult]) -> None:
    verdicts = {s.name: s.verdict for s in after[1].subnets if s.verdict is not Verdict.EXCLUDED}
    assert verdicts and all(v is Verdict.REACHABLE for v in verdicts.values()), verdicts


def _one(run: ProgramRun, type_: str, **inputs: Any) -> Registration:
    found = [
        r
        for r in run.registrations
        if r.type == type_ and all(r.inputs.get(k) == v for k, v in inputs.items())
    ]
    assert len(found) == 1, (type_, inputs, len(found))
    return found[0]


def _depends(r: Registration, prop: str, urn: str | None) -> None:
    assert urn is not None and urn in r.property_dependencies.get(prop, ()), (r.name, prop, urn)


def _contains(items: Sequence[Mapping[str, Any]], expected: Mapping[str, Any]) -> None:
    assert any(all(i.get(k) == v for k, v in expected.items()) for i in items), (expected, items)


def test_what_the_sdk_sends_is_the_fix_data(
    fixes: list[Fix], after: tuple[ProgramRun, NetworkResult]
) -> None:
    run = after[0]
    kinds: set[str] = set()
    for fix in fixes:
        d = fix.data
        if fix.kind == "add-routes":
            routes = d["routes"]
            assert isinstance(routes, list)
            if d["table"] is None:
                subnet = run.get(fix.target, f"{NET}Subnet")
                table = run.get(f"{fix.target}-kms-routes", f"{NET}RouteTable")
                _depends(subnet, "routeTable", table.urn)
                assert table.inputs["routes"] == routes
                kinds.add("association")
            elif d.get("standalone"):
                for r in routes:
                    route = _one(run, f"{NET}Route", routeName=r["name"])
                    _depends(route, "routeTableName", fix.urn)
                    assert (route.inputs["addressPrefix"], route.inputs["nextHopType"]) == (
                        r["addressPrefix"],
                        r["nextHopType"],
                    )
                kinds.add("routes-standalone")
            else:
                table = run.get(fix.target, f"{NET}RouteTable")
                for r in routes:
                    _contains(table.inputs["routes"], r)
                kinds.add("routes-inline")
        elif fix.kind == "add-nsg-rule":
            rule = {
                "name": d["name"],
                "priority": d["priority"],
                "direction": "Outbound",
                "access": "Allow",
                "protocol": "Tcp",
                "destinationAddressPrefixes": d["destinationAddressPrefixes"],
                "destinationPortRange": "1688",
            }
            nsg = run.get(fix.target, f"{NET}NetworkSecurityGroup")
            if "securityRules" in nsg.inputs:
                _contains(nsg.inputs["securityRules"], rule)
                kinds.add("nsg-inline")
            else:
                sr = _one(run, f"{NET}SecurityRule", securityRuleName=d["name"])
                _depends(sr, "networkSecurityGroupName", fix.urn)
                assert {k: sr.inputs.get(k) for k in rule if k != "name"} == {
                    k: v for k, v in rule.items() if k != "name"
                }
                kinds.add("nsg-standalone")
        elif fix.kind == "add-firewall-rule":
            rule = {
                "ipProtocols": ["TCP"],
                "sourceAddresses": d["sources"],
                "destinationAddresses": d["ips"],
                "destinationPorts": ["1688"],
            }
            if d["policy"] is None:
                fw = run.get(fix.target, f"{NET}AzureFirewall")
                collection = next(
                    c for c in fw.inputs["networkRuleCollections"] if c["name"] == "kms-activation"
                )
                assert collection["priority"] == d["priority"]
                assert collection["action"] == {"type": "Allow"}
                classic = collection["rules"][0]
                assert {"protocols": classic["protocols"], **{k: classic[k] for k in list(rule)[1:]}} == {
                    "protocols": ["TCP"],
                    **{k: rule[k] for k in list(rule)[1:]},
                }
                kinds.add("firewall-classic")
            else:
                group = run.get(f"{fix.target}-kms-activation", f"{NET}FirewallPolicyRuleCollectionGroup")
                _depends(group, "firewallPolicyName", str(d["policy"]))
                assert group.inputs["priority"] == d["priority"]
                (collection,) = group.inputs["ruleCollections"]
                assert collection["ruleCollectionType"] == "FirewallPolicyFilterRuleCollection"
                assert collection["action"] == {"type": "Allow"}
                (sent,) = collection["rules"]
                assert sent["ruleType"] == "NetworkRule"
                assert {k: sent[k] for k in rule} == rule
                kinds.add("firewall-parent" if fix.target == "fwp-parent" else "firewall-policy")
        elif fix.kind == "add-dns-records":
            rs = _one(run, "azure-native:privatedns:PrivateRecordSet", relativeRecordSetName=d["name"])
            _depends(rs, "privateZoneName", fix.urn)
            assert rs.inputs["recordType"] == "A"
            ips = d["ips"]
            assert isinstance(ips, list)
            assert rs.inputs["aRecords"] == [{"ipv4Address": ip} for ip in ips]
            kinds.add("dns")
        elif fix.kind == "add-nat-gateway":
            subnet = run.get(fix.target, f"{NET}Subnet")
            nat = run.get(f"{fix.target}-nat", f"{NET}NatGateway")
            pip = run.get(f"{fix.target}-nat-ip", f"{NET}PublicIPAddress")
            _depends(subnet, "natGateway", nat.urn)
            _depends(nat, "publicIpAddresses", pip.urn)
            kinds.add("nat")
    assert kinds == {
        "association",
        "routes-standalone",
        "routes-inline",
        "nsg-inline",
        "nsg-standalone",
        "firewall-classic",
        "firewall-policy",
        "firewall-parent",
        "dns",
        "nat",
    }


def test_a_new_group_sorts_strictly_before_the_deny_or_the_fix_says_renumber() -> None:
    from kmsguard.analysis.firewall import _free_priority

    assert _free_priority(200, {200}) == 199
    assert _free_priority(200, {199, 200}) == 198  # never a number another group uses
    assert _free_priority(100, {100}) is None  # 100 is the first: renumbering is the fix
    assert _free_priority(None, {100}) == 101  # default deny: any free number works


def test_a_fix_without_a_priority_is_not_applied() -> None:
    from kmsguard.analysis import fixes as fixmod
    from kmsguard.model import Network

    network = Network()
    fix = Fix(
        "add-firewall-rule", "fwp", None, "renumber", data={"firewall": "fw", "policy": "p", "priority": None}
    )
    assert fixmod.apply(network, [fix]) == network


DOCS = Path(__file__).resolve().parents[2] / "docs" / "findings.md"
# The findings whose fixes kmsguard prints code for: their examples are that code.
PRINTED = (
    "kms-route-forced-tunnel",
    "kms-nsg-deny",
    "kms-firewall-no-rule",
    "kms-no-outbound",
    "kms-dns-shadowed",
)


def _statements(code: str) -> list[str]:
    import ast

    return [ast.dump(s) for s in ast.parse(code).body]


def test_findings_examples_are_the_printed_code(fixes: list[Fix]) -> None:
    """docs/findings.md shows the code a user pastes, as this module runs it: every example block of
    a finding with printed fixes is (some statements of) one fix's printed code."""
    import re

    text = DOCS.read_text()
    printed = [_statements(f.code) for f in fixes]
    for finding in PRINTED:
        section = text.split(f"\n### {finding}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
        example = section.split("#### Example\n", 1)[1]
        blocks = re.findall(r"```python\n(.+?)\n```", example, re.S)
        matched = [b for b in blocks if any(set(_statements(b)) <= set(p) for p in printed)]
        assert matched, finding
        for block in blocks:
            if "azure_native." in block:  # a printed fix, not the program-side helpers
                assert block in matched, (finding, block)
