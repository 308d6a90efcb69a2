"""``PulumiResource``, the neutral input of ``kmsguard.collect``, and ``merge_inputs``.

A leaf on purpose: the collectors under ``kmsguard.collect`` take ``PulumiResource`` and
``kmsguard.collect.pulumi`` dispatches to them, so the type lives here, where it imports nothing from
``kmsguard.collect``, and no module of the package needs another one that needs it back
(tests/test_layering.py). ``kmsguard.collect.pulumi`` re-exports both names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PulumiResource", "merge_inputs"]


@dataclass(frozen=True)
class PulumiResource:
    """One resource of a deployment, as the pack, the runner and stack export all produce it."""

    urn: str
    type: str  # type token, e.g. "azure-native:network:RouteTable"
    name: str  # logical name
    props: Mapping[str, Any]  # plain values; unknowns are the sentinel string; secrets wrapped or not
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict
    )  # top-level prop → URNs


def merge_inputs(outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs completed with the inputs that are not outputs (path parameters such as
    ``resourceGroupName`` or ``virtualNetworkName``, §3.0). Outputs win where both exist: after a
    deployment they are what Azure holds; in a preview they are the inputs anyway."""
    merged = dict(outputs)
    for key, value in inputs.items():
        if key not in merged and not key.startswith("__"):
            merged[key] = value
    return merged
