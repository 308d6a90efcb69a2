"""Gateways, Azure Firewall and its policies, Virtual WAN hubs, Route Servers, AVNM admin rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from kmsguard.collect.azure_native.arm import parse_id
from kmsguard.collect.azure_native.refs import ref_list, subnet_field, vnet_of
from kmsguard.collect.azure_native.stack import Res, Stack
from kmsguard.collect.azure_native.values import UNK, Node, peel
from kmsguard.model import (
    NOT_DEPLOYED,
    AddressMatch,
    AdminRule,
    AzureFirewall,
    FirewallNetworkRule,
    FirewallPolicy,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    HubConnection,
    IpGroup,
    RouteServer,
    Unknown,
    VirtualHub,
    VirtualNetworkGateway,
)
from kmsguard.model.network import MaybeBool, MaybeRef, MaybeStr, Strs

FIREWALL = ("AzureFirewall",)


def _vnet_of_ip_configurations(stack: Stack, r: Res, items: list[Node] | Unknown | None) -> MaybeRef:
    """The VNet of the first IP configuration that names a subnet (gateways, firewalls)."""
    if items is None:
        return None
    if isinstance(items, Unknown):
        return items
    found: MaybeRef = None
    for i, item in enumerate(items):
        path = f"ipConfigurations[{i}]"
        ipc = r.reader.to_dict(item, path)
        if isinstance(ipc, Unknown):
            found = found or ipc
            continue
        vnet = vnet_of(stack, r, subnet_field(stack, r, ipc, f"{path}.subnet"), f"{path}.subnet")
        if isinstance(vnet, str):
            return vnet
        found = found or vnet
    return found


# --- VNet gateways and Route Servers ---------------------------------------------------------------


def gateway(stack: Stack, r: Res) -> VirtualNetworkGateway:
    rd = r.reader
    p = r.props
    vnet = _vnet_of_ip_configurations(stack, r, rd.seq(p, "ipConfigurations", "ipConfigurations"))
    if vnet is None:
        # A gateway that cannot be placed may send a default route to any subnet (§2.2, §3.1).
        vnet = Unknown(f"gateway {r.name} has no ipConfigurations with a subnet")
    return VirtualNetworkGateway(
        key=r.urn,
        origin=r.origin,
        vnet=vnet,
        gateway_type=rd.text(p, "gatewayType", "gatewayType"),
        vpn_type=rd.text(p, "vpnType", "vpnType"),
        enable_bgp=rd.flag(p, "enableBgp", "enableBgp"),
        # §3.1: a Default Site is forced tunnelling whichever site it is, so a set id is enough.
        default_site=stack.ref_field(
            r, p, "gatewayDefaultSite", "gatewayDefaultSite", ("LocalNetworkGateway",), presence_only=True
        ),
    )


def has_wan(r: Res) -> bool:
    """A Virtual WAN hub names its ``virtualWan``; a Route Server's VirtualHub does not (§2.2, §3.4)."""
    node = r.props.get("virtualWan")
    if node is UNK:
        return not (r.reader.projected and not r.reader.has_deps("virtualWan"))
    return node is not None


def route_servers(stack: Stack) -> dict[str, RouteServer]:
    """§2.2: Azure Route Server is a VirtualHub without a Virtual WAN plus an IP configuration in
    RouteServerSubnet (``VirtualHubIpConfiguration``); the older ``VirtualRouter`` names its
    ``hostedSubnet``."""
    out: dict[str, RouteServer] = {}
    for r in stack.of_kind("VirtualHubIpConfiguration"):
        hub_key = stack.parents.get(r.urn)
        hub = stack.res.get(hub_key) if isinstance(hub_key, str) else None
        if hub is not None and has_wan(hub):
            continue  # a Virtual WAN hub's own IP configuration
        vnet = vnet_of(stack, r, subnet_field(stack, r, r.props, "subnet"), "subnet")
        key = hub.urn if hub is not None else r.urn
        if key not in out or not isinstance(out[key].vnet, str):
            out[key] = RouteServer(key, hub.origin if hub is not None else r.origin, vnet)
    for r in stack.of_kind("VirtualRouter"):
        subnet = subnet_field(stack, r, r.props, "hostedSubnet", key="hostedSubnet")
        if subnet is not None:
            out[r.urn] = RouteServer(r.urn, r.origin, vnet_of(stack, r, subnet, "hostedSubnet"))
    return out


