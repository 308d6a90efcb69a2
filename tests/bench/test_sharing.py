"""The pack's three stack policies share one collected network per AnalyzeStack call.

Driven through pulumi_policy's own servicer in-process with the pack's call scopes installed (without
``decode_once``, which rewrites the SDK's module globals), with ``collect`` counted where the policies
call it. The answers must be exactly those of each policy computed on its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

import kmsguard.collect.pulumi as collect_module
import kmsguard.policies as policies
import kmsguard.policies.activation as activation
from kmsguard.collect.pulumi import PulumiResource, collect
from kmsguard.engine import PackResource
from kmsguard.engine.driver import _analyzer_resource
from kmsguard.model import Network
from kmsguard.policies import (
    PACK_NAME,
    POLICIES,
    REACHABILITY,
    UNVERIFIED,
    analyze_resources,
    gc_pause,
    scope,
)
from kmsguard.policies.activation import ACTIVATION, activation_findings
from kmsguard.policies.links import with_finding
from kmsguard.policies.messages import blocked_message, problem_message, unknown_message

# bench/ is a top-level package of the repository; tests/activation (the activation tests' resource
# builders) is a package, tests/ is not.
for _path in (Path(__file__).resolve().parents[2], Path(__file__).resolve().parents[1]):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from activation.resources import GALLERY_IMAGE, deny_imds, nic, nsg, windows_vm  # noqa: E402

from bench.estate import generate  # noqa: E402
from bench.run import to_pulumi  # noqa: E402

AZURE_EDITION = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-datacenter-azure-edition",
    "version": "latest",
}


def stack() -> list[PackResource]:
    """A small estate (blocked and unknown subnets), a gallery-image VM with no set-up and an Azure
    Edition VM behind an NSG denying IMDS."""
    return [
        *ESTATE,
        windows_vm("vm-gallery", {"id": GALLERY_IMAGE}),
        nsg("nsg-app", [deny_imds()]),
        nic("nic-ae", "nsg-app"),
        windows_vm("vm-ae", AZURE_EDITION, nic=nic("nic-ae", "nsg-app").outputs["id"]),  # type: ignore[index]
    ]


ESTATE = generate(400).pack_resources()


@pytest.fixture
def scoped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pack's call scopes, as ``serve()`` installs them; monkeypatch puts the SDK's methods back."""
    for rpc in scope.RPCS:
        monkeypatch.setattr(_PolicyAnalyzerServicer, rpc, getattr(_PolicyAnalyzerServicer, rpc))
    assert scope.install(share_decoding=False, pause_gc=False)


@pytest.fixture
def collects(monkeypatch: pytest.MonkeyPatch, scoped: None) -> Iterator[list[int]]:
    calls: list[int] = []

    def counted(resources: Sequence[PulumiResource]) -> Network:
        calls.append(len(resources))
        return collect(resources)

    # The policies import collect on first use; kms-client-activation's module once imported.
    monkeypatch.setattr(collect_module, "collect", counted)
    monkeypatch.setattr(activation, "collect", counted)
    # What kms-inputs learns from Analyze, which these tests do not send.
    monkeypatch.setattr(policies, "_inputs_by_urn", {r.urn: r.inputs for r in stack()})
    yield calls


def servicer(
    disabled: Sequence[str] = (), config: Mapping[str, Any] | None = None
) -> _PolicyAnalyzerServicer:
    server = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", list(POLICIES), EnforcementLevel.ADVISORY)
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name in disabled:
        request.policyConfig[name].enforcementLevel = analyzer_pb2.DISABLED
    if config is not None:
        request.policyConfig[REACHABILITY].enforcementLevel = analyzer_pb2.MANDATORY
        request.policyConfig[REACHABILITY].properties.update(dict(config))
    server.Configure(request, None)
    return server


def analyze_stack(
    server: _PolicyAnalyzerServicer, resources: Sequence[PackResource]
) -> list[tuple[str, str, str]]:
    request = analyzer_pb2.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in resources])
    response = server.AnalyzeStack(request, None)
    return [(d.policyName, d.urn, d.message.split("\n", 1)[1]) for d in response.diagnostics]


