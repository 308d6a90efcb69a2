"""The pack over gRPC (the engine's call order) with azure-native types kmsguard does not read:
the same advisory as for classic ones (test_classic_pack.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pack.harness import NO_AUTOFIX, POLICY_DIR, found, messages, preview

from collect.preview import U, urn
from collect.test_native_unread import avnm_routing, spoke
from kmsguard.collect.pulumi import PulumiResource
from kmsguard.engine import UNKNOWN, PackProcess, PackResource

RULE = "azure-native:network:RoutingRule"
CONFIG = "azure-native:network:RoutingConfiguration"
COLLECTION = "azure-native:network:RoutingRuleCollection"


@pytest.fixture(scope="module")
def pack() -> Iterator[PackProcess]:
    with PackProcess(POLICY_DIR, project="net", stack="dev") as running:
        yield running


def wire(resources: list[PulumiResource]) -> list[PackResource]:
    """Preview bags: the sentinel strings travel as the engine's unknowns (§1.8)."""

    def conv(v: object) -> object:
        if v == U:
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
        for r in resources
    ]


def stack() -> list[PulumiResource]:
    vnet = spoke(deployed=False)
    return [vnet, *avnm_routing(False, vnet)]


def test_avnm_routing_configuration_is_an_advisory_and_the_subnet_unknown(pack: PackProcess) -> None:
    resources = stack()
    vnet = resources[0]
    assert found(preview(pack, wire([vnet]), NO_AUTOFIX)) == set()  # alone: reachable, nothing to say
    result = preview(pack, wire(resources), NO_AUTOFIX)
    assert found(result) == {
        ("kms-unverified", "advisory", urn(CONFIG, "force-nva")),
        ("kms-unverified", "advisory", urn(COLLECTION, "coll")),
        ("kms-unverified", "advisory", urn(RULE, "default-to-nva")),
        ("kms-unverified", "advisory", vnet.urn),
    }
    assert messages(result, "kms-unverified", urn(RULE, "default-to-nva")) == [
        "default-to-nva: (type): azure-native:network:RoutingRule is an azure-native type kmsguard does not "
        "read yet; it may change the KMS path of any subnet in the stack, so their verdicts are unknown\n"
        "Docs: docs/findings.md#kms-invalid-input (KMS-INVALID-INPUT)"
    ]
    (subnet,) = messages(result, "kms-unverified", vnet.urn)
    assert subnet.startswith(
        "Subnet spoke/app (westeurope, public cloud): KMS TCP 1688 reachability to 20.118.99.224, "
        "40.83.235.53, 23.102.135.246 cannot be proven from the stack"
    )
    assert (
        "azure-native resources kmsguard does not read yet may change this path: force-nva "
        f"({CONFIG}), default-to-nva ({RULE}), coll ({COLLECTION})"
    ) in subnet


def test_strict_unknown_policy_makes_it_mandatory(pack: PackProcess) -> None:
    result = preview(pack, wire(stack()), {**NO_AUTOFIX, "kms-unverified": "mandatory"})
    assert {(level, u) for _, level, u in found(result)} >= {("mandatory", urn(RULE, "default-to-nva"))}
    assert {level for _, level, _ in found(result)} == {"mandatory"}
