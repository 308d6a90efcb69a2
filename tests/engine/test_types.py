"""kmsguard.engine.types.EnforcementLevel: one enum from every boundary in, the same text out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.runtime.proto import analyzer_pb2

from kmsguard.engine import EnforcementLevel, Violation, driver
from kmsguard.engine.pulumi_cli.events import read_events
from kmsguard.errors import KmsguardError
from kmsguard.report.sarif import LEVELS


def test_levels_are_the_engine_names_in_the_engine_order() -> None:
    assert [str(level) for level in EnforcementLevel] == ["advisory", "mandatory", "remediate", "disabled"]
    assert tuple(EnforcementLevel) == driver.ENFORCEMENT_LEVELS


@pytest.mark.parametrize("level", list(EnforcementLevel))
def test_a_level_reads_and_serialises_as_its_name(level: EnforcementLevel) -> None:
    # What keeps the text, JSON, SARIF and JUnit reports byte-for-byte what they were with strings.
    assert f"[{level}]" == f"[{level.value}]"
    assert json.dumps({"level": level}) == json.dumps({"level": level.value})
    assert level == level.value and {level.value: 1}[level] == 1
    assert EnforcementLevel.parse(level.value) is level


@pytest.mark.parametrize("text", ["", "Mandatory", "strict", None, 1])
def test_parse_refuses_what_is_no_level(text: object) -> None:
    assert EnforcementLevel.parse(text) is None


def test_the_proto_maps_are_the_only_int_boundary_and_cover_every_level() -> None:
    values = set(analyzer_pb2.EnforcementLevel.values())
    assert set(driver._LEVEL_OF_PROTO) == values
    assert set(driver._LEVEL_OF_PROTO.values()) == set(EnforcementLevel)
    assert {driver._PROTO_OF_LEVEL[level]: level for level in EnforcementLevel} == dict(
        driver._LEVEL_OF_PROTO
    )


def test_policy_config_levels_are_parsed_into_the_enum() -> None:
    parsed = driver._parse_policy_pack_config(
        {"a": "disabled", "b": {"enforcementLevel": "remediate", "x": 1}, "c": {"x": 2}}
    )
    assert parsed["a"].level is EnforcementLevel.DISABLED
    assert parsed["b"].level is EnforcementLevel.REMEDIATE
    assert parsed["c"].level is None


def _event_log(tmp_path: Path, level: object) -> Path:
    event = {
        "policyEvent": {"policyName": "p", "policyPackName": "k", "enforcementLevel": level, "message": "m\n"}
    }
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(event) + "\n", encoding="utf-8")
    return path


def test_event_log_levels_are_parsed_into_the_enum(tmp_path: Path) -> None:
    (violation,) = read_events(_event_log(tmp_path, "mandatory")).violations
    assert violation.level is EnforcementLevel.MANDATORY


@pytest.mark.parametrize("level", ["", "fatal", None])
def test_an_event_level_that_is_no_level_is_an_error_not_a_guess(tmp_path: Path, level: object) -> None:
    with pytest.raises(KmsguardError, match="enforcement level"):
        read_events(_event_log(tmp_path, level))


def test_a_violation_built_with_the_name_equals_one_built_with_the_enum() -> None:
    def violation(level: EnforcementLevel) -> Violation:
        return Violation("p", "k", level, "", "m", "", "")

    assert violation(EnforcementLevel.ADVISORY) == violation("advisory")  # type: ignore[arg-type]


def test_sarif_maps_every_level() -> None:
    assert set(LEVELS) == set(EnforcementLevel)
