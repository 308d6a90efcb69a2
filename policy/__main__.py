"""Builds the kmsguard policy pack; the policies live in the importable ``kmsguard.policies``."""

from pulumi_policy import EnforcementLevel, PolicyPack

from kmsguard.policies import PACK_NAME, POLICIES
from kmsguard.policies.decode_once import install

# The stack policies share one decoding of each AnalyzeStack request (see decode_once).
install()
# The constructor serves the Analyzer gRPC API and never returns (nothing may print before it).
PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.ADVISORY, policies=list(POLICIES))
