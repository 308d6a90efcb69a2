"""Route tables and NSGs of workload subnets, with the regional KMS routes where they are needed.

Which KMS helper a table gets depends on the stack's ``kms.routes`` mode:

* ``auto`` — ``auto_kms_routes()`` (registered in ``__main__``) adds the routes to every table whose
  own routes divert the KMS IPs; a table forced-tunneled by something it cannot see (a VPN Default
  Site, BGP or ExpressRoute default route, §3.1/§3.2) asks for them with ``with_kms_routes``;
* ``explicit`` — ``with_kms_routes`` for inline tables, the ``KmsRoutes`` component for tables whose
  routes are standalone ``Route`` resources;
* ``none`` — no KMS routes (what a forced-tunneling change without them looks like).

A landing zone that denies next hop Internet gets no KMS routes at all: the hub firewall's TCP 1688
rule is the alternative (§3.3, §6.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import network
from stack_settings import Settings, SubnetSpec

from kmsguard.pulumi import KmsRoutes, kms_ips, with_kms_routes


@dataclass(frozen=True)
class Egress:
    """Where a subnet's 0.0.0.0/0 goes, and whether something unseen already forces it on-premises."""

    kind: str  # internet | firewall | gateway
    firewall_ip: str | None
    forced_elsewhere: bool  # Default Site / BGP / ExpressRoute (the gateway spec decides)


def _default_route(egress: Egress) -> dict[str, Any] | None:
    if egress.kind == "gateway":
        return {
            "name": "default-to-onprem",
            "address_prefix": "0.0.0.0/0",
            "next_hop_type": "VirtualNetworkGateway",
        }
    if egress.kind == "firewall" and egress.firewall_ip is not None:
        return {
            "name": "default-to-firewall",
            "address_prefix": "0.0.0.0/0",
            "next_hop_type": "VirtualAppliance",
            "next_hop_ip_address": egress.firewall_ip,
        }
    return None


def _kms_wanted(s: Settings) -> bool:
    return s.kms_routes != "none" and not s.deny_internet_next_hop


def route_table(
    name: str,
    s: Settings,
    rg: pulumi.Input[str],
    egress: Egress,
    style: str,
) -> network.RouteTable | None:
    """The route table of one subnet; ``None`` when the subnet needs none."""
    default = _default_route(egress)
    forced = default is not None or egress.forced_elsewhere
    if default is None and not (egress.forced_elsewhere and _kms_wanted(s)):
        return None
    # Spoke tables must not learn the hub's BGP routes only where the design says so; keep
    # propagation on (the enterprise default) so on-premises prefixes still reach the spokes.
    if style == "inline":
        routes: list[Any] = [default] if default else []
        if _kms_wanted(s) and (s.kms_routes == "explicit" or (egress.forced_elsewhere and default is None)):
            routes = with_kms_routes(routes, location=s.location, cloud=s.cloud, forced_tunnel=forced)
        return network.RouteTable(
            name,
            route_table_name=name,
            resource_group_name=rg,
            location=s.location,
            routes=routes,
        )
    table = network.RouteTable(name, route_table_name=name, resource_group_name=rg, location=s.location)
    if default is not None:
        network.Route(
            f"{name}-{default['name']}",
            route_name=default["name"],
            route_table_name=table.name,
            resource_group_name=rg,
            address_prefix=default["address_prefix"],
            next_hop_type=default["next_hop_type"],
            next_hop_ip_address=default.get("next_hop_ip_address"),
        )
    if _kms_wanted(s) and (s.kms_routes == "explicit" or (egress.forced_elsewhere and default is None)):
        KmsRoutes(
            f"{name}-kms",
            route_table_name=table.name,
            resource_group_name=rg,
            location=s.location,
            cloud=s.cloud,
        )
    return table


def security_group(
    name: str, s: Settings, rg: pulumi.Input[str], subnet: SubnetSpec, cloud: str
) -> network.NetworkSecurityGroup | None:
    """A hardened NSG: optional TCP 1688 allow to the KMS IPs before an optional Internet deny.

    Under forced tunneling the KMS platform exception is off (§4.5 R4.2), so an Internet deny
    blocks activation unless a rule with a lower priority allows TCP 1688 to the KMS IPs.
    """
    if not subnet.has_nsg:
        return None
    rules: list[Any] = []
    if subnet.allow_kms:
        rules.append(
            {
                "name": "allow-kms-1688",
                "priority": 100,
                "direction": "Outbound",
                "access": "Allow",
                "protocol": "Tcp",
                "source_address_prefix": "VirtualNetwork",
                "source_port_range": "*",
                "destination_address_prefixes": list(kms_ips(cloud)),
                "destination_port_range": "1688",
            }
        )
    if subnet.deny_internet:
        rules.append(
            {
                "name": "deny-internet",
                "priority": 4000,
                "direction": "Outbound",
                "access": "Deny",
                "protocol": "*",
                "source_address_prefix": "*",
                "source_port_range": "*",
                "destination_address_prefix": "Internet",
                "destination_port_range": "*",
            }
        )
    return network.NetworkSecurityGroup(
        name,
        network_security_group_name=name,
        resource_group_name=rg,
        location=s.location,
        security_rules=rules,
    )