# --- Azure Firewall --------------------------------------------------------------------------------


def _ip_groups(
    stack: Stack, r: Res, obj: Mapping[str, Node], key: str, path: str
) -> tuple[MaybeRef, ...] | Unknown:
    return ref_list(stack, r, obj, key, path, ("IpGroup",), id_objects=False)


def _network_rule(
    stack: Stack, r: Res, rule: Mapping[str, Node], path: str, protocols_key: str, name: str
) -> FirewallNetworkRule:
    rd = r.reader

    def strs(key: str) -> Strs:
        return rd.strs(rule, key, f"{path}.{key}") or ()

    protocols = rd.strs(rule, protocols_key, f"{path}.{protocols_key}")
    return FirewallNetworkRule(
        name=name,
        protocols=() if protocols is None else protocols,
        source_addresses=strs("sourceAddresses"),
        source_ip_groups=_ip_groups(stack, r, rule, "sourceIpGroups", f"{path}.sourceIpGroups"),
        destination_addresses=strs("destinationAddresses"),
        destination_ip_groups=_ip_groups(
            stack, r, rule, "destinationIpGroups", f"{path}.destinationIpGroups"
        ),
        destination_fqdns=strs("destinationFqdns"),
        destination_ports=strs("destinationPorts"),
    )


def _action(r: Res, obj: Mapping[str, Node], path: str) -> MaybeStr:
    action = r.reader.mapping(obj, "action", f"{path}.action")
    if action is None or isinstance(action, Unknown):
        return action
    return r.reader.text(action, "type", f"{path}.action.type", "leaf")


def _classic(stack: Stack, r: Res, prop: str, kind: str) -> list[FirewallRuleCollection] | Unknown:
    """§6.3 classic rule collections on the firewall itself."""
    rd = r.reader
    items = rd.seq(r.props, prop, prop)
    if items is None:
        return []
    if isinstance(items, Unknown):
        return items
    out: list[FirewallRuleCollection] = []
    for i, item in enumerate(items):
        path = f"{prop}[{i}]"
        col = rd.to_dict(item, path)
        if isinstance(col, Unknown):
            return col
        rules = rd.seq(col, "rules", f"{path}.rules")
        network: tuple[FirewallNetworkRule, ...] | Unknown = ()
        count = 0
        if isinstance(rules, Unknown):
            network = rules
        elif rules is not None and kind == "network":
            found = []
            for j, node in enumerate(rules):
                rule = rd.to_dict(node, f"{path}.rules[{j}]")
                if isinstance(rule, Unknown):
                    network = rule
                    break
                label = rd.label(rule, "name", f"{path}.rules[{j}].name", f"#{j}")
                found.append(_network_rule(stack, r, rule, f"{path}.rules[{j}]", "protocols", label))
            else:
                network = tuple(found)
        elif rules is not None and kind == "application":
            count = len(rules)
        out.append(
            FirewallRuleCollection(
                name=rd.label(col, "name", f"{path}.name", f"#{i}"),
                priority=rd.number(col, "priority", f"{path}.priority", "leaf"),
                kind=kind,
                action=_action(r, col, path),
                rules=network,
                application_rules=count,
            )
        )
    return out


def _additional(r: Res) -> tuple[MaybeBool, Strs | None]:
    """§6.3: classic ``additionalProperties["Network.DNS.EnableProxy"]`` ("true"/"false") and
    ``["Network.SNAT.PrivateRanges"]`` (comma-separated); keys compared case-insensitively."""
    rd = r.reader
    props = rd.mapping(r.props, "additionalProperties", "additionalProperties")
    if props is None:
        return None, None
    if isinstance(props, Unknown):
        return props, props
    lowered = {k.lower(): (k, v) for k, v in props.items()}
    proxy: MaybeBool = None
    if "network.dns.enableproxy" in lowered:
        key, node = lowered["network.dns.enableproxy"]
        text = rd.to_str(node, f"additionalProperties.{key}")
        if isinstance(text, Unknown):
            proxy = text
        elif text.strip().lower() in ("true", "false"):
            proxy = text.strip().lower() == "true"
        else:
            proxy = rd.problem(f"additionalProperties.{key}", 'expected "true" or "false"')
    ranges: Strs | None = None
    if "network.snat.privateranges" in lowered:
        key, node = lowered["network.snat.privateranges"]
        text = rd.to_str(node, f"additionalProperties.{key}")
        ranges = text if isinstance(text, Unknown) else tuple(s.strip() for s in text.split(",") if s.strip())
    return proxy, ranges


