"""Each call of one of pulumi_policy's Analyzer RPCs run inside a context manager.

The pack's call-scoped behaviours are installed this way by ``policy/__main__.py`` only (one
decoding per call, ``decode_once``; the collector paused, ``gc_pause``; the shared analysis dropped
after the call, ``release_after_each_call``), so the library and its tests keep the SDK as it is.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any


def servicer_class() -> Any:
    """pulumi_policy's servicer class, or ``None`` if the installed SDK has none."""
    sdk: Any = importlib.import_module("pulumi_policy.policy")
    return getattr(sdk, "_PolicyAnalyzerServicer", None)


def around_each_call(rpc: str, marker: str, scope: Callable[[], AbstractContextManager[object]]) -> bool:
    """Run every ``rpc`` call of the servicer inside ``scope()``. Idempotent per ``marker``, also
    under other wrappers installed this way (each wrapper carries the markers of those inside it);
    ``False`` if the SDK has no servicer (nothing is changed then)."""
    servicer = servicer_class()
    if servicer is None:
        return False
    method: Callable[..., Any] = getattr(servicer, rpc)
    if getattr(method, marker, False):
        return True

    @functools.wraps(method)  # copies __dict__, so the inner wrappers' markers stay visible
    def wrapped(self: Any, request: Any, context: Any) -> Any:
        with scope():
            return method(self, request, context)

    setattr(wrapped, marker, True)
    setattr(servicer, rpc, wrapped)
    return True
