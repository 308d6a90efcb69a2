"""One running kmsguard pack (the real ``policy/`` directory) per audit test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pack.harness import POLICY_DIR

from kmsguard.engine import PackProcess


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    with PackProcess(POLICY_DIR, project="net", stack="dev") as running:
        yield running
