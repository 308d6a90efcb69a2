"""What the engines produce and the reports read: no gRPC, no protobuf, no subprocess.

Both engines (the stand-in's analyzer driver and the real CLI's event log) build these, and
``kmsguard.evaluate`` and ``kmsguard.report`` read them. Enforcement levels are
:class:`EnforcementLevel` from the moment they are read — a proto enum value, an event-log string or a
``--policy-pack-config`` entry — and strings again only where a report writes them (a ``StrEnum``
formats, compares and serialises as its value, so the reports read the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "DriveResult",
    "EnforcementLevel",
    "PackResource",
    "PolicyInfo",
    "Remediation",
    "Violation",
]


class EnforcementLevel(StrEnum):
    """A policy's enforcement level, as the engine names it (apitype.EnforcementLevel, §1.7)."""

    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    REMEDIATE = "remediate"
    DISABLED = "disabled"

    @classmethod
    def parse(cls, text: object) -> EnforcementLevel | None:
        """The level named ``text``; ``None`` when it names none (the caller says what is wrong)."""
        try:
            return cls(text) if isinstance(text, str) else None
        except ValueError:
            return None


@dataclass(frozen=True)
class PackResource:
    """One resource as the engine sends it to a pack.

    ``inputs`` are what ``Remediate``/``Analyze`` receive (§1.4); ``outputs`` what ``AnalyzeStack``
    receives (§1.6), ``None`` meaning "the same as the inputs". Values are plain Python values plus the
    :data:`~kmsguard.engine.wire.UNKNOWN` and :class:`~kmsguard.engine.wire.Secret` markers.
    """

    type: str
    urn: str
    name: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any] | None = None
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    provider_urn: str = ""
    provider_inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    """One policy diagnostic, with the level and URN the engine would report it with."""

    policy: str
    pack: str
    level: EnforcementLevel
    urn: str
    message: str
    description: str
    severity: str


@dataclass(frozen=True)
class Remediation:
    """One remediation the engine applied (a ``PolicyRemediationEvent``, §1.5)."""

    policy: str
    pack: str
    urn: str
    description: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]


@dataclass(frozen=True)
class PolicyInfo:
    """One policy as listed by ``GetAnalyzerInfo`` (§1.1).

    ``config_schema`` is the JSON schema the engine validates the policy's config against (§5):
    ``{"type": "object", "properties": ..., "required": [...]}``; ``None`` when the policy has none.
    Numbers in it are floats, because it crossed the wire as a ``Struct``.
    """

    name: str
    description: str
    enforcement_level: EnforcementLevel
    policy_type: str
    config_schema: Mapping[str, Any] | None
    remediation_steps: str
    url: str


@dataclass(frozen=True)
class DriveResult:
    """Everything one :func:`drive_pack` run observed."""

    pack_name: str
    policies: tuple[PolicyInfo, ...]
    violations: tuple[Violation, ...]
    remediations: tuple[Remediation, ...]
    final_resources: tuple[PackResource, ...]
    stderr: str
    timings: Mapping[str, float]

    @property
    def preview_fails(self) -> bool:
        """§1.7: the preview exits non-zero iff at least one violation is mandatory."""
        return any(v.level == EnforcementLevel.MANDATORY for v in self.violations)