def firewall(stack: Stack, r: Res) -> AzureFirewall:
    rd = r.reader
    p = r.props
    sku = rd.mapping(p, "sku", "sku")
    sku_name: MaybeStr = (
        sku if isinstance(sku, Unknown) else None if sku is None else rd.text(sku, "name", "sku.name")
    )
    hub = stack.ref_field(r, p, "virtualHub", "virtualHub", ("VirtualHub",))
    ipcs = rd.seq(p, "ipConfigurations", "ipConfigurations")
    hub_firewall = hub is not None or (isinstance(sku_name, str) and sku_name.lower() == "azfw_hub")

    vnet: MaybeRef = None
    private_ip: MaybeStr
    public: int | Unknown
    # §0 fact 2: the private IP is an output; during a preview of a new firewall it is unknown.
    not_yet = Unknown(f"the private IP of firewall {r.name} is assigned by Azure at deployment")
    if hub_firewall:
        hub_ips = rd.mapping(p, "hubIPAddresses", "hubIPAddresses")
        if isinstance(hub_ips, dict):
            private_ip = (
                rd.text(hub_ips, "privateIPAddress", "hubIPAddresses.privateIPAddress", "leaf") or not_yet
            )
            public = _hub_public_ips(r, hub_ips)
        else:
            private_ip = hub_ips or not_yet
            public = hub_ips or Unknown(f"hubIPAddresses of firewall {r.name} is not set")
    else:
        vnet = _vnet_of_ip_configurations(stack, r, ipcs)
        if vnet is None:
            vnet = Unknown(f"firewall {r.name} has no ipConfigurations with a subnet")
        private_ip, public = _vnet_firewall_ips(r, ipcs, not_yet)

    mgmt = rd.mapping(p, "managementIpConfiguration", "managementIpConfiguration")
    classic: list[FirewallRuleCollection] = []
    unknown_classic: Unknown | None = None
    for prop, kind in (
        ("networkRuleCollections", "network"),
        ("applicationRuleCollections", "application"),
        ("natRuleCollections", "nat"),
    ):
        found = _classic(stack, r, prop, kind)
        if isinstance(found, Unknown):
            unknown_classic = unknown_classic or found
        else:
            classic.extend(found)
    proxy, ranges = _additional(r)
    return AzureFirewall(
        key=r.urn,
        origin=r.origin,
        vnet=vnet,
        private_ip=private_ip,
        public_ip_count=public,
        sku_name=sku_name,
        management_ip_configuration=mgmt if isinstance(mgmt, Unknown) else mgmt is not None,
        policy=stack.ref_field(r, p, "firewallPolicy", "firewallPolicy", ("FirewallPolicy",)),
        classic_collections=unknown_classic or tuple(classic),
        dns_proxy=proxy,
        snat_private_ranges=ranges,
    )


def _vnet_firewall_ips(
    r: Res, ipcs: list[Node] | Unknown | None, not_yet: Unknown
) -> tuple[MaybeStr, int | Unknown]:
    rd = r.reader
    if ipcs is None:
        return not_yet, 0
    if isinstance(ipcs, Unknown):
        return ipcs, ipcs
    private_ip: MaybeStr = not_yet
    count: int | Unknown = 0
    for i, item in enumerate(ipcs):
        path = f"ipConfigurations[{i}]"
        ipc = rd.to_dict(item, path)
        if isinstance(ipc, Unknown):
            count = ipc
            continue
        if i == 0:
            # brief/§6.3: ipConfigurations[0].privateIPAddress is output-only.
            private_ip = rd.text(ipc, "privateIPAddress", f"{path}.privateIPAddress", "leaf") or not_yet
        pub = rd.mapping(ipc, "publicIPAddress", f"{path}.publicIPAddress")
        if isinstance(pub, Unknown) and not isinstance(count, Unknown):
            count = pub
        elif isinstance(pub, dict) and isinstance(count, int):
            count += 1
    return private_ip, count


