"""Pulumi resources → the typed network model.

``PulumiResource`` is the neutral input that the policy pack (from ``AnalyzeStack``), the program
runner and ``pulumi stack export`` all produce; ``collect`` turns a deployment's resources into a
``Network``. azure-native 3.x types are read (see ``kmsguard.collect.azure_native``) and so are
classic ``azure`` (pulumi-azure) types (``kmsguard.collect.azure_classic``, dispatched by the
``azure:`` type prefix; a classic network type not read yet makes the verdicts unknown and is
reported, never ignored); every other type (providers, components, the stack) is ignored.

What ``props`` may be, and how it is read (docs/pulumi-mechanics.md):

* **inputs** (the runner, Analyze, a stack export's ``inputs``): absent means not set;
* **preview outputs** (``AnalyzeStack`` during ``pulumi preview``): inputs projected onto the output
  shape, with every output that was not an input the unknown sentinel — ``id``, a firewall's
  private IP, and unset optional fields alike (§0 fact 2, §1.6). Path parameters
  (``resourceGroupName``, ``virtualNetworkName``…) are not outputs, so parents and references are
  found through ``property_dependencies``; a pack that also has the resources' Analyze inputs gets
  better answers by merging them in (see ``merge_inputs``);
* **state outputs** (``AnalyzeStack`` for unchanged resources, ``pulumi up``, a stack export's
  ``outputs``): fully known, with ARM ids.

Unknowns are the sentinel string ``04da6b54-…`` at any depth (§1.8); secrets are the signature
envelope or already unwrapped. Values are read for the analysis, but a secret never appears in an
Origin name, a Problem or an Unknown's reason (``[secret]`` stands in for it). ``collect`` never
raises: malformed values become ``Problem``s in ``Network.problems`` and ``Unknown``s in the model.

Keys: a resource's URN; an inline sub-resource's owner URN plus ``#<collection>/<name>``; a resource
outside the stack its normalised (lower-cased) ARM id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmsguard.collect.azure_native.collector import build
from kmsguard.model import Network

__all__ = ["PulumiResource", "collect", "from_stack_export", "merge_inputs"]


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


def collect(resources: Sequence[PulumiResource]) -> Network:
    """The network model of a deployment's resources (order does not matter, §1.6)."""
    if any(isinstance(r.type, str) and r.type.startswith("azure:") for r in resources):
        # Imported only for stacks that hold classic resources: azure-native stacks (and the pack's
        # start-up) pay nothing for the classic collector.
        from kmsguard.collect.azure_classic.collector import build as build_mixed

        return build_mixed(resources)
    return build(resources)


def merge_inputs(outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs completed with the inputs that are not outputs (path parameters such as
    ``resourceGroupName`` or ``virtualNetworkName``, §3.0). Outputs win where both exist: after a
    deployment they are what Azure holds; in a preview they are the inputs anyway."""
    merged = dict(outputs)
    for key, value in inputs.items():
        if key not in merged and not key.startswith("__"):
            merged[key] = value
    return merged


def _logical_name(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<type chain>::<name> (§4.2)
    return urn.rsplit("::", 1)[-1] if "::" in urn else urn


def from_stack_export(data: Mapping[str, Any]) -> list[PulumiResource]:
    """The resources of a ``pulumi stack export`` document (or of its ``deployment`` object), §4.2.

    Resources pending deletion are left out; each resource's outputs are merged with its inputs
    (``merge_inputs``). Malformed entries are skipped here and left to ``collect`` to ignore."""
    deployment = data.get("deployment", data)
    items = deployment.get("resources") if isinstance(deployment, Mapping) else None
    out: list[PulumiResource] = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping) or item.get("delete") is True:
            continue
        urn, token = item.get("urn"), item.get("type")
        if not isinstance(urn, str) or not isinstance(token, str):
            continue
        outputs = item.get("outputs") if isinstance(item.get("outputs"), Mapping) else {}
        inputs = item.get("inputs") if isinstance(item.get("inputs"), Mapping) else {}
        pdeps = item.get("propertyDependencies")
        parent = item.get("parent")
        deps = item.get("dependencies")
        out.append(
            PulumiResource(
                urn=urn,
                type=token,
                name=_logical_name(urn),
                props=merge_inputs(outputs or {}, inputs or {}),
                parent=parent if isinstance(parent, str) else "",
                dependencies=tuple(d for d in deps if isinstance(d, str)) if isinstance(deps, list) else (),
                property_dependencies={
                    str(k): tuple(u for u in v if isinstance(u, str))
                    for k, v in (pdeps.items() if isinstance(pdeps, Mapping) else ())
                    if isinstance(v, list) and v
                },
            )
        )
    return out
