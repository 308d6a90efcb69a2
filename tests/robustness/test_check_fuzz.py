"""``kmsguard check`` on hostile ``pulumi stack export`` files.

Two layers: bags (the estate edited as in ``test_pack_fuzz``, written as an export with secrets as
``--show-secrets`` plaintext envelopes) evaluated through the pack and rendered in every report
format; and the file structure itself (junk in urn, type, inputs, dependencies… or no JSON at all),
where the CLI must answer with exit 2 and one error line naming the resource, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from kmsguard.cli import main
from kmsguard.engine import PackResource, Secret, Unknown
from kmsguard.engine.wire import SECRET_SIG, SIG_KEY
from kmsguard.evaluate import evaluate_export
from kmsguard.report import FORMATS, render

from .estate import estate
from .mutations import KINDS, MALFORMING, Edit, apply, edits
from .support import MARKER_PREFIX, in_process, scaled

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
BASE = estate()
# Baseline verdicts by (urn, name) as the JSON report lists subnets; a check applies no remediation.
BEFORE = {(s.urn, s.name): s.verdict.value for s in in_process(BASE).subnets}


def exported(value: Any) -> Any:
    """A value as `pulumi stack export --show-secrets` writes it."""
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(exported(value.value))}
    if isinstance(value, Unknown):
        return value.sentinel
    if isinstance(value, dict):
        return {k: exported(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exported(v) for v in value]
    return value


def export_document(resources: list[PackResource]) -> dict[str, Any]:
    items = [
        {
            "urn": "urn:pulumi:dev::net::pulumi:pulumi:Stack::net-dev",
            "type": "pulumi:pulumi:Stack",
            "custom": False,
        }
    ]
    for r in resources:
        bag = exported(dict(r.inputs))
        items.append(
            {"urn": r.urn, "type": r.type, "custom": True, "id": r.name, "inputs": bag, "outputs": bag}
        )
    return {"version": 3, "deployment": {"manifest": {"time": "2026-01-01T00:00:00Z"}, "resources": items}}


def _write(tmp: Path, doc: Any) -> Path:
    path = tmp / "state.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


@settings(max_examples=scaled(10), deadline=None, suppress_health_check=SLOW)
@given(st.one_of(edits(BASE, KINDS), edits(BASE, MALFORMING, no_renames=True).map(lambda e: [*e, None])))
def test_check_reports_never_crash_leak_or_pass_a_malformed_value(
    tmp_path_factory: pytest.TempPathFactory, changes: list[Edit | None]
) -> None:
    malforming = changes[-1] is None
    real = [e for e in changes if e is not None]
    for e in real:
        note(e.describe(BASE))
    path = _write(tmp_path_factory.mktemp("check"), export_document(apply(BASE, real)))
    ev = evaluate_export(path)
    assert ev.blocked == any(v.level == "mandatory" for v in ev.violations)
    assert MARKER_PREFIX not in ev.drive.stderr
    reports = {fmt: render(ev, fmt) for fmt in FORMATS}
    for fmt, report in reports.items():
        assert MARKER_PREFIX not in report, fmt
    document = json.loads(reports["json"])
    if malforming:
        for subnet in document["subnets"]:
            if BEFORE.get((subnet["urn"], subnet["name"]), "reachable") != "reachable":
                assert subnet["verdict"] != "reachable", subnet["name"]


JUNK: list[Any] = [7, None, "", [], {}, "x", ["x"], {"a": 7}, True]
FIELDS = [
    "urn",
    "type",
    "inputs",
    "outputs",
    "propertyDependencies",
    "dependencies",
    "parent",
    "provider",
    "delete",
]
WHOLE_FILES: list[Any] = [
    "",
    "{",
    "[]",
    "null",
    '"text"',
    {"version": 3},
    {"deployment": []},
    {"deployment": {"resources": {}}},
    {"deployment": {"resources": [7]}},
    {"deployment": {"resources": []}},
]


@st.composite
def broken_files(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(WHOLE_FILES))
    doc = export_document(BASE[:8])
    items = doc["deployment"]["resources"]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(items) - 1))
        items[i][draw(st.sampled_from(FIELDS))] = draw(st.sampled_from(JUNK))
    return doc


@settings(max_examples=scaled(40), deadline=None, suppress_health_check=SLOW)
@given(broken_files())
def test_check_on_broken_files_exits_2_naming_the_resource(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str], doc: Any
) -> None:
    path = _write(tmp_path_factory.mktemp("broken"), doc)
    code = main(["check", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if code == 2:
        [line] = err.strip().splitlines()
        assert line.startswith(f"kmsguard: error: {path}"), line
        if (
            isinstance(doc, dict)
            and isinstance(doc.get("deployment"), dict)
            and doc["deployment"].get("resources")
        ):
            assert "resources[" in line or "urn:pulumi:" in line or "resource" in line, line
    else:
        assert code in (0, 1), err
        json.loads(out)
