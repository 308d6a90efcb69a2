"""Regression tests for the bugs the robustness suite found, one per bug, named after it."""

from __future__ import annotations

import copy
from dataclasses import replace

from kmsguard.engine import PackProcess, Secret

from .estate import estate
from .support import REACHABILITY, UNVERIFIED, observed, run_stack


def test_regression_secret_names_echoed_by_the_pack(pack: PackProcess) -> None:
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
    run = run_stack(pack, resources)
    everything = "\n".join([*(v.message for v in run.violations), pack.stderr, pack.stdout])
    assert "TopSecret" not in everything
    [blocked] = [
        m for p, u, m in observed(run.stack_violations) if p == REACHABILITY and u.endswith("::vwan-spoke")
    ]
    assert blocked.startswith("Subnet vwan-spoke/[secret] (eastus, public cloud): Windows cannot activate.")
    [unknown] = [m for p, u, m in observed(run.stack_violations) if p == UNVERIFIED and u.endswith("::db")]
    assert "- route table rt-nva route [secret]: 0.0.0.0/0 → VirtualAppliance 10.9.0.4" in unknown
