"""The hub VNet: gateway (VPN with an optional Default Site, or ExpressRoute), Azure Firewall with
its Firewall Policy, and shared workload subnets.

The hub declares its subnets inline (the VNet owns GatewaySubnet and AzureFirewallSubnet, which
nothing else references by resource), while the spokes use standalone Subnet resources: both
styles real programs use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import network
from routing import Egress, route_table, security_group
from stack_settings import FirewallSpec, GatewaySpec, Settings

from kmsguard.pulumi import kms_network_rule_collection


@dataclass
class Hub:
    vnet: network.VirtualNetwork
    gateway: network.VirtualNetworkGateway | None
    firewall: network.AzureFirewall | None
    firewall_ip: str | None


def subnet_id(vnet: network.VirtualNetwork, name: str) -> pulumi.Output[str]:
    """The ARM id of an inline subnet, built from the VNet's id (known once the VNet exists)."""
    return vnet.id.apply(lambda vnet_id: f"{vnet_id}/subnets/{name}")


def _gateway_subnet_prefix(address_space: str) -> str:
    # GatewaySubnet takes the last /27 of the hub's first /24: the layout the Azure landing-zone
    # reference uses, so the workload and firewall subnets keep the low addresses.
    import ipaddress

    first = next(ipaddress.IPv4Network(address_space).subnets(new_prefix=24))
    return str(list(first.subnets(new_prefix=27))[-1])


def firewall_policy(s: Settings, rg: pulumi.Input[str], kms_rule: bool) -> network.FirewallPolicy | None:
    fw = s.hub.firewall
    if fw is None:
        return None
    policy = network.FirewallPolicy(
        "fwpol-hub",
        firewall_policy_name=f"fwpol-{s.stack}-hub",
        resource_group_name=rg,
        location=s.location,
        sku={"tier": fw.tier},
        threat_intel_mode="Alert",
        dns_settings={"enable_proxy": fw.dns_proxy},
    )
    sources = [sp.address_space for sp in s.spokes] + [s.hub.address_space]
    collections: list[network.FirewallPolicyFilterRuleCollectionArgs] = [
        network.FirewallPolicyFilterRuleCollectionArgs(
            rule_collection_type="FirewallPolicyFilterRuleCollection",
            name="platform-dns",
            priority=110,
            action=network.FirewallPolicyFilterRuleCollectionActionArgs(type="Allow"),
            rules=[
                network.NetworkRuleArgs(
                    rule_type="NetworkRule",
                    name="azure-dns",
                    ip_protocols=["UDP", "TCP"],
                    source_addresses=sources,
                    destination_addresses=["168.63.129.16"],
                    destination_ports=["53"],
                )
            ],
        )
    ]
    if kms_rule:
        collections.insert(0, kms_network_rule_collection(_cloud(s), source_addresses=sources))
    network.FirewallPolicyRuleCollectionGroup(
        "fwpol-hub-platform",
        firewall_policy_name=policy.name,
        resource_group_name=rg,
        rule_collection_group_name="platform",
        priority=200,
        rule_collections=list(collections),
    )
    return policy


def _cloud(s: Settings) -> str:
    from kmsguard.pulumi import resolve_cloud

    return resolve_cloud(s.location, s.cloud, f"{s.project}:location")


