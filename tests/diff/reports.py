"""JSON reports (report.schema.json) built directly, for the diff tests that need no program run."""

from __future__ import annotations

from typing import Any

IPS = [
    ("azkms.core.windows.net", "20.118.99.224"),
    ("azkms.core.windows.net", "40.83.235.53"),
    ("kms.core.windows.net", "23.102.135.246"),
]
FIX = {
    "kind": "add-routes",
    "target": "rt-app",
    "urn": "urn:pulumi:dev::net::azure-native:network:RouteTable::rt-app",
    "detail": "route table rt-app: add 20.118.99.224/32 → Internet",
    "code": 'routes=[..., azure_native.network.RouteArgs(name="kms", address_prefix="20.118.99.224/32")]',
}


def urn(name: str, kind: str = "Subnet", stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::net::azure-native:network:{kind}::{name}"


def subnet(
    name: str,
    verdict: str,
    *,
    vnet: str = "vnet",
    subnet_urn: str | None = None,
    endpoints: list[str] | None = None,
    last_step: str = "route table rt-app route default: 0.0.0.0/0 → VirtualNetworkGateway",
    fixes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    verdicts = endpoints or ([] if verdict == "excluded" else [verdict] * 3)
    return {
        "name": name,
        "urn": subnet_urn if subnet_urn is not None else urn(name),
        "vnet": vnet,
        "location": "westeurope",
        "cloud": "public",
        "verdict": verdict,
        "endpoints": [
            {
                "fqdn": fqdn,
                "ip": ip,
                "verdict": v,
                "trace": [{"step": "route", "detail": f"{last_step} ({ip})", "urn": None}],
            }
            for (fqdn, ip), v in zip(IPS, verdicts, strict=False)
        ],
        "fixes": fixes if fixes is not None else ([FIX] if verdict == "blocked" else []),
    }


def violation(s: dict[str, Any], blocked_by: list[str], policy: str = "kms-reachability") -> dict[str, Any]:
    heading = "Blocked by:" if policy == "kms-reachability" else "Unknown because:"
    lines = [f"Subnet {s['name']} (westeurope, public cloud): Windows cannot activate.", heading]
    lines += [f"- {b}" for b in blocked_by] + ["Docs: https://example.invalid/findings.md"]
    return {
        "policy": policy,
        "level": "mandatory" if policy == "kms-reachability" else "advisory",
        "urn": s["urn"],
        "message": "\n".join(lines),
    }


def report(
    subnets: list[dict[str, Any]], violations: list[dict[str, Any]] | None = None, *, stack: str = "dev"
) -> dict[str, Any]:
    vs = violations or []
    return {
        "project": "net",
        "stack": stack,
        "blocked": any(v["level"] == "mandatory" for v in vs),
        "subnets": subnets,
        "violations": vs,
        "remediations": [],
    }
