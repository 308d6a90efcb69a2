"""kms-route-autofix over gRPC: Remediate as the engine sends it (inputs with ``__createBeforeDelete``,
unknowns as raw sentinels, secrets wrapped), the engine's wholesale replacement of the inputs, and
the remediated routes reaching Analyze and AnalyzeStack."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from kmsguard.engine import UNKNOWN, PackProcess, PackResource, Secret, encode_value

from . import topologies as T
from .bags import Stack
from .harness import AUTOFIX, REACHABILITY, found, messages, preview, routes_of

PUBLIC_ADDED = T.kms_routes(T.PUBLIC_KMS)  # kms-20-118-99-224, kms-40-83-235-53, kms-23-102-135-246
RT_URN = Stack().urn(T.RT, "rt-spoke")
SPOKE = Stack().urn(T.VNET, "spoke")


def table(routes: Any, **extra: Any) -> PackResource:
    st = Stack()
    return st.add(T.RT, "rt-spoke", {"resourceGroupName": T.RG, "routes": routes, **extra})


def remediate(pack: PackProcess, r: PackResource) -> tuple[list[Any], PackResource]:
    pack.configure({})
    return pack.remediate(r)  # type: ignore[return-value]


def test_forced_tunnel_table_gets_the_kms_routes_appended(pack: PackProcess) -> None:
    before = table([T.default_route("VirtualNetworkGateway")])
    [rem], after = remediate(pack, before)
    assert rem.policy == AUTOFIX and rem.urn == RT_URN
    assert routes_of(after) == [T.default_route("VirtualNetworkGateway"), *PUBLIC_ADDED]
    # Everything else is kept, the internal key and what Check added included (§1.5).
    assert {k: v for k, v in after.inputs.items() if k != "routes"} == {
        k: v for k, v in before.inputs.items() if k != "routes"
    }
    assert after.inputs["__createBeforeDelete"] is True and after.inputs["azureApiVersion"] == "2024-05-01"


def test_applying_twice_equals_applying_once(pack: PackProcess) -> None:
    for hop in ("VirtualNetworkGateway", "None", "VnetLocal", UNKNOWN):
        [_], once = remediate(pack, table([T.default_route(hop)]))
        assert routes_of(once) == [T.default_route(hop), *PUBLIC_ADDED]
        again, twice = remediate(pack, once)
        assert again == []
        assert encode_value(twice.inputs) == encode_value(once.inputs)
        # Analyze sees nothing left to add.
        assert pack.analyze(once) == []


def test_appliance_tables_are_left_to_kms_reachability(pack: PackProcess) -> None:
    # From one route table an Azure Firewall that allows TCP 1688 cannot be told from an appliance
    # that forwards on-premises, and routes around a firewall bypass its inspection: no change, and
    # Analyze has nothing to add either (the stack policies judge the subnets).
    for stack in (T.third_party_appliance(), T.firewall_without_kms_rule(), T.firewall_allows_kms()):
        [rt] = [r for r in stack.resources if r.type == T.RT]
        rems, after = remediate(pack, rt)
        assert rems == []
        assert encode_value(after.inputs) == encode_value(rt.inputs)
        assert pack.analyze(rt) == []


def test_user_routes_are_never_changed_or_reordered(pack: PackProcess) -> None:
    user = [
        {"name": "onprem", "addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualNetworkGateway"},
        {"name": "hub", "addressPrefix": "10.0.0.0/8", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.100.4"},
        T.default_route("VirtualNetworkGateway"),
        {"name": "legacy-kms", "addressPrefix": "23.102.135.246/32", "nextHopType": "Internet"},
        {"name": "azkms-a", "addressPrefix": "20.118.99.224/32", "nextHopType": "VirtualNetworkGateway"},
    ]  # fmt: skip
    [_], after = remediate(pack, table(user))
    routes = routes_of(after)
    assert routes[: len(user)] == user
    # 23.102.135.246 is routed already; the user's /32 for 20.118.99.224 is a conflict, not rewritten;
    # 40.83.235.53 follows the default route to the gateway.
    assert routes[len(user) :] == [PUBLIC_ADDED[1]]
    assert messages(_preview_table(pack, user), AUTOFIX) == [
        "route table rt-spoke: a user /32 route sends KMS IP 20.118.99.224 to another next hop; kmsguard never "
        "rewrites user routes: change its nextHopType to Internet.\n"
        "Docs: docs/findings.md#kms-route-conflict (KMS-ROUTE-CONFLICT)"
    ]


def _preview_table(pack: PackProcess, routes: list[Any]) -> Any:
    st = Stack()
    rt = st.add(T.RT, "rt-spoke", {"resourceGroupName": T.RG, "routes": routes})
    T.spoke(st, subnet={"routeTable": {"id": UNKNOWN}}, deps=[rt.urn])
    return preview(pack, st.resources)


def test_names_are_stable_and_unique(pack: PackProcess) -> None:
    # A user route already uses the name the autofix would pick, for another prefix.
    user = [
        T.default_route("VirtualNetworkGateway"),
        {"name": "kms-20-118-99-224", "addressPrefix": "10.20.0.0/16", "nextHopType": "VnetLocal"},
    ]
    [_], first = remediate(pack, table(user))
    [_], second = remediate(pack, table(user))
    names = [r["name"] for r in routes_of(first)]
    assert names == [
        "default",
        "kms-20-118-99-224",
        "kms-20-118-99-224-2",
        "kms-40-83-235-53",
        "kms-23-102-135-246",
    ]
    assert len(set(names)) == len(names)
    assert routes_of(second) == routes_of(first)


def test_route_limit_is_reported_instead_of_exceeded(pack: PackProcess) -> None:
    filler = [
        {"name": f"r{i}", "addressPrefix": f"10.{i // 256}.{i % 256}.0/24", "nextHopType": "VnetLocal"}
        for i in range(398)
    ]
    routes = [T.default_route("VirtualNetworkGateway"), *filler]
    rems, after = remediate(pack, table(routes))
    assert rems == [] and routes_of(after) == routes
    result = _preview_table(pack, routes)
    assert found(result) == {(AUTOFIX, "mandatory", RT_URN), (REACHABILITY, "mandatory", SPOKE)}
    [message] = messages(result, AUTOFIX)
    assert message.startswith(
        "route table rt-spoke: the KMS routes cannot be added without exceeding the 400-route limit (docs/rules.md#route-limits); "
        "KMS traffic still goes 20.118.99.224 → route default (0.0.0.0/0 → VirtualNetworkGateway);"
    )
    # 397 + 3 = 400 fits exactly.
    rems, after = remediate(pack, table(routes[:397]))
    assert len(rems) == 1 and len(routes_of(after)) == 400


def test_tables_with_standalone_routes_are_untouched(pack: PackProcess) -> None:
    stack = T.inline_route_table_with_standalone_routes()
    pack.configure({})
    for r in stack.resources:
        rems, after = pack.remediate(r)
        assert rems == [] and after == r


def test_unknown_sentinels_survive_and_unknown_locations_are_left_alone(pack: PackProcess) -> None:
    # The next hop type is unknown in preview: the route keeps the raw sentinel.
    [_], after = remediate(pack, table([T.default_route(UNKNOWN)]))
    assert routes_of(after) == [T.default_route(UNKNOWN), *PUBLIC_ADDED]
    # An appliance route whose prefix is unknown may capture the IPs or not; a /32 settles it.
    unknown_prefix = {"name": "hub", "addressPrefix": UNKNOWN, "nextHopType": "VirtualAppliance"}
    [_], after = remediate(pack, table([unknown_prefix]))
    assert routes_of(after) == [unknown_prefix, *PUBLIC_ADDED]
    # A whole route unknown: nothing known diverts the IPs, but the unknown one might; a /32 settles it.
    [_], after = remediate(pack, table([UNKNOWN]))
    assert routes_of(after) == [UNKNOWN, *PUBLIC_ADDED]
    # The firewall's private IP is unknown in preview, but the next hop is an appliance: no change.
    assert remediate(pack, table([T.default_route("VirtualAppliance", UNKNOWN)]))[0] == []
    # The location decides the cloud; unknown location, unknown route list: no change.
    assert remediate(pack, table([T.default_route("VirtualNetworkGateway")], location=UNKNOWN))[0] == []
    assert remediate(pack, table(UNKNOWN))[0] == []


def test_secrets_keep_their_marking(pack: PackProcess) -> None:
    onprem = {"name": "onprem", "addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualAppliance",
              "nextHopIpAddress": Secret("10.0.100.7")}  # fmt: skip
    routes = [onprem, T.default_route("VirtualNetworkGateway")]
    [_], after = remediate(pack, table(routes, tags=Secret({"costCenter": "42"})))
    assert after.inputs["tags"] == Secret({"costCenter": "42"})
    assert routes_of(after) == [*routes, *PUBLIC_ADDED]


def test_secret_next_hop_is_redacted_from_messages(pack: PackProcess) -> None:
    # A user /32 sends 20.118.99.224 to the appliance, whose IP is a secret: the autofix leaves appliance
    # routes to the stack analysis, so the subnet stays unknown, and the message must not show the secret.
    pinned = {"name": "azkms", "addressPrefix": "20.118.99.224/32", "nextHopType": "VirtualAppliance",
              "nextHopIpAddress": Secret("10.0.100.9")}  # fmt: skip
    stack = T.third_party_appliance(ip=Secret("10.0.100.9"), kms_route=pinned)
    result = preview(pack, stack.resources)
    assert found(result) == {("kms-unverified", "advisory", SPOKE)}
    assert result.remediations == ()
    assert all("10.0.100.9" not in v.message for v in result.violations)
    [unverified] = messages(result, "kms-unverified")
    assert "third-party appliance [secret]" in unverified


def test_remediated_routes_reach_analyze_stack(pack: PackProcess) -> None:
    stack = T.udr_to_vpn_gateway()
    result = preview(pack, stack.resources)
    [rt] = [r for r in result.final_resources if r.type == T.RT]
    assert rt.outputs is not None
    assert rt.outputs["routes"] == [T.default_route("VirtualNetworkGateway"), *PUBLIC_ADDED]
    assert rt.outputs["id"] is UNKNOWN  # the other outputs stay as the provider previewed them
    # ... and the stack passes because of them: without the autofix it is blocked.
    assert result.violations == ()
    assert found(preview(pack, stack.resources, {AUTOFIX: "disabled"})) == {
        (REACHABILITY, "mandatory", SPOKE)
    }


def test_remediation_is_not_offered_for_other_types(pack: PackProcess) -> None:
    stack = T.udr_to_vpn_gateway()
    pack.configure({})
    for r in stack.resources:
        rems, _ = pack.remediate(r)
        assert [x.urn for x in rems] == ([RT_URN] if r.type == T.RT else [])


@pytest.mark.parametrize(
    "secret_at",
    ["routes", "route", "nextHopType"],
)
def test_secret_routes_at_any_depth_are_remediated_once(pack: PackProcess, secret_at: str) -> None:
    # Regression: a route list that is a secret as a whole made Remediate raise, which fails the
    # whole preview whatever the level (§1.7).
    ft = T.default_route("VirtualNetworkGateway")
    routes: Any = {
        "routes": Secret([ft]),
        "route": [Secret(ft)],
        "nextHopType": [{**ft, "nextHopType": Secret("VirtualNetworkGateway")}],
    }[secret_at]
    [_], once = remediate(pack, table(routes))
    expected = {
        "routes": Secret([ft, *PUBLIC_ADDED]),
        "route": [Secret(ft), *PUBLIC_ADDED],
        "nextHopType": [{**ft, "nextHopType": Secret("VirtualNetworkGateway")}, *PUBLIC_ADDED],
    }[secret_at]
    assert once.inputs["routes"] == expected
    assert remediate(pack, once)[0] == []


@pytest.mark.parametrize(
    ("builder", "expected"),
    [(T.firewall_allows_kms, set()), (T.firewall_without_kms_rule, {(REACHABILITY, "mandatory", SPOKE)})],
    ids=["firewall-allows-kms", "firewall-denies"],
)
def test_autofix_never_breaks_a_private_subnet_that_reaches_kms_through_the_firewall(
    pack: PackProcess, builder: Callable[[], Stack], expected: set[tuple[str, str, str]]
) -> None:
    # Routes around the firewall would remove the private subnet's only outbound path (§5.2): the
    # autofix leaves the table alone and kms-reachability judges the firewall.
    stack = builder()
    resources = []
    for r in stack.resources:
        if r.name == "spoke":
            assert r.outputs is not None
            private = [{**s, "defaultOutboundAccess": False} for s in r.inputs["subnets"]]
            outputs = {
                **r.outputs,
                "subnets": [{**s, "defaultOutboundAccess": False} for s in r.outputs["subnets"]],
            }
            r = dataclasses.replace(r, inputs={**r.inputs, "subnets": private}, outputs=outputs)
        resources.append(r)
    assert found(preview(pack, resources, {AUTOFIX: "disabled"})) == expected
    result = preview(pack, resources)
    assert found(result) == expected
    assert result.remediations == ()
    [rt] = [r for r in result.final_resources if r.type == T.RT]
    assert routes_of(rt) == [T.default_route("VirtualAppliance", UNKNOWN)]
    if expected:
        [message] = messages(result, REACHABILITY)
        assert (
            "1. firewall policy fw-policy: add rule collection group kms-activation (priority 100) with a network "
            "rule collection (Allow) and rule allow-kms: TCP 1688 from 10.1.0.0/24 to 20.118.99.224, "
            "23.102.135.246, 40.83.235.53"
        ) in message.split("\n")


def test_a_user_host_route_to_a_kms_allowing_firewall_passes(pack: PackProcess) -> None:
    # The user pins one KMS IP to the firewall with a /32 of their own: no conflict to report, the
    # firewall allows TCP 1688, so the preview passes with nothing remediated.
    pin = {"name": "azkms-a", "addressPrefix": "20.118.99.224/32", "nextHopType": "VirtualAppliance",
           "nextHopIpAddress": UNKNOWN}  # fmt: skip
    resources = []
    for r in T.firewall_allows_kms().resources:
        if r.type == T.RT:
            assert r.outputs is not None
            r = dataclasses.replace(
                r,
                inputs={**r.inputs, "routes": [*r.inputs["routes"], pin]},
                outputs={**r.outputs, "routes": [*r.outputs["routes"], {**pin, "id": UNKNOWN}]},
            )
        resources.append(r)
    result = preview(pack, resources)
    assert found(result) == set()
    assert result.remediations == ()
