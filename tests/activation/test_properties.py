"""Property-based checks: SKU parsing never guesses; the activation findings never crash on bad bags."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kmsguard.catalog import UnknownImage, WindowsImage, load_catalog
from kmsguard.collect.pulumi import PulumiResource
from kmsguard.policies.activation import RUN_COMMAND, VM_EXTENSION, VMSS_EXTENSION, activation_findings

CATALOG = load_catalog()
(FAMILY,) = CATALOG.images
WS = (FAMILY.publisher, FAMILY.offer)
SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@st.composite
def rule_skus(draw: st.DrawFn) -> tuple[str, str, str]:
    rule = draw(st.sampled_from(FAMILY.rules))
    token, version = draw(st.sampled_from(rule.versions))
    variants = draw(st.lists(st.sampled_from(rule.variants), unique=True, max_size=len(rule.variants)))
    sku = "-".join([token, rule.token, *variants])
    return draw(st.sampled_from([sku, sku.upper(), sku.title()])), version, rule.edition


@given(rule_skus())
def test_every_rule_sku_maps_to_its_edition(case: tuple[str, str, str]) -> None:
    sku, version, edition = case
    found = CATALOG.marketplace_image(*WS, sku)
    assert isinstance(found, WindowsImage)
    assert (found.version, found.edition, found.key) == (version, edition, CATALOG.gvlk(version, edition))


@given(rule_skus(), st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True))
def test_an_unknown_part_makes_the_sku_unknown(case: tuple[str, str, str], extra: str) -> None:
    sku = f"{case[0]}-{extra}"
    found = CATALOG.marketplace_image(*WS, sku)
    known_variants = {v for rule in FAMILY.rules for v in rule.variants}
    if isinstance(found, WindowsImage):
        # Only a real variant (not yet in the SKU) may extend a known SKU, and it keeps the edition.
        assert extra in known_variants
        assert (found.version, found.edition) == case[1:]
    else:
        assert found == UnknownImage(f"SKU {sku!r} of image {WS[0]}/{WS[1]} is not in the catalog")


@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes_and_rarely_maps(sku: str) -> None:
    found = CATALOG.marketplace_image(*WS, sku)
    if isinstance(found, WindowsImage):
        assert found.edition in {r.edition for r in FAMILY.rules} | {e for _, e in FAMILY.skus.values()}


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.sampled_from(["", "x", SENTINEL]),
)
_keys = st.sampled_from(
    [
        "storageProfile",
        "imageReference",
        "osDisk",
        "osType",
        "networkProfile",
        "networkInterfaces",
        "id",
        "tags",
        "kmsguard-activation",
        "source",
        "script",
        "settings",
        "commandToExecute",
        "virtualMachineProfile",
        "extensionProfile",
        "extensions",
        "name",
        "vmName",
        "vmScaleSetName",
        "publisher",
        "sku",
        "securityRules",
        "ipConfigurations",
        "networkSecurityGroup",
        "osProfile",
        "windowsConfiguration",
    ]
)
_bags = st.recursive(
    _leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)
_types = st.sampled_from(
    [
        "azure-native:compute:VirtualMachine",
        "azure-native:compute:VirtualMachineScaleSet",
        RUN_COMMAND,
        VM_EXTENSION,
        VMSS_EXTENSION,
        "azure-native:network:NetworkInterface",
        "azure-native:network:NetworkSecurityGroup",
        "kmsguard:activation:KmsActivation",
    ]
)


@st.composite
def resources(draw: st.DrawFn) -> list[PulumiResource]:
    out: list[PulumiResource] = []
    for i in range(draw(st.integers(1, 4))):
        token = draw(_types)
        props: Any = draw(st.dictionaries(_keys, _bags, max_size=5))
        urn = f"urn:pulumi:dev::app::{token}::r{i}"
        deps = draw(
            st.sampled_from(
                [{}, {"vmName": ("urn:pulumi:dev::app::azure-native:compute:VirtualMachine::r0",)}]
            )
        )
        out.append(
            PulumiResource(
                urn, token, f"r{i}", props, draw(st.sampled_from(["", out[0].urn if out else ""])), (), deps
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(resources())
def test_findings_never_crash_and_always_name_a_vm(rs: list[PulumiResource]) -> None:
    vms = {r.urn for r in rs if r.type.endswith(("VirtualMachine", "VirtualMachineScaleSet"))}
    for finding in activation_findings(rs):
        assert finding.urn in vms and finding.message
