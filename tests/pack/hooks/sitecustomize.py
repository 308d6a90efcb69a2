"""Loaded into a pack process only when a test puts this directory on PYTHONPATH.

Wraps ``kmsguard.policies.analyze_resources`` so that each analysis writes one JSON line to stderr
(which the driver collects): how many resources it saw and whether ``pulumi_azure_native`` has been
imported into the pack by then. With ``KMSGUARD_TEST_ANALYSIS_ERROR`` set, the analysis raises it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import kmsguard.policies as policies

MARK = "kmsguard-test-analysis"
_analyze = policies.analyze_resources


def _counting(resources: Sequence[Any], config: Mapping[str, Any], **kwargs: Any) -> Any:
    line = {MARK: len(resources), "azure_native_loaded": "pulumi_azure_native" in sys.modules}
    print(json.dumps(line), file=sys.stderr, flush=True)
    error = os.environ.get("KMSGUARD_TEST_ANALYSIS_ERROR")
    if error:
        raise RuntimeError(error)
    return _analyze(resources, config, **kwargs)


policies.analyze_resources = _counting  # type: ignore[assignment]
