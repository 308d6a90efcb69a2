"""The JSON report of `kmsguard check` on stack exports: golden documents, schema, exact values."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from kmsguard.collect.pulumi import from_stack_export
from kmsguard.evaluate import Evaluation
from kmsguard.policies import analyze_resources
from kmsguard.report import document

from .conftest import BLOCKED, DATA

GOLDEN = DATA / "golden"
SCHEMA = json.loads(document.SCHEMA_PATH.read_text(encoding="utf-8"))
RT = "urn:pulumi:prod::network::azure-native:network:RouteTable::rt-spoke"
VNET = "urn:pulumi:prod::network::azure-native:network:VirtualNetwork::vnet-spoke"
SUBNET = "urn:pulumi:prod::network::azure-native:network:Subnet::snet-data"
KMS_ROUTES = [
    {"addressPrefix": "20.118.99.224/32", "nextHopType": "Internet", "name": "kms-20-118-99-224"},
    {"addressPrefix": "40.83.235.53/32", "nextHopType": "Internet", "name": "kms-40-83-235-53"},
    {"addressPrefix": "23.102.135.246/32", "nextHopType": "Internet", "name": "kms-23-102-135-246"},
]


def validate(doc: Any) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", ["blocked", "compliant"])
def test_report_matches_golden_and_schema(name: str, blocked: Evaluation, compliant: Evaluation) -> None:
    ev = {"blocked": blocked, "compliant": compliant}[name]
    text = document.render(ev)
    doc = json.loads(text)
    validate(doc)
    # After an intended change, regenerate as tests/data/golden/README.md says and review the diff.
    assert text == (GOLDEN / f"export-{name}.report.json").read_text(encoding="utf-8")


def test_blocked_export_exact_verdicts_violations_and_would_be_remediation(blocked: Evaluation) -> None:
    doc = document.document(blocked)
    assert (doc["project"], doc["stack"], doc["blocked"]) == ("network", "prod", True)
    assert [
        (s["name"], s["urn"], s["vnet"], s["location"], s["cloud"], s["verdict"]) for s in doc["subnets"]
    ] == [
        ("vnet-spoke/snet-app", VNET, "vnet-spoke", "westeurope", "public", "blocked"),
        ("vnet-spoke/GatewaySubnet", VNET, "vnet-spoke", "westeurope", "", "excluded"),
        ("snet-data", SUBNET, "vnet-shared", "westeurope", "public", "blocked"),
    ]
    app = doc["subnets"][0]
    assert [(e["fqdn"], e["ip"], e["verdict"]) for e in app["endpoints"]] == [
        ("azkms.core.windows.net", "20.118.99.224", "blocked"),
        ("azkms.core.windows.net", "40.83.235.53", "blocked"),
        ("kms.core.windows.net", "23.102.135.246", "blocked"),
    ]
    assert app["endpoints"][0]["trace"][-1] == {
        "step": "route",
        "detail": "route table rt-spoke route default-to-onprem: 0.0.0.0/0 → VirtualNetworkGateway (selected for "
        "20.118.99.224): traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP (docs/rules.md#azure-public-source)",
        "urn": RT,
        "finding": "KMS-ROUTE-FORCED-TUNNEL",
    }
    assert [(f["kind"], f["target"], f["urn"]) for f in app["fixes"]] == [("add-routes", "rt-spoke", RT)]
    # check: the autofix's finding is a note about the next `pulumi up`, not a violation (audit A).
    assert [(v["policy"], v["level"], v["urn"]) for v in doc["violations"]] == [
        ("kms-reachability", "mandatory", VNET),
        ("kms-reachability", "mandatory", SUBNET),
    ]
    assert [(n["policy"], n["urn"]) for n in doc["notes"]] == [("kms-route-autofix", RT)]
    assert doc["violations"][0]["message"].startswith(
        "Subnet vnet-spoke/snet-app (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked to "
        "20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074"
    )
    # An audit reports what autofix would add, and the verdicts stay those of the deployed state.
    assert doc["remediations"] == [
        {"policy": "kms-route-autofix", "urn": RT, "name": "rt-spoke", "added": KMS_ROUTES}
    ]


def test_compliant_export_passes_with_nothing_to_remediate(compliant: Evaluation) -> None:
    doc = document.document(compliant)
    assert doc["blocked"] is False
    assert [(s["name"], s["verdict"]) for s in doc["subnets"]] == [
        ("vnet-spoke/snet-app", "reachable"),
        ("vnet-spoke/GatewaySubnet", "excluded"),
        ("snet-data", "reachable"),
    ]
    assert all(e["verdict"] == "reachable" for s in doc["subnets"] for e in s["endpoints"])
    assert doc["violations"] == [] and doc["remediations"] == []


def test_report_details_come_from_the_pack_analysis_of_the_same_resources(blocked: Evaluation) -> None:
    """Every subnet the report calls blocked is a kms-reachability violation of the pack, and the
    in-process analysis equals a fresh analysis of the export (the deployed state is not remediated)."""
    reported = {v.urn for v in blocked.violations if v.policy == "kms-reachability"}
    assert {s.urn for s in blocked.result.subnets if s.verdict.value == "blocked"} == reported
    fresh = analyze_resources(from_stack_export(json.loads(BLOCKED.read_text())), {})
    assert [(s.name, s.verdict, s.endpoints) for s in fresh.subnets] == [
        (s.name, s.verdict, s.endpoints) for s in blocked.result.subnets
    ]


def test_schema_rejects_what_the_report_never_holds(blocked: Evaluation) -> None:
    doc = document.document(blocked)
    for broken in (
        {**doc, "extra": 1},
        {**doc, "blocked": "yes"},
        {**doc, "subnets": [{**doc["subnets"][0], "verdict": "maybe"}]},
        {**doc, "violations": [{**doc["violations"][0], "level": "remediate"}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_secret_and_unknown_values_never_print() -> None:
    from kmsguard.engine import UNKNOWN, Remediation, Secret

    r = Remediation(
        "p",
        "kmsguard",
        RT,
        "",
        {"routes": []},
        {"routes": [{"name": Secret("s3cret"), "x": UNKNOWN}], "tags": {"a": Secret("t")}},
    )
    assert document.remediation(r)["added"] == [
        {"name": "[secret]", "x": "(unknown during preview)"},
        {"property": "tags", "value": {"a": "[secret]"}},
    ]
