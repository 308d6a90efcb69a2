"""Session-wide set-up shared by every test directory.

The test programs under ``tests/programs`` declare ``runtime: python`` without a virtualenv. The Pulumi
language host runs such a program with ``$PULUMI_PYTHON_CMD``, else ``python3``/``python`` from ``PATH``
(sdk/python/toolchain/pip.go ``CommandPath``), and so does the stand-in. Pointing PULUMI_PYTHON_CMD at the
interpreter running the tests (the one with ``pulumi`` and ``pulumi_azure_native`` installed) is what a
user of the CLI would do; it is inherited by the ``kmsguard`` subprocesses the CLI tests start.
"""

from __future__ import annotations

import os
import sys
from typing import Any

os.environ.setdefault("PULUMI_PYTHON_CMD", sys.executable)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One visible line when the real-engine tests could not run (no `make engine` on this machine)."""
    from kmsguard.engine.pulumi_cli.install import NO_CLI

    skipped = terminalreporter.stats.get("skipped", [])
    if any(NO_CLI in str(getattr(report, "longrepr", "")) for report in skipped):
        terminalreporter.write_line(f"kmsguard: real-engine tests skipped: {NO_CLI}", yellow=True, bold=True)
