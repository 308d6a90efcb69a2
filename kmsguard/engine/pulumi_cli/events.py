"""``pulumi preview --event-log FILE``: the engine's own account of the run, read back.

The file holds one JSON ``EngineEvent`` per line (sdk/go/common/apitype/events.go). kmsguard takes from
it what the engine decided — the policy violations with their enforcement level and the remediations it
applied — and what the program said (its ``print`` output and ``pulumi.log`` messages, as diagnostics).
Messages carry the CLI's colour markup (``<{%reset%}>``, pkg/engine/events.go ``policyViolationEvent``),
removed here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kmsguard.engine.types import EnforcementLevel
from kmsguard.errors import KmsguardError

__all__ = ["EngineEvents", "read_events"]

_COLOUR_TAG: Final = re.compile(r"<\{%[^%]*%\}>")


def plain(text: str) -> str:
    """A message without the CLI's colour markup."""
    return _COLOUR_TAG.sub("", text)


@dataclass(frozen=True)
class PolicyViolation:
    policy: str
    pack: str
    level: EnforcementLevel  # the engine reports mandatory and advisory ones
    urn: str
    message: str
    severity: str


@dataclass(frozen=True)
class PolicyRemediation:
    policy: str
    pack: str
    urn: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "debug" | "info" | "info#err" | "warning" | "error"
    urn: str
    message: str


@dataclass(frozen=True)
class EngineEvents:
    violations: tuple[PolicyViolation, ...] = ()
    remediations: tuple[PolicyRemediation, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    # URN → step op ("create", "same", ...) of each resource the preview planned
    steps: Mapping[str, str] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    summary: Mapping[str, Any] | None = None


def _lines(path: Path) -> Iterator[Mapping[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise KmsguardError(f"{path}: cannot read the engine's event log: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            # The CLI may be stopped mid-line; what was written before stands.
            if number == len(text.splitlines()):
                return
            raise KmsguardError(f"{path}:{number}: the engine's event log is not JSON") from None
        if isinstance(event, dict):
            yield event


def _level(path: Path, p: Mapping[str, Any]) -> EnforcementLevel:
    text = p.get("enforcementLevel", "")
    level = EnforcementLevel.parse(text)
    if level is None:
        # Never guessed: a level read as advisory could turn the engine's mandatory verdict into a pass.
        raise KmsguardError(
            f"{path}: the engine's event log has a policy event with enforcement level {text!r}"
        )
    return level


def read_events(path: Path) -> EngineEvents:
    violations: list[PolicyViolation] = []
    remediations: list[PolicyRemediation] = []
    diagnostics: list[Diagnostic] = []
    steps: dict[str, str] = {}
    errors: list[str] = []
    summary: Mapping[str, Any] | None = None
    for event in _lines(path):
        if (p := event.get("policyEvent")) is not None:
            violations.append(
                PolicyViolation(
                    policy=str(p.get("policyName", "")),
                    pack=str(p.get("policyPackName", "")),
                    level=_level(path, p),
                    urn=str(p.get("resourceUrn", "")),
                    # pkg/engine/events.go ends every policy message with one newline.
                    message=plain(str(p.get("message", ""))).removesuffix("\n"),
                    severity=str(p.get("severity", "")),
                )
            )
        elif (r := event.get("policyRemediationEvent")) is not None:
            remediations.append(
                PolicyRemediation(
                    policy=str(r.get("policyName", "")),
                    pack=str(r.get("policyPackName", "")),
                    urn=str(r.get("resourceUrn", "")),
                    before=dict(r.get("before") or {}),
                    after=dict(r.get("after") or {}),
                )
            )
        elif (d := event.get("diagnosticEvent")) is not None:
            diagnostics.append(
                Diagnostic(
                    severity=str(d.get("severity", "")),
                    urn=str(d.get("urn", "")),
                    message=plain(str(d.get("message", ""))),
                )
            )
        elif (pre := event.get("resourcePreEvent")) is not None:
            meta = pre.get("metadata") or {}
            if meta.get("urn"):
                steps[str(meta["urn"])] = str(meta.get("op", ""))
        elif (e := event.get("errorEvent")) is not None:
            errors.append(plain(str(e.get("error", ""))))
        elif (s := event.get("summaryEvent")) is not None:
            summary = s
    return EngineEvents(
        violations=tuple(violations),
        remediations=tuple(remediations),
        diagnostics=tuple(diagnostics),
        steps=steps,
        errors=tuple(errors),
        summary=summary,
    )
