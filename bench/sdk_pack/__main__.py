"""The kmsguard policies served by an unmodified pulumi_policy decoding (each stack policy decodes the
request again); the garbage collector is paused during AnalyzeStack and the shared analysis dropped
after it, as in the real pack, so the difference to it is the shared decoding alone."""

from pulumi_policy import EnforcementLevel, PolicyPack

from kmsguard.policies import PACK_NAME, POLICIES, gc_pause, release_after_each_call

gc_pause.install()
release_after_each_call()
PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.ADVISORY, policies=list(POLICIES))
