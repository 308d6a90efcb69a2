"""Classic property bags → the azure-native shape the azure-native builders read.

Works on *decoded* values (``values.decode``: unknowns are ``UNK``, secret leaves ``Secret``), so a
rename never disturbs an unknown or a secret. Property names are the classic SDK's (pulumi-azure
6.40.1 resource classes): references are id strings (``routeTableId``) where azure-native has
``{"id": …}`` objects, flags are positive (``bgpRoutePropagationEnabled``) where azure-native's are
negative (``disableBgpRoutePropagation``).

Unknown references: a *top-level* id that is unknown stays the unknown object, so the Reader's
preview rules apply unchanged (with property dependencies it is a real unknown resolved through
them; without, a projection gap read as not set — values module doc). A *nested* id that is unknown
(``ipConfigurations[0].subnetId = subnet.id``) becomes ``{"id": UNK}``: the classic schema's nested
references are optional, not computed, so an unknown one was given by the program.

Each translator returns the new bag and the renames of top-level properties, which the property
dependencies follow (a dependency recorded for ``routeTableId`` is one for ``routeTable``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kmsguard.collect.azure_native.values import UNK, Node, Secret

Bag = dict[str, Node]
Renames = dict[str, str]
Translator = Callable[[Bag], tuple[Bag, Renames]]

# Kept as they are on every resource: identity (§3.0 name / resource group / id) and location.
_COMMON = ("id", "name", "resourceGroupName", "location")


def _base(p: Mapping[str, Node], *keep: str) -> Bag:
    return {k: p[k] for k in (*_COMMON, *keep) if k in p}


def _ref(node: Node, nested: bool) -> Node:
    """An id (string, secret or unknown) → an azure-native ``{"id": …}`` reference."""
    if node is UNK and not nested:
        return UNK
    return {"id": node}


def _put_ref(out: Bag, p: Mapping[str, Node], src: str, dst: str, nested: bool = False) -> None:
    if p.get(src) is not None:
        out[dst] = _ref(p[src], nested)


def _items(node: Node) -> list[Node] | None:
    return node if isinstance(node, list) else None


def _not(node: Node) -> Node:
    """A positive flag → its negation; unknowns stay unknown, secrets stay secret."""
    if isinstance(node, bool):
        return not node
    if isinstance(node, Secret) and isinstance(node.value, bool):
        return Secret(not node.value)
    return node


def _map_list(node: Node, fn: Callable[[Mapping[str, Node]], Node]) -> Node:
    items = _items(node)
    if items is None:
        return node  # UNK, a malformed value: left for the Reader to report
    return [fn(x) if isinstance(x, dict) else x for x in items]


def _ids(node: Node) -> Node:
    """A list of id strings → a list of ``{"id": …}`` references."""
    items = _items(node)
    if items is None:
        return node
    return [{"id": x} for x in items]


# --- virtual networks and subnets ------------------------------------------------------------------


def _delegations(node: Node) -> Node:
    def one(d: Mapping[str, Node]) -> Node:
        service = d.get("serviceDelegation")
        out: Bag = {"name": d.get("name")}
        if isinstance(service, dict):
            out["serviceName"] = service.get("name")
        elif service is not None:
            out["serviceName"] = service
        return out

    if isinstance(node, dict):  # the VNet's inline subnet has one ``delegation`` block
        return [one(node)]
    return _map_list(node, one)


def _subnet_fields(p: Mapping[str, Node], out: Bag, nested: bool) -> None:
    if "addressPrefixes" in p:
        out["addressPrefixes"] = p["addressPrefixes"]
    if "defaultOutboundAccessEnabled" in p:
        out["defaultOutboundAccess"] = p["defaultOutboundAccessEnabled"]
    for key in ("delegations", "delegation"):
        if p.get(key) is not None:
            out["delegations"] = _delegations(p[key])
    _put_ref(out, p, "routeTableId", "routeTable", nested)
    _put_ref(out, p, "securityGroup", "networkSecurityGroup", nested)


def virtual_network(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    if "addressSpaces" in p:
        space = p["addressSpaces"]
        out["addressSpace"] = space if space is UNK else {"addressPrefixes": space}
    if "dnsServers" in p:
        servers = p["dnsServers"]
        out["dhcpOptions"] = servers if servers is UNK else {"dnsServers": servers}

    def subnet(s: Mapping[str, Node]) -> Node:
        item = {k: s[k] for k in ("id", "name") if k in s}
        _subnet_fields(s, item, nested=True)
        return item

    if "subnets" in p:
        out["subnets"] = _map_list(p["subnets"], subnet)
    return out, {"addressSpaces": "addressSpace", "dnsServers": "dhcpOptions"}


def subnet(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p, "virtualNetworkName")
    _subnet_fields(p, out, nested=False)
    return out, {
        "defaultOutboundAccessEnabled": "defaultOutboundAccess",
        "routeTableId": "routeTable",
        "securityGroup": "networkSecurityGroup",
    }


def peering(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p, "virtualNetworkName", "useRemoteGateways", "allowGatewayTransit")
    _put_ref(out, p, "remoteVirtualNetworkId", "remoteVirtualNetwork")
    return out, {"remoteVirtualNetworkId": "remoteVirtualNetwork"}


# --- routes ------------------------------------------------------------------------------------------


def _route_fields(r: Mapping[str, Node]) -> Bag:
    out = {k: r[k] for k in ("id", "name", "addressPrefix", "nextHopType") if k in r}
    if "nextHopInIpAddress" in r:
        out["nextHopIpAddress"] = r["nextHopInIpAddress"]
    return out


def route_table(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    if "routes" in p:
        out["routes"] = _map_list(p["routes"], _route_fields)
    if "bgpRoutePropagationEnabled" in p:
        out["disableBgpRoutePropagation"] = _not(p["bgpRoutePropagationEnabled"])
    return out, {"bgpRoutePropagationEnabled": "disableBgpRoutePropagation"}


def route(p: Bag) -> tuple[Bag, Renames]:
    out = _route_fields(p)
    out.update(_base(p, "routeTableName"))
    return out, {"nextHopInIpAddress": "nextHopIpAddress"}


# --- NSGs ----------------------------------------------------------------------------------------------

_RULE_SAME = (
    "name",
    "priority",
    "direction",
    "access",
    "protocol",
    "sourceAddressPrefix",
    "sourceAddressPrefixes",
    "sourcePortRange",
    "sourcePortRanges",
    "destinationAddressPrefix",
    "destinationAddressPrefixes",
    "destinationPortRange",
    "destinationPortRanges",
)


def _rule_fields(r: Mapping[str, Node]) -> Bag:
    out = {k: r[k] for k in ("id", *_RULE_SAME) if k in r}
    for side in ("source", "destination"):
        key = f"{side}ApplicationSecurityGroupIds"
        if r.get(key) is not None:
            out[f"{side}ApplicationSecurityGroups"] = _ids(r[key])
    return out


def nsg(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    if "securityRules" in p:
        out["securityRules"] = _map_list(p["securityRules"], _rule_fields)
    return out, {}


def security_rule(p: Bag) -> tuple[Bag, Renames]:
    out = _rule_fields(p)
    out.update(_base(p, "networkSecurityGroupName"))
    return out, {
        "sourceApplicationSecurityGroupIds": "sourceApplicationSecurityGroups",
        "destinationApplicationSecurityGroupIds": "destinationApplicationSecurityGroups",
    }


def identity(p: Bag) -> tuple[Bag, Renames]:
    return _base(p), {}


def local_gateway(p: Bag) -> tuple[Bag, Renames]:
    """The address space a connection installs as gateway routes (translate_edge.mark_connections)."""
    out = _base(p)
    if "addressSpaces" in p:
        space = p["addressSpaces"]
        out["localNetworkAddressSpace"] = space if space is UNK else {"addressPrefixes": space}
    return out, {"addressSpaces": "localNetworkAddressSpace"}


# --- NICs and VMs ----------------------------------------------------------------------------------


def _ip_configuration(c: Mapping[str, Node]) -> Node:
    out = {k: c[k] for k in ("name", "primary") if k in c}
    _put_ref(out, c, "subnetId", "subnet", nested=True)
    _put_ref(out, c, "publicIpAddressId", "publicIPAddress", nested=True)
    if "privateIpAddress" in c:
        out["privateIPAddress"] = c["privateIpAddress"]
    return out


def nic(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    if "ipConfigurations" in p:
        out["ipConfigurations"] = _map_list(p["ipConfigurations"], _ip_configuration)
    if "dnsServers" in p:
        servers = p["dnsServers"]
        out["dnsSettings"] = servers if servers is UNK else {"dnsServers": servers}
    return out, {"dnsServers": "dnsSettings"}


def _vm(p: Bag, os_type: str | None, image_key: str, image_id_key: str) -> tuple[Bag, Renames]:
    # virtualMachineScaleSetId: the Flexible scale set the VM joins (compute_lb.apply reads it).
    out = _base(p, "licenseType", "virtualMachineScaleSetId")
    if "networkInterfaceIds" in p:
        ids = p["networkInterfaceIds"]
        out["networkProfile"] = ids if ids is UNK else {"networkInterfaces": _ids(ids)}
    storage: Bag = {}
    if os_type is not None:
        storage["osDisk"] = {"osType": os_type}
    image = p.get(image_key)
    if isinstance(image, dict):
        storage["imageReference"] = {k: image[k] for k in ("publisher", "offer", "sku", "id") if k in image}
    if p.get(image_id_key) is not None:
        storage["imageReference"] = {"id": p[image_id_key]}
    if storage:
        out["storageProfile"] = storage
    return out, {"networkInterfaceIds": "networkProfile"}


def windows_vm(p: Bag) -> tuple[Bag, Renames]:
    return _vm(p, "Windows", "sourceImageReference", "sourceImageId")


def linux_vm(p: Bag) -> tuple[Bag, Renames]:
    return _vm(p, "Linux", "sourceImageReference", "sourceImageId")


def legacy_vm(p: Bag) -> tuple[Bag, Renames]:
    """``compute.VirtualMachine``: the OS comes from ``storageOsDisk.osType`` or the OS profile block."""
    disk = p.get("storageOsDisk")
    os_type: str | None = None
    if isinstance(disk, dict) and isinstance(disk.get("osType"), str):
        os_type = disk["osType"]
    elif p.get("osProfileWindowsConfig") is not None:
        os_type = "Windows"
    elif p.get("osProfileLinuxConfig") is not None:
        os_type = "Linux"
    return _vm(p, os_type, "storageImageReference", "")


# --- gateways and firewalls -------------------------------------------------------------------------


def gateway(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p, "vpnType")
    if "type" in p:
        out["gatewayType"] = p["type"]
    # enable_bgp is the deprecated spelling pulumi-azure 6 still accepts; either one turns BGP on.
    for spelling in ("enableBgp", "bgpEnabled"):
        if p.get(spelling) is not None:
            out["enableBgp"] = p[spelling]
    # §3.1: the VPN default site (forced tunnelling) is the classic defaultLocalNetworkGatewayId.
    _put_ref(out, p, "defaultLocalNetworkGatewayId", "gatewayDefaultSite")
    if "ipConfigurations" in p:
        out["ipConfigurations"] = _map_list(p["ipConfigurations"], _ip_configuration)
    return out, {
        "type": "gatewayType",
        "bgpEnabled": "enableBgp",
        "defaultLocalNetworkGatewayId": "gatewayDefaultSite",
    }


def _bool_text(node: Node) -> Node:
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, Secret) and isinstance(node.value, bool):
        return Secret("true" if node.value else "false")
    return node


def firewall(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    if "skuName" in p:
        out["sku"] = {"name": p["skuName"]}
    if "ipConfigurations" in p:
        out["ipConfigurations"] = _map_list(p["ipConfigurations"], _ip_configuration)
    if p.get("managementIpConfiguration") is not None:
        mgmt = p["managementIpConfiguration"]
        out["managementIpConfiguration"] = _ip_configuration(mgmt) if isinstance(mgmt, dict) else mgmt
    _put_ref(out, p, "firewallPolicyId", "firewallPolicy")
    hub = p.get("virtualHub")
    if isinstance(hub, dict):
        out["virtualHub"] = {"id": hub.get("virtualHubId")}
        ips: Bag = {}
        if "privateIpAddress" in hub:
            ips["privateIPAddress"] = hub["privateIpAddress"]
        if "publicIpCount" in hub:
            ips["publicIPs"] = {"count": hub["publicIpCount"]}
        out["hubIPAddresses"] = ips
    elif hub is not None:
        out["virtualHub"] = hub
    extra: Bag = {}
    # §6.3: a firewall without a policy keeps DNS proxy and SNAT ranges as additional properties.
    if "dnsProxyEnabled" in p:
        extra["Network.DNS.EnableProxy"] = _bool_text(p["dnsProxyEnabled"])
    ranges = p.get("privateIpRanges")
    if isinstance(ranges, list) and all(isinstance(x, str) for x in ranges):
        extra["Network.SNAT.PrivateRanges"] = ",".join(ranges)
    elif ranges is not None:
        extra["Network.SNAT.PrivateRanges"] = UNK
    if extra:
        out["additionalProperties"] = extra
    return out, {
        "skuName": "sku",
        "firewallPolicyId": "firewallPolicy",
        "dnsProxyEnabled": "additionalProperties",
        "privateIpRanges": "additionalProperties",
    }


def firewall_policy(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    _put_ref(out, p, "basePolicyId", "basePolicy")
    dns = p.get("dns")
    if isinstance(dns, dict):
        settings: Bag = {}
        if "proxyEnabled" in dns:
            settings["enableProxy"] = dns["proxyEnabled"]
        if "servers" in dns:
            settings["servers"] = dns["servers"]
        out["dnsSettings"] = settings
    elif dns is not None:
        out["dnsSettings"] = dns
    if "privateIpRanges" in p:
        ranges = p["privateIpRanges"]
        out["snat"] = ranges if ranges is UNK else {"privateRanges": ranges}
    return out, {"basePolicyId": "basePolicy", "dns": "dnsSettings", "privateIpRanges": "snat"}


def _network_rule(r: Mapping[str, Node]) -> Node:
    out: Bag = {"ruleType": "NetworkRule"}
    for key in (
        "name",
        "sourceAddresses",
        "sourceIpGroups",
        "destinationAddresses",
        "destinationIpGroups",
        "destinationFqdns",
        "destinationPorts",
    ):
        if key in r:
            out[key] = r[key]
    if "protocols" in r:
        out["ipProtocols"] = r["protocols"]
    return out


def _collections(node: Node, kind: str) -> list[Node]:
    items = _items(node)
    if items is None:
        return [node]  # unknown or malformed: one unknown collection, read as such
    out: list[Node] = []
    for col in items:
        if not isinstance(col, dict):
            out.append(col)
            continue
        converted: Bag = {k: col[k] for k in ("name", "priority") if k in col}
        converted["ruleCollectionType"] = (
            "FirewallPolicyNatRuleCollection" if kind == "nat" else "FirewallPolicyFilterRuleCollection"
        )
        if "action" in col:
            converted["action"] = {"type": col["action"]}
        rules = col.get("rules")
        if kind == "network":
            converted["rules"] = _map_list(rules, _network_rule)
        elif kind == "application":
            converted["rules"] = _map_list(
                rules, lambda r: {"ruleType": "ApplicationRule", "name": r.get("name")}
            )
        else:
            converted["rules"] = rules if rules is UNK else []
        out.append(converted)
    return out


def rule_collection_group(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p, "priority")
    # The parent policy is named by id (firewallPolicyId), not by name: the azure-native builder
    # finds it through ``firewallPolicyName`` (property dependencies, then the name in the id).
    policy = p.get("firewallPolicyId")
    out["firewallPolicyName"] = _last_name(policy)
    if "resourceGroupName" not in out:
        rg = _rg_of(policy)
        if rg is not None:
            out["resourceGroupName"] = rg
    collections: list[Node] = []
    for key, kind in (
        ("networkRuleCollections", "network"),
        ("applicationRuleCollections", "application"),
        ("natRuleCollections", "nat"),
    ):
        if p.get(key) is not None:
            collections.extend(_collections(p[key], kind))
    out["ruleCollections"] = collections
    return out, {
        "firewallPolicyId": "firewallPolicyName",
        "networkRuleCollections": "ruleCollections",
        "applicationRuleCollections": "ruleCollections",
        "natRuleCollections": "ruleCollections",
    }


def _parts(node: Node) -> list[str] | None:
    value = node.value if isinstance(node, Secret) else node
    if not isinstance(value, str):
        return None
    return [x for x in value.split("/") if x]


def _last_name(node: Node) -> Node:
    parts = _parts(node)
    if parts is None or len(parts) < 8:
        return UNK if node is not None else None
    name = parts[-1]
    return Secret(name) if isinstance(node, Secret) else name


def _rg_of(node: Node) -> Node:
    parts = _parts(node)
    if parts is None or len(parts) < 4 or parts[2].lower() != "resourcegroups":
        return None
    return Secret(parts[3]) if isinstance(node, Secret) else parts[3]


# --- private DNS -----------------------------------------------------------------------------------


def zone(p: Bag) -> tuple[Bag, Renames]:
    return _base(p), {}


def a_record(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    out["recordType"] = "A"
    if "zoneName" in p:
        out["privateZoneName"] = p["zoneName"]
    records = p.get("records")
    if records is not None:
        out["aRecords"] = records if records is UNK else _map_list_plain(records, "ipv4Address")
    return out, {"zoneName": "privateZoneName", "records": "aRecords"}


def cname_record(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    out["recordType"] = "CNAME"
    if "zoneName" in p:
        out["privateZoneName"] = p["zoneName"]
    if p.get("record") is not None:
        out["cnameRecord"] = {"cname": p["record"]}
    return out, {"zoneName": "privateZoneName", "record": "cnameRecord"}


def _map_list_plain(node: Node, key: str) -> Node:
    items = _items(node)
    if items is None:
        return node
    return [{key: x} for x in items]


def zone_link(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p, "resolutionPolicy", "registrationEnabled")
    if "privateDnsZoneName" in p:
        out["privateZoneName"] = p["privateDnsZoneName"]
    _put_ref(out, p, "virtualNetworkId", "virtualNetwork")
    return out, {"privateDnsZoneName": "privateZoneName", "virtualNetworkId": "virtualNetwork"}


TRANSLATORS: dict[str, Translator] = {
    "azure:network/virtualNetwork:VirtualNetwork": virtual_network,
    "azure:network/subnet:Subnet": subnet,
    "azure:network/virtualNetworkPeering:VirtualNetworkPeering": peering,
    "azure:network/routeTable:RouteTable": route_table,
    "azure:network/route:Route": route,
    "azure:network/networkSecurityGroup:NetworkSecurityGroup": nsg,
    "azure:network/networkSecurityRule:NetworkSecurityRule": security_rule,
    "azure:network/applicationSecurityGroup:ApplicationSecurityGroup": identity,
    "azure:network/networkInterface:NetworkInterface": nic,
    "azure:network/publicIp:PublicIp": identity,
    "azure:network/natGateway:NatGateway": identity,
    "azure:network/virtualNetworkGateway:VirtualNetworkGateway": gateway,
    "azure:network/localNetworkGateway:LocalNetworkGateway": local_gateway,
    "azure:network/firewall:Firewall": firewall,
    "azure:network/firewallPolicy:FirewallPolicy": firewall_policy,
    "azure:network/firewallPolicyRuleCollectionGroup:FirewallPolicyRuleCollectionGroup": rule_collection_group,
    "azure:compute/windowsVirtualMachine:WindowsVirtualMachine": windows_vm,
    "azure:compute/linuxVirtualMachine:LinuxVirtualMachine": linux_vm,
    "azure:compute/virtualMachine:VirtualMachine": legacy_vm,
    "azure:privatedns/zone:Zone": zone,
    "azure:privatedns/aRecord:ARecord": a_record,
    "azure:privatedns/cnameRecord:CnameRecord": cname_record,
    "azure:privatedns/zoneVirtualNetworkLink:ZoneVirtualNetworkLink": zone_link,
}


def renamed_deps(pdeps: Mapping[str, tuple[str, ...]], renames: Renames) -> dict[str, tuple[str, ...]]:
    """Property dependencies re-keyed by the translated top-level names (the union where two merge)."""
    out: dict[str, tuple[str, ...]] = {}
    for key, urns in pdeps.items():
        new = renames.get(key, key)
        out[new] = tuple(dict.fromkeys((*out.get(new, ()), *urns)))
    return out
