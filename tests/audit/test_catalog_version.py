"""Audit E: the catalog has a version, a date and its sources; every report names the version."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from kmsguard.catalog import load_catalog, load_catalog_from
from kmsguard.errors import ValidationError
from kmsguard.evaluate import Evaluation, evaluate_export
from kmsguard.report import document, html, junit, sarif, text

from .exports import DATA

CATALOG_DATA = Path(__file__).resolve().parents[2] / "kmsguard" / "catalog" / "data"


@pytest.fixture(scope="module")
def blocked() -> Evaluation:
    return evaluate_export(DATA / "export-blocked.json")


def test_the_catalog_has_a_version_date_and_sources() -> None:
    catalog = load_catalog()
    meta = json.loads((CATALOG_DATA / "version.json").read_text())
    assert (catalog.version, catalog.date) == (meta["version"], meta["date"])
    assert {"S1", "S2", "S3", "K1", "G1", "UNCONFIRMED"} <= set(catalog.sources)
    assert catalog.sources["S1"].startswith(
        "Microsoft troubleshooting: custom routes to enable KMS activation"
    )


def test_a_source_tag_missing_from_version_json_is_an_error(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    shutil.copytree(CATALOG_DATA, directory)
    meta = json.loads((directory / "version.json").read_text())
    meta["sources"] = [s for s in meta["sources"] if s["tag"] != "K1"]
    (directory / "version.json").write_text(json.dumps(meta))
    with pytest.raises(
        ValidationError, match=r"gvlk\.json: gvlks\[0\]\.source: source 'K1' is not listed in version\.json"
    ):
        load_catalog_from(directory)


def test_a_bad_version_is_an_error(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    shutil.copytree(CATALOG_DATA, directory)
    meta = json.loads((directory / "version.json").read_text())
    meta["version"] = "latest"
    (directory / "version.json").write_text(json.dumps(meta))
    with pytest.raises(
        ValidationError, match=r"version\.json: version: 'latest' is not a version like 2026\.12\.0"
    ):
        load_catalog_from(directory)


def test_every_report_names_the_catalog_version(blocked: Evaluation) -> None:
    catalog = load_catalog()
    line = f"catalog {catalog.version} ({catalog.date})"
    assert text.render_evaluation(blocked).splitlines()[1] == line
    doc = document.document(blocked)
    assert doc["catalog"] == {"version": catalog.version, "date": catalog.date}
    jsonschema.validate(doc, json.loads(document.SCHEMA_PATH.read_text()))
    driver = sarif.log(blocked)["runs"][0]["tool"]["driver"]
    assert driver["properties"]["catalog"] == {"version": catalog.version, "date": catalog.date}
    root = ET.fromstring(junit.render(blocked))
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["kmsguard.catalog.version"] == catalog.version
    assert props["kmsguard.catalog.date"] == catalog.date
    assert line in html.render(blocked)
