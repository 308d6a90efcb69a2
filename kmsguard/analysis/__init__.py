"""KMS reachability analysis: route selection, filtering, egress, firewall and DNS → verdicts."""

from kmsguard.analysis.settings import Settings
from kmsguard.analysis.subnet import NetworkResult, analyze
from kmsguard.analysis.verdict import EndpointResult, Fix, NicResult, Outcome, Step, SubnetResult, Verdict

__all__ = [
    "EndpointResult",
    "Fix",
    "NetworkResult",
    "NicResult",
    "Outcome",
    "Settings",
    "Step",
    "SubnetResult",
    "Verdict",
    "analyze",
]
