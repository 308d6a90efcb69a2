"""Classic firewall rule collections, DNS resolver rulesets, AVNM and gateway connections → azure-native shapes.

Like ``translate``: decoded classic bags (pulumi-azure 6.40.1 property names) in, azure-native bags
and top-level renames out. These classic types are standalone *children* that name their parent by
id (``dnsForwardingRulesetId``, ``networkManagerId`` …) where azure-native names it by a path
parameter (``dnsForwardingRulesetName``): the parent name is the last segment of that id, and the
property dependencies of the id follow the rename, so in a preview (ids unknown) the parent is found
through them exactly as for an azure-native child (stack module doc).

``FirewallNetworkRuleCollection`` has no azure-native resource: azure-native declares these
collections inline on ``AzureFirewall.networkRuleCollections``. The classic resource is built as a
child of the firewall (``RULE_COLLECTION``) whose bag holds that one inline collection, and
``attach_rule_collections`` adds it to its firewall in the model once the model is built.

A ``NetworkManagerDeployment`` is translated into a ``Commit`` targeting its one region, and a
``VirtualNetworkGatewayConnection`` into azure-native's connection: the passes that read them over the
built model (``deployment_regions``, ``mark_connections``) are azure-native's
(``kmsguard.collect.azure_native.passes``), re-exported here for the classic collector.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from kmsguard.collect.azure_classic.translate import Bag, Renames, Translator, _base, _last_name, _rg_of
from kmsguard.collect.azure_native.arm import TYPES, ArmType, parse_id
from kmsguard.collect.azure_native.edge import _classic
from kmsguard.collect.azure_native.passes import CONNECTION
from kmsguard.collect.azure_native.passes import deployment_regions as deployment_regions
from kmsguard.collect.azure_native.passes import mark_connections as mark_connections
from kmsguard.collect.azure_native.passes import normalise_location as normalise_location
from kmsguard.collect.azure_native.stack import Stack
from kmsguard.collect.azure_native.values import UNK, Node, Secret
from kmsguard.model import FirewallRuleCollection, Network, Unknown

# The kind of a classic FirewallNetworkRuleCollection: a child of its AzureFirewall, named by
# ``azureFirewallName`` (its classic id is ``…/azureFirewalls/<fw>/networkRuleCollections/<name>``).
RULE_COLLECTION: Final = "AzureFirewallNetworkRuleCollection"
# A classic VirtualNetworkGatewayConnection is read as azure-native's (``passes.mark_connections``).
ARM_TYPES: Final[dict[str, ArmType]] = {
    RULE_COLLECTION: ArmType(
        RULE_COLLECTION, "network", "networkrulecollections", "name", "AzureFirewall", "azureFirewallName"
    ),
    CONNECTION: TYPES[CONNECTION],
}


def _given(node: Node, what: str) -> Node:
    """A nested value the program gave as unknown stays unknown.

    A preview bag of a classic resource is its inputs (the provider adds no computed nested fields),
    so an unknown nested rule field was computed by the program; the Reader would read a nested
    unknown of a projected bag as "not set" (values module doc), which for a rule's destinations or
    ports could turn "cannot tell" into "does not allow"."""
    return Unknown(f"{what} is not known until deployment") if node is UNK else node


def _parent(out: Bag, p: Bag, id_key: str, name_key: str) -> None:
    """``<parent>Name`` (and the resource group) from the classic parent id ``id_key``."""
    node = p.get(id_key)
    out[name_key] = _last_name(node)
    if "resourceGroupName" not in out:
        rg = _rg_of(node)
        if rg is not None:
            out["resourceGroupName"] = rg


# --- Azure Firewall classic rule collections ---------------------------------------------------------

_FW_RULE_KEYS: Final = (
    "protocols",
    "sourceAddresses",
    "sourceIpGroups",
    "destinationAddresses",
    "destinationIpGroups",
    "destinationFqdns",
    "destinationPorts",
)


def firewall_network_rule_collection(p: Bag) -> tuple[Bag, Renames]:
    """One inline ``networkRuleCollections`` item (azure-native ``AzureFirewallNetworkRuleCollection``):
    the classic rule fields have the azure-native names already."""
    out = _base(p, "azureFirewallName")
    name = p.get("name")
    label = f"a rule of firewall rule collection {name if isinstance(name, str) else ''}".rstrip()
    col: Bag = {k: p[k] for k in ("name", "priority") if k in p}
    if "action" in p:
        col["action"] = {"type": p["action"]}
    rules = p.get("rules")
    if isinstance(rules, list):
        col["rules"] = [
            {k: _given(v, f"{k} of {label}") if k in _FW_RULE_KEYS else v for k, v in r.items()}
            if isinstance(r, dict)
            else r
            for r in rules
        ]
    else:
        col["rules"] = _given(rules, f"the rules of {label}")
    out["networkRuleCollections"] = [col]
    # The rules' IP group ids resolve through the dependencies of the property now holding them.
    return out, {"rules": "networkRuleCollections", "priority": "networkRuleCollections",
                 "action": "networkRuleCollections"}  # fmt: skip


def attach_rule_collections(stack: Stack, network: Network) -> Network:
    """Each classic collection joins its firewall's classic collections (edge ``_classic`` reads it).

    The classic provider writes the collection into the firewall's ``networkRuleCollections``, so a
    firewall's read-back may already list it: a same-named network collection is replaced, not
    doubled. A collection whose firewall cannot be determined makes the classic collections of every
    firewall it may belong to unknown (a missing allow or deny could decide the verdict)."""
    if not stack.of_kind(RULE_COLLECTION):
        return network
    firewalls = dict(network.firewalls)
    for key, fw in network.firewalls.items():
        orphans = stack.orphans_of(key, RULE_COLLECTION)
        children = stack.children(key, RULE_COLLECTION)
        if not orphans and not children:
            continue
        current = fw.classic_collections
        if orphans:
            names = ", ".join(sorted(o.name for o in orphans))
            current = Unknown(f"firewall rule collections {names} may belong to firewall {fw.origin.name}")
        for child in children:
            if isinstance(current, Unknown):
                break
            found = _classic(stack, child, "networkRuleCollections", "network")
            if isinstance(found, Unknown):
                current = found
                break
            mine = {c.name.lower() for c in found}
            kept: list[FirewallRuleCollection] = [
                c for c in current if not (c.kind == "network" and c.name.lower() in mine)
            ]
            current = (*kept, *found)
        firewalls[key] = replace(fw, classic_collections=current)
    return replace(network, firewalls=firewalls)


# --- DNS Private Resolver forwarding rulesets (§7.3) -------------------------------------------------


def forwarding_ruleset(p: Bag) -> tuple[Bag, Renames]:
    # The outbound endpoints only say where the forwarded queries leave from; the rules and links decide.
    return _base(p), {}


def _state(node: Node) -> Node:
    """Classic ``enabled`` (default true) → azure-native ``forwardingRuleState``."""
    value = node.value if isinstance(node, Secret) else node
    if isinstance(value, bool):
        return "Enabled" if value else "Disabled"
    return node


def forwarding_rule(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p, "domainName", "targetDnsServers")
    _parent(out, p, "dnsForwardingRulesetId", "dnsForwardingRulesetName")
    if "enabled" in p:
        out["forwardingRuleState"] = _state(p["enabled"])
    return out, {"dnsForwardingRulesetId": "dnsForwardingRulesetName", "enabled": "forwardingRuleState"}


def resolver_link(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    _parent(out, p, "dnsForwardingRulesetId", "dnsForwardingRulesetName")
    if p.get("virtualNetworkId") is not None:
        node = p["virtualNetworkId"]
        out["virtualNetwork"] = node if node is UNK else {"id": node}
    return out, {"dnsForwardingRulesetId": "dnsForwardingRulesetName", "virtualNetworkId": "virtualNetwork"}


# --- Azure Virtual Network Manager (§4.1) ---------------------------------------------------------------


def network_manager(p: Bag) -> tuple[Bag, Renames]:
    return _base(p), {}


def network_group(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    _parent(out, p, "networkManagerId", "networkManagerName")
    return out, {"networkManagerId": "networkManagerName"}


def static_member(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    _parent(out, p, "networkGroupId", "networkGroupName")
    node = p.get("targetVirtualNetworkId")
    value = node.value if isinstance(node, Secret) else node
    parsed = parse_id(value) if isinstance(value, str) else None
    if parsed is not None and parsed.segment == "subnets":
        # A network group of memberType Subnet: its admin rules apply to that subnet only, which the
        # model (admin rules per VNet) cannot express; applying them to the whole VNet could let an
        # AlwaysAllow skip another subnet's NSG deny.
        out["resourceId"] = Unknown("a network group member is a subnet; admin rules per subnet are not read")
    elif node is not None:
        out["resourceId"] = node
    return out, {"networkGroupId": "networkGroupName", "targetVirtualNetworkId": "resourceId"}


def security_admin_configuration(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    _parent(out, p, "networkManagerId", "networkManagerName")
    return out, {"networkManagerId": "networkManagerName"}


def admin_rule_collection(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    _parent(out, p, "securityAdminConfigurationId", "configurationName")
    groups = p.get("networkGroupIds")
    if isinstance(groups, list):
        out["appliesToGroups"] = [{"networkGroupId": g} for g in groups]
    elif groups is not None:
        out["appliesToGroups"] = groups
    return out, {"securityAdminConfigurationId": "configurationName", "networkGroupIds": "appliesToGroups"}


def admin_rule(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p, "priority", "direction", "protocol", "sources", "destinations", "sourcePortRanges",
                "destinationPortRanges")  # fmt: skip
    _parent(out, p, "adminRuleCollectionId", "ruleCollectionName")
    if "action" in p:
        out["access"] = p["action"]
    return out, {"adminRuleCollectionId": "ruleCollectionName", "action": "access"}


def deployment(p: Bag) -> tuple[Bag, Renames]:
    """``NetworkManagerDeployment`` → a ``Commit``: the configurations it deploys for its scope access.

    The classic deployment holds the complete list of configurations of one scope access
    (``SecurityAdmin``, ``Connectivity``, ``Routing``) in one region: a security admin configuration
    takes effect only while a ``SecurityAdmin`` deployment lists it (docs/rules.md#admin-rules)."""
    out = _base(p)
    _parent(out, p, "networkManagerId", "networkManagerName")
    props: Bag = {}
    if "scopeAccess" in p:
        props["commitType"] = p["scopeAccess"]
    if "configurationIds" in p:
        props["configurationIds"] = p["configurationIds"]
    if "location" in p:
        props["targetLocations"] = [p["location"]]
    out["properties"] = props
    return out, {
        "networkManagerId": "networkManagerName",
        "scopeAccess": "properties",
        "configurationIds": "properties",
    }


# --- VPN gateway connections (§2, §3) ---------------------------------------------------------------


def connection(p: Bag) -> tuple[Bag, Renames]:
    """The azure-native ``VirtualNetworkGatewayConnection`` shape (connectionType, the gateways)."""
    out = _base(p, "enableBgp")
    if p.get("bgpEnabled") is not None:  # the current spelling; enableBgp is the deprecated one
        out["enableBgp"] = p["bgpEnabled"]
    if "type" in p:
        out["connectionType"] = p["type"]
    for src, dst in (
        ("virtualNetworkGatewayId", "virtualNetworkGateway1"),
        ("localNetworkGatewayId", "localNetworkGateway2"),
        ("peerVirtualNetworkGatewayId", "virtualNetworkGateway2"),
    ):
        if p.get(src) is not None:
            out[dst] = p[src] if p[src] is UNK else {"id": p[src]}
    return out, {
        "type": "connectionType",
        "virtualNetworkGatewayId": "virtualNetworkGateway1",
        "localNetworkGatewayId": "localNetworkGateway2",
        "peerVirtualNetworkGatewayId": "virtualNetworkGateway2",
    }


TRANSLATORS: Final[dict[str, Translator]] = {
    "azure:network/virtualNetworkGatewayConnection:VirtualNetworkGatewayConnection": connection,
    "azure:network/firewallNetworkRuleCollection:FirewallNetworkRuleCollection": firewall_network_rule_collection,
    "azure:privatedns/resolverDnsForwardingRuleset:ResolverDnsForwardingRuleset": forwarding_ruleset,
    "azure:privatedns/resolverForwardingRule:ResolverForwardingRule": forwarding_rule,
    "azure:privatedns/resolverVirtualNetworkLink:ResolverVirtualNetworkLink": resolver_link,
    "azure:network/networkManager:NetworkManager": network_manager,
    "azure:network/networkManagerNetworkGroup:NetworkManagerNetworkGroup": network_group,
    "azure:network/networkManagerStaticMember:NetworkManagerStaticMember": static_member,
    "azure:network/networkManagerSecurityAdminConfiguration:NetworkManagerSecurityAdminConfiguration": (
        security_admin_configuration
    ),
    "azure:network/networkManagerAdminRuleCollection:NetworkManagerAdminRuleCollection": admin_rule_collection,
    "azure:network/networkManagerAdminRule:NetworkManagerAdminRule": admin_rule,
    "azure:network/networkManagerDeployment:NetworkManagerDeployment": deployment,
}
