"""Audit B: kms-route-autofix and standalone Route resources; ``internetNextHopDenied``.

The engine sends a resource to the pack when the program registers it (pulumi-mechanics §1.3), so
a Route declared with ``route_table_name=table.name`` reaches the pack after its table: the table's
Remediate cannot know it. A Route registered first (its table named by a plain string) is known,
and the autofix does not duplicate it; one registered later makes kms-reachability report the
duplicate. With ``internetNextHopDenied`` the autofix adds nothing and kms-reachability proposes
the firewall rule (§3.3, §6.2).
"""

from __future__ import annotations

from typing import Any

from pack import topologies as T
from pack.bags import Stack
from pack.harness import AUTOFIX, REACHABILITY, messages, preview, routes_of

from kmsguard.engine import UNKNOWN, PackProcess

KMS = T.PUBLIC_KMS


def _gateway(st: Stack, vnet_urn: str) -> None:
    pip = st.add(T.PIP, "gw-pip", {"resourceGroupName": T.RG, "sku": {"name": "Standard"}})
    st.add(
        T.GW,
        "vpn",
        {
            "resourceGroupName": T.RG,
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "enableBgp": False,
            "ipConfigurations": [
                {"name": "ipconfig", "subnet": {"id": UNKNOWN}, "publicIPAddress": {"id": UNKNOWN}}
            ],
        },
        {"ipConfigurations": [vnet_urn, pip.urn]},
    )


def _route(st: Stack, ip: str, table: Any, deps: list[str] | None = None) -> None:
    st.add(
        T.ROUTE,
        f"route-kms-{ip.replace('.', '-')}",
        {
            "resourceGroupName": T.RG,
            "routeTableName": table,
            "routeName": f"route-kms-{ip.replace('.', '-')}",
            "addressPrefix": f"{ip}/32",
            "nextHopType": "Internet",
        },
        {"routeTableName": deps} if deps else None,
    )


def _spoke(st: Stack, rt_urn: str) -> None:
    vnet = T.spoke(
        st,
        subnet={"routeTable": {"id": UNKNOWN}},
        deps=[rt_urn],
        extra_subnets=[{"name": "GatewaySubnet", "addressPrefix": "10.1.255.0/27"}],
    )
    _gateway(st, vnet.urn)


def routes_first() -> Stack:
    """Standalone KMS Routes naming their table by a plain string, registered before it."""
    st = Stack()
    for ip in KMS[:2]:
        _route(st, ip, "rt-spoke")
    rt = st.add(
        T.RT,
        "rt-spoke",
        {
            "resourceGroupName": T.RG,
            "routeTableName": "rt-spoke",
            "routes": [T.default_route("VirtualNetworkGateway")],
        },
    )
    _spoke(st, rt.urn)
    return st


def routes_after() -> Stack:
    """Standalone KMS Routes naming their (autonamed) table through ``table.name``: after it."""
    st = Stack()
    rt = T.route_table(st, [T.default_route("VirtualNetworkGateway")])
    for ip in KMS:
        _route(st, ip, UNKNOWN, [rt.urn])
    _spoke(st, rt.urn)
    return st


def test_routes_registered_first_are_not_duplicated(pack: PackProcess) -> None:
    st = routes_first()
    result = preview(pack, st.resources)
    [rem] = [r for r in result.remediations if r.policy == AUTOFIX]
    table = next(r for r in result.final_resources if r.type == T.RT)
    # Only the KMS IP without a standalone route gets an inline one.
    assert routes_of(table) == [T.default_route("VirtualNetworkGateway"), *T.kms_routes(KMS[2:])]
    assert rem.urn == table.urn
    assert messages(result, REACHABILITY) == []


def test_routes_registered_after_make_kms_reachability_report_the_duplicate(pack: PackProcess) -> None:
    st = routes_after()
    result = preview(pack, st.resources)
    table = next(r for r in result.final_resources if r.type == T.RT)
    # The table's Remediate ran before any of its Routes existed (§1.3): it appended the /32s.
    assert routes_of(table)[1:] == T.kms_routes(KMS)
    [message] = messages(result, REACHABILITY, table.urn)
    assert message.startswith(
        "route table rt-spoke: the same KMS prefix is declared inline and as a standalone Route: "
        "20.118.99.224/32 (inline route kms-20-118-99-224; standalone Route route-kms-20-118-99-224); "
    )
    assert "set kms-route-autofix to disabled for this stack" in message
    levels = {v.level for v in result.violations if v.policy == REACHABILITY and v.urn == table.urn}
    assert levels == {"mandatory"}


def test_internet_next_hop_denied_adds_no_route_and_proposes_the_firewall_rule(pack: PackProcess) -> None:
    st = T.udr_to_vpn_gateway()
    result = preview(pack, st.resources, {REACHABILITY: {"internetNextHopDenied": True}})
    assert [r for r in result.remediations if r.policy == AUTOFIX] == []
    assert messages(result, AUTOFIX) == []
    [message] = messages(result, REACHABILITY)
    assert (
        "next hop Internet is denied (internetNextHopDenied), so instead of /32 → Internet routes" in message
    )
    assert "allow TCP 1688 to 20.118.99.224, 23.102.135.246, 40.83.235.53 with a network rule" in message
    assert "kms_network_rule_collection" in message
    assert "RouteArgs(" not in message
    # The next preview without the setting gets the routes again (the config is per operation).
    again = preview(pack, st.resources)
    assert [r.policy for r in again.remediations] == [AUTOFIX]


def test_internet_next_hop_denied_is_a_schema_checked_boolean(pack: PackProcess) -> None:
    import pytest

    from kmsguard.errors import KmsguardError

    with pytest.raises(KmsguardError, match=r"internetNextHopDenied: Invalid type\. Expected: boolean"):
        pack.configure({REACHABILITY: {"internetNextHopDenied": "yes"}})
