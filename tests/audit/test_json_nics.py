"""The JSON report lists the NICs whose path differs from their subnet's, with endpoints and traces,
as the text and HTML reports show them; JUnit and SARIF name them too (DESIGN "JSON report")."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import jsonschema
from scenarios.network import PUBLIC_KMS, network

from kmsguard.analysis import analyze
from kmsguard.collect.description import parse_description
from kmsguard.engine.driver import DriveResult
from kmsguard.evaluate import Evaluation
from kmsguard.report import document, junit

SCHEMA = json.loads(document.SCHEMA_PATH.read_text(encoding="utf-8"))
ILB = {"name": "ilb", "sku": "Standard", "public": False, "backendPools": [{"name": "pool"}]}
NIC_BLOCK = (
    "Internet next hop: the VM is in Standard internal load balancer ilb without an outbound rule, so the VM has "
    "no outbound access (docs/rules.md#explicit-outbound)"
)


def _evaluation(data: dict[str, Any]) -> Evaluation:
    net, settings = parse_description(data)
    drive = DriveResult("kmsguard", (), (), (), (), "", {})
    return Evaluation("check", "net", "dev", drive, analyze(net, settings))


def _in_pool() -> Evaluation:
    """§11 #24: the subnet's own path is reachable, its VM's NIC (Standard internal LB pool) is not."""
    return _evaluation(
        network(
            loadBalancers=[ILB],
            nics=[
                {"name": "nic1", "subnet": "V/S", "privateIp": "10.0.1.4", "backendPools": ["ilb/pool"]},
                {"name": "nic2", "subnet": "V/S", "privateIp": "10.0.1.5"},
            ],
        )
    )


def test_json_lists_the_nics_whose_path_differs() -> None:
    doc = document.document(_in_pool())
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    [subnet] = doc["subnets"]
    assert subnet["verdict"] == "blocked"
    assert [e["verdict"] for e in subnet["endpoints"]] == ["reachable"] * 3
    # nic2 is on the subnet's path: left out; nic1 is blocked by its own load balancer pool.
    assert [(n["name"], n["urn"], n["verdict"]) for n in subnet["nics"]] == [("nic1", None, "blocked")]
    [nic] = subnet["nics"]
    assert [(e["ip"], e["verdict"]) for e in nic["endpoints"]] == [(ip, "blocked") for ip in PUBLIC_KMS]
    assert [
        (t["step"], t["detail"], t.get("finding"))
        for t in nic["endpoints"][0]["trace"]
        if t["step"] == "egress"
    ] == [("egress", NIC_BLOCK, "KMS-NO-OUTBOUND")]


def test_json_nics_is_empty_when_every_nic_is_on_the_subnets_path() -> None:
    ev = _evaluation(network(nics=[{"name": "nic1", "subnet": "V/S", "privateIp": "10.0.1.4"}]))
    [subnet] = document.document(ev)["subnets"]
    assert subnet["verdict"] == "reachable"
    assert subnet["nics"] == []


def test_reports_without_nics_stay_valid() -> None:
    """Reports written before ``nics`` existed (diff baselines) still validate."""
    doc = document.document(_in_pool())
    del doc["subnets"][0]["nics"]
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_junit_names_the_blocked_nic() -> None:
    root = ET.fromstring(junit.render(_in_pool()))
    [failure] = root.iter("failure")
    assert failure.get("message") == f"KMS TCP 1688 blocked to {', '.join(PUBLIC_KMS)}"
    assert (failure.text or "").splitlines() == [
        *(f"NIC nic1: azkms.core.windows.net {ip}: [egress] {NIC_BLOCK}" for ip in PUBLIC_KMS[:2]),
        f"NIC nic1: kms.core.windows.net {PUBLIC_KMS[2]}: [egress] {NIC_BLOCK}",
        "fix:",
        "  1. subnet V/S: associate a NAT gateway with a public IP (explicit outbound; Windows activation needs it "
        "in a private subnet or behind a Standard load balancer, docs/rules.md#explicit-outbound)",
    ]
