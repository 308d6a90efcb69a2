"""``kmsguard.policies.scope``: one scope per AnalyzeStack/Analyze call, and every analysis of a call
under kms-reachability's config for that call.

Driven through pulumi_policy's own servicer in-process. The regression: the stack policies found
their call by reading the SDK's report closure (``response``); when that lookup failed (the SDK had
renamed the variable once already), ``kms-unverified`` analysed under ``{}`` and told a user whose
``egressAppliances`` declared the appliance to declare it. It also did so whenever kms-reachability
was disabled.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

import kmsguard.policies as policies
from kmsguard.engine.driver import _analyzer_resource
from kmsguard.policies import PACK_NAME, POLICIES, REACHABILITY, UNVERIFIED, scope

from .topologies import NVA_IP, third_party_appliance

CONFIG = {"egressAppliances": [NVA_IP]}


@pytest.fixture
def sdk_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test installs on the servicer is undone afterwards."""
    for rpc in (*scope.RPCS, "_create_report_violation"):
        monkeypatch.setattr(_PolicyAnalyzerServicer, rpc, getattr(_PolicyAnalyzerServicer, rpc))


@pytest.fixture
def configs(monkeypatch: pytest.MonkeyPatch, sdk_methods: None) -> Iterator[list[dict[str, Any]]]:
    """The config of every analysis the stack policies run."""
    seen: list[dict[str, Any]] = []
    original = policies.analyze_resources

    def spy(resources: Any, config: Mapping[str, Any], **kwargs: Any) -> Any:
        seen.append(dict(config))
        return original(resources, config, **kwargs)

    monkeypatch.setattr(policies, "analyze_resources", spy)
    yield seen


def rename_the_sdks_closure(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SDK whose report function no longer closes over a variable named ``response``."""
    make = _PolicyAnalyzerServicer._create_report_violation

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        inner = make(self, *args, **kwargs)

        def report_violation(message: str, urn: str | None = None) -> None:
            inner(message, urn)

        return report_violation

    monkeypatch.setattr(_PolicyAnalyzerServicer, "_create_report_violation", create)


def analyze_stack(disabled: Sequence[str] = ()) -> list[tuple[str, str]]:
    resources = third_party_appliance().resources
    server = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", list(POLICIES), EnforcementLevel.ADVISORY)
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    request.policyConfig[REACHABILITY].enforcementLevel = analyzer_pb2.MANDATORY
    request.policyConfig[REACHABILITY].properties.update(CONFIG)
    for name in disabled:
        request.policyConfig[name].enforcementLevel = analyzer_pb2.DISABLED
    server.Configure(request, None)
    # What kms-inputs learns from Analyze, which this test does not send.
    policies._inputs_by_urn.update({r.urn: r.inputs for r in resources})
    stack = analyzer_pb2.AnalyzeStackRequest(resources=[_analyzer_resource(r) for r in resources])
    response = server.AnalyzeStack(stack, None)
    return [(d.policyName, d.message) for d in response.diagnostics]


@pytest.mark.parametrize("installed", [False, True], ids=["sdk-as-is", "scopes"])
@pytest.mark.parametrize("disabled", [(), (REACHABILITY,)], ids=["all", "reachability-disabled"])
@pytest.mark.parametrize("renamed", [False, True], ids=["sdk-1.21", "closure-renamed"])
def test_every_analysis_of_a_call_runs_under_the_calls_config(
    configs: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    installed: bool,
    disabled: tuple[str, ...],
    renamed: bool,
) -> None:
    if installed:
        assert scope.install(share_decoding=False, pause_gc=False) is True
    if renamed:
        rename_the_sdks_closure(monkeypatch)
    reported = analyze_stack(disabled)
    assert configs and all(c == CONFIG for c in configs), configs
    # The appliance is declared: nothing to report, and above all not "declare it".
    assert [(p, m) for p, m in reported if p in (REACHABILITY, UNVERIFIED)] == []
    # One analysis per call with the scopes (shared); one per stack policy that needs it without.
    assert len(configs) == (1 if installed else 2 - len(disabled))


def test_each_call_opens_one_scope_and_drops_it(sdk_methods: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert scope.install(share_decoding=False, pause_gc=False) is True
    seen: list[tuple[str, scope.CallScope | None]] = []
    for name in (REACHABILITY, UNVERIFIED):
        policy = next(p for p in POLICIES if p.name == name)
        original = policy.validate

        def spy(args: Any, report: Any, name: str = name, original: Any = original) -> Any:
            seen.append((name, scope.current()))
            return original(args, report)

        monkeypatch.setattr(policy, "validate", spy)
    analyze_stack()
    analyze_stack()
    assert scope.current() is None
    assert [n for n, _ in seen] == [REACHABILITY, UNVERIFIED] * 2
    first, second = seen[0][1], seen[2][1]
    assert first is not None and second is not None
    assert seen[1][1] is first and seen[3][1] is second and first is not second
    assert (first.rpc, first.reachability_config, second.token - first.token) == ("AnalyzeStack", CONFIG, 1)
    assert first.shared is not None and first.shared.config == CONFIG


def test_an_unsupported_sdk_is_left_as_it_is(sdk_methods: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi_policy.version

    before = {rpc: getattr(_PolicyAnalyzerServicer, rpc) for rpc in scope.RPCS}
    monkeypatch.setattr(pulumi_policy.version, "VERSION", "1.22.0")
    assert scope.install() is False
    assert {rpc: getattr(_PolicyAnalyzerServicer, rpc) for rpc in scope.RPCS} == before
    # Every patch goes through the same check.
    from kmsguard.policies import decode_once, gc_pause

    assert (decode_once.install(), gc_pause.install(), policies.release_after_each_call()) == (False,) * 3
    assert {rpc: getattr(_PolicyAnalyzerServicer, rpc) for rpc in scope.RPCS} == before


def test_install_is_idempotent_and_survives_outer_wrappers(sdk_methods: None) -> None:
    import functools

    assert scope.install(share_decoding=False, pause_gc=False) is True
    inner = _PolicyAnalyzerServicer.AnalyzeStack

    @functools.wraps(inner)  # as kmsguard.pack.record wraps the servicer
    def recording(self: Any, request: Any, context: Any) -> Any:
        return inner(self, request, context)

    _PolicyAnalyzerServicer.AnalyzeStack = recording  # type: ignore[method-assign]
    assert scope.install(share_decoding=False, pause_gc=False) is True
    assert _PolicyAnalyzerServicer.AnalyzeStack is recording


def test_without_a_scope_kms_unverified_reads_the_configured_reachability_config(sdk_methods: None) -> None:
    server = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", list(POLICIES), EnforcementLevel.ADVISORY)
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    request.policyConfig[REACHABILITY].properties.update({"scope": "windows-vm-subnets"})
    server.Configure(request, None)
    assert scope.current() is None
    assert scope.reachability_config() == {"scope": "windows-vm-subnets"}
    server.Configure(analyzer_pb2.ConfigureAnalyzerRequest(), None)
    assert scope.reachability_config() == {}