def _gateway(
    s: Settings, rg: pulumi.Input[str], spec: GatewaySpec, vnet: network.VirtualNetwork
) -> network.VirtualNetworkGateway:
    pip = network.PublicIPAddress(
        "pip-gw-hub",
        public_ip_address_name=f"pip-{s.stack}-gw-hub",
        resource_group_name=rg,
        location=s.location,
        sku={"name": "Standard", "tier": "Regional"},
        public_ip_allocation_method="Static",
        zones=["1", "2", "3"],
    )
    default_site: dict[str, Any] | None = None
    if spec.default_site is not None:
        site = network.LocalNetworkGateway(
            "lgw-onprem",
            local_network_gateway_name=f"lgw-{s.stack}-onprem",
            resource_group_name=rg,
            location=s.location,
            gateway_ip_address=spec.default_site.gateway_ip,
            local_network_address_space={"address_prefixes": list(spec.default_site.address_prefixes)},
        )
        default_site = {"id": site.id}
    vpn = spec.type == "vpn"
    # One dict of arguments: the provider's overloads have more unions than a type checker expands.
    args: dict[str, Any] = {
        "virtual_network_gateway_name": f"vgw-{s.stack}-hub",
        "resource_group_name": rg,
        "location": s.location,
        "gateway_type": "Vpn" if vpn else "ExpressRoute",
        "vpn_type": "RouteBased" if vpn else None,
        "sku": {"name": spec.sku, "tier": spec.sku},
        "enable_bgp": spec.enable_bgp if vpn else None,
        "gateway_default_site": default_site,
        "ip_configurations": [
            {
                "name": "default",
                "subnet": {"id": subnet_id(vnet, "GatewaySubnet")},
                "public_ip_address": {"id": pip.id},
                "private_ip_allocation_method": "Dynamic",
            }
        ],
    }
    return network.VirtualNetworkGateway("vgw-hub", **args)


def _firewall(
    s: Settings,
    rg: pulumi.Input[str],
    spec: FirewallSpec,
    vnet: network.VirtualNetwork,
    policy: network.FirewallPolicy,
) -> network.AzureFirewall:
    pip = network.PublicIPAddress(
        "pip-fw-hub",
        public_ip_address_name=f"pip-{s.stack}-fw-hub",
        resource_group_name=rg,
        location=s.location,
        sku={"name": "Standard", "tier": "Regional"},
        public_ip_allocation_method="Static",
    )
    return network.AzureFirewall(
        "afw-hub",
        azure_firewall_name=f"afw-{s.stack}-hub",
        resource_group_name=rg,
        location=s.location,
        sku={"name": "AZFW_VNet", "tier": spec.tier},
        firewall_policy={"id": policy.id},
        ip_configurations=[
            {
                "name": "default",
                "subnet": {"id": subnet_id(vnet, "AzureFirewallSubnet")},
                "public_ip_address": {"id": pip.id},
            }
        ],
    )


def hub(s: Settings, rg: pulumi.Input[str], policy: network.FirewallPolicy | None) -> Hub:
    spec = s.hub
    fw_ip = spec.firewall.private_ip if spec.firewall else None
    subnets: list[Any] = []
    if spec.gateway is not None:
        # GatewaySubnet gets no route table: a 0.0.0.0/0 there breaks the gateway (§2.7).
        subnets.append(
            {"name": "GatewaySubnet", "address_prefix": _gateway_subnet_prefix(spec.address_space)}
        )
    if spec.firewall is not None:
        subnets.append({"name": "AzureFirewallSubnet", "address_prefix": spec.firewall.subnet_prefix})
    # Hub workload subnets egress directly, unless the gateway forces the whole VNet on-premises.
    egress = Egress(
        kind="internet",
        firewall_ip=fw_ip,
        forced_elsewhere=spec.gateway is not None and spec.gateway.forces_tunnel,
    )
    cloud = _cloud(s)
    for sub in spec.subnets:
        entry: dict[str, Any] = {"name": sub.name, "address_prefix": sub.prefix}
        table = route_table(f"rt-hub-{sub.name}", s, rg, egress, "inline")
        if table is not None:
            entry["route_table"] = {"id": table.id}
        nsg = security_group(f"nsg-hub-{sub.name}", s, rg, sub, cloud)
        if nsg is not None:
            entry["network_security_group"] = {"id": nsg.id}
        if sub.private:
            entry["default_outbound_access"] = False
        subnets.append(entry)
    vnet = network.VirtualNetwork(
        "vnet-hub",
        virtual_network_name=f"vnet-{s.stack}-hub",
        resource_group_name=rg,
        location=s.location,
        address_space={"address_prefixes": [spec.address_space]},
        dhcp_options={"dns_servers": list(spec.dns_servers)} if spec.dns_servers else None,
        subnets=subnets,
    )
    gateway = _gateway(s, rg, spec.gateway, vnet) if spec.gateway is not None else None
    firewall = (
        _firewall(s, rg, spec.firewall, vnet, policy)
        if spec.firewall is not None and policy is not None
        else None
    )
    return Hub(vnet, gateway, firewall, fw_ip)
