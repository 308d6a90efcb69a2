"""JUnit XML: one test case per subnet, plus one per violation that is not about a subnet.

How verdicts map, and why: CI test views (GitHub test reporters, GitLab, Jenkins, Azure DevOps)
colour ``failure`` and ``error`` red and count ``skipped`` as neither passed nor failed. So the
report follows the pack's enforcement, the same rule that sets the exit code:

* ``blocked`` → ``<failure type="blocked">`` with the blocking steps and the fixes;
* ``unknown`` → ``<error type="unknown">`` when its ``kms-unverified`` violation is mandatory (a
  ``strict`` setup), else ``<skipped>`` with what would settle it — never a pass, and never a red
  build that the exit code does not also report;
* ``excluded`` → ``<skipped>`` with the reason; ``reachable`` → a passing case.

Other violations (route-table autofix findings, input or internal errors) become cases of a second
suite: ``failure`` when mandatory, ``skipped`` when advisory.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from kmsguard.analysis import Outcome, SubnetResult, Verdict
from kmsguard.engine import EnforcementLevel, Violation
from kmsguard.evaluate import Evaluation
from kmsguard.report.document import catalog_info, differing_nics, message_of

SUBNET_POLICIES = frozenset({"kms-reachability", "kms-unverified"})


def render(ev: Evaluation) -> str:
    root = ET.Element("testsuites", name=f"kmsguard {ev.mode}")
    subnet_suite = _suite(root, f"kmsguard {ev.mode} {ev.project}/{ev.stack}: subnets")
    # The catalog the verdicts were computed with (JUnit has properties per test suite).
    props = ET.SubElement(subnet_suite, "properties")
    for key, value in catalog_info().items():
        ET.SubElement(props, "property", name=f"kmsguard.catalog.{key}", value=value)
    subnet_urns = {s.urn for s in ev.result.subnets if s.urn}
    for s in ev.result.subnets:
        _subnet_case(subnet_suite, ev, s)
    others = [v for v in ev.violations if v.policy not in SUBNET_POLICIES or v.urn not in subnet_urns]
    if others:
        suite = _suite(root, f"kmsguard {ev.mode} {ev.project}/{ev.stack}: other violations")
        for v in others:
            _violation_case(suite, ev, v)
    if ev.notes:
        # check: what the autofix would change passes; the note is its output, never a failure.
        suite = _suite(root, f"kmsguard {ev.mode} {ev.project}/{ev.stack}: notes")
        for v in ev.notes:
            where = ev.name_of(v.urn) if v.urn else "(stack)"
            case = _case(suite, ev, f"{v.policy}: {where} (note)", v.urn or None)
            ET.SubElement(case, "system-out").text = message_of(v)
    totals = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    for suite in root:
        for k in totals:
            totals[k] += int(suite.get(k, "0"))
    for k, n in totals.items():
        root.set(k, str(n))
    root.set("time", f"{ev.timings.get('total', 0.0):.3f}")
    _xml_safe(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# Characters XML 1.0 forbids (§2.2 Char): a name carrying one would make the whole report unreadable
# to every CI test view; each is replaced by its visible escape (\x01, \ud800, \ufffe).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _visible(text: str) -> str:
    return _NOT_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def _xml_safe(root: ET.Element) -> None:
    for el in root.iter():
        if el.text:
            el.text = _visible(el.text)
        for key, value in el.attrib.items():
            el.set(key, _visible(value))


def _suite(root: ET.Element, name: str) -> ET.Element:
    suite = ET.SubElement(root, "testsuite", name=name)
    for k in ("tests", "failures", "errors", "skipped"):
        suite.set(k, "0")
    return suite


def _bump(suite: ET.Element, key: str) -> None:
    suite.set(key, str(int(suite.get(key, "0")) + 1))


def _case(suite: ET.Element, ev: Evaluation, name: str, urn: str | None) -> ET.Element:
    case = ET.SubElement(suite, "testcase", classname=f"kmsguard.{ev.project}.{ev.stack}", name=name)
    source = ev.sources.get(urn) if urn else None
    if source is not None:
        case.set("file", source[0])
        case.set("line", str(source[1]))
    _bump(suite, "tests")
    return case


def _subnet_case(suite: ET.Element, ev: Evaluation, s: SubnetResult) -> None:
    where = ", ".join(x for x in (s.location, f"{s.cloud} cloud" if s.cloud else "") if x)
    case = _case(suite, ev, f"{s.name} ({where})" if where else s.name, s.urn)
    if s.verdict is Verdict.BLOCKED:
        blocked = _ips(s, Verdict.BLOCKED)
        el = ET.SubElement(
            case, "failure", type="blocked", message=f"KMS TCP 1688 blocked to {', '.join(blocked)}"
        )
        el.text = _details(s, Outcome.BLOCK)
        _bump(suite, "failures")
    elif s.verdict is Verdict.UNKNOWN:
        unknown = _ips(s, Verdict.UNKNOWN)
        message = f"KMS reachability unverified for {', '.join(unknown) or 'this subnet'}"
        if _mandatory_unknown(ev.violations, s):
            el = ET.SubElement(case, "error", type="unknown", message=message)
            _bump(suite, "errors")
        else:
            el = ET.SubElement(case, "skipped", message=f"unknown: {message}")
            _bump(suite, "skipped")
        el.text = _details(s, Outcome.UNKNOWN)
    elif s.verdict is Verdict.EXCLUDED:
        reason = "; ".join(n.detail for n in s.notes) or "excluded"
        ET.SubElement(case, "skipped", message=f"excluded: {reason}")
        _bump(suite, "skipped")


def _mandatory_unknown(violations: Sequence[Violation], s: SubnetResult) -> bool:
    return any(
        v.policy == "kms-unverified"
        and v.level == EnforcementLevel.MANDATORY
        and v.urn == s.urn
        and s.name in v.message
        for v in violations
    )


def _ips(s: SubnetResult, verdict: Verdict) -> list[str]:
    """The KMS IPs with this verdict from the subnet or from one of its NICs (a NIC in a Standard
    load balancer pool can be blocked where the subnet's own path is not)."""
    nic_eps = (e for n in differing_nics(s) for e in n.endpoints)
    return list(dict.fromkeys(e.ip for e in (*s.endpoints, *nic_eps) if e.verdict is verdict))


def _details(s: SubnetResult, outcome: Outcome) -> str:
    lines: list[str] = []
    sources = [("", s.endpoints), *((f"NIC {n.name}: ", n.endpoints) for n in differing_nics(s))]
    for prefix, endpoints in sources:
        for e in endpoints:
            for step in e.trace:
                if step.outcome is outcome:
                    lines.append(f"{prefix}{e.fqdn} {e.ip}: [{step.kind}] {step.detail}")
                    if step.settle:
                        lines.append(f"  to settle: {step.settle}")
    for note in s.notes:
        if note.outcome is outcome:
            lines.append(f"[{note.kind}] {note.detail}")
    if s.fixes:
        lines.append("fix:")
        lines.extend(f"  {i}. {f.detail}" for i, f in enumerate(s.fixes, 1))
    return "\n".join(lines)


def _violation_case(suite: ET.Element, ev: Evaluation, v: Violation) -> None:
    where = ev.name_of(v.urn) if v.urn else "(stack)"
    case = _case(suite, ev, f"{v.policy}: {where}", v.urn or None)
    message = message_of(v)
    first = message.splitlines()[0] if message else v.policy
    if v.level == EnforcementLevel.MANDATORY:
        el = ET.SubElement(case, "failure", type=v.policy, message=first)
        _bump(suite, "failures")
    else:
        el = ET.SubElement(case, "skipped", message=f"advisory: {first}")
        _bump(suite, "skipped")
    el.text = message
