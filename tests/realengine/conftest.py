"""The real Pulumi CLI for the tests that run it (``make engine`` builds it; see docs/engine.md).

Without one the tests skip, with one line at the end of the run saying why; under ``CI=true`` they fail,
since CI builds the CLI first (.ci/run).
"""

from __future__ import annotations

import os

import pytest

from kmsguard.engine.pulumi_cli.install import NO_CLI, PulumiCli, find_pulumi


@pytest.fixture(scope="session")
def pulumi_cli() -> PulumiCli:
    cli = find_pulumi()
    if cli is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{NO_CLI}; CI builds it in .ci/run before the tests")
        pytest.skip(NO_CLI)
    return cli
