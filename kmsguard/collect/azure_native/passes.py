"""Passes over the assembled model that need the whole stack, shared by the azure-native and the
classic collector (a classic resource is translated into the azure-native shape, so one reading
serves both providers):

* ``mark_connections`` — a ``VirtualNetworkGatewayConnection`` installs its local network gateway's
  address space (a VNet-to-VNet connection: the peer VNet's) as gateway routes;
* ``deployment_regions`` — an AVNM deployment (azure-native ``Commit``, classic
  ``NetworkManagerDeployment``) applies its security admin configurations in its target regions only;
* ``mark_unread`` — network types kmsguard does not read yet are reported and make every subnet's
  KMS path unknown (DESIGN "unknown is never a pass").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from kmsguard.collect.azure_native.edge import security_admin_commits
from kmsguard.collect.azure_native.stack import Res, Stack
from kmsguard.model import NOT_DEPLOYED, AdminRule, Network, Problem, Route, Unknown
from kmsguard.model.network import MaybeRef
from kmsguard.protocol import urn_type

# --- VPN gateway connections (semantics §2.2: "prefixes … configured in local network gateways") ------

CONNECTION: Final = "VirtualNetworkGatewayConnection"

# Address space that holds no public IPv4 address: the catalog accepts only public (global) KMS IPs,
# so a gateway route inside these blocks never carries KMS traffic.
_NOT_PUBLIC: Final = tuple(
    ipaddress.IPv4Network(x)
    for x in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")
)


def _may_carry_kms(prefix: str | Unknown) -> bool:
    if isinstance(prefix, Unknown):
        return True
    try:
        net = ipaddress.ip_network(prefix.strip(), strict=False)
    except ValueError:
        return True
    return not isinstance(net, ipaddress.IPv4Network) or not any(net.subnet_of(b) for b in _NOT_PUBLIC)


def _remote_prefixes(stack: Stack, network: Network, r: Res) -> tuple[str | Unknown, ...] | Unknown:
    """The prefixes a connection installs as ``VirtualNetworkGateway`` routes (semantics §2 table:
    "prefixes … configured in local network gateways"): an IPsec connection's local network gateway
    address space, a VNet-to-VNet connection's peer VNet address space.

    Azure takes the address space of the local network gateway the connection names by id: the copy
    of the gateway an azure-native program may inline in ``localNetworkGateway2`` is not what Azure
    reads, so a gateway outside the stack is unknown even when the copy lists prefixes."""
    rd, p = r.reader, r.props
    ctype = rd.text(p, "connectionType", "connectionType", "required")
    if isinstance(ctype, Unknown) or ctype is None:
        return Unknown(f"the type of connection {r.name} is not known")
    bgp = rd.flag(p, "enableBgp", "enableBgp")
    if ctype.lower() == "expressroute" or (bgp is not False and bgp is not None):
        # Routes learnt over BGP (ExpressRoute always, IPsec with enableBgp) may carry 0.0.0.0/0
        # (docs/rules.md#bgp-routes). The gateway's own type makes them unknown when the gateway is in
        # the stack; when it is not, the connection is what shows they reach it.
        own = stack.ref_field(
            r, p, "virtualNetworkGateway1", "virtualNetworkGateway1", ("VirtualNetworkGateway",)
        )
        if not isinstance(own, str) or own not in network.gateways:
            return Unknown(f"connection {r.name} brings BGP routes to a gateway that is not in the stack")
    if ctype.lower() == "ipsec":
        ref = stack.ref_field(r, p, "localNetworkGateway2", "localNetworkGateway2", ("LocalNetworkGateway",))
        lng = stack.res.get(ref) if isinstance(ref, str) else None
        if lng is None:
            return Unknown(f"the local network gateway of connection {r.name} is not in the stack")
        # "leaf": an address space computed whole is unknown, never "not set" (it decides the routes).
        space = lng.reader.mapping(lng.props, "localNetworkAddressSpace", "localNetworkAddressSpace", "leaf")
        if isinstance(space, Unknown):
            return space
        found = lng.reader.strs(space or {}, "addressPrefixes", "localNetworkAddressSpace.addressPrefixes")
        return found if found is not None else ()
    if ctype.lower() == "vnet2vnet":
        ref = stack.ref_field(
            r, p, "virtualNetworkGateway2", "virtualNetworkGateway2", ("VirtualNetworkGateway",)
        )
        gw = network.gateways.get(ref) if isinstance(ref, str) else None
        vnet = network.vnets.get(gw.vnet) if gw is not None and isinstance(gw.vnet, str) else None
        if vnet is None:
            return Unknown(f"the peer VNet of connection {r.name} is not in the stack")
        return vnet.address_prefixes
    if ctype.lower() == "expressroute":
        # The routes come over BGP, which the gateway's type already makes unknown
        # (docs/rules.md#bgp-routes); the connection adds no static route.
        return ()
    return Unknown(f"connection {r.name} has a type kmsguard does not know")


def mark_connections(stack: Stack, network: Network) -> Network:
    """A connection whose static routes may cover a KMS IP (or cannot be told) may send KMS traffic to
    on-premises (docs/rules.md#azure-public-source): every subnet's path gets an unknown route naming
    it. One whose routes are all in private address space changes no KMS path."""
    reasons: list[str] = []
    for r in stack.of_kind(CONNECTION):
        prefixes = _remote_prefixes(stack, network, r)
        if isinstance(prefixes, Unknown):
            reasons.append(f"connection {r.name}: {prefixes.why}")
        elif any(_may_carry_kms(x) for x in prefixes):
            reasons.append(f"connection {r.name} adds gateway routes for public address space")
    if not reasons:
        return network
    why = "; ".join(reasons) + " (docs/rules.md#azure-public-source)"
    return _every_path(network, Route("(gateway connection routes)", Unknown(why), Unknown(why)), why)


def _every_path(network: Network, marker: Route, why: str) -> Network:
    """Every subnet's route selection may meet ``marker``: a subnet without a route table gets an
    unknown one, every route table (attached or judged as if attached, DESIGN) gets the route."""
    tables = dict(network.route_tables)
    subnets = dict(network.subnets)
    for key, subnet in network.subnets.items():
        if subnet.route_table is None:
            subnets[key] = replace(subnet, route_table=Unknown(why))
    for key, table in network.route_tables.items():
        if isinstance(table.routes, tuple):
            tables[key] = replace(table, routes=(*table.routes, marker))
    return replace(network, subnets=subnets, route_tables=tables)


# --- AVNM deployments and their regions (docs/rules.md#admin-rules) -------------------------------------


def normalise_location(location: str) -> str:
    """ARM locations compare lower-case without spaces (as ``kmsguard.catalog.normalise_location``,
    not imported: the catalog loads its JSON schema, and the collector must import fast)."""
    return "".join(location.split()).lower()


_UNTOLD: Final = "?"  # deployed by a deployment whose regions are not known


@dataclass
class _Deployed:
    regions: set[str]
    by: set[str]  # the deployments' type names, for the messages


def _deployed_regions(stack: Stack) -> dict[str, _Deployed]:
    """Security admin configuration URN → the regions deployments in the stack deploy it to.

    An azure-native ``Commit`` targets ``properties.targetLocations`` (required by ARM: a commit
    without it is a Problem and deploys to regions not known); a classic deployment its ``location``,
    translated into the same property."""
    out: dict[str, _Deployed] = {}
    for commit, props, ids in security_admin_commits(stack):
        rd = commit.reader
        classic = urn_type(commit.urn).startswith("azure:")
        presence: Literal["leaf", "required"] = "leaf" if classic else "required"
        locations = rd.strs(props, "targetLocations", "properties.targetLocations", presence)
        where = {_UNTOLD}
        if isinstance(locations, tuple) and all(isinstance(x, str) for x in locations):
            where = {normalise_location(str(x)) for x in locations}
        for config in ids:
            if isinstance(config, str):
                found = out.setdefault(config, _Deployed(set(), set()))
                found.regions.update(where)
                found.by.add("NetworkManagerDeployment" if classic else "Commit")
    return out


def deployment_regions(stack: Stack, network: Network) -> Network:
    """A deployment deploys its configurations to its target regions only: an admin rule applies to
    the VNets of those regions. For a VNet of another region the rule is "not deployed" (a deployment
    outside the stack may still apply it, so it may match, docs/rules.md#admin-rules); a deployment
    whose regions are not known makes it so everywhere."""
    regions = _deployed_regions(stack)
    if not regions:
        return network
    rules: list[AdminRule] = []
    for rule in network.admin_rules:
        res = stack.res.get(rule.origin.urn or "")
        coll = stack.parents.get(res.urn) if res is not None else None
        config = stack.parents.get(coll) if isinstance(coll, str) else None
        deployed = regions.get(config) if isinstance(config, str) else None
        if deployed is None or not isinstance(rule.vnets, tuple):
            rules.append(rule)
            continue
        by = " or ".join(sorted(deployed.by, reverse=True))
        shown = f"the security admin configuration of {rule.origin.name}"
        inside: list[MaybeRef] = []
        outside: list[str] = []
        untold = False
        for ref in rule.vnets:
            vnet = network.vnets.get(ref) if isinstance(ref, str) else None
            location = (
                normalise_location(vnet.location)
                if vnet is not None and isinstance(vnet.location, str)
                else None
            )
            if location is not None and location in deployed.regions:
                inside.append(ref)
            elif _UNTOLD in deployed.regions:
                untold = True  # a deployment whose regions are not known may or may not reach it
            elif vnet is not None and location is not None:
                outside.append(vnet.origin.name)
            else:
                inside.append(ref)  # a VNet whose region is not known: the rule may apply (as before)
        if not outside and not untold:
            rules.append(rule)
            continue
        if inside or (outside and not untold):
            rules.append(replace(rule, vnets=tuple(inside)))
        if untold:
            why = f"{NOT_DEPLOYED}: the region a {by} deploys {shown} to is not known"
            rules.append(replace(rule, vnets=Unknown(why), undeployed=why))
        if outside:
            why = (
                f"{NOT_DEPLOYED}: no {by} in the stack deploys {shown} to the region of {', '.join(outside)}"
            )
            rules.append(replace(rule, vnets=Unknown(why), undeployed=why))
    return replace(network, admin_rules=tuple(rules))


# --- network types not read yet ------------------------------------------------------------------------


@dataclass(frozen=True)
class Unread:
    """A resource of a network type kmsguard does not read (``coverage.unread``,
    ``azure_classic.types.unread``)."""

    name: str
    urn: str
    token: str

    @property
    def classic(self) -> bool:
        return self.token.startswith("azure:")


def mark_unread(network: Network, unread: Sequence[Unread], problems: list[Problem]) -> Network:
    """Each resource is a Problem naming its type (kms-unverified reports it, also in a stack without
    subnets), and every subnet's KMS path gets an unknown route and unknown DNS naming them: such a
    type may add routes (AVNM routing, BGP peers, VPN and ExpressRoute connections), filter TCP 1688
    or change how the KMS names resolve, on any subnet it is deployed to, and which subnets those are
    is what kmsguard cannot read."""
    if not unread:
        return network
    for u in unread:
        provider = "a classic azure (pulumi-azure)" if u.classic else "an azure-native"
        problems.append(
            Problem(
                u.name,
                "(type)",
                f"{u.token} is {provider} type kmsguard does not read yet; it may change the KMS path of any "
                "subnet in the stack, so their verdicts are unknown",
                u.urn or None,
            )
        )
    kinds = {u.classic for u in unread}
    what = (
        "classic azure"
        if kinds == {True}
        else "azure-native"
        if kinds == {False}
        else "classic azure and azure-native"
    )
    short = "classic" if kinds == {True} else what
    names = ", ".join(f"{u.name} ({u.token})" for u in unread)
    why = f"{what} resources kmsguard does not read yet may change this path: {names}"
    network = _every_path(network, Route(f"({short} resources not read)", Unknown(why), Unknown(why)), why)
    # DNS too: an unread resolver policy, ruleset or record may decide how the KMS name resolves (§7).
    vnets = {
        key: replace(v, dns_servers=Unknown(why)) if not v.dns_servers else v
        for key, v in network.vnets.items()
    }
    return replace(network, vnets=vnets)


__all__ = [
    "CONNECTION",
    "Unread",
    "deployment_regions",
    "mark_connections",
    "mark_unread",
    "normalise_location",
]
