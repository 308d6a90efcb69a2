"""The pack over gRPC (the engine's call order) with classic ``azure`` resources in the stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pack.harness import NO_AUTOFIX, POLICY_DIR, found, messages, preview

from collect.classic import ClassicStack
from collect.test_classic_collect import DENY_INTERNET, SUBNET, UNREAD, forced_tunnel, spoke
from kmsguard.collect.azure_native.values import UNKNOWN_STRING
from kmsguard.engine import UNKNOWN, PackProcess, PackResource


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    with PackProcess(POLICY_DIR, project="classic", stack="dev") as running:
        yield running


def wire(s: ClassicStack) -> list[PackResource]:
    """Preview bags: the sentinel strings travel as the engine's unknowns (§1.8)."""

    def conv(v: object) -> object:
        if v == UNKNOWN_STRING:
            return UNKNOWN
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return [
        PackResource(
            r.type,
            r.urn,
            r.name,
            conv(dict(r.props)),  # type: ignore[arg-type]
            dependencies=r.dependencies,
            property_dependencies=dict(r.property_dependencies),
        )
        for r in s.resources
    ]


def test_classic_forced_tunnel_with_nsg_deny_blocks_the_preview(pack: PackProcess) -> None:
    s = ClassicStack(deployed=False)
    _, sub = spoke(s)
    forced_tunnel(s, sub, nsg_rules=[DENY_INTERNET])
    result = preview(pack, wire(s), NO_AUTOFIX)
    assert found(result) == {("kms-reachability", "mandatory", s.urn(SUBNET, "vnet-spoke-app"))}


def test_classic_type_not_read_is_an_advisory_and_the_subnet_unknown(pack: PackProcess) -> None:
    s = ClassicStack(deployed=False)
    spoke(s)
    s.add(UNREAD, "erc", {"name": "erc"})
    result = preview(pack, wire(s), NO_AUTOFIX)
    assert found(result) == {
        ("kms-unverified", "advisory", s.urn(UNREAD, "erc")),
        ("kms-unverified", "advisory", s.urn(SUBNET, "vnet-spoke-app")),
    }
    assert messages(result, "kms-unverified", s.urn(UNREAD, "erc")) == [
        "erc: (type): azure:network/expressRouteCircuit:ExpressRouteCircuit is a classic azure (pulumi-azure) "
        "type kmsguard does not read yet; it may change the KMS path of any subnet in the stack, so their "
        "verdicts are unknown\n"
        "Docs: docs/findings.md#kms-invalid-input (KMS-INVALID-INPUT)"
    ]
