"""One scope per Analyze / AnalyzeStack call of the pack: what the pack's policies share within a call.

pulumi_policy hands each policy its call's state explicitly (``_create_report_violation(response, …)``)
but gives a policy nothing that names the call itself. The pack's call-scoped behaviours need one:
the decoding memo (``decode_once``), the analysis the stack policies share (``shared_for``), and
dropping both when the call ends. ``install()`` wraps the servicer's ``AnalyzeStack`` and ``Analyze``
so that each call opens one ``CallScope`` and every behaviour reads it through ``current()``; nothing
recovers the call from a closure of the SDK's (its variable was renamed once, from ``diagnostics``
to ``response``, and a failed lookup silently ran ``kms-unverified`` under the default config).

``install()`` is the one step that checks the SDK version, for every patch at once: on a
pulumi_policy other than ``SUPPORTED_VERSIONS`` it changes nothing and the pack runs on the SDK as
it is (no scopes, so no sharing: each stack policy analyses on its own, with the same answers).
Only ``kmsguard.pack.serve()`` (and bench's SDK pack) install it, so the library and its in-process
tests keep the SDK unchanged unless they install it themselves.

kms-reachability's config is recorded at each Configure (``record_reachability_config``, wired on
import of ``kmsguard.policies``): the config lives once, on kms-reachability (DESIGN), but the SDK
hands each policy only its own. Each scope takes a snapshot of it when the call opens, so the
other policies of the call read the same config kms-reachability was given, even when it is
disabled; without a scope, ``reachability_config()`` is the last one configured.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kmsguard.policies.servicer import servicer_class

if TYPE_CHECKING:
    from kmsguard.policies import Shared

SUPPORTED_VERSIONS = ("1.21.0",)

# The marker each installed wrapper carries (functools.wraps copies it to wrappers installed outside,
# e.g. kmsguard.pack.record's), so installing twice changes nothing.
MARKER = "_kmsguard_call_scope"
RPCS = ("AnalyzeStack", "Analyze")


@dataclass(eq=False)
class CallScope:
    """The state of one Analyze or AnalyzeStack call of the pack, dropped when the call returns."""

    rpc: str
    # Distinct per call of the process (a scope is never reused), for diagnostics and tests.
    token: int
    # kms-reachability's config as the engine configured it for this call (read-only).
    reachability_config: Mapping[str, Any]
    # decode_once: (family, id(argument)) → (argument, result); holds the argument so ids stay unique.
    memo: dict[tuple[str, int], tuple[object, object]] = field(default_factory=dict)
    # AnalyzeStack: the collected network and analysis the stack policies share (kmsguard.policies).
    shared: Shared | None = None


# A ContextVar, not a thread-local: a policy whose validate is a coroutine runs in a Task, which
# copies the context of the call's thread, so it sees its call's scope too.
_current: ContextVar[CallScope | None] = ContextVar("kmsguard_call_scope", default=None)
_tokens = itertools.count(1)
_configured: dict[str, Any] = {}
_features = {"pause_gc": False}


def current() -> CallScope | None:
    """The scope of the pack call running on this context, ``None`` outside one (or not installed)."""
    return _current.get()


def record_reachability_config(properties: Mapping[str, Any]) -> None:
    """Called at each Configure with kms-reachability's properties (``{}`` when it has none)."""
    _configured.clear()
    _configured.update(properties)


def reachability_config() -> Mapping[str, Any]:
    """kms-reachability's config for the running call: the call's snapshot, else the last configured."""
    scope = current()
    return scope.reachability_config if scope is not None else dict(_configured)


@contextmanager
def opened(rpc: str) -> Iterator[CallScope]:
    """One call's scope, current inside; the collector paused for AnalyzeStack when installed so."""
    scope = CallScope(rpc, next(_tokens), dict(_configured))
    reset = _current.set(scope)
    try:
        if rpc == "AnalyzeStack" and _features["pause_gc"]:
            from kmsguard.policies.gc_pause import paused

            with paused():
                yield scope
        else:
            yield scope
    finally:
        # The memo, the network and the results go with the call, not with the next call's first
        # policy (on the 10,000-resource bench estate they were a sixth of the next call's peak).
        _current.reset(reset)


def supported() -> bool:
    """Whether the installed pulumi_policy is one the pack's patches were written against."""
    try:
        from pulumi_policy.version import VERSION
    except ImportError:
        return False
    return VERSION in SUPPORTED_VERSIONS and servicer_class() is not None


def install(*, share_decoding: bool = True, pause_gc: bool = True) -> bool:
    """Open a ``CallScope`` around each AnalyzeStack and Analyze call of this process's pack. Idempotent.

    ``share_decoding``: the stack policies share one decoding of each request (``decode_once``);
    ``pause_gc``: the cyclic collector is paused during AnalyzeStack (``gc_pause``). Returns whether
    the scopes are in place: ``False`` on an unsupported pulumi_policy, and then nothing is changed.
    """
    if not supported():
        return False
    servicer = servicer_class()
    for rpc in RPCS:
        method: Callable[..., Any] = getattr(servicer, rpc)
        if not getattr(method, MARKER, False):
            setattr(servicer, rpc, _scoped(rpc, method))
    if pause_gc:
        _features["pause_gc"] = True
    if share_decoding:
        from kmsguard.policies import decode_once

        decode_once.patch_sdk()
    return True


def _scoped(rpc: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)  # copies __dict__, so the markers of wrappers inside stay visible
    def wrapped(self: Any, request: Any, context: Any) -> Any:
        with opened(rpc):
            return method(self, request, context)

    setattr(wrapped, MARKER, True)
    return wrapped
