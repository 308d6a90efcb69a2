"""KMS reachability analysis: route selection, filtering, egress, firewall and DNS → verdicts."""

from kmsguard.analysis.settings import Settings
from kmsguard.analysis.subnet import NetworkResult, analyze
from kmsguard.analysis.trace import StepKind
from kmsguard.analysis.verdict import EndpointResult, Fix, NicResult, Outcome, Step, SubnetResult, Verdict
from kmsguard.findings import FINDINGS, Finding, FindingInfo

__all__ = [
    "FINDINGS",
    "EndpointResult",
    "Finding",
    "FindingInfo",
    "Fix",
    "NetworkResult",
    "NicResult",
    "Outcome",
    "Settings",
    "Step",
    "StepKind",
    "SubnetResult",
    "Verdict",
    "analyze",
]
