"""Builds the kmsguard policy pack; the policies live in the importable ``kmsguard.policies``."""

from pulumi_policy import EnforcementLevel, PolicyPack

from kmsguard.policies import PACK_NAME, POLICIES, decode_once, gc_pause, release_after_each_call

# The stack policies share one decoding of each AnalyzeStack request (see decode_once), and the
# cyclic garbage collector, which finds nothing to free there, is paused during it (see gc_pause).
# What they share is dropped when the call ends (see release_after_each_call).
decode_once.install()
gc_pause.install()
release_after_each_call()
# The constructor serves the Analyzer gRPC API and never returns (nothing may print before it).
PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.ADVISORY, policies=list(POLICIES))
