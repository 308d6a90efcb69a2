"""The classic ``azure`` provider (pulumi-azure, a Terraform-bridged provider) in a preview, offline.

What pulumi-terraform-bridge's ``pkg/tfbridge`` provider does in a preview, with Azure replaced by
"unknown", kept to exactly what kmsguard's stand-in engine does for a classic resource
(``kmsguard/engine/mocks/host/monitor.py``: "outputs echo the inputs, id unknown"), so that both engines
hand the policy pack and the program the same values:

* ``Check``: the inputs unchanged, but for the one config default that is the user's own value: a
  ``ResourceGroup`` without ``location`` takes the provider's ``location`` (``azure:location``), as
  pulumi-azure's ``provider/resources.go`` declares (``azurerm_resource_group``: ``Default:
  &tfbridge.DefaultInfo{Config: azureLocation}``). The bridge would also fill an unset ``name`` with
  the logical name plus a random suffix (``tfbridge`` autonaming) and every other resource's unset
  ``location`` with its resource group's, looked up in Azure (``defaultAzureLocation``, unknown in a
  preview); those are values invented for, or fetched about, a resource, so the offline provider
  leaves them out, as the stand-in does (the analysis reads an absent property as "not set", never
  as a match);
* ``Create`` in a preview: id empty (the engine's "not yet known") and outputs = the inputs. The bridge
  adds the schema's computed properties as unknowns; a property the program reads that the outputs do
  not hold resolves to unknown in a preview anyway (the Python SDK resolves every output missing from a
  dry-run result as unknown), so leaving them out changes nothing the program sees and keeps the engine's
  recorded outputs equal to the stand-in's;
* ``Invoke``: the empty map (nothing known; the engine rejects unknowns in an invoke's return).

Standalone like the rest of the package: only the standard library.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["PACKAGE", "SDK", "check_inputs", "invoke_outputs", "plugin_version", "preview_outputs"]

PACKAGE: Final = "azure"
SDK: Final = "pulumi_azure"
RESOURCE_GROUP: Final = "azure:core/resourceGroup:ResourceGroup"


def plugin_version() -> str:
    """The version of the installed ``pulumi_azure`` SDK: the plugin version the program asks for."""
    try:
        return importlib.metadata.version(SDK)
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def check_inputs(news: Mapping[str, Any], *, token: str = "", location: str | None = None) -> dict[str, Any]:
    """Check's answer: the inputs as given (no autoname: nothing invented), with a resource group's
    unset ``location`` taken from the provider's ``location`` config when it has one."""
    checked = dict(news)
    if token == RESOURCE_GROUP and checked.get("location") is None and location:
        checked["location"] = location
    return checked


def preview_outputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A preview Create's outputs: the inputs, without an ``id`` (the id is the engine's, unknown)."""
    return {k: v for k, v in inputs.items() if k != "id"}


def invoke_outputs(token: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """An invoke's result offline: nothing is known about Azure, so the empty map."""
    return {}