def _hub_public_ips(r: Res, hub_ips: Mapping[str, Node]) -> int | Unknown:
    rd = r.reader
    pips = rd.mapping(hub_ips, "publicIPs", "hubIPAddresses.publicIPs")
    if pips is None:
        return Unknown(f"hubIPAddresses.publicIPs of firewall {r.name} is not set")
    if isinstance(pips, Unknown):
        return pips
    count = rd.number(pips, "count", "hubIPAddresses.publicIPs.count")
    if count is not None:
        return count
    addresses = rd.seq(pips, "addresses", "hubIPAddresses.publicIPs.addresses")
    if isinstance(addresses, Unknown):
        return addresses
    return len(addresses or ())


# --- Firewall policies -------------------------------------------------------------------------------


def ip_group(r: Res) -> IpGroup:
    return IpGroup(r.urn, r.origin, r.reader.strs(r.props, "ipAddresses", "ipAddresses") or ())


def _rule_type(rule: Mapping[str, Node]) -> str | None:
    """``ruleType`` (the SDK's *Args classes set it), else inferred from the fields (§3.1)."""
    value = peel(rule.get("ruleType"))
    if isinstance(value, str):
        return value.lower()
    if any(k in rule for k in ("translatedAddress", "translatedFqdn", "translatedPort")):
        return "natrule"
    if "ipProtocols" in rule or "destinationFqdns" in rule or "destinationPorts" in rule:
        return "networkrule"
    if any(k in rule for k in ("targetFqdns", "targetUrls", "fqdnTags", "webCategories", "protocols")):
        return "applicationrule"
    return None


def _policy_collection(
    stack: Stack, r: Res, col: Mapping[str, Node], path: str, index: int
) -> FirewallRuleCollection:
    rd = r.reader
    action = _action(r, col, path)
    ctype = peel(col.get("ruleCollectionType"))
    if isinstance(ctype, str):
        nat = ctype.lower() == "firewallpolicynatrulecollection"
    else:
        nat = isinstance(action, str) and action.lower() == "dnat"
    rules = rd.seq(col, "rules", f"{path}.rules")
    network: tuple[FirewallNetworkRule, ...] | Unknown = ()
    app = 0
    if isinstance(rules, Unknown):
        network = rules
    elif rules is not None and not nat:
        found: list[FirewallNetworkRule] = []
        for j, node in enumerate(rules):
            rpath = f"{path}.rules[{j}]"
            rule = rd.to_dict(node, rpath)
            if isinstance(rule, Unknown):
                network = rule
                break
            label = rd.label(rule, "name", f"{rpath}.name", f"#{j}")
            rtype = _rule_type(rule)
            if rtype == "applicationrule":
                app += 1  # §6.2: application rules never match TCP 1688; only their count is kept
            elif rtype == "networkrule":
                found.append(_network_rule(stack, r, rule, rpath, "ipProtocols", label))
            else:
                # An unknown rule type may be a network rule that matches: keep it, protocols unknown.
                why = (
                    rd.unknown(f"{rpath}.ruleType")
                    if rule.get("ruleType") is UNK
                    else rd.problem(f"{rpath}.ruleType", "not NetworkRule or ApplicationRule")
                )
                read = _network_rule(stack, r, rule, rpath, "ipProtocols", label)
                found.append(replace(read, protocols=read.protocols or why))
        else:
            network = tuple(found)
    return FirewallRuleCollection(
        name=rd.label(col, "name", f"{path}.name", f"#{index}"),
        priority=rd.number(col, "priority", f"{path}.priority", "leaf"),
        kind="nat" if nat else "network",
        action=action,
        rules=network,
        application_rules=app,
    )


