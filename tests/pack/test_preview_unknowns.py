"""A mandatory violation stays mandatory when ids and names are unknown during preview.

A pack that reads properties through pulumi_policy's proxies hits ``UnknownValueError`` on the first
unknown id, and the SDK turns the whole mandatory policy into one advisory "can't run policy ...
during preview" note (pulumi-mechanics §0 fact 3, §1.7): the preview passes. The naive pack in
``tests/fixtures/packs/naive`` shows that on the same bags that make kmsguard fail the preview.
"""

from __future__ import annotations

from kmsguard.engine import UNKNOWN, PackProcess, PackResource, Violation, drive_pack

from . import topologies as T
from .bags import Stack, arm_id
from .harness import FIXTURE_PACKS, NO_AUTOFIX, POLICY_DIR, REACHABILITY, found, preview

NAIVE = FIXTURE_PACKS / "naive"
SPOKE = Stack().urn(T.VNET, "spoke")


def forced_tunnel() -> list[PackResource]:
    return T.udr_to_vpn_gateway().resources


def test_the_bags_carry_the_unknowns_of_a_first_preview() -> None:
    by_name = {r.name: r for r in forced_tunnel()}
    rt, spoke, gw = by_name["rt-spoke"], by_name["spoke"], by_name["vpn"]
    assert rt.outputs is not None and spoke.outputs is not None and gw.outputs is not None
    # ids and provider-assigned names are unknown; path parameters are not outputs.
    assert rt.outputs["id"] is UNKNOWN and rt.outputs["name"] is UNKNOWN
    assert "routeTableName" not in rt.outputs and "resourceGroupName" not in rt.outputs
    assert rt.inputs["routeTableName"].startswith("rt-spoke") and rt.inputs["__createBeforeDelete"] is True
    [app, _] = spoke.outputs["subnets"]
    assert (
        app["routeTable"]["id"] is UNKNOWN and app["id"] is UNKNOWN and app["routeTable"]["routes"] is UNKNOWN
    )
    assert spoke.property_dependencies == {"subnets": (rt.urn,)}
    assert gw.outputs["ipConfigurations"][0]["subnet"]["id"] is UNKNOWN


def test_naive_pack_downgrades_to_advisory_and_lets_the_preview_pass() -> None:
    result = drive_pack(NAIVE, forced_tunnel(), project="net", stack="dev")
    assert result.violations == (
        Violation(
            policy="naive-kms-reachability",
            pack="naive-kms",
            level="advisory",
            urn="",
            message=(
                "can't run policy 'naive-kms-reachability' from policy pack 'naive-kms@v0.0.1' during preview: "
                "string value at .id can't be known during preview"
            ),
            description="Subnets must not be forced-tunneled.",
            severity="",
        ),
    )
    assert result.preview_fails is False


def test_naive_pack_does_work_when_ids_are_known() -> None:
    # The same check against deployed state (ids known) reports the subnet: the naive pack is not
    # broken, it only cannot see through preview unknowns.
    st = Stack()
    rt_id = arm_id(T.RG, "routeTables/rt-spoke")
    table = PackResource(
        T.RT,
        st.urn(T.RT, "rt-spoke"),
        "rt-spoke",
        {"id": rt_id, "routes": [T.default_route("VirtualNetworkGateway")]},
    )
    vnet = PackResource(
        T.VNET,
        SPOKE,
        "spoke",
        {
            "id": arm_id(T.RG, "virtualNetworks/spoke"),
            "subnets": [{"name": "app", "routeTable": {"id": rt_id}}],
        },
    )
    result = drive_pack(NAIVE, [table, vnet], project="net", stack="dev")
    assert [(v.level, v.urn, v.message.split("\n")[1]) for v in result.violations] == [
        ("mandatory", SPOKE, "subnet app is forced-tunneled by rt-spoke")
    ]
    assert result.preview_fails is True


def test_kmsguard_reports_the_same_bags_as_mandatory(pack: PackProcess) -> None:
    result = preview(pack, forced_tunnel(), NO_AUTOFIX)
    assert found(result) == {(REACHABILITY, "mandatory", SPOKE)}
    assert result.preview_fails is True
    assert not any("can't run policy" in v.message for v in result.violations)


def test_mandatory_without_any_analyze_inputs(pack: PackProcess) -> None:
    # AnalyzeStack alone (no Analyze call remembered the path parameters, e.g. another stack name so no
    # URN was seen before): property dependencies still link the subnet to its table.
    resources = T.udr_to_vpn_gateway().resources
    solo = Stack(stack="solo")
    renamed = [
        PackResource(
            r.type,
            r.urn.replace("urn:pulumi:dev::", "urn:pulumi:solo::"),
            r.name,
            r.inputs,
            r.outputs,
            parent=solo.root if r.parent else "",
            property_dependencies={
                k: tuple(u.replace("urn:pulumi:dev::", "urn:pulumi:solo::") for u in v)
                for k, v in r.property_dependencies.items()
            },
        )
        for r in resources
    ]
    pack.configure(NO_AUTOFIX)
    violations = pack.analyze_stack(renamed)
    assert [(v.policy, v.level, v.urn) for v in violations] == [
        (REACHABILITY, "mandatory", solo.urn(T.VNET, "spoke"))
    ]


def test_everything_unknown_is_unknown_never_a_pass(pack: PackProcess) -> None:
    # The whole route list is unknown: the program builds it with apply() from the firewall's private
    # IP, so the engine records the firewall as its property dependency.
    st = Stack()
    fw = st.add(T.FW, "fw", {"resourceGroupName": T.RG, "sku": {"name": "AZFW_VNet", "tier": "Standard"}})
    rt = st.add(T.RT, "rt-spoke", {"resourceGroupName": T.RG, "routes": UNKNOWN}, {"routes": [fw.urn]})
    T.spoke(st, subnet={"routeTable": {"id": UNKNOWN}}, deps=[rt.urn])
    result = preview(pack, st.resources)
    assert found(result) == {("kms-unverified", "advisory", SPOKE)}
    assert result.remediations == ()


def test_shared_pack_previews_like_a_fresh_drive_pack(pack: PackProcess) -> None:
    # The module-wide pack (reconfigured per preview) answers exactly as a pack started for one preview.
    for config in ({}, NO_AUTOFIX):
        fresh = drive_pack(POLICY_DIR, forced_tunnel(), policy_config=config, project="net", stack="dev")
        shared = preview(pack, forced_tunnel(), config)
        assert fresh.violations == shared.violations
        assert fresh.remediations == shared.remediations
        assert fresh.final_resources == shared.final_resources
