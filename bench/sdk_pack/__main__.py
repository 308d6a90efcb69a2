"""The kmsguard policies served by an unmodified pulumi_policy (each stack policy decodes the request)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from kmsguard.policies import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.ADVISORY, policies=list(POLICIES))
