"""The JSON report (DESIGN "JSON report"), documented by ``report.schema.json``.

Every other machine format (SARIF, JUnit, HTML) is rendered from the same evaluation, so the data
choices live here: a violation's message without the policy description the SDK prefixes to it, a
missing URN as ``null``, and a remediation as the items it added.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kmsguard.analysis import EndpointResult, Fix, NicResult, Step, SubnetResult
from kmsguard.engine import Remediation, Secret, Unknown, Violation, encode_value
from kmsguard.evaluate import Evaluation
from kmsguard.protocol import SECRET_PLACEHOLDER, logical_name

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def document(ev: Evaluation) -> dict[str, Any]:
    """The report as JSON-ready data, keys in the order DESIGN lists them."""
    return {
        "project": ev.project,
        "stack": ev.stack,
        "blocked": ev.blocked,
        "subnets": [subnet(s) for s in ev.result.subnets],
        "violations": [violation(v) for v in ev.violations],
        "remediations": [remediation(r) for r in ev.remediations],
        "notes": [note(v) for v in ev.notes],
        "engine": engine(ev),
        "catalog": catalog_info(),
    }


def catalog_info() -> dict[str, str]:
    """The catalog the verdicts were computed with (its KMS IPs and locations change over time)."""
    from kmsguard.catalog import load_catalog

    catalog = load_catalog()
    return {"version": catalog.version, "date": catalog.date}


def catalog_line() -> str:
    info = catalog_info()
    return f"catalog {info['version']} ({info['date']})"


def engine(ev: Evaluation) -> dict[str, str]:
    """Which engine produced the verdicts: the real Pulumi CLI (with its version) or the stand-in."""
    out = {"name": ev.engine}
    if ev.engine_version:
        out["version"] = ev.engine_version
    return out


def render(ev: Evaluation) -> str:
    return json.dumps(document(ev), indent=2, ensure_ascii=False) + "\n"


def subnet(s: SubnetResult) -> dict[str, Any]:
    return {
        "name": s.name,
        "urn": s.urn,
        "vnet": s.vnet,
        "location": s.location,
        "cloud": s.cloud,
        "verdict": s.verdict.value,
        "endpoints": [endpoint(e) for e in s.endpoints],
        "nics": [nic(n) for n in differing_nics(s)],
        "fixes": [fix(f) for f in s.fixes],
    }


def same_path(a: Sequence[EndpointResult], b: Sequence[EndpointResult]) -> bool:
    """Whether two sources see every endpoint with the same verdict and the same trace."""
    return [(e.verdict, e.trace) for e in a] == [(e.verdict, e.trace) for e in b]


def differing_nics(s: SubnetResult) -> list[NicResult]:
    """The NICs whose path differs from the subnet's endpoints (their own NSG, public IP, load
    balancer pool, scale set): the ones the text and HTML reports show in full. A NIC on the
    subnet's path would only repeat it."""
    return [n for n in s.nics if not same_path(n.endpoints, s.endpoints)]


def nic(n: NicResult) -> dict[str, Any]:
    return {
        "name": n.name,
        "urn": n.urn,
        "verdict": n.verdict.value,
        "endpoints": [endpoint(e) for e in n.endpoints],
    }


def endpoint(e: EndpointResult) -> dict[str, Any]:
    return {"fqdn": e.fqdn, "ip": e.ip, "verdict": e.verdict.value, "trace": [step(t) for t in e.trace]}


def step(t: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"step": t.kind, "detail": t.detail, "urn": t.urn}
    if t.finding is not None:
        out["finding"] = t.finding.value  # the stable ID (docs/findings.md), on blocking and unknown steps
    return out


def fix(f: Fix) -> dict[str, Any]:
    return {"kind": f.kind, "target": f.target, "urn": f.urn, "detail": f.detail, "code": f.code}


def message_of(v: Violation) -> str:
    """pulumi_policy sends ``description + "\\n" + message``; the report keeps the message."""
    prefix = f"{v.description}\n"
    return v.message[len(prefix) :] if v.description and v.message.startswith(prefix) else v.message


def violation(v: Violation) -> dict[str, Any]:
    return {"policy": v.policy, "level": v.level, "urn": v.urn or None, "message": message_of(v)}


def note(v: Violation) -> dict[str, Any]:
    """check: what a remediation policy would change at the next `pulumi up` (never a failure)."""
    return {"policy": v.policy, "urn": v.urn or None, "message": message_of(v)}


def added_items(r: Remediation) -> list[Any]:
    """What a remediation added: new items of list properties, then properties it introduced.

    The kmsguard pack only ever appends routes; a change of any other kind is listed as
    ``{"property", "value"}`` so that nothing a remediation did goes unreported.
    """
    out: list[Any] = []
    for key, after in r.after.items():
        if key.startswith("__"):
            continue
        before = r.before.get(key)
        if key in r.before and encode_value(before) == encode_value(after):
            continue
        if isinstance(before, list) and isinstance(after, list):
            seen = [encode_value(b) for b in before]
            out.extend(plain(a) for a in after if encode_value(a) not in seen)
        else:
            out.append({"property": key, "value": plain(after)})
    return out


def remediation(r: Remediation) -> dict[str, Any]:
    return {"policy": r.policy, "urn": r.urn, "name": logical_name(r.urn), "added": added_items(r)}


def plain(value: Any) -> Any:
    """JSON-ready: secrets never printed, unknowns named."""
    if isinstance(value, Secret):
        return SECRET_PLACEHOLDER
    if isinstance(value, Unknown):
        return "(unknown during preview)"
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def describe_added(item: object) -> str:
    """One added item for people: a route as ``route <name>: <prefix> → <next hop>``."""
    if isinstance(item, Mapping) and {"addressPrefix", "nextHopType"} <= item.keys():
        return f"route {item.get('name', '?')}: {item['addressPrefix']} → {item['nextHopType']}"
    return json.dumps(item, ensure_ascii=False, sort_keys=True)
