"""Audit B: ``auto_kms_routes(internet_next_hop_denied=True)`` warns where its firewall rule cannot
help: a table sending the KMS IPs to a VPN/ExpressRoute gateway tunnels them on-premises (§1.2,
§3.1), where no firewall in Azure sees them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pulumi
import pytest

from kmsguard.pulumi.routes import AutoKmsRoutes


def _table(routes: list[dict[str, Any]]) -> Any:
    return SimpleNamespace(
        name="rt-spoke",
        props={"location": "westeurope", "routeTableName": "rt-spoke", "routes": routes},
        opts=pulumi.ResourceOptions(),
    )


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: seen.append(message))
    return seen


def test_a_gateway_tunnel_is_warned_about(warnings: list[str]) -> None:
    state = AutoKmsRoutes("public", internet_next_hop_denied=True)
    gateway = {"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"}
    assert state._route_table(_table([gateway])) is None, "denied: no route is added"
    [message] = warnings
    assert message.startswith(
        "auto_kms_routes: RouteTable rt-spoke sends the KMS IPs (0.0.0.0/0) to a VirtualNetworkGateway: next hop "
        "Internet is denied, and the firewall rule cannot help because the tunnel goes to the gateway, not the "
        "firewall"
    )


def test_a_firewall_next_hop_is_not_warned_about(warnings: list[str]) -> None:
    state = AutoKmsRoutes("public", internet_next_hop_denied=True)
    firewall = {
        "name": "default",
        "addressPrefix": "0.0.0.0/0",
        "nextHopType": "VirtualAppliance",
        "nextHopIpAddress": "10.0.0.4",
    }
    assert state._route_table(_table([firewall])) is None
    assert warnings == []


def test_without_the_denial_nothing_is_warned_and_routes_are_added(warnings: list[str]) -> None:
    state = AutoKmsRoutes("public", internet_next_hop_denied=False)
    gateway = {"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"}
    result = state._route_table(_table([gateway]))
    assert result is not None and len(result.props["routes"]) == 4
    assert warnings == []
