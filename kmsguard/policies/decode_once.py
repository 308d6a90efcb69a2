"""Decode each resource of an ``AnalyzeStack`` or ``Analyze`` request once for all the pack's policies.

pulumi_policy 1.21 turns every resource of an ``AnalyzeStack`` request into Python values again for
each stack policy (``MessageToDict``, ``deserialize_properties``, ``unknown_checking_proxy``;
docs/pulumi-mechanics.md §1.6), and the resource of an ``Analyze`` request again for each resource
policy (with its provider's properties). The kmsguard pack has several stack policies and two
resource policies, and on an estate of thousands of resources that repeated decoding costs more
than the analysis itself. The kmsguard policies only read the properties (through ``raw``), never
write them, so one decoding can serve them all.

``install()`` (called by ``policy/__main__.py`` only, so the library and its tests keep the SDK as
it is) wraps the servicer's ``AnalyzeStack`` and ``Analyze``: for the length of one call, on that
call's thread, those three functions return the result they already produced for the same object.
``Remediate`` already decodes once (a remediation may rewrite the properties, so it must not be
shared), and every other RPC, every other thread and every other call sees the SDK unchanged. Each policy still gets its own
``PolicyResource`` objects, and the values in them are exactly what the SDK would have built.
If the installed pulumi_policy is not the version this was written against, nothing is changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kmsguard.policies.servicer import around_each_call, servicer_class

SUPPORTED_VERSIONS = ("1.21.0",)

_state = threading.local()


def _memo() -> dict[tuple[str, int], tuple[object, object]] | None:
    memo: dict[tuple[str, int], tuple[object, object]] | None = getattr(_state, "memo", None)
    return memo


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
    """Share the decoding between the stack policies of this process's pack. Idempotent.

    Returns whether the sharing is in place (``False`` for an unsupported pulumi_policy)."""
    import importlib

    from pulumi_policy.version import VERSION

    sdk: Any = importlib.import_module("pulumi_policy.policy")  # its module globals are replaced

    servicer = servicer_class()
    if VERSION not in SUPPORTED_VERSIONS or servicer is None:
        return False
    if getattr(servicer.AnalyzeStack, _MARKER, False):
        return True
    sdk.json_format = _JsonFormat(sdk.json_format)
    sdk.deserialize_properties = _once(sdk.deserialize_properties, "deserialize_properties")
    sdk.unknown_checking_proxy = _once(sdk.unknown_checking_proxy, "unknown_checking_proxy")
    around_each_call("AnalyzeStack", _MARKER, _one_memo)
    around_each_call("Analyze", _MARKER, _one_memo)
    return True


_MARKER = "_kmsguard_decode_once"


@contextmanager
def _one_memo() -> Iterator[None]:
    """One decoding memo for the length of a call."""
    _state.memo = {}
    try:
        yield
    finally:
        _state.memo = None