def expected(resources: Sequence[PackResource], *, reachability: bool = True) -> list[tuple[str, str, str]]:
    """Each policy on its own, with its own collect."""
    plain = to_pulumi(resources)
    result = analyze_resources(plain, {})
    out: list[tuple[str, str, str]] = []
    if reachability:
        out += [
            (REACHABILITY, s.urn, blocked_message(s)) for s in result.subnets if s.verdict.value == "blocked"
        ]
    out += [(UNVERIFIED, p.urn, problem_message(p)) for p in result.problems]
    out += [(UNVERIFIED, s.urn, unknown_message(s)) for s in result.subnets if s.verdict.value == "unknown"]
    out += [(ACTIVATION, f.urn, with_finding(f.message, f.id)) for f in activation_findings(plain)]
    return out


def test_one_collect_per_call_and_the_same_answers(collects: list[int]) -> None:
    resources = stack()
    want = expected(resources)
    collects.clear()
    got = analyze_stack(servicer(), resources)
    assert collects == [len(resources)]
    assert got == want
    kinds = [p for p, _, _ in got]
    assert (kinds.count(REACHABILITY) > 0, kinds.count(UNVERIFIED) > 0, kinds.count(ACTIVATION)) == (
        True,
        True,
        2,
    )
    # A second call collects again: nothing is reused from the first one.
    assert analyze_stack(servicer(), resources) == want
    assert collects == [len(resources)] * 2


def test_shared_even_when_kms_reachability_is_disabled(collects: list[int]) -> None:
    resources = stack()
    want = expected(resources, reachability=False)
    collects.clear()
    got = analyze_stack(servicer([REACHABILITY]), resources)
    assert collects == [len(resources)]
    assert got == want


def test_activation_collects_on_its_own_when_alone(collects: list[int]) -> None:
    resources = stack()
    want = [w for w in expected(resources) if w[0] == ACTIVATION]
    collects.clear()
    got = analyze_stack(servicer([REACHABILITY, UNVERIFIED]), resources)
    assert collects == [len(resources)]
    assert got == want


def test_a_bad_config_still_leaves_activation_its_network(collects: list[int]) -> None:
    resources = stack()
    collects.clear()
    got = analyze_stack(servicer(config={"scope": "nonsense"}), resources)
    # kms-reachability reports the config, once; kms-unverified, under the same config, would fail the
    # same way and stays silent (never the defaults in its place); kms-client-activation collects once.
    assert [g[0] for g in got if g[2].startswith("kmsguard could not evaluate the stack: ")] == [REACHABILITY]
    assert "scope" in got[0][2]
    assert collects == [len(resources)]
    assert [g for g in got if g[0] == UNVERIFIED] == []
    assert [g for g in got if g[0] == ACTIVATION] == [w for w in expected(resources) if w[0] == ACTIVATION]


def test_a_pre_collected_network_gives_the_same_findings() -> None:
    plain = to_pulumi(stack())
    assert activation_findings(plain, collect(sorted(plain, key=lambda r: r.urn))) == activation_findings(
        plain
    )
    assert len(activation_findings(plain)) == 2


def test_regression_the_shared_analysis_outlived_its_call(
    collects: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slot the stack policies share stayed on the thread after the call, holding its network and
    results until the next call had decoded its own request. It now lives on the call's scope."""
    resources = stack()
    server = servicer()
    seen: list[scope.CallScope] = []
    original = activation.validate

    def spy(args: Any, report: Any) -> None:
        current = scope.current()
        assert current is not None
        seen.append(current)
        original(args, report)

    monkeypatch.setattr(activation, "validate", spy)
    assert analyze_stack(server, resources) == expected(resources)
    assert analyze_stack(server, resources) == expected(resources)
    assert scope.current() is None  # nothing outlives the call
    first, second = seen
    assert first is not second and first.token != second.token and first.rpc == "AnalyzeStack"
    assert first.shared is not None and first.shared.network is not None
    # Installing again changes nothing, also under another wrapper installed outside it.
    wrapped = _PolicyAnalyzerServicer.AnalyzeStack
    assert policies.release_after_each_call() is True and _PolicyAnalyzerServicer.AnalyzeStack is wrapped
    assert gc_pause.install() is True and _PolicyAnalyzerServicer.AnalyzeStack is wrapped
