"""Offline previews of the reference network (runner + the real pack), each run once per session."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kmsguard.engine import DriveResult, drive_pack
from kmsguard.engine.mocks.runner import ProgramRun, run_program

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policy"
ROUTE_TABLE = "azure-native:network:RouteTable"
ROUTE = "azure-native:network:Route"


class Previews:
    def __init__(self) -> None:
        self._runs: dict[tuple[str, tuple[tuple[str, str], ...]], ProgramRun] = {}
        self._packs: dict[tuple[str, tuple[tuple[str, str], ...], str], DriveResult] = {}

    def run(self, stack: str, config: Mapping[str, str] | None = None) -> ProgramRun:
        key = (stack, tuple(sorted((config or {}).items())))
        if key not in self._runs:
            self._runs[key] = run_program(ROOT, stack, config=config)
        return self._runs[key]

    def pack(
        self, stack: str, config: Mapping[str, str] | None = None, policy: Mapping[str, Any] | None = None
    ) -> DriveResult:
        wanted = dict(policy or {})
        key = (stack, tuple(sorted((config or {}).items())), json.dumps(wanted, sort_keys=True))
        if key not in self._packs:
            run = self.run(stack, config)
            self._packs[key] = drive_pack(
                PACK, run.pack_resources(), policy_config=wanted, project=run.project, stack=stack
            )
        return self._packs[key]


@pytest.fixture(scope="session")
def previews() -> Previews:
    return Previews()


def table_routes(run: ProgramRun) -> dict[str, list[tuple[str, str, str]]]:
    """Each route table's routes as ``(name, addressPrefix, nextHopType)``: inline ones, then the
    standalone Route resources whose ``routeTableName`` comes from that table (property dependencies)."""
    tables = {r.urn: r for r in run.registrations if r.type == ROUTE_TABLE}
    out: dict[str, list[tuple[str, str, str]]] = {}
    for table in tables.values():
        out[table.name] = [
            (x["name"], x["addressPrefix"], x["nextHopType"]) for x in table.inputs.get("routes") or []
        ]
    for route in run.registrations:
        if route.type != ROUTE:
            continue
        owners = [u for u in route.property_dependencies.get("routeTableName", ()) if u in tables]
        assert len(owners) == 1, f"route {route.name} has no single route table: {owners}"
        # An unset routeName is autonamed by the provider (unknown in preview): show the logical name.
        name = route.inputs.get("routeName")
        name = name if isinstance(name, str) else route.name
        out[tables[owners[0]].name].append((name, route.inputs["addressPrefix"], route.inputs["nextHopType"]))
    return out


def kms_routes(routes: list[tuple[str, str, str]]) -> list[str]:
    """The IPs a table routes as /32 → Internet, in order (duplicates kept, so a test sees them)."""
    return [
        prefix.removesuffix("/32")
        for _, prefix, hop in routes
        if prefix.endswith("/32") and hop == "Internet"
    ]
