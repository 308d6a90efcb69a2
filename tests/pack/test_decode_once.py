"""``decode_once``: one decoding of a resource per Analyze / AnalyzeStack call, however many of the
pack's policies read it, and the same answers as the SDK decoding for each policy.

``install()`` rewrites pulumi_policy's module globals, so each case runs in a fresh interpreter
(the rest of the test process keeps the SDK as it is).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pulumi.runtime.proto import analyzer_pb2
    from pulumi_policy import EnforcementLevel
    import pulumi_policy.policy as sdk
    from kmsguard.engine import PackResource
    from kmsguard.engine.driver import _analyzer_resource, encode_struct
    from kmsguard.policies import PACK_NAME, POLICIES, decode_once

    calls = []
    original = sdk.deserialize_properties

    def counted(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(result)
        return result

    sdk.deserialize_properties = counted
    if sys.argv[1] == "installed":
        assert decode_once.install()
    server = sdk._PolicyAnalyzerServicer(PACK_NAME, "0.0.1", list(POLICIES), EnforcementLevel.ADVISORY)
    server.Configure(analyzer_pb2.ConfigureAnalyzerRequest(), None)
    # A route table forced to a gateway: kms-route-autofix reports the missing routes.
    props = {
        "resourceGroupName": "rg",
        "location": "westeurope",
        "routes": [{"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"}],
    }
    urn = "urn:pulumi:dev::p::azure-native:network:RouteTable::rt"
    request = analyzer_pb2.AnalyzeRequest(
        type="azure-native:network:RouteTable", urn=urn, name="rt", properties=encode_struct(props)
    )
    analyze = server.Analyze(request, None)
    per_analyze = len(calls)
    # kms-inputs keeps the inputs it read through raw(): the SDK's own decoding, or a copy of it.
    import kmsguard.policies as policies
    kept = policies._inputs_by_urn[urn]
    shared = any(kept is decoded for decoded in calls)
    calls.clear()
    resource = PackResource(urn=urn, type="azure-native:network:RouteTable", name="rt", inputs=props)
    stack = server.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[_analyzer_resource(resource)]), None)
    print(json.dumps({
        "analyze_decodings": per_analyze,
        "inputs_shared": shared,
        "stack_decodings": len(calls),
        "analyze": sorted((d.policyName, d.message) for d in analyze.diagnostics),
        "stack": sorted((d.policyName, d.message) for d in stack.diagnostics),
    }))
    """
)


def run(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def sdk_as_is() -> dict[str, object]:
    return run("sdk")


@pytest.fixture(scope="module")
def installed() -> dict[str, object]:
    return run("installed")


def test_the_sdk_decodes_once_per_policy(sdk_as_is: dict[str, object]) -> None:
    # Two resource policies validate in Analyze (kms-route-autofix, kms-inputs); three stack policies.
    assert (sdk_as_is["analyze_decodings"], sdk_as_is["stack_decodings"]) == (2, 3)


def test_installed_decodes_once_per_call(installed: dict[str, object]) -> None:
    assert (installed["analyze_decodings"], installed["stack_decodings"]) == (1, 1)


def test_raw_hands_out_the_decoding_instead_of_unwrapping_a_copy(
    sdk_as_is: dict[str, object], installed: dict[str, object]
) -> None:
    assert (sdk_as_is["inputs_shared"], installed["inputs_shared"]) == (False, True)


def test_the_answers_are_the_sdks(sdk_as_is: dict[str, object], installed: dict[str, object]) -> None:
    assert installed["analyze"] == sdk_as_is["analyze"]
    assert installed["stack"] == sdk_as_is["stack"]
    policies = {name for name, _ in installed["analyze"]}  # type: ignore[attr-defined]
    assert policies == {"kms-route-autofix"}
