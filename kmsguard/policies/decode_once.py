"""Decode each resource of an ``AnalyzeStack`` or ``Analyze`` request once for all the pack's policies.

pulumi_policy 1.21 turns every resource of an ``AnalyzeStack`` request into Python values again for
each stack policy (``MessageToDict``, ``deserialize_properties``, ``unknown_checking_proxy``;
docs/pulumi-mechanics.md §1.6), and the resource of an ``Analyze`` request again for each resource
policy (with its provider's properties). The kmsguard pack has several stack policies and two
resource policies, and on an estate of thousands of resources that repeated decoding costs more
than the analysis itself. The kmsguard policies only read the properties (through ``raw``), never
write them, so one decoding can serve them all.

``patch_sdk()`` (applied by ``kmsguard.policies.scope.install``, which checks the SDK version for
every patch; the library and its tests keep the SDK as it is) replaces those three functions in
pulumi_policy's policy module: inside a ``CallScope`` (one AnalyzeStack or Analyze call of the
pack, on that call's context) they return the result they already produced for the same object.
``Remediate`` already decodes once (a remediation may rewrite the properties, so it must not be
shared) and opens no scope, so it, every other RPC and every code outside a call see the SDK
unchanged. Each policy still gets its own ``PolicyResource`` objects, and the values in them are
exactly what the SDK would have built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kmsguard.policies import scope as call_scope

# Kept for callers that read it here; the check itself is call_scope.supported().
SUPPORTED_VERSIONS = call_scope.SUPPORTED_VERSIONS


def _memo() -> dict[tuple[str, int], tuple[object, object]] | None:
    scope = call_scope.current()
    return scope.memo if scope is not None else None


def _once(fn: Callable[..., Any], family: str) -> Callable[..., Any]:
    """``fn(arg)`` remembered per argument object during an AnalyzeStack call; other calls pass through."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        memo = _memo()
        if memo is None or len(args) != 1 or kwargs:
            return fn(*args, **kwargs)
        key = (family, id(args[0]))
        hit = memo.get(key)
        # The memo keeps the argument alive, so an equal id is the same object (never a reused id).
        if hit is not None and hit[0] is args[0]:
            return hit[1]
        result = fn(args[0])
        memo[key] = (args[0], result)
        if family == "unknown_checking_proxy":
            memo[("plain", id(result))] = (result, args[0])
        return result

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    setattr(wrapper, _MARKER, True)
    return wrapper


def plain_of(proxy: object) -> object | None:
    """The plain value ``unknown_checking_proxy`` wrapped into ``proxy`` during this call, if it did.

    The SDK's proxy copies every nested dict and list into proxies; unwrapping them again rebuilds
    exactly the value it was made from, so that value can be handed out instead (read-only: the
    other policies of the call share it)."""
    memo = _memo()
    if memo is None:
        return None
    hit = memo.get(("plain", id(proxy)))
    return hit[1] if hit is not None and hit[0] is proxy else None


class _JsonFormat:
    """``google.protobuf.json_format`` as pulumi_policy's policy module sees it, ``MessageToDict`` shared."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.MessageToDict = _once(module.MessageToDict, "MessageToDict")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def install() -> bool:
    """Share the decoding between the policies of each call of this process's pack. Idempotent.

    Returns whether the sharing is in place (``False`` for an unsupported pulumi_policy)."""
    return call_scope.install(share_decoding=True, pause_gc=False)


def patch_sdk() -> None:
    """Replace the SDK's decoding functions by their call-scoped memos (once; ``scope.install`` only)."""
    import importlib

    sdk: Any = importlib.import_module("pulumi_policy.policy")  # its module globals are replaced
    if getattr(sdk.deserialize_properties, _MARKER, False):
        return
    sdk.json_format = _JsonFormat(sdk.json_format)
    sdk.deserialize_properties = _once(sdk.deserialize_properties, "deserialize_properties")
    sdk.unknown_checking_proxy = _once(sdk.unknown_checking_proxy, "unknown_checking_proxy")


_MARKER = "_kmsguard_decode_once"
