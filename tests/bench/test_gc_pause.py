"""``gc_pause``: the cyclic collector is off during AnalyzeStack and back to its state after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi_policy.policy import _PolicyAnalyzerServicer

from kmsguard.policies import gc_pause


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_nests_and_restores(collector: None) -> None:
    with gc_pause.paused():
        assert not gc.isenabled()
        with gc_pause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an outer call is still running
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled(collector: None) -> None:
    gc.disable()
    with gc_pause.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_restored_after_an_error(collector: None) -> None:
    with pytest.raises(RuntimeError, match="boom"), gc_pause.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_installed_analyze_stack_runs_paused_and_only_it(
    collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, bool] = {}

    def analyze_stack(self: Any, request: Any, context: Any) -> str:
        seen["AnalyzeStack"] = gc.isenabled()
        seen["thread"] = threading.current_thread() is threading.main_thread()
        return "response"

    def analyze(self: Any, request: Any, context: Any) -> str:
        seen["Analyze"] = gc.isenabled()
        return "analyzed"

    monkeypatch.setattr(_PolicyAnalyzerServicer, "AnalyzeStack", analyze_stack)
    monkeypatch.setattr(_PolicyAnalyzerServicer, "Analyze", analyze)
    assert gc_pause.install() is True
    wrapped = _PolicyAnalyzerServicer.AnalyzeStack
    assert gc_pause.install() is True and _PolicyAnalyzerServicer.AnalyzeStack is wrapped  # idempotent
    server: Any = object.__new__(_PolicyAnalyzerServicer)
    assert server.AnalyzeStack(None, None) == "response"
    assert server.Analyze(None, None) == "analyzed"
    assert seen == {"AnalyzeStack": False, "thread": True, "Analyze": True}
    assert gc.isenabled()
