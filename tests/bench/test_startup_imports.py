"""The pack starts with what serving needs: the SDK and the policy objects, not the analysis.

The collector, model, analysis, catalog, remediation planner and jsonschema are imported by the
first call that needs them, which keeps them out of the pack's start-up (process start → port).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"

SCRIPT = f"""
import json, runpy, sys, pulumi_policy
seen = {{}}
class Recorder:
    def __init__(self, **kw): seen.update(kw)
pulumi_policy.PolicyPack = Recorder
runpy.run_path({str(POLICY_DIR)!r}, run_name='__main__')
print(json.dumps({{
    "policies": [p.name for p in seen["policies"]],
    "kmsguard": sorted(m for m in sys.modules if m.startswith("kmsguard")),
    "jsonschema": "jsonschema" in sys.modules,
}}))
"""


def test_start_up_imports_only_the_policy_objects() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=POLICY_DIR, capture_output=True, text=True, check=True, timeout=60
    )
    seen = json.loads(out.stdout)
    assert seen["policies"] == [
        "kms-reachability",
        "kms-unverified",
        "kms-route-autofix",
        "kms-client-activation",
        "kms-inputs",
    ]
    assert seen["kmsguard"] == [
        "kmsguard",
        "kmsguard.config",
        "kmsguard.errors",
        "kmsguard.findings",
        "kmsguard.pack",
        "kmsguard.policies",
        "kmsguard.policies.decode_once",
        "kmsguard.policies.links",
        "kmsguard.policies.scope",
        "kmsguard.policies.servicer",
        "kmsguard.protocol",
    ]
    assert seen["jsonschema"] is False
