"""Evaluations of the stack exports in tests/data, each driven through the real pack once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmsguard.evaluate import Evaluation, evaluate_export

DATA = Path(__file__).resolve().parent.parent / "data"
BLOCKED = DATA / "export-blocked.json"
COMPLIANT = DATA / "export-compliant.json"


@pytest.fixture(scope="package")
def blocked() -> Evaluation:
    return evaluate_export(BLOCKED)


@pytest.fixture(scope="package")
def compliant() -> Evaluation:
    return evaluate_export(COMPLIANT)
