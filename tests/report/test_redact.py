"""Secret texts leave every report format without breaking the format's syntax."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from kmsguard.evaluate import Evaluation, evaluate_export
from kmsguard.report import FORMATS, document, render

from .conftest import BLOCKED, DATA

SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
# Secret values that are also syntax of the formats, and one that the analysis quotes.
HOSTILE = ["true", "null", "100", "line", "testcase", "name", "rt-spoke"]


@pytest.fixture(scope="module")
def with_secrets(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    data = json.loads(BLOCKED.read_text())
    for r in data["deployment"]["resources"]:
        if r["type"] == "azure-native:network:RouteTable":
            tags = {f"t{i}": {**SIG, "plaintext": json.dumps(v)} for i, v in enumerate(HOSTILE)}
            r["inputs"]["tags"] = tags
            r["outputs"]["tags"] = tags
    path = tmp_path_factory.mktemp("secrets") / "state.json"
    path.write_text(json.dumps(data, indent=4))
    return evaluate_export(path)


def test_json_and_sarif_stay_valid(with_secrets: Evaluation) -> None:
    doc = json.loads(render(with_secrets, "json"))
    jsonschema.Draft202012Validator(json.loads(document.SCHEMA_PATH.read_text())).validate(doc)
    assert doc["blocked"] is True and doc["subnets"][0]["urn"].startswith("urn:pulumi:")
    assert doc["remediations"][0]["name"] == "[secret]"
    assert all("rt-spoke" not in json.dumps(v) for v in doc["violations"])
    log = json.loads(render(with_secrets, "sarif"))
    jsonschema.Draft4Validator(json.loads((DATA / "sarif-2.1.0.schema.json").read_text())).validate(log)


def test_junit_stays_well_formed(with_secrets: Evaluation) -> None:
    root = ET.fromstring(render(with_secrets, "junit"))
    assert len(list(root.iter("testcase"))) == 4
    assert root.get("tests") == "4"


def test_html_keeps_its_markup(with_secrets: Evaluation, blocked: Evaluation) -> None:
    page = render(with_secrets, "html")
    plain = render(blocked, "html")
    for tag in ("<svg", "<line ", "<rect ", "<section ", "<td", "<style>"):
        assert page.count(tag) == plain.count(tag), tag
    assert "rt-spoke" not in page and "route table [secret]" in page


def test_no_format_quotes_a_secret(with_secrets: Evaluation) -> None:
    for fmt in FORMATS:
        out = render(with_secrets, fmt)
        if fmt in ("json", "sarif"):
            # URNs are shown as Pulumi shows them (a logical name is never secret): diffs and SARIF
            # baselines match by them. Nothing else quotes the secret.
            urns = set(re.findall(r'"(urn:pulumi:[^"]*)"', out))
            assert any(u.endswith("::rt-spoke") for u in urns), fmt
            for urn in urns:
                out = out.replace(urn, "")
        assert "rt-spoke" not in out, fmt


def test_without_secrets_nothing_changes(blocked: Evaluation, tmp_path: Path) -> None:
    assert render(blocked, "json") == (DATA / "golden" / "export-blocked.report.json").read_text()
