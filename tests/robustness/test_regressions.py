"""Regression tests for the bugs the robustness suite found, one per bug, named after it."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kmsguard.analysis import Verdict
from kmsguard.collect.pulumi import collect
from kmsguard.engine import UNKNOWN, PackProcess, PackResource, Secret
from kmsguard.evaluate import evaluate_export
from kmsguard.model import Unknown as ModelUnknown
from kmsguard.policies import ROUTE_TABLE, analyze_resources
from kmsguard.remediate import plan_kms_routes
from kmsguard.report import FORMATS, render

from .estate import KMS_IPS, estate
from .support import REACHABILITY, UNVERIFIED, in_process, observed, run_stack, to_pulumi, unwrap
from .test_check_fuzz import export_document


def test_regression_secret_names_echoed_by_the_pack(fresh_pack: PackProcess) -> None:
    """pulumi_policy unwraps secrets before Analyze/AnalyzeStack, so a secret subnet or route name
    was printed in violation messages; the pack now redacts what Remediate saw as secret."""
    resources = estate()
    vwan = next(i for i, r in enumerate(resources) if r.name == "vwan-spoke")
    nva = next(i for i, r in enumerate(resources) if r.name == "nva-default")
    bag = copy.deepcopy(dict(resources[vwan].inputs))
    bag["subnets"][0]["name"] = Secret("apps-TopSecretName")
    resources[vwan] = replace(resources[vwan], inputs=bag)
    resources[nva] = replace(
        resources[nva], inputs={**resources[nva].inputs, "routeName": Secret("TopSecretRoute")}
    )
    pack = fresh_pack
    run = run_stack(pack, resources)
    everything = "\n".join([*(v.message for v in run.violations), pack.stderr, pack.stdout])
    assert "TopSecret" not in everything
    [blocked] = [
        m for p, u, m in observed(run.stack_violations) if p == REACHABILITY and u.endswith("::vwan-spoke")
    ]
    assert blocked.startswith("Subnet vwan-spoke/[secret] (eastus, public cloud): Windows cannot activate.")
    [unknown] = [m for p, u, m in observed(run.stack_violations) if p == UNVERIFIED and u.endswith("::db")]
    assert "- route table rt-nva route [secret]: 0.0.0.0/0 → VirtualAppliance 10.9.0.4" in unknown


def test_regression_autofix_added_routes_for_unknown_routes_that_cannot_divert() -> None:
    """An unknown prefix on an Internet route, or an unknown next hop on a prefix holding no KMS IP,
    cannot divert KMS traffic; the plan used to add all three /32s anyway (the analysis says
    reachable)."""
    harmless_prefix = [{"name": "a", "addressPrefix": UNKNOWN, "nextHopType": "Internet"}]
    harmless_hop = [{"name": "b", "addressPrefix": "10.0.0.0/8", "nextHopType": UNKNOWN}]
    for routes in (harmless_prefix, harmless_hop):
        assert plan_kms_routes(unwrap(routes), "eastus").added == ()
    # Still conservative where the unknown can win: an unknown prefix to an appliance.
    risky = [
        {
            "name": "c",
            "addressPrefix": UNKNOWN,
            "nextHopType": "VirtualAppliance",
            "nextHopIpAddress": "10.0.0.4",
        }
    ]
    assert [r["addressPrefix"] for r in plan_kms_routes(unwrap(risky), "eastus").added] == [
        f"{ip}/32" for ip in KMS_IPS
    ]


def test_regression_autofix_could_not_read_a_secret_route(pack: PackProcess) -> None:
    """Remediate hands a secret route over as a Secret around a proxy; the plan could not read it,
    took it as unknown and added a /32 for every KMS IP instead of the two that 0.0.0.0/3 diverts."""
    # A gateway next hop: the autofix leaves the KMS IPs a VirtualAppliance route selects alone.
    route = {"name": "default", "addressPrefix": "0.0.0.0/3", "nextHopType": "VirtualNetworkGateway"}
    table = PackResource(
        ROUTE_TABLE,
        f"urn:pulumi:dev::net::{ROUTE_TABLE}::rt",
        "rt",
        {"location": "eastus", "routes": [Secret(route)]},
    )
    [rem], _ = pack.remediate(table)
    assert rem.after["routes"] == [
        Secret(route),
        {"name": "kms-20-118-99-224", "addressPrefix": "20.118.99.224/32", "nextHopType": "Internet"},
        {"name": "kms-23-102-135-246", "addressPrefix": "23.102.135.246/32", "nextHopType": "Internet"},
    ]


def test_regression_unknown_vnet_name_hid_an_admin_rule(fresh_pack: PackProcess) -> None:
    """A VNet whose name input is unknown may be the VNet a literal id names; the collector only
    matched unnamed resources by logical name, so the AVNM group member (vnet-vwan) was taken as a
    VNet outside the stack and the deny-1688 admin rule vanished: reachable instead of unknown."""
    resources = estate()
    i = next(i for i, r in enumerate(resources) if r.name == "vwan-spoke")
    resources[i] = replace(resources[i], inputs={**resources[i].inputs, "virtualNetworkName": UNKNOWN})
    [apps] = [s for s in in_process(resources).subnets if s.name == "vwan-spoke/apps"]
    assert apps.verdict is Verdict.UNKNOWN
    run = run_stack(fresh_pack, resources)
    [message] = [
        m for p, u, m in observed(run.stack_violations) if p == UNVERIFIED and u.endswith("::vwan-spoke")
    ]
    assert message.startswith("Subnet vwan-spoke/apps (eastus, public cloud): KMS TCP 1688 reachability to ")


def test_regression_config_port_arrived_as_a_float(fresh_pack: PackProcess) -> None:
    """Configure carries numbers as doubles, so a valid ``extraEndpoints[].port`` of 1688 reached the
    pack as 1688.0 and was rejected: "[0].port: must be an integer, got number"."""
    endpoint = {"cloud": "public", "fqdn": "kms.contoso.com", "ip": "20.1.2.3", "port": 1688}
    fresh_pack.configure({REACHABILITY: {"extraEndpoints": [endpoint]}})
    run = run_stack(fresh_pack, estate())
    assert not any("could not evaluate" in v.message for v in run.stack_violations)
    [blocked] = [
        m for p, u, m in observed(run.stack_violations) if p == REACHABILITY and u.endswith("::vwan-spoke")
    ]
    assert "KMS TCP 1688 is blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246, 20.1.2.3;" in blocked


def test_regression_unknown_elements_of_inline_lists_were_dropped() -> None:
    """An inline route, security rule, peering or backend pool that is unknown as a whole (an
    output, or a computed list element) was skipped, so a forced-tunnel route whose object is
    unknown left ``app`` reachable. Now the list is unknown, and so is every verdict it decides."""
    resources = estate()
    i = next(i for i, r in enumerate(resources) if r.name == "rt-tunnel")
    routes = copy.deepcopy(list(resources[i].inputs["routes"]))
    routes[0] = UNKNOWN
    resources[i] = replace(resources[i], inputs={**resources[i].inputs, "routes": routes})
    [app] = [s for s in in_process(resources).subnets if s.name == "app"]
    assert app.verdict is Verdict.UNKNOWN
    j = next(i for i, r in enumerate(resources) if r.name == "nsg-app")
    resources = estate()
    rules = [UNKNOWN, *resources[j].inputs["securityRules"]]
    resources[j] = replace(resources[j], inputs={**resources[j].inputs, "securityRules": rules})
    net = collect(to_pulumi(resources))
    assert isinstance(net.nsgs[resources[j].urn].rules, ModelUnknown)


def test_regression_check_reports_quoted_a_secret_prefix(tmp_path: Path) -> None:
    """The analysis quotes prefixes in its traces ("service tag '…'"); ``kmsguard check`` rendered
    a secret route prefix from a ``--show-secrets`` export in every report format."""
    resources = estate()
    i = next(i for i, r in enumerate(resources) if r.name == "nva-default")
    resources[i] = replace(
        resources[i], inputs={**resources[i].inputs, "addressPrefix": Secret("Tag.TopSecret")}
    )
    path = tmp_path / "state.json"
    path.write_text(json.dumps(export_document(resources)), encoding="utf-8")
    ev = evaluate_export(path)
    for fmt in FORMATS:
        report = render(ev, fmt)
        assert "TopSecret" not in report, fmt
    assert "service tag '[secret]'" in render(ev, "text")


def _count_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counters of how often the analysis builds an index and evaluates endpoints and next hops."""
    import kmsguard.analysis.path as path_module
    import kmsguard.analysis.subnet as subnet_module
    from kmsguard.analysis.index import NetworkIndex

    counts = {"build": 0, "endpoint": 0, "next_hop": 0}
    build, endpoint, next_hop = NetworkIndex.build, path_module.evaluate_endpoint, path_module._next_hop

    def counting(name: str, fn: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return fn(*args, **kwargs)

        return counted

    monkeypatch.setattr(NetworkIndex, "build", staticmethod(counting("build", build)))
    monkeypatch.setattr(subnet_module, "evaluate_endpoint", counting("endpoint", endpoint))
    monkeypatch.setattr(path_module, "_next_hop", counting("next_hop", next_hop))
    return counts


def test_regression_shared_names_made_the_analysis_evaluate_every_candidate_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With thousands of resources sharing one name, every candidate of an ambiguous route was
    evaluated (1,000 resources: 1.17 million next-hop evaluations, 75 s), and each route table outside
    a subnet rebuilt the whole index. Each distinct next hop is now evaluated once per endpoint and
    the index is built once, so these counts no longer grow with the number of candidates (before:
    12.7 and 23.7 next hops per endpoint, 10 and 19 index builds, at 150 and 300 resources)."""
    from .test_limits import copies

    counts = _count_calls(monkeypatch)
    seen = []
    for n in (150, 300):
        counts.update(build=0, endpoint=0, next_hop=0)
        analyze_resources(to_pulumi(copies(n, shared_names=True)), {})
        seen.append(dict(counts))
    for run in seen:
        assert run["build"] == 1
        # the chosen route and at most one rival with another next hop settle each endpoint
        assert run["endpoint"] <= run["next_hop"] <= 2 * run["endpoint"]
    assert seen[1]["endpoint"] > seen[0]["endpoint"]  # the estate did grow
