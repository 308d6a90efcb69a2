"""Spoke VNets: standalone Subnet resources with their route tables, NSGs and NAT gateway, peered
to the hub (using the hub's gateway when there is one)."""

from __future__ import annotations

import pulumi
from hub import Hub
from pulumi_azure_native import network
from routing import Egress, route_table, security_group
from stack_settings import Settings, SpokeSpec


def _nat_gateway(s: Settings, rg: pulumi.Input[str], spoke: SpokeSpec) -> network.NatGateway | None:
    if not any(sub.nat_gateway for sub in spoke.subnets):
        return None
    pip = network.PublicIPAddress(
        f"pip-nat-{spoke.name}",
        public_ip_address_name=f"pip-{s.stack}-nat-{spoke.name}",
        resource_group_name=rg,
        location=s.location,
        sku={"name": "Standard", "tier": "Regional"},
        public_ip_allocation_method="Static",
    )
    return network.NatGateway(
        f"ng-{spoke.name}",
        nat_gateway_name=f"ng-{s.stack}-{spoke.name}",
        resource_group_name=rg,
        location=s.location,
        sku={"name": "Standard"},
        public_ip_addresses=[{"id": pip.id}],
    )


def spoke(
    s: Settings, rg: pulumi.Input[str], spec: SpokeSpec, hub: Hub, cloud: str
) -> network.VirtualNetwork:
    vnet = network.VirtualNetwork(
        f"vnet-{spec.name}",
        virtual_network_name=f"vnet-{s.stack}-{spec.name}",
        resource_group_name=rg,
        location=s.location,
        address_space={"address_prefixes": [spec.address_space]},
        dhcp_options={"dns_servers": list(spec.dns_servers)} if spec.dns_servers else None,
    )
    gateway = s.hub.gateway
    egress = Egress(
        kind=spec.egress,
        firewall_ip=hub.firewall_ip,
        forced_elsewhere=gateway is not None and gateway.forces_tunnel and spec.egress != "firewall",
    )
    nat = _nat_gateway(s, rg, spec)
    table = route_table(f"rt-{spec.name}", s, rg, egress, spec.route_style)
    for sub in spec.subnets:
        nsg = security_group(f"nsg-{spec.name}-{sub.name}", s, rg, sub, cloud)
        network.Subnet(
            f"snet-{spec.name}-{sub.name}",
            subnet_name=sub.name,
            virtual_network_name=vnet.name,
            resource_group_name=rg,
            address_prefix=sub.prefix,
            route_table={"id": table.id} if table is not None else None,
            network_security_group={"id": nsg.id} if nsg is not None else None,
            nat_gateway={"id": nat.id} if nat is not None and sub.nat_gateway else None,
            default_outbound_access=False if sub.private else None,
        )
    uses_gateway = hub.gateway is not None
    network.VirtualNetworkPeering(
        f"peer-hub-to-{spec.name}",
        virtual_network_peering_name=f"hub-to-{spec.name}",
        virtual_network_name=hub.vnet.name,
        resource_group_name=rg,
        remote_virtual_network={"id": vnet.id},
        allow_virtual_network_access=True,
        allow_forwarded_traffic=True,
        allow_gateway_transit=uses_gateway,
        opts=pulumi.ResourceOptions(depends_on=[hub.gateway] if hub.gateway is not None else None),
    )
    network.VirtualNetworkPeering(
        f"peer-{spec.name}-to-hub",
        virtual_network_peering_name=f"{spec.name}-to-hub",
        virtual_network_name=vnet.name,
        resource_group_name=rg,
        remote_virtual_network={"id": hub.vnet.id},
        allow_virtual_network_access=True,
        allow_forwarded_traffic=True,
        use_remote_gateways=uses_gateway,
        opts=pulumi.ResourceOptions(depends_on=[hub.gateway] if hub.gateway is not None else None),
    )
    return vnet
