"""A pack whose single stack policy touches every resource and does nothing else.

pulumi_policy deserializes every resource of an AnalyzeStack request for each stack policy before
calling it (docs/pulumi-mechanics.md §1.6), so this pack's AnalyzeStack time is the SDK's own cost:
the floor any stack policy pays.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)


def _touch(args: StackValidationArgs, report: ReportViolation) -> None:
    for r in args.resources:
        _ = len(r.props), r.urn, r.dependencies


PolicyPack(
    name="kmsguard-bench-floor",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        StackValidationPolicy(
            name="touch-every-resource", description="Touches every resource.", validate=_touch
        )
    ],
)
