"""JUnit XML: one test case per subnet, parsed with xml.etree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from kmsguard.analysis import Verdict
from kmsguard.engine import Violation
from kmsguard.evaluate import Evaluation
from kmsguard.report import junit


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in root.iter("testcase")}


def test_blocked_subnets_fail_and_excluded_are_skipped(blocked: Evaluation) -> None:
    root = ET.fromstring(junit.render(blocked))
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4",
        "failures": "2",
        "errors": "0",
        "skipped": "1",
    }
    suites = root.findall("testsuite")
    # check: the autofix's finding is a passing note, not a failure (audit A).
    assert [s.get("name") for s in suites] == [
        "kmsguard check network/prod: subnets",
        "kmsguard check network/prod: notes",
    ]
    c = cases(root)
    assert list(c) == [
        "vnet-spoke/snet-app (westeurope, public cloud)",
        "vnet-spoke/GatewaySubnet (westeurope)",
        "snet-data (westeurope, public cloud)",
        "kms-route-autofix: rt-spoke (note)",
    ]
    failure = c["vnet-spoke/snet-app (westeurope, public cloud)"].find("failure")
    assert failure is not None
    assert failure.get("type") == "blocked"
    assert failure.get("message") == "KMS TCP 1688 blocked to 20.118.99.224, 40.83.235.53, 23.102.135.246"
    assert (failure.text or "").splitlines()[-1] == (
        "  1. route table rt-spoke: add 20.118.99.224/32 → Internet, 23.102.135.246/32 → Internet, "
        "40.83.235.53/32 → Internet (one /32 route per KMS IP, docs/rules.md#kms-routes)"
    )
    skipped = c["vnet-spoke/GatewaySubnet (westeurope)"].find("skipped")
    assert (
        skipped is not None
        and skipped.get("message") == "excluded: GatewaySubnet is a special-purpose subnet"
    )
    assert all(x.get("classname") == "kmsguard.network.prod" for x in c.values())


def test_compliant_cases_pass(compliant: Evaluation) -> None:
    root = ET.fromstring(junit.render(compliant))
    c = cases(root)
    assert list(c) == [
        "vnet-spoke/snet-app (westeurope, public cloud)",
        "vnet-spoke/GatewaySubnet (westeurope)",
        "snet-data (westeurope, public cloud)",
    ]
    assert list(c["snet-data (westeurope, public cloud)"]) == []
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("0", "0", "1")


def _as_unknown(ev: Evaluation, level: str) -> Evaluation:
    s = ev.result.subnets[2]
    endpoints = tuple(replace(e, verdict=Verdict.UNKNOWN) for e in s.endpoints)
    unknown = replace(s, verdict=Verdict.UNKNOWN, endpoints=endpoints, fixes=())
    v = Violation(
        "kms-unverified", "kmsguard", level, s.urn or "", f"Subnet {s.name} (...): unverified", "", ""
    )
    return replace(
        ev, result=replace(ev.result, subnets=(unknown,)), drive=replace(ev.drive, violations=(v,))
    )


def test_unknown_is_skipped_when_advisory_and_an_error_when_mandatory(compliant: Evaluation) -> None:
    advisory = cases(ET.fromstring(junit.render(_as_unknown(compliant, "advisory"))))
    (case,) = advisory.values()
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "unknown: KMS reachability unverified for 20.118.99.224, 40.83.235.53, 23.102.135.246"
    )
    strict = cases(ET.fromstring(junit.render(_as_unknown(compliant, "mandatory"))))
    (case,) = strict.values()
    error = case.find("error")
    assert error is not None and error.get("type") == "unknown"
