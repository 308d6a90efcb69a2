"""Stack exports for the audit tests, built from ``tests/data/make_exports.py``'s documents."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"

_spec = importlib.util.spec_from_file_location("kmsguard_test_make_exports", DATA / "make_exports.py")
assert _spec is not None and _spec.loader is not None
make_exports: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_exports)

KMS_IPS = tuple(make_exports.KMS)


def standalone_kms_routes_export() -> dict[str, Any]:
    """rt-spoke: inline 0.0.0.0/0 → VirtualNetworkGateway, and the KMS /32 → Internet routes as
    standalone ``Route`` resources registered after the table (as a program that passes
    ``route_table_name=table.name`` registers them). Every subnet reaches KMS."""
    doc: dict[str, Any] = make_exports.export(False)
    resources: list[dict[str, Any]] = doc["deployment"]["resources"]
    rt = next(r for r in resources if r["type"] == "azure-native:network:RouteTable")
    rt_id = rt["outputs"]["id"]
    routes = []
    for ip in KMS_IPS:
        name = f"route-kms-{ip.replace('.', '-')}"
        inputs = {
            "resourceGroupName": make_exports.RG,
            "routeTableName": "rt-spoke",
            "routeName": name,
            "addressPrefix": f"{ip}/32",
            "nextHopType": "Internet",
        }
        outputs = {
            "id": f"{rt_id}/routes/{name}",
            "name": name,
            "addressPrefix": f"{ip}/32",
            "nextHopType": "Internet",
            "provisioningState": "Succeeded",
            "type": "Microsoft.Network/routeTables/routes",
        }
        routes.append(
            make_exports.resource(
                "azure-native:network:Route",
                name,
                inputs,
                outputs,
                propertyDependencies={"routeTableName": [rt["urn"]]},
            )
        )
        # After a deployment Azure lists the standalone routes in the table's outputs too (§3.3).
        rt["outputs"]["routes"].append(dict(outputs))
    index = resources.index(rt) + 1
    resources[index:index] = routes
    return doc


def write(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(doc, indent=4) + "\n", encoding="utf-8")
    return path