def rule_collection_group(stack: Stack, r: Res) -> FirewallRuleCollectionGroup:
    rd = r.reader
    p = r.props
    name = rd.label(p, "ruleCollectionGroupName", "ruleCollectionGroupName", "") or rd.label(
        p, "name", "name", r.name
    )
    items = rd.seq(p, "ruleCollections", "ruleCollections")
    collections: tuple[FirewallRuleCollection, ...] | Unknown = ()
    if isinstance(items, Unknown):
        collections = items
    elif items is not None:
        found: list[FirewallRuleCollection] = []
        for i, node in enumerate(items):
            col = rd.to_dict(node, f"ruleCollections[{i}]")
            if isinstance(col, Unknown):
                collections = col
                break
            found.append(_policy_collection(stack, r, col, f"ruleCollections[{i}]", i))
        else:
            collections = tuple(found)
    return FirewallRuleCollectionGroup(name, rd.number(p, "priority", "priority", "leaf"), collections, r.urn)


def firewall_policy(
    stack: Stack, r: Res, groups: Mapping[str, FirewallRuleCollectionGroup]
) -> FirewallPolicy:
    rd = r.reader
    p = r.props
    dns = rd.mapping(p, "dnsSettings", "dnsSettings")
    snat = rd.mapping(p, "snat", "snat")
    children = stack.children(r.urn, "FirewallPolicyRuleCollectionGroup")
    orphans = stack.orphans_of(r.urn, "FirewallPolicyRuleCollectionGroup")
    rcgs: tuple[FirewallRuleCollectionGroup, ...] | Unknown
    if orphans:
        names = ", ".join(sorted(o.name for o in orphans))
        rcgs = Unknown(f"rule collection groups {names} may belong to firewall policy {r.name}")
    else:
        rcgs = tuple(groups[c.urn] for c in children if c.urn in groups)
    return FirewallPolicy(
        key=r.urn,
        origin=r.origin,
        base_policy=stack.ref_field(r, p, "basePolicy", "basePolicy", ("FirewallPolicy",)),
        dns_proxy=dns
        if isinstance(dns, Unknown)
        else None
        if dns is None
        else rd.flag(dns, "enableProxy", "dnsSettings.enableProxy"),
        dns_servers=dns
        if isinstance(dns, Unknown)
        else None
        if dns is None
        else rd.strs(dns, "servers", "dnsSettings.servers"),
        snat_private_ranges=snat
        if isinstance(snat, Unknown)
        else None
        if snat is None
        else rd.strs(snat, "privateRanges", "snat.privateRanges"),
        rule_collection_groups=rcgs,
    )


# --- Virtual WAN --------------------------------------------------------------------------------------


def _next_hop(stack: Stack, r: Res, node: Node, path: str) -> MaybeRef:
    """A routing-policy or hub-route next hop: a firewall's id, or another appliance's (NVA, SaaS)."""
    value = peel(node)
    if isinstance(value, str):
        parsed = parse_id(value)
        if parsed is not None and parsed.segment != "azurefirewalls" and parsed.name is not None:
            return parsed.normalised()  # not an Azure Firewall: the analysis sees an appliance
    return stack.resolve(r, node, path, FIREWALL)


def _hub_default_routes(stack: Stack, hub: Res) -> list[MaybeRef] | Unknown:
    """0.0.0.0/0 routes of the hub's route tables (HubRouteTable resources), by next hop."""
    out: list[MaybeRef] = []
    for table in stack.children(hub.urn, "HubRouteTable"):
        rd = table.reader
        routes = rd.seq(table.props, "routes", "routes")
        if isinstance(routes, Unknown):
            return routes
        for i, node in enumerate(routes or ()):
            route = rd.to_dict(node, f"routes[{i}]")
            if isinstance(route, Unknown):
                return route
            dests = rd.strs(route, "destinations", f"routes[{i}].destinations") or ()
            if isinstance(dests, Unknown):
                return dests
            if any(isinstance(d, str) and d.strip() == "0.0.0.0/0" for d in dests):
                out.append(_next_hop(stack, table, route.get("nextHop"), f"routes[{i}].nextHop"))
    return out


