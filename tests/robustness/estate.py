"""A reference estate holding every resource type the collector reads, as Analyze receives inputs.

References are ARM ids built from resource group and names (what a program passes when it uses
``.id`` of a resource created earlier, after a deployment), so the estate resolves the same way in
process and inside the pack. Baseline verdicts, asserted by ``test_estate_baseline``:

* ``spoke/web`` → 0.0.0.0/0 to the hub Azure Firewall, whose policy allows TCP 1688: reachable;
* ``app`` → 0.0.0.0/0 to the VPN gateway (forced tunneling): blocked;
* ``db`` → 0.0.0.0/0 to a third-party appliance not declared in config: unknown;
* ``data`` → an NSG denying outbound Internet, which the KMS platform rule overrides (§4.5): reachable;
* the hub's GatewaySubnet and AzureFirewallSubnet: excluded.
"""

from __future__ import annotations

from typing import Any

from kmsguard.engine import PackResource

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG = "rg-net"
LOC = "eastus"
KMS_IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]


def arm_id(*pairs: str, provider: str = "Microsoft.Network") -> str:
    return f"{SUB}/resourceGroups/{RG}/providers/{provider}/" + "/".join(pairs)


def urn(token: str, name: str) -> str:
    return f"urn:pulumi:dev::net::{token}::{name}"


def res(token: str, name: str, props: dict[str, Any], parent: str = "") -> PackResource:
    full = f"azure-native:{token}"
    return PackResource(type=full, urn=urn(full, name), name=name, inputs=props, parent=parent)


def _ref(*pairs: str, provider: str = "Microsoft.Network") -> dict[str, str]:
    return {"id": arm_id(*pairs, provider=provider)}


