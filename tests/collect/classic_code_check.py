"""Runs printed pulumi-azure fix code under the SDK's mocks (a subprocess of the tests): reads a JSON
list of code lines on stdin, prints the JSON list of those the SDK rejects, with the error.

A line is what a user pastes: keyword arguments (``routes=[..., X]``, ``next_hop_type="Internet"``)
go into the named resource's call, statements run as they are. Placeholders (``rg``, ``table``, ``nsg``
…) are stand-ins with ``name``, ``id`` and ``location``; an unknown class or keyword is an error.
"""

from __future__ import annotations

import json
import re
import sys
import types
from typing import Any

import pulumi
import pulumi_azure


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


pulumi.runtime.set_mocks(Mocks(), preview=True)
REF = types.SimpleNamespace(name="x", id="/subscriptions/0/resourceGroups/rg/x", location="westeurope")
# The resource whose call a line of keyword arguments belongs in: what its trailing comment names.
OWNERS = {
    "on Route": pulumi_azure.network.Route,
    "on route table": pulumi_azure.network.RouteTable,
    "on NSG": pulumi_azure.network.NetworkSecurityGroup,
    "on the ARecord": pulumi_azure.privatedns.ARecord,
}

failures: list[str] = []
for code in json.load(sys.stdin):
    body, _, comment = code.partition("  # ")
    body = body.replace("[..., ", "[")
    scope: dict[str, Any] = {"pulumi_azure": pulumi_azure}
    scope.update(dict.fromkeys(("rg", "table", "nsg", "zone", "policy", "vnet", "subnet", "fw"), REF))
    try:
        if re.match(r"^\w+=", body):
            kwargs = eval(f"dict({body})", scope)
            owner = next((cls for key, cls in OWNERS.items() if comment.startswith(key)), None)
            if owner is not None:
                bad = set(kwargs) - set(owner._internal_init.__code__.co_varnames)
                if bad:
                    raise TypeError(f"{owner.__name__} has no argument {sorted(bad)}")
        else:
            exec(compile(body, "<fix>", "exec"), scope)
    except Exception as exc:
        failures.append(f"{code}: {exc!r}")
print(json.dumps(failures))
