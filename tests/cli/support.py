"""Helpers for driving the installed ``kmsguard`` as CI does: a subprocess, exit code and streams."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

KMSGUARD = Path(sys.executable).parent / "kmsguard"
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"


def kmsguard(
    *args: str, cwd: Path | None = None, timeout: float = 180, preexec_fn: Callable[[], Any] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KMSGUARD), *args],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        check=False,
        timeout=timeout,
        cwd=cwd,
        preexec_fn=preexec_fn,  # only resource limits, set in a fresh child
    )


def first_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The first ``kmsguard:`` line of stderr (program output may come before it)."""
    return next(line for line in proc.stderr.splitlines() if line.startswith("kmsguard: "))


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stdout