def hub(stack: Stack, r: Res) -> VirtualHub | None:
    """§3.4: a Virtual WAN hub's Internet next hop (routing intent, or a 0/0 hub route to the
    firewall in a secured hub without routing intent) and Forced Tunnel mode."""
    if not has_wan(r):
        return None  # a Route Server (route_servers), not a Virtual WAN hub
    internet: MaybeRef = None
    private = False
    intents = stack.children(r.urn, "RoutingIntent")
    orphans = stack.orphans_of(r.urn, "RoutingIntent") + stack.orphans_of(r.urn, "HubRouteTable")
    if orphans:
        why = Unknown(
            f"routing resources {', '.join(sorted(o.name for o in orphans))} may belong to hub {r.name}"
        )
        return VirtualHub(r.urn, r.origin, why, why)
    for intent in intents:
        rd = intent.reader
        policies = rd.seq(intent.props, "routingPolicies", "routingPolicies")
        if isinstance(policies, Unknown):
            return VirtualHub(r.urn, r.origin, policies, policies)
        for i, node in enumerate(policies or ()):
            policy = rd.to_dict(node, f"routingPolicies[{i}]")
            if isinstance(policy, Unknown):
                return VirtualHub(r.urn, r.origin, policy, policy)
            dests = rd.strs(policy, "destinations", f"routingPolicies[{i}].destinations") or ()
            if isinstance(dests, Unknown):
                return VirtualHub(r.urn, r.origin, dests, dests)
            lowered = {d.lower() for d in dests if isinstance(d, str)}
            if "internet" in lowered:
                internet = _next_hop(stack, intent, policy.get("nextHop"), f"routingPolicies[{i}].nextHop")
            if "privatetraffic" in lowered:
                private = True
    defaults = _hub_default_routes(stack, r)
    if isinstance(defaults, Unknown):
        return VirtualHub(r.urn, r.origin, internet or defaults, defaults)
    forced: MaybeBool = None
    if internet is None and private and defaults:
        # Forced Tunnel mode: a private routing policy with 0.0.0.0/0 as an additional prefix and no
        # Internet policy (§3.4). UNCONFIRMED: the prefix is read from the hub route tables.
        forced = True
    elif internet is None and not intents and len(defaults) == 1:
        internet = defaults[0]  # a secured hub without routing intent: 0/0 → its firewall
    return VirtualHub(r.urn, r.origin, internet, forced)


def hub_connection(stack: Stack, r: Res) -> HubConnection:
    p = r.props
    return HubConnection(
        key=r.urn,
        origin=r.origin,
        hub=stack.parents.get(r.urn),
        vnet=stack.ref_field(r, p, "remoteVirtualNetwork", "remoteVirtualNetwork", ("VirtualNetwork",)),
        enable_internet_security=r.reader.flag(p, "enableInternetSecurity", "enableInternetSecurity"),
    )


# --- AVNM security admin rules (§4.1) -------------------------------------------------------------------


def security_admin_commits(stack: Stack) -> Iterator[tuple[Res, dict[str, Node], tuple[MaybeRef, ...]]]:
    """Each ``Commit`` of the stack that may deploy security admin configurations (commitType
    SecurityAdmin or not known), with its ``properties`` and the configurations it names (a commit
    whose list is unknown is left out: it names no configuration for certain)."""
    for commit in stack.of_kind("Commit"):
        rd = commit.reader
        props = rd.mapping(commit.props, "properties", "properties")
        if not isinstance(props, dict):
            continue
        ctype = rd.text(props, "commitType", "properties.commitType", "leaf")
        if isinstance(ctype, str) and ctype.lower() != "securityadmin":
            continue
        ids = ref_list(
            stack, commit, props, "configurationIds", "properties.configurationIds", ("SecurityAdminConfiguration",),
            id_objects=False,
        )  # fmt: skip
        if not isinstance(ids, Unknown):
            yield commit, props, ids


def _committed(stack: Stack) -> set[str]:
    """Security admin configurations deployed by a ``Commit`` in the stack (commitType SecurityAdmin)."""
    out: set[str] = set()
    for _commit, _props, ids in security_admin_commits(stack):
        out.update(i for i in ids if isinstance(i, str))
    return out


