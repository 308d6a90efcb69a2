"""pulumi_policy's gRPC servicer class, the one thing the pack's wrappers patch.

The pack's call-scoped behaviours are installed on it by ``kmsguard.policies.scope.install`` (one
``CallScope`` per AnalyzeStack/Analyze call: the decoding memo, the shared analysis, the collector
paused), its Configure records kms-reachability's config (``kmsguard.policies``), and real-engine
runs record its requests (``kmsguard.pack.record``).
"""

from __future__ import annotations

import importlib
from typing import Any


def servicer_class() -> Any:
    """pulumi_policy's servicer class, or ``None`` if the installed SDK has none."""
    sdk: Any = importlib.import_module("pulumi_policy.policy")
    return getattr(sdk, "_PolicyAnalyzerServicer", None)
