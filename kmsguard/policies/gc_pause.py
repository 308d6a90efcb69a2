"""Pause Python's cyclic garbage collector for the length of each ``AnalyzeStack`` call.

An ``AnalyzeStack`` request of thousands of resources makes millions of short-lived objects (the
SDK's decoded dicts, lists and proxies, the model, the analysis), and the cyclic collector keeps
rescanning all of them: on a 10,000-resource estate it took about half of the call. None of that
work finds anything, because those objects form no reference cycles (reference counting frees them;
``gc.collect()`` after a call reclaims nothing), so the pack's peak memory is the same without it.
The collector is paused while at least one ``AnalyzeStack`` call runs and resumed after the last
one ends, as it was; every other RPC runs with it as configured.

The pause is one feature of the pack's call scopes (``kmsguard.policies.scope.install``, which checks
the SDK version for all of them); the library and its tests keep the SDK as it is.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0
_resume = False


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector off inside, back to its previous state when the last holder leaves."""
    global _active, _resume
    with _lock:
        if _active == 0:
            _resume = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _resume:
                gc.enable()


def install() -> bool:
    """Run the pack's ``AnalyzeStack`` with the collector paused. Idempotent; ``False`` on an
    unsupported pulumi_policy (nothing is changed then)."""
    from kmsguard.policies import scope

    return scope.install(share_decoding=False, pause_gc=True)