def estate() -> list[PackResource]:
    """The estate's resources in registration order (fresh dicts on every call)."""
    g: dict[str, Any] = {"resourceGroupName": RG}
    return [
        res("network:VirtualNetwork", "hub", {**g, "virtualNetworkName": "vnet-hub", "location": LOC,
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [
                {"name": "AzureFirewallSubnet", "addressPrefix": "10.0.1.0/26"},
                {"name": "GatewaySubnet", "addressPrefix": "10.0.2.0/27"},
            ]}),
        res("network:VirtualNetwork", "spoke", {**g, "virtualNetworkName": "vnet-spoke", "location": LOC,
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "dhcpOptions": {"dnsServers": []},
            "subnets": [
                {"name": "web", "addressPrefix": "10.1.0.0/24", "routeTable": _ref("routeTables/rt-spoke")},
            ]}),
        res("network:VirtualNetworkPeering", "spoke-to-hub", {**g, "virtualNetworkName": "vnet-spoke",
            "virtualNetworkPeeringName": "spoke-to-hub", "remoteVirtualNetwork": _ref("virtualNetworks/vnet-hub"),
            "allowForwardedTraffic": True, "useRemoteGateways": False}),
        res("network:Subnet", "app", {**g, "virtualNetworkName": "vnet-spoke", "subnetName": "app",
            "addressPrefix": "10.1.1.0/24", "routeTable": _ref("routeTables/rt-tunnel"),
            "networkSecurityGroup": _ref("networkSecurityGroups/nsg-app")}),
        res("network:Subnet", "db", {**g, "virtualNetworkName": "vnet-spoke", "subnetName": "db",
            "addressPrefix": "10.1.2.0/24", "routeTable": _ref("routeTables/rt-nva"),
            "natGateway": _ref("natGateways/nat")}),
        res("network:Subnet", "data", {**g, "virtualNetworkName": "vnet-spoke", "subnetName": "data",
            "addressPrefix": "10.1.3.0/24", "networkSecurityGroup": _ref("networkSecurityGroups/nsg-deny")}),
        res("network:RouteTable", "rt-spoke", {**g, "routeTableName": "rt-spoke", "location": LOC, "routes": [
            {"name": "default", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
             "nextHopIpAddress": "10.0.1.4"},
        ]}),
        res("network:RouteTable", "rt-tunnel", {**g, "routeTableName": "rt-tunnel", "location": LOC,
            "disableBgpRoutePropagation": True, "routes": [
            {"name": "tunnel", "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualNetworkGateway"},
            {"name": "onprem", "addressPrefix": "192.168.0.0/16", "nextHopType": "VirtualNetworkGateway"},
        ]}),
        res("network:RouteTable", "rt-nva", {**g, "routeTableName": "rt-nva", "location": LOC}),
        res("network:Route", "nva-default", {**g, "routeTableName": "rt-nva", "routeName": "nva-default",
            "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.9.0.4"}),
        res("network:NetworkSecurityGroup", "nsg-app", {**g, "networkSecurityGroupName": "nsg-app", "location": LOC,
            "securityRules": [
                {"name": "allow-kms", "priority": 100, "direction": "Outbound", "access": "Allow", "protocol": "Tcp",
                 "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefixes": KMS_IPS,
                 "destinationPortRange": "1688"},
            ]}),
        res("network:NetworkSecurityGroup", "nsg-deny", {**g, "networkSecurityGroupName": "nsg-deny",
            "location": LOC}),
        res("network:SecurityRule", "deny-internet", {**g, "networkSecurityGroupName": "nsg-deny",
            "securityRuleName": "deny-internet", "priority": 200, "direction": "Outbound", "access": "Deny",
            "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*",
            "destinationAddressPrefix": "Internet", "destinationPortRanges": ["1-65535"],
            "sourceApplicationSecurityGroups": [_ref("applicationSecurityGroups/asg-web")]}),
        res("network:ApplicationSecurityGroup", "asg-web", {**g, "applicationSecurityGroupName": "asg-web",
            "location": LOC}),
        res("network:PublicIPAddress", "pip-nat", {**g, "publicIpAddressName": "pip-nat", "location": LOC,
            "sku": {"name": "Standard"}, "publicIPAllocationMethod": "Static"}),
        res("network:NatGateway", "nat", {**g, "natGatewayName": "nat", "location": LOC, "sku": {"name": "Standard"},
            "publicIpAddresses": [_ref("publicIPAddresses/pip-nat")]}),
        res("network:LoadBalancer", "lb", {**g, "loadBalancerName": "lb", "location": LOC, "sku": {"name": "Standard"},
            "frontendIPConfigurations": [{"name": "fe", "publicIPAddress": _ref("publicIPAddresses/pip-lb")}],
            "backendAddressPools": [{"name": "pool"}],
            "outboundRules": [{"name": "out", "protocol": "All",
                               "backendAddressPool": _ref("loadBalancers/lb/backendAddressPools/pool"),
                               "frontendIPConfigurations": [_ref("loadBalancers/lb/frontendIPConfigurations/fe")]}]}),
        res("network:LoadBalancerBackendAddressPool", "pool2", {**g, "loadBalancerName": "lb",
            "backendAddressPoolName": "pool2",
            "loadBalancerBackendAddresses": [{"name": "a", "ipAddress": "10.1.2.10"}]}),
        res("network:NetworkInterface", "nic-app", {**g, "networkInterfaceName": "nic-app", "location": LOC,
            "ipConfigurations": [{"name": "ip", "subnet": _ref("virtualNetworks/vnet-spoke/subnets/app"),
                                  "privateIPAllocationMethod": "Dynamic",
                                  "applicationSecurityGroups": [_ref("applicationSecurityGroups/asg-web")],
                                  "loadBalancerBackendAddressPools": [
                                      _ref("loadBalancers/lb/backendAddressPools/pool")]}],
            "dnsSettings": {"dnsServers": []}}),
        res("compute:VirtualMachine", "vm-app", {**g, "vmName": "vm-app", "location": LOC,
            "storageProfile": {"imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
                                                  "sku": "2022-datacenter", "version": "latest"},
                               "osDisk": {"osType": "Windows", "createOption": "FromImage"}},
            "osProfile": {"computerName": "vm-app", "adminUsername": "azureuser",
                          "windowsConfiguration": {"enableAutomaticUpdates": True}},
            "networkProfile": {"networkInterfaces": [{"id": arm_id("networkInterfaces/nic-app"),
                                                      "primary": True}]}}),
        res("compute:VirtualMachineScaleSet", "vmss-db", {**g, "vmScaleSetName": "vmss-db", "location": LOC,
            "orchestrationMode": "Uniform", "sku": {"name": "Standard_D2s_v5", "capacity": 2},
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {"publisher": "MicrosoftWindowsServer",
                                                      "offer": "WindowsServer", "sku": "2022-datacenter"},
                                   "osDisk": {"osType": "Windows", "createOption": "FromImage"}},
                "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "primary": True,
                    "ipConfigurations": [{"name": "ip",
                                          "subnet": _ref("virtualNetworks/vnet-spoke/subnets/db")}]}]}}}),
        res("network:LocalNetworkGateway", "onprem", {**g, "localNetworkGatewayName": "onprem", "location": LOC,
            "gatewayIpAddress": "203.0.113.1"}),
        res("network:VirtualNetworkGateway", "vpn", {**g, "virtualNetworkGatewayName": "vpn", "location": LOC,
            "gatewayType": "Vpn", "vpnType": "RouteBased", "enableBgp": False,
            "gatewayDefaultSite": _ref("localNetworkGateways/onprem"),
            "ipConfigurations": [{"name": "c", "subnet": _ref("virtualNetworks/vnet-hub/subnets/GatewaySubnet"),
                                  "publicIPAddress": _ref("publicIPAddresses/pip-vpn")}]}),
        res("network:IpGroup", "kms-ips", {**g, "ipGroupsName": "ipg-kms", "location": LOC, "ipAddresses": KMS_IPS}),
        res("network:FirewallPolicy", "policy", {**g, "firewallPolicyName": "policy", "location": LOC,
            "dnsSettings": {"enableProxy": False}, "snat": {"privateRanges": ["IANAPrivateRanges"]}}),
        res("network:FirewallPolicyRuleCollectionGroup", "rcg", {**g, "firewallPolicyName": "policy",
            "ruleCollectionGroupName": "kms", "priority": 200, "ruleCollections": [
                {"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "allow", "priority": 100,
                 "action": {"type": "Allow"}, "rules": [
                    {"ruleType": "NetworkRule", "name": "kms", "ipProtocols": ["TCP"],
                     "sourceAddresses": ["10.1.0.0/16"], "destinationIpGroups": [arm_id("ipGroups/ipg-kms")],
                     "destinationPorts": ["1688"]}]}]}),
        res("network:AzureFirewall", "fw", {**g, "azureFirewallName": "fw", "location": LOC,
            "sku": {"name": "AZFW_VNet", "tier": "Standard"},
            "ipConfigurations": [{"name": "c", "subnet": _ref("virtualNetworks/vnet-hub/subnets/AzureFirewallSubnet"),
                                  "publicIPAddress": _ref("publicIPAddresses/pip-fw")}],
            "firewallPolicy": _ref("firewallPolicies/policy")}),
        res("network:VirtualHub", "vhub", {**g, "virtualHubName": "vhub", "location": LOC,
            "addressPrefix": "10.100.0.0/23", "virtualWan": _ref("virtualWans/wan")}),
        res("network:HubRouteTable", "hub-rt", {**g, "virtualHubName": "vhub", "routeTableName": "defaultRouteTable",
            "routes": [{"name": "all", "destinationType": "CIDR", "destinations": ["0.0.0.0/0"],
                        "nextHopType": "ResourceId", "nextHop": arm_id("azureFirewalls/hubfw")}]}),
        res("network:RoutingIntent", "intent", {**g, "virtualHubName": "vhub", "routingIntentName": "intent",
            "routingPolicies": [{"name": "internet", "destinations": ["Internet"],
                                 "nextHop": arm_id("azureFirewalls/hubfw")}]}),
        res("network:VirtualNetwork", "vwan-spoke", {**g, "virtualNetworkName": "vnet-vwan", "location": LOC,
            "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
            "subnets": [{"name": "apps", "addressPrefix": "10.2.0.0/24"}]}),
        res("network:HubVirtualNetworkConnection", "conn", {**g, "virtualHubName": "vhub", "connectionName": "conn",
            "remoteVirtualNetwork": _ref("virtualNetworks/vnet-vwan"), "enableInternetSecurity": True}),
        res("network:VirtualNetwork", "rs-vnet", {**g, "virtualNetworkName": "vnet-rs", "location": LOC,
            "addressSpace": {"addressPrefixes": ["10.3.0.0/16"]},
            "subnets": [{"name": "RouteServerSubnet", "addressPrefix": "10.3.0.0/27"},
                        {"name": "RouterSubnet", "addressPrefix": "10.3.1.0/27"}]}),
        res("network:VirtualHub", "rs", {**g, "virtualHubName": "rs", "location": LOC, "sku": "Standard"}),
        res("network:VirtualHubIpConfiguration", "rs-ip", {**g, "virtualHubName": "rs", "ipConfigName": "ipconfig1",
            "subnet": _ref("virtualNetworks/vnet-rs/subnets/RouteServerSubnet")}),
        res("network:VirtualRouter", "router", {**g, "virtualRouterName": "router", "location": LOC,
            "hostedSubnet": _ref("virtualNetworks/vnet-rs/subnets/RouterSubnet")}),
        res("network:NetworkManager", "avnm", {**g, "networkManagerName": "avnm", "location": LOC,
            "networkManagerScopes": {"subscriptions": [SUB]}, "networkManagerScopeAccesses": ["SecurityAdmin"]}),
        res("network:NetworkGroup", "spokes", {**g, "networkManagerName": "avnm", "networkGroupName": "spokes"}),
        res("network:StaticMember", "m1", {**g, "networkManagerName": "avnm", "networkGroupName": "spokes",
            "staticMemberName": "m1", "resourceId": arm_id("virtualNetworks/vnet-vwan")}),
        res("network:SecurityAdminConfiguration", "sac", {**g, "networkManagerName": "avnm",
            "configurationName": "sac"}),
        res("network:AdminRuleCollection", "coll", {**g, "networkManagerName": "avnm", "configurationName": "sac",
            "ruleCollectionName": "coll", "appliesToGroups": [
                {"networkGroupId": arm_id("networkManagers/avnm/networkGroups/spokes")}]}),
        res("network:AdminRule", "deny-1688", {**g, "networkManagerName": "avnm", "configurationName": "sac",
            "ruleCollectionName": "coll", "ruleName": "deny-1688", "kind": "Custom", "access": "Deny",
            "direction": "Outbound", "priority": 10, "protocol": "Tcp",
            "sources": [{"addressPrefix": "*", "addressPrefixType": "IPPrefix"}],
            "destinations": [{"addressPrefix": "Internet", "addressPrefixType": "ServiceTag"}],
            "destinationPortRanges": ["1688"]}),
        res("network:Commit", "commit", {**g, "networkManagerName": "avnm", "commitName": "commit",
            "properties": {"commitType": "SecurityAdmin", "targetLocations": [LOC],
                           "configurationIds": [arm_id("networkManagers/avnm/securityAdminConfigurations/sac")]}}),
        res("privatedns:PrivateZone", "zone", {**g, "privateZoneName": "core.windows.net", "location": "global"}),
        res("privatedns:PrivateRecordSet", "azkms", {**g, "privateZoneName": "core.windows.net", "recordType": "A",
            "relativeRecordSetName": "azkms", "ttl": 300, "aRecords": [{"ipv4Address": "20.118.99.224"}]}),
        res("privatedns:VirtualNetworkLink", "zone-link", {**g, "privateZoneName": "core.windows.net",
            "virtualNetworkLinkName": "zone-link", "virtualNetwork": _ref("virtualNetworks/vnet-hub"),
            "registrationEnabled": False}),
        res("dnsresolver:DnsForwardingRuleset", "ruleset", {**g, "dnsForwardingRulesetName": "ruleset",
            "location": LOC, "dnsResolverOutboundEndpoints": [{"id": arm_id("dnsResolvers/r/outboundEndpoints/o")}]}),
        res("dnsresolver:ForwardingRule", "fwd", {**g, "dnsForwardingRulesetName": "ruleset",
            "forwardingRuleName": "fwd", "domainName": "contoso.com.", "forwardingRuleState": "Enabled",
            "targetDnsServers": [{"ipAddress": "10.9.0.53", "port": 53}]}),
        res("dnsresolver:PrivateResolverVirtualNetworkLink", "rlink", {**g, "dnsForwardingRulesetName": "ruleset",
            "virtualNetworkLinkName": "rlink", "virtualNetwork": _ref("virtualNetworks/vnet-spoke")}),
    ]  # fmt: skip
