"""The wording of traces, owned in one place.

The scenario tests (test_semantics) assert what decided each verdict as data: (finding, hop,
rule). The sentences are pinned here instead: ``golden/wording.txt`` is every trace of every §11
scenario of the table, rendered (the decisive step marked ``>``), and the renderer's own cases are
checked one by one in test_wording_cases. After an intended change of wording, regenerate the
golden file from the repository root and review the diff:

    .venv/bin/python -m tests.scenarios.test_wording
"""

from __future__ import annotations

from pathlib import Path

from kmsguard.analysis import EndpointResult, SubnetResult

from .network import subnet_result
from .test_semantics import SCENARIOS

GOLDEN = Path(__file__).parent / "golden" / "wording.txt"


def _endpoint(e: EndpointResult, indent: str) -> list[str]:
    lines = [f"{indent}{e.fqdn} {e.ip}: {e.verdict}"]
    for step in e.trace:
        mark = ">" if step is e.decisive else " "
        lines.append(f"{indent} {mark} [{step.kind}] {step.outcome}: {step.detail}")
    return lines


def _subnet(sc_id: str, result: SubnetResult) -> list[str]:
    lines = [f"== {sc_id}: {result.name} {result.verdict}"]
    lines.extend(f"  note [{n.kind}] {n.outcome}: {n.detail}" for n in result.notes)
    for e in result.endpoints:
        lines.extend(_endpoint(e, "  "))
    for nic in result.nics:
        lines.append(f"  NIC {nic.name}: {nic.verdict}")
        for e in nic.endpoints:
            lines.extend(_endpoint(e, "    "))
    return lines


def rendered() -> str:
    lines: list[str] = []
    for sc in SCENARIOS:
        lines.extend(_subnet(sc.id, subnet_result(sc.data)))
    return "\n".join(lines) + "\n"


def test_scenario_traces_match_the_golden_wording() -> None:
    # After an intended change, regenerate as the module docstring says and review the diff.
    assert rendered() == GOLDEN.read_text(encoding="utf-8")


def test_the_golden_file_holds_every_scenario_and_a_decisive_step_for_each_verdict() -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    assert [line.split(":")[0][3:] for line in text.splitlines() if line.startswith("== ")] == [
        sc.id for sc in SCENARIOS
    ]
    # Every endpoint of the table has a decisive step (the verdict is never left unexplained).
    endpoints = sum(len(subnet_result(sc.data).endpoints) for sc in SCENARIOS)
    subnet_marks = sum(1 for line in text.splitlines() if line.startswith("   > "))
    assert subnet_marks == endpoints


if __name__ == "__main__":
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(rendered(), encoding="utf-8")
    print(f"wrote {GOLDEN}")
