"""Audit A: `kmsguard check` describes the deployed state; the autofix's proposals are notes.

A remediation only exists after the next `pulumi up` (DESIGN "kmsguard check"), so what
``kms-route-autofix`` would add is reported in every format as a note: never a mandatory
violation, never exit 1, and no sentence says a preview would fail unless one would.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from kmsguard.cli import main
from kmsguard.evaluate import Evaluation, evaluate_export
from kmsguard.report import document, html, junit, sarif, text

from .exports import DATA, standalone_kms_routes_export, write

BLOCKED = DATA / "export-blocked.json"


@pytest.fixture(scope="module")
def reachable_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(standalone_kms_routes_export(), tmp_path_factory.mktemp("audit") / "state.json")


@pytest.fixture(scope="module")
def reachable(reachable_export: Path) -> Evaluation:
    return evaluate_export(reachable_export)


@pytest.fixture(scope="module")
def blocked() -> Evaluation:
    return evaluate_export(BLOCKED)


def test_a_reachable_deployed_state_exits_0(
    reachable_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(reachable_export)]) == 0
    out = capsys.readouterr().out
    assert "vnet-spoke/snet-app (VNet vnet-spoke, westeurope, public cloud): REACHABLE" in out
    assert "would fail" not in out
    assert out.endswith(
        "PASSED: no mandatory violation in the deployed state; 1 note(s) on what the next "
        "`pulumi up` with this pack would add\n"
    )


def test_every_subnet_is_reachable_and_the_autofix_is_a_note(reachable: Evaluation) -> None:
    assert {s.verdict.value for s in reachable.result.subnets} == {"reachable", "excluded"}
    assert not reachable.blocked
    assert [v.policy for v in reachable.notes] == ["kms-route-autofix"]
    assert all(v.policy != "kms-route-autofix" for v in reachable.violations)
    assert all(v.level != "mandatory" for v in reachable.violations)


def test_json_report_lists_the_note_and_validates(reachable: Evaluation) -> None:
    doc = document.document(reachable)
    jsonschema.validate(doc, json.loads(document.SCHEMA_PATH.read_text()))
    assert doc["blocked"] is False
    assert [n["policy"] for n in doc["notes"]] == ["kms-route-autofix"]
    assert doc["notes"][0]["urn"].endswith("::rt-spoke")
    assert "kms-route-autofix" not in [v["policy"] for v in doc["violations"]]


def test_sarif_reports_the_note_at_note_level(reachable: Evaluation) -> None:
    log = sarif.log(reachable)
    run = log["runs"][0]
    assert run["invocations"][0]["properties"]["blocked"] is False
    levels = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert ("KMS-ROUTE-MISSING", "note") in levels  # the autofix's finding
    assert all(r["level"] != "error" for r in run["results"])


def test_junit_note_passes(reachable: Evaluation) -> None:
    root = ET.fromstring(junit.render(reachable))
    assert root.get("failures") == "0" and root.get("errors") == "0"
    notes = [c for c in root.iter("testcase") if c.get("name", "").startswith("kms-route-autofix")]
    assert len(notes) == 1 and notes[0].find("system-out") is not None
    assert notes[0].find("failure") is None


def test_html_has_a_notes_section_and_a_passed_banner(reachable: Evaluation) -> None:
    page = html.render(reachable)
    assert '<div class="banner passed">PASSED — no mandatory violation in the deployed state' in page
    assert "Notes: what the next `pulumi up` with this pack would change (1)" in page
    assert "would fail" not in page


def test_blocked_deployed_state_counts_only_the_deployed_violations(blocked: Evaluation) -> None:
    assert blocked.blocked
    assert [v.policy for v in blocked.violations] == ["kms-reachability", "kms-reachability"]
    assert [v.policy for v in blocked.notes] == ["kms-route-autofix"]
    out = text.render_evaluation(blocked)
    # A preview would apply the autofix first and could pass: a check never claims it would fail.
    assert "would fail" not in out
    assert out.endswith(
        "BLOCKED: 2 mandatory violation(s) in the deployed state; 1 note(s) on what the next "
        "`pulumi up` with this pack would add\n"
    )
    assert (
        "notes: what the next `pulumi up` with this pack would change (1):\n  [note] kms-route-autofix on rt-spoke:"
        in out
    )


def test_autofix_configured_mandatory_is_a_violation_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reachable_export: Path
) -> None:
    # Set to mandatory it is a gate, not a remediation: its findings are violations of the state.
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"kms-route-autofix": "mandatory"}))
    assert main(["check", str(reachable_export), "--policy-config", str(cfg), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["notes"] == []
    assert [v["policy"] for v in doc["violations"] if v["level"] == "mandatory"] == ["kms-route-autofix"]


@pytest.mark.parametrize("config", [{"kms-reachability": "remediate"}, {"all": "remediate"}])
def test_a_stack_policy_set_to_remediate_still_blocks_the_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: dict[str, str]
) -> None:
    # Only a resource policy remediates; a stack policy's findings never become notes that cannot fail.
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    assert main(["check", str(BLOCKED), "--policy-config", str(cfg), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert "kms-reachability" not in [n["policy"] for n in doc["notes"]]
    assert "kms-reachability" in [v["policy"] for v in doc["violations"] if v["level"] == "mandatory"]


def test_preview_wording_is_unchanged_for_previews(blocked: Evaluation) -> None:
    from dataclasses import replace

    as_preview = replace(blocked, mode="preview", notes=())
    assert as_preview.outcome == "3 mandatory violation(s); `pulumi preview` with this pack would fail"
