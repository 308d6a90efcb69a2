"""One blocked subnet per kind of fix kmsguard prints, in the styles users write.

With the config value ``fixes`` (a JSON file: target resource name → printed code), the printed
code is pasted in as a user would: statements that read the target's variable (``nsg.name``,
``table.name``...) run after the target exists; the others run before it, and the arguments they
assign (``routes=[..., x]``: appended to the existing list) are passed to the target.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import pulumi
import pulumi_azure_native as azure_native

net = azure_native.network
FIXES: dict[str, list[str]] = {}
if (path := pulumi.Config().get("fixes")) is not None:
    with open(path) as f:
        FIXES = json.load(f)

KMS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
rg = azure_native.resources.ResourceGroup("rg", resource_group_name="rg-fixes")


def declare(cls: Any, name: str, var: str, vnet: Any = None, **kwargs: Any) -> Any:
    """``cls(name, **kwargs)`` with the printed code for ``name`` pasted in."""
    ns: dict[str, Any] = {"azure_native": azure_native, "rg": rg, "vnet": vnet}
    before: list[str] = []
    after: list[str] = []
    for code in FIXES.get(name, []):
        reads = {
            n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        (after if var in reads else before).append(code)
    for code in before:
        scope = dict(ns)
        exec(code, scope)
        for key, value in scope.items():
            if key in ns or key.startswith("__") or isinstance(value, pulumi.Resource):
                continue
            if isinstance(value, list) and value[:1] == [Ellipsis]:
                value = [*kwargs.get(key, []), *value[1:]]
            kwargs[key] = value
    resource = cls(name, **kwargs)
    for code in after:
        exec(code, {**ns, var: resource})
    return resource


def vnet(name: str, prefix: str) -> Any:
    return net.VirtualNetwork(
        name, resource_group_name=rg.name, address_space=net.AddressSpaceArgs(address_prefixes=[prefix])
    )


def subnet(name: str, v: Any, prefix: str, **kwargs: Any) -> Any:
    return declare(
        net.Subnet,
        name,
        "subnet",
        v,
        resource_group_name=rg.name,
        virtual_network_name=v.name,
        address_prefix=prefix,
        **kwargs,
    )


to_gateway = net.RouteArgs(name="default", address_prefix="0.0.0.0/0", next_hop_type="VirtualNetworkGateway")
kms_routes = [
    net.RouteArgs(name=f"kms-{ip.replace('.', '-')}", address_prefix=f"{ip}/32", next_hop_type="Internet")
    for ip in KMS
]

# add-routes, inline: a forced tunnel in inline routes.
v = vnet("vnet-route-inline", "10.1.0.0/16")
rt = declare(net.RouteTable, "rt-inline", "table", v, resource_group_name=rg.name, routes=[to_gateway])
subnet("snet-route-inline", v, "10.1.0.0/24", route_table=net.RouteTableArgs(id=rt.id))

# add-routes, standalone: the same forced tunnel as a standalone Route.
v = vnet("vnet-route-standalone", "10.2.0.0/16")
rt = declare(net.RouteTable, "rt-standalone", "table", v, resource_group_name=rg.name)
net.Route(
    "rt-standalone-default",
    resource_group_name=rg.name,
    route_table_name=rt.name,
    route_name="default",
    address_prefix="0.0.0.0/0",
    next_hop_type="VirtualNetworkGateway",
)
subnet("snet-route-standalone", v, "10.2.0.0/24", route_table=net.RouteTableArgs(id=rt.id))

# add-routes, subnet association: a VPN gateway's default site forces every subnet without a route table.
v = vnet("vnet-default-site", "10.3.0.0/16")
gw_subnet = net.Subnet(
    "gateway-subnet",
    resource_group_name=rg.name,
    virtual_network_name=v.name,
    subnet_name="GatewaySubnet",
    address_prefix="10.3.255.0/27",
)
gw_ip = net.PublicIPAddress(
    "gw-ip",
    resource_group_name=rg.name,
    sku=net.PublicIPAddressSkuArgs(name="Standard"),
    public_ip_allocation_method="Static",
)
site = net.LocalNetworkGateway(
    "onprem",
    resource_group_name=rg.name,
    gateway_ip_address="203.0.113.1",
    local_network_address_space=net.AddressSpaceArgs(address_prefixes=["192.168.0.0/16"]),
)
net.VirtualNetworkGateway(
    "vpn-gw",
    resource_group_name=rg.name,
    gateway_type="Vpn",
    vpn_type="RouteBased",
    sku=net.VirtualNetworkGatewaySkuArgs(name="VpnGw1", tier="VpnGw1"),
    gateway_default_site=net.SubResourceArgs(id=site.id),
    ip_configurations=[
        net.VirtualNetworkGatewayIPConfigurationArgs(
            name="default",
            subnet=net.SubResourceArgs(id=gw_subnet.id),
            public_ip_address=net.SubResourceArgs(id=gw_ip.id),
        )
    ],
)
subnet("snet-default-site", v, "10.3.0.0/24")

# add-nsg-rule, inline and standalone: a forced tunnel with the KMS routes turns the KMS platform rule off.
deny_internet: dict[str, Any] = dict(
    priority=200,
    direction="Outbound",
    access="Deny",
    protocol="*",
    source_address_prefix="*",
    source_port_range="*",
    destination_address_prefix="Internet",
    destination_port_range="*",
)
v = vnet("vnet-nsg-inline", "10.4.0.0/16")
rt = net.RouteTable("rt-nsg-inline", resource_group_name=rg.name, routes=[to_gateway, *kms_routes])
nsg = declare(
    net.NetworkSecurityGroup,
    "nsg-inline",
    "nsg",
    v,
    resource_group_name=rg.name,
    security_rules=[net.SecurityRuleArgs(name="deny-internet", **deny_internet)],
)
subnet(
    "snet-nsg-inline",
    v,
    "10.4.0.0/24",
    route_table=net.RouteTableArgs(id=rt.id),
    network_security_group=net.NetworkSecurityGroupArgs(id=nsg.id),
)
v = vnet("vnet-nsg-standalone", "10.5.0.0/16")
rt = net.RouteTable("rt-nsg-standalone", resource_group_name=rg.name, routes=[to_gateway, *kms_routes])
nsg = declare(net.NetworkSecurityGroup, "nsg-standalone", "nsg", v, resource_group_name=rg.name)
net.SecurityRule(
    "nsg-standalone-deny-internet",
    resource_group_name=rg.name,
    network_security_group_name=nsg.name,
    security_rule_name="deny-internet",
    **deny_internet,
)
subnet(
    "snet-nsg-standalone",
    v,
    "10.5.0.0/24",
    route_table=net.RouteTableArgs(id=rt.id),
    network_security_group=net.NetworkSecurityGroupArgs(id=nsg.id),
)


# add-firewall-rule: spokes whose 0.0.0.0/0 goes to a hub Azure Firewall that denies TCP 1688.
def deny_group(name: str, policy: Any, priority: int) -> None:
    net.FirewallPolicyRuleCollectionGroup(
        name,
        resource_group_name=rg.name,
        firewall_policy_name=policy.name,
        priority=priority,
        rule_collections=[
            net.FirewallPolicyFilterRuleCollectionArgs(
                rule_collection_type="FirewallPolicyFilterRuleCollection",
                name="deny-all",
                priority=100,
                action=net.FirewallPolicyFilterRuleCollectionActionArgs(type="Deny"),
                rules=[
                    net.NetworkRuleArgs(
                        rule_type="NetworkRule",
                        name="deny-all",
                        ip_protocols=["Any"],
                        source_addresses=["*"],
                        destination_addresses=["*"],
                        destination_ports=["*"],
                    )
                ],
            )
        ],
    )


def hub_and_spoke(n: int, name: str, **firewall: Any) -> None:
    hub = vnet(f"vnet-hub-{name}", f"10.{n}.0.0/16")
    fw_subnet = net.Subnet(
        f"fw-subnet-{name}",
        resource_group_name=rg.name,
        virtual_network_name=hub.name,
        subnet_name="AzureFirewallSubnet",
        address_prefix=f"10.{n}.0.0/26",
    )
    fw_ip = net.PublicIPAddress(
        f"fw-ip-{name}",
        resource_group_name=rg.name,
        sku=net.PublicIPAddressSkuArgs(name="Standard"),
        public_ip_allocation_method="Static",
    )
    fw = declare(
        net.AzureFirewall,
        f"fw-{name}",
        "fw",
        hub,
        resource_group_name=rg.name,
        sku=net.AzureFirewallSkuArgs(name="AZFW_VNet", tier="Standard"),
        ip_configurations=[
            net.AzureFirewallIPConfigurationArgs(
                name="ipconfig",
                subnet=net.SubResourceArgs(id=fw_subnet.id),
                public_ip_address=net.SubResourceArgs(id=fw_ip.id),
            )
        ],
        **firewall,
    )
    spoke = vnet(f"vnet-spoke-{name}", f"10.{n + 1}.0.0/16")
    rt = net.RouteTable(
        f"rt-spoke-{name}",
        resource_group_name=rg.name,
        routes=[
            net.RouteArgs(
                name="default-via-fw",
                address_prefix="0.0.0.0/0",
                next_hop_type="VirtualAppliance",
                next_hop_ip_address=fw.ip_configurations.apply(lambda c: c[0].private_ip_address),
            )
        ],
    )
    subnet(f"snet-spoke-{name}", spoke, f"10.{n + 1}.0.0/24", route_table=net.RouteTableArgs(id=rt.id))
    net.VirtualNetworkPeering(
        f"peer-{name}",
        resource_group_name=rg.name,
        virtual_network_name=spoke.name,
        remote_virtual_network=net.SubResourceArgs(id=hub.id),
        allow_forwarded_traffic=True,
    )


# The deny is in the firewall's own policy (a group at 200: the fix sorts before it).
child_only = declare(net.FirewallPolicy, "fwp-child", "policy", None, resource_group_name=rg.name)
deny_group("fwp-child-deny", child_only, 200)
hub_and_spoke(10, "child", firewall_policy=net.SubResourceArgs(id=child_only.id))

# The deny is in the base (parent) policy: its groups come first, so the fix goes there.
parent = declare(net.FirewallPolicy, "fwp-parent", "policy", None, resource_group_name=rg.name)
deny_group("fwp-parent-deny", parent, 300)
child = declare(
    net.FirewallPolicy,
    "fwp-based",
    "policy",
    None,
    resource_group_name=rg.name,
    base_policy=net.SubResourceArgs(id=parent.id),
)
hub_and_spoke(20, "parent", firewall_policy=net.SubResourceArgs(id=child.id))

# Classic rule collections on the firewall itself.
hub_and_spoke(
    30,
    "classic",
    network_rule_collections=[
        net.AzureFirewallNetworkRuleCollectionArgs(
            name="deny-all",
            priority=200,
            action=net.AzureFirewallRCActionArgs(type="Deny"),
            rules=[
                net.AzureFirewallNetworkRuleArgs(
                    name="deny-all",
                    protocols=["Any"],
                    source_addresses=["*"],
                    destination_addresses=["*"],
                    destination_ports=["*"],
                )
            ],
        )
    ],
)

# add-dns-records: a private zone for core.windows.net linked to the VNet shadows the KMS names.
v = vnet("vnet-dns", "10.40.0.0/16")
zone = declare(
    azure_native.privatedns.PrivateZone,
    "zone-core",
    "zone",
    v,
    resource_group_name=rg.name,
    private_zone_name="core.windows.net",
    location="Global",
)
azure_native.privatedns.VirtualNetworkLink(
    "zone-core-link",
    resource_group_name=rg.name,
    private_zone_name=zone.name,
    location="Global",
    virtual_network=azure_native.privatedns.SubResourceArgs(id=v.id),
    registration_enabled=False,
)
subnet("snet-dns", v, "10.40.0.0/24")

# add-nat-gateway: a private subnet (no default outbound access) without a NAT gateway.
v = vnet("vnet-private", "10.50.0.0/16")
subnet("snet-private", v, "10.50.0.0/24", default_outbound_access=False)