def _group_vnets(stack: Stack, group: MaybeRef) -> list[MaybeRef]:
    if not isinstance(group, str):
        return [group]
    res = stack.res.get(group)
    if res is None:
        return [Unknown(f"network group {group} is outside the stack")]
    members = stack.children(group, "StaticMember")
    if not members or stack.orphans_of(group, "StaticMember"):
        # Members can also come from Azure Policy (dynamic membership), which the stack cannot show.
        return [Unknown(f"the members of network group {res.name} are not all in the stack")]
    out: list[MaybeRef] = []
    for m in members:
        node = m.props.get("resourceId")
        if node is None:
            out.append(m.reader.problem("resourceId", "required property is missing"))
        else:
            out.append(stack.resolve(m, node, "resourceId", ("VirtualNetwork",)))
    return out


def _addresses(r: Res, obj: Mapping[str, Node], key: str) -> tuple[AddressMatch, ...] | Unknown:
    rd = r.reader
    items = rd.seq(obj, key, key)
    if items is None:
        return ()
    if isinstance(items, Unknown):
        return items
    out: list[AddressMatch] = []
    for i, node in enumerate(items):
        item = rd.to_dict(node, f"{key}[{i}]")
        if isinstance(item, Unknown):
            return item
        kind = rd.text(item, "addressPrefixType", f"{key}[{i}].addressPrefixType")
        out.append(
            AddressMatch(
                rd.text(item, "addressPrefix", f"{key}[{i}].addressPrefix", "leaf"), kind or "IPPrefix"
            )
        )
    return tuple(out)


def admin_rules(stack: Stack) -> list[AdminRule]:
    committed = _committed(stack)
    out: list[AdminRule] = []
    for r in stack.of_kind("AdminRule"):
        rd = r.reader
        p = r.props
        vnets: tuple[MaybeRef, ...] | Unknown
        undeployed = ""
        coll_key = stack.parents.get(r.urn)
        coll = stack.res.get(coll_key) if isinstance(coll_key, str) else None
        if coll is None:
            vnets = Unknown(f"the rule collection of admin rule {r.name} is not in the stack")
        else:
            config = stack.parents.get(coll.urn)
            groups = _applies_to(stack, coll)
            if isinstance(groups, Unknown):
                vnets = groups
            elif not isinstance(config, str) or config not in committed:
                # An AVNM configuration takes effect only once committed to a region (docs/rules.md#admin-rules);
                # one committed outside the stack would still apply, so the rule stays "may apply".
                undeployed = f"{NOT_DEPLOYED}: no Commit in the stack deploys the security admin configuration of {r.name}"
                vnets = Unknown(undeployed)
            else:
                vnets = tuple(v for g in groups for v in _group_vnets(stack, g))
        out.append(
            AdminRule(
                origin=r.origin,
                vnets=vnets,
                priority=rd.number(p, "priority", "priority", "leaf"),
                direction=rd.text(p, "direction", "direction", "leaf"),
                access=rd.text(p, "access", "access", "leaf"),
                protocol=rd.text(p, "protocol", "protocol", "leaf"),
                sources=_addresses(r, p, "sources"),
                destinations=_addresses(r, p, "destinations"),
                source_port_ranges=rd.strs(p, "sourcePortRanges", "sourcePortRanges") or (),
                destination_port_ranges=rd.strs(p, "destinationPortRanges", "destinationPortRanges") or (),
                undeployed=undeployed,
            )
        )
    return out


def _applies_to(stack: Stack, coll: Res) -> tuple[MaybeRef, ...] | Unknown:
    """``appliesToGroups[].networkGroupId`` of an admin rule collection → network group keys."""
    rd = coll.reader
    items = rd.seq(coll.props, "appliesToGroups", "appliesToGroups")
    if items is None:
        return ()
    if isinstance(items, Unknown):
        return items
    ids: list[Node] = []
    for i, node in enumerate(items):
        item = rd.to_dict(node, f"appliesToGroups[{i}]")
        if isinstance(item, Unknown):
            return item
        ids.append(item.get("networkGroupId"))
    return ref_list(stack, coll, {"ids": ids}, "ids", "appliesToGroups", ("NetworkGroup",), id_objects=False)
