"""Fixtures of the robustness suite: one long-lived kmsguard pack process over gRPC.

``KMSGUARD_LIMITS=1`` enables the resource-limit measurements (``limits`` marker); they are not part
of the default run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmsguard.engine import PackProcess

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "limits: resource-limit measurements (run with KMSGUARD_LIMITS=1)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("KMSGUARD_LIMITS") == "1":
        return
    skip = pytest.mark.skip(reason="resource-limit measurement: set KMSGUARD_LIMITS=1")
    for item in items:
        if "limits" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pack() -> Iterator[PackProcess]:
    """The real pack on ``policy/``, configured with its defaults (tests that reconfigure restore).

    The pack redacts every secret text it has been sent for the rest of its life (one process per
    preview in the engine), so tests asserting exact texts use ``fresh_pack``."""
    with PackProcess(PACK_DIR) as running:
        running.configure({})
        yield running


@pytest.fixture
def fresh_pack() -> Iterator[PackProcess]:
    """A pack process of its own, as one ``pulumi preview`` gets."""
    with PackProcess(PACK_DIR) as running:
        running.configure({})
        yield running
