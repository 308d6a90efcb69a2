"""The pack's Configure wrapper (kmsguard.policies.remember_reachability_config) fails closed: when
kms-reachability's config cannot be read, the autofix treats next hop Internet as denied."""

from __future__ import annotations

import contextlib
from typing import Any

import kmsguard.policies as policies
from kmsguard.policies.servicer import servicer_class


class _Unreadable:
    @property
    def policyConfig(self) -> Any:  # the protobuf field's name
        raise ValueError("cannot be read")


class _Readable:
    def __init__(self) -> None:
        self.policyConfig: dict[str, Any] = {}  # the protobuf field's name


def configure(request: object) -> None:
    # The wrapper records the config before it hands the call to the SDK's Configure, which this
    # stand-in request and servicer make fail: only the recorded outcome matters here.
    with contextlib.suppress(Exception):
        servicer_class().Configure(object(), request, None)


def test_an_unreadable_config_keeps_the_autofix_off_internet() -> None:
    configure(_Unreadable())
    assert policies.internet_next_hop_denied() is True
    configure(_Readable())
    assert policies.internet_next_hop_denied() is False
