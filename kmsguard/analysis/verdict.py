"""What the analysis produces: verdicts, trace steps and the fixes that would repair a path."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from kmsguard.analysis.trace import Sentence, StepKind
from kmsguard.analysis.wording import sentence
from kmsguard.findings import Finding


class Verdict(StrEnum):
    REACHABLE = "reachable"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    EXCLUDED = "excluded"

    def __str__(self) -> str:
        return self.value


class Outcome(StrEnum):
    """What one trace step did to the flow."""

    PASS = "pass"
    BLOCK = "block"
    UNKNOWN = "unknown"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Fix:
    """One change that is needed, with enough detail to make it by hand or in Pulumi code."""

    kind: str  # add-routes | change-route | add-nsg-rule | remove-nsg-rule | add-firewall-rule | ...
    target: str  # display name of the resource to change
    urn: str | None
    detail: str
    code: str = ""
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a trace: its stage, what decided it (``what``) and the hop it happens on."""

    kind: StepKind
    # The typed detail; a plain string is accepted for hand-built traces and is its own text.
    what: Sentence | str
    outcome: Outcome = Outcome.INFO
    urn: str | None = None
    # For unknown steps: what would settle the question.
    settle: str = ""
    # For blocking steps: the change that removes this block.
    fix: Fix | None = None
    # What the analysis found, set where it decides; required on blocking and unknown steps.
    finding: Finding | None = None
    # The node the step happens on, by model key: the source subnet or NIC, the Azure Firewall, or
    # the firewall's AzureFirewallSubnet (Batfish's Hop). A resource's key is its URN, an inline
    # child's is its owner's URN plus "#subnets/<name>" (collect/azure_native/stack.py), so the hop
    # names the node where ``urn`` may name its owner. Left out of equality: a NIC and its subnet on
    # the same path take the same steps from different hops, and the reports show a NIC only when
    # its path differs (report.document.same_path).
    hop: str | None = field(default=None, compare=False)
    # The rendered sentence, kept on first use: reports and messages read it many times.
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, StepKind):
            # Hand-built traces name the kind by its JSON value; an unknown one fails here.
            object.__setattr__(self, "kind", StepKind(self.kind))
        # A closed vocabulary only helps if no deciding step escapes it (tests/findings checks the
        # documentation of each); a missing finding is a bug of the analysis, caught at its source.
        if self.finding is None and self.outcome in (Outcome.BLOCK, Outcome.UNKNOWN):
            raise ValueError(f"a {self.outcome} step needs a finding: {self.kind}: {self.detail}")

    @property
    def detail(self) -> str:
        """The sentence, rendered from ``what`` (kmsguard.analysis.wording)."""
        if self._text is None:
            # A cache, not state: the text is a function of the frozen ``what``.
            object.__setattr__(self, "_text", sentence(self.what))
        assert self._text is not None
        return self._text

    @property
    def rule(self) -> str | None:
        """The name of the rule or route that decided the step, when one did."""
        return self.what.decider if isinstance(self.what, Sentence) else None


def combine(outcomes: Iterable[Outcome]) -> Verdict:
    """Blocked wins over unknown, which wins over reachable (DESIGN: unknown is never a pass)."""
    seen = set(outcomes)
    if Outcome.BLOCK in seen:
        return Verdict.BLOCKED
    if Outcome.UNKNOWN in seen:
        return Verdict.UNKNOWN
    return Verdict.REACHABLE


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    for v in (Verdict.BLOCKED, Verdict.UNKNOWN):
        if v in seen:
            return v
    return Verdict.REACHABLE


@dataclass(frozen=True, slots=True)
class EndpointResult:
    fqdn: str
    ip: str
    verdict: Verdict
    trace: tuple[Step, ...]

    @property
    def decisive(self) -> Step | None:
        """The first step that made the verdict what it is (the last passing one when reachable)."""
        wanted = {Verdict.BLOCKED: Outcome.BLOCK, Verdict.UNKNOWN: Outcome.UNKNOWN}.get(self.verdict)
        if wanted is not None:
            return next((s for s in self.trace if s.outcome is wanted), None)
        passing = [s for s in self.trace if s.outcome is Outcome.PASS]
        return passing[-1] if passing else None


@dataclass(frozen=True, slots=True)
class NicResult:
    """The endpoints as seen from one NIC in the subnet (its NSG, DNS, public IP, pools)."""

    name: str
    urn: str | None
    verdict: Verdict
    endpoints: tuple[EndpointResult, ...]


@dataclass(frozen=True, slots=True)
class SubnetResult:
    key: str
    name: str
    urn: str | None
    vnet: str
    location: str
    cloud: str  # "" when the cloud is unknown
    verdict: Verdict
    endpoints: tuple[EndpointResult, ...] = ()
    nics: tuple[NicResult, ...] = ()
    fixes: tuple[Fix, ...] = ()
    # Subnet-level steps that apply to every endpoint (excluded reason, unknown cloud, ...).
    notes: tuple[Step, ...] = ()
    # Whether the fixes were checked by re-analysis to make the subnet reachable.
    fixes_verified: bool = False
