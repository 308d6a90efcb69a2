"""One running kmsguard pack (the real ``policy/`` directory) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kmsguard.engine import PackProcess

from .harness import POLICY_DIR


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    with PackProcess(POLICY_DIR, project="net", stack="dev") as running:
        yield running
