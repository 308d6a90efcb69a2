"""SARIF 2.1.0 output, validated against the OASIS schema shipped in tests/data."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema

from kmsguard.evaluate import Evaluation
from kmsguard.findings import FINDINGS, Finding
from kmsguard.report import sarif

from .conftest import BLOCKED, DATA

SCHEMA = json.loads((DATA / "sarif-2.1.0.schema.json").read_text(encoding="utf-8"))
RT = "urn:pulumi:prod::network::azure-native:network:RouteTable::rt-spoke"
VNET = "urn:pulumi:prod::network::azure-native:network:VirtualNetwork::vnet-spoke"


def validate(log: Any) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_shipped_schema_is_the_oasis_one() -> None:
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert {"run", "result", "reportingDescriptor", "location", "physicalLocation"} <= set(
        SCHEMA["definitions"]
    )


def test_blocked_check_is_valid_sarif_with_one_result_per_violation(blocked: Evaluation) -> None:
    root = BLOCKED.parent.parent.parent
    log = json.loads(sarif.render(blocked, cwd=root))
    validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    # One rule per finding, in the order of the closed set, so an index means the same in every log.
    assert [r["id"] for r in rules] == [f.value for f in Finding]
    forced = rules[0]
    assert forced == {
        "id": "KMS-ROUTE-FORCED-TUNNEL",
        "name": "KmsRouteForcedTunnel",
        "shortDescription": {"text": FINDINGS[Finding.ROUTE_FORCED_TUNNEL].short},
        "fullDescription": {"text": FINDINGS[Finding.ROUTE_FORCED_TUNNEL].full},
        "helpUri": "docs/findings.md#kms-route-forced-tunnel",
        "help": {
            "text": f"{FINDINGS[Finding.ROUTE_FORCED_TUNNEL].short} See docs/findings.md#kms-route-forced-tunnel."
        },
        "defaultConfiguration": {"level": "error", "enabled": True},
        "properties": {"policy": "kms-reachability"},
    }
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert (levels["KMS-UNKNOWN-ROUTE"], levels["KMS-ROUTE-MISSING"]) == ("warning", "warning")
    assert all(
        r["helpUri"].startswith("docs/findings.md#kms-") and r["shortDescription"]["text"] for r in rules
    )
    assert "informationUri" not in run["tool"]["driver"]  # no invented URL
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = run["results"]
    # check: the autofix's finding is a note (audit A), after the violations.
    assert [(r["ruleId"], r["ruleIndex"], r["level"], r["properties"]["policy"]) for r in results] == [
        ("KMS-ROUTE-FORCED-TUNNEL", index["KMS-ROUTE-FORCED-TUNNEL"], "error", "kms-reachability"),
        ("KMS-ROUTE-FORCED-TUNNEL", index["KMS-ROUTE-FORCED-TUNNEL"], "error", "kms-reachability"),
        ("KMS-ROUTE-MISSING", index["KMS-ROUTE-MISSING"], "note", "kms-route-autofix"),
    ]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    lines = BLOCKED.read_text().splitlines()
    for r in results:
        (loc,) = r["locations"]
        urn = loc["logicalLocations"][0]["fullyQualifiedName"]
        physical = loc["physicalLocation"]
        # check: the line of the state file that holds the resource's URN
        assert physical["artifactLocation"] == {
            "uri": "tests/data/export-blocked.json",
            "uriBaseId": "SRCROOT",
        }
        assert f'"urn": "{urn}"' in lines[physical["region"]["startLine"] - 1]
    assert results[2]["locations"][0]["logicalLocations"] == [
        {"fullyQualifiedName": RT, "name": "rt-spoke", "kind": "resource"}
    ]
    assert results[0]["message"]["text"].startswith("Subnet vnet-spoke/snet-app (westeurope, public cloud)")
    assert len({r["partialFingerprints"]["kmsguardViolation/v1"] for r in results}) == 3
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": root.resolve().as_uri() + "/"}}


def test_compliant_check_has_no_results(compliant: Evaluation) -> None:
    log = json.loads(sarif.render(compliant))
    validate(log)
    assert log["runs"][0]["results"] == []


def test_preview_results_point_at_the_program_line(blocked: Evaluation, tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text("\n" * 40)
    ev = replace(blocked, origin=None, project_dir=tmp_path, sources={VNET: ("__main__.py", 17)})
    log = sarif.log(ev, cwd=tmp_path)
    validate(log)
    by_urn = {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r["locations"][0]
        for r in log["runs"][0]["results"]
    }
    assert by_urn[VNET]["physicalLocation"] == {
        "artifactLocation": {"uri": "__main__.py", "uriBaseId": "SRCROOT"},
        "region": {"startLine": 17},
    }
    # No recorded source and no Pulumi.yaml: the URN alone, as a logical location.
    assert "physicalLocation" not in by_urn[RT]


def test_disabled_policy_rule_is_not_enabled(blocked: Evaluation) -> None:
    ev = replace(
        blocked,
        drive=replace(
            blocked.drive,
            policies=tuple(replace(p, enforcement_level="disabled") for p in blocked.drive.policies),
        ),
    )
    log = sarif.log(ev)
    validate(log)
    assert {json.dumps(r["defaultConfiguration"]) for r in log["runs"][0]["tool"]["driver"]["rules"]} == {
        '{"level": "none", "enabled": false}'
    }


def test_a_configured_base_url_makes_the_links_absolute(blocked: Evaluation, monkeypatch: Any) -> None:
    monkeypatch.setenv("KMSGUARD_DOCS_URL", "https://git.example.com/kmsguard/blob/main/")
    log = sarif.log(blocked)
    validate(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://git.example.com/kmsguard/blob/main"
    assert driver["rules"][0]["helpUri"] == (
        "https://git.example.com/kmsguard/blob/main/docs/findings.md#kms-route-forced-tunnel"
    )
