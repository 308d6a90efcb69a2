"""The analysis reads each route once: a route table serves several subnets, and the repair loop
re-analyses each blocked subnet in a copy of the network with its fixes applied, so reading a table
per subnet and per copy multiplied the work (counted, not timed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from kmsguard.analysis import analyze
from kmsguard.analysis import routes as routes_module
from kmsguard.collect.pulumi import collect
from kmsguard.config import parse_settings
from kmsguard.model import Unknown as ModelUnknown

# bench/ is a top-level package of the repository, not of the installed project.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.estate import generate  # noqa: E402

KMS_IPS_PUBLIC = ("20.118.99.224", "40.83.235.53", "23.102.135.246")  # §1.1, the estate's cloud


def test_regression_each_route_table_was_read_again_for_every_subnet_and_repair_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A route table's routes were read once per subnet it serves, and again in each repair copy of
    the network (1,000-resource bench estate: 3,440 readings of 672 routes). Each route is now read
    once; a repair copy reads only the KMS routes its fixes add (at most one per KMS IP and table)."""
    network = collect(generate(1000).pulumi_resources())
    tables = [t for t in network.route_tables.values() if not isinstance(t.routes, ModelUnknown)]
    total = sum(len(t.routes) for t in tables)
    readings = 0
    read = routes_module._user_route

    def counting(*args: Any) -> Any:
        nonlocal readings
        readings += 1
        return read(*args)

    monkeypatch.setattr(routes_module, "_user_route", counting)
    result = analyze(network, parse_settings({}))
    assert any(s.fixes for s in result.subnets)  # the estate has subnets the repair loop fixes
    assert total <= readings <= total + len(KMS_IPS_PUBLIC) * len(tables)
