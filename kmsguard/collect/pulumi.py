"""Pulumi resources → the typed network model.

``PulumiResource`` (defined in the leaf ``kmsguard.collect.resource``, re-exported here) is the neutral
input that the policy pack (from ``AnalyzeStack``), the program runner and ``pulumi stack export`` all
produce; ``collect`` turns a deployment's resources into a
``Network``. azure-native 3.x types are read (see ``kmsguard.collect.azure_native``) and so are
classic ``azure`` (pulumi-azure) types (``kmsguard.collect.azure_classic``, dispatched by the
``azure:`` type prefix). A network type of either provider that is not read yet makes the verdicts
unknown and is reported, never ignored (``azure_native.coverage``, ``azure_classic.types``); types
that cannot change a KMS path and every other type (providers, components, the stack) are ignored.

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
from typing import Any

from kmsguard.collect.azure_native.collector import build
from kmsguard.collect.resource import PulumiResource, merge_inputs
from kmsguard.model import Network
from kmsguard.protocol import logical_name

__all__ = ["PulumiResource", "collect", "from_stack_export", "merge_inputs"]


def collect(resources: Sequence[PulumiResource]) -> Network:
    """The network model of a deployment's resources (order does not matter, §1.6).

    The engine hands resources over in the order their registrations completed, which the real
    engine's parallel steps vary from run to run: the model is built in URN order, so the verdicts,
    messages and reports are the same whichever engine ran and however its steps interleaved."""
    resources = sorted(resources, key=lambda r: r.urn if isinstance(r.urn, str) else "")
    if any(isinstance(r.type, str) and r.type.startswith("azure:") for r in resources):
        # Imported only for stacks that hold classic resources: azure-native stacks (and the pack's
        # start-up) pay nothing for the classic collector.
        from kmsguard.collect.azure_classic.collector import build as build_mixed

        return build_mixed(resources)
    return build(resources)


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
                name=logical_name(urn),
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
