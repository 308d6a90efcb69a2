"""kmsguard.evaluate: the engine sequences it drives, and the split of the time it reports."""

from __future__ import annotations

from kmsguard.engine import PackProcess, drive_pack
from kmsguard.evaluate import DEFAULT_PACK, drive_started, load_stack_export

from .conftest import BLOCKED


def test_preview_sequence_is_drive_packs() -> None:
    """On a started pack, ``apply=True`` is exactly ``drive_pack``: same violations, remediations
    and remediated resources, in the same order."""
    resources = load_stack_export(BLOCKED).resources
    reference = drive_pack(DEFAULT_PACK, resources)
    with PackProcess(DEFAULT_PACK) as pack:
        ours = drive_started(pack, resources, {}, apply=True)
    assert ours.violations == reference.violations
    assert ours.remediations == reference.remediations
    assert ours.final_resources == reference.final_resources
    assert ours.final_resources != resources, "the route table was remediated"


def test_audit_sequence_reports_remediations_without_applying_them() -> None:
    resources = load_stack_export(BLOCKED).resources
    with PackProcess(DEFAULT_PACK) as pack:
        audit = drive_started(pack, resources, {}, apply=False)
    assert audit.final_resources == resources
    assert [(r.policy, r.urn.rsplit("::", 1)[-1]) for r in audit.remediations] == [
        ("kms-route-autofix", "rt-spoke")
    ]
    assert set(audit.timings) == {"start", "configure", "remediate", "analyze", "analyze_stack"}
