"""Build the model of a stack that holds classic (pulumi-azure) resources, azure-native ones or both.

1. Each classic resource of a read type is decoded once and translated into the azure-native shape
   (``translate``); it keeps its own URN (the model key) and is built by the azure-native builders,
   so references by ARM id, by name and by property dependencies resolve across both providers.
2. Associations (``SubnetRouteTableAssociation`` …) are applied to the built model: the target
   (subnet, NIC, VNet) and the attached resource are resolved with the same resolver. One whose
   target cannot be determined makes that attachment unknown on every subnet (or NIC, VNet) it may
   be, since ignoring it could hide a 0.0.0.0/0 route or a deny rule.
3. Network resources of a type not read yet, classic or azure-native, are never ignored (DESIGN
   "unknown is never a pass"): each is a Problem naming it (kms-unverified reports it), and every
   subnet's KMS path gets an unknown route and unknown DNS naming them, so the subnets' verdicts turn
   ``unknown`` (``azure_native.passes.mark_unread``, shared with the azure-native collector).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from kmsguard import protocol
from kmsguard.collect.azure_classic import compute_lb, translate, translate_edge, types
from kmsguard.collect.azure_native import coverage, passes
from kmsguard.collect.azure_native.arm import TYPES, ArmType
from kmsguard.collect.azure_native.collector import _Assembler, _guard
from kmsguard.collect.azure_native.stack import Res, Stack, _strs, make_res, res_of
from kmsguard.collect.azure_native.values import Node, Reader, decode, type_name
from kmsguard.model import Network, Problem, Unknown
from kmsguard.model.network import MaybeRef, Strs

if TYPE_CHECKING:
    from kmsguard.collect.resource import PulumiResource

T = TypeVar("T")

# The ``segment`` of an association matches no ARM id: an association's own id is its target's id
# (a SubnetRouteTableAssociation's id is the subnet's), which must not identify it as the subnet.
_NO_SEGMENT = "-association"


def build(resources: Sequence[PulumiResource]) -> Network:
    problems: list[Problem] = []
    decoded: list[Res] = []
    links: list[Res] = []
    unread: list[passes.Unread] = []
    for i, raw in enumerate(resources):
        urn = getattr(raw, "urn", None)
        token = getattr(raw, "type", None)
        where = str(getattr(raw, "name", None) or (urn if isinstance(urn, str) else f"resource #{i}"))
        at = urn if isinstance(urn, str) else None
        if not types.is_classic(token):
            if coverage.unread(token):
                unread.append(passes.Unread(where, at or "", str(token)))
                continue
            r = _guard(problems, where, at, partial(make_res, raw, problems))
        elif token in types.READ:
            r = _guard(problems, where, at, partial(_translated, raw, problems))
        elif token in types.ASSOCIATIONS:
            link = _guard(problems, where, at, partial(_association, raw, problems))
            if link is not None:
                links.append(link)
            continue
        else:
            assert isinstance(token, str)
            if types.unread(token):
                unread.append(passes.Unread(where, at or "", token))
            continue
        if r is not None:
            decoded.append(r)
    stack = Stack(decoded, problems)
    network = _Assembler(stack, problems).network()
    network = _Links(stack, network, problems).apply(links)
    network = compute_lb.apply(stack, network, links, problems)
    network = translate_edge.attach_rule_collections(stack, network)
    network = translate_edge.mark_connections(stack, network)
    network = translate_edge.deployment_regions(stack, network)
    network = passes.mark_unread(network, unread, problems)
    return replace(network, problems=tuple(problems))


def _res(raw: PulumiResource, kind: str, arm: ArmType, props: dict[str, Node], problems: list[Problem],
         pdeps: Mapping[str, tuple[str, ...]]) -> Res:  # fmt: skip
    urn = raw.urn if isinstance(raw.urn, str) else ""
    name = raw.name if isinstance(raw.name, str) and raw.name else protocol.logical_name(urn) or kind
    return res_of(raw, Reader(name, urn, kind, False, pdeps, problems), props, arm)


def _decoded(raw: PulumiResource, problems: list[Problem], kind: str) -> tuple[dict[str, Node], dict[str, tuple[str, ...]]]:  # fmt: skip
    props = decode(raw.props) if isinstance(raw.props, Mapping) else None
    pdeps_raw = raw.property_dependencies if isinstance(raw.property_dependencies, Mapping) else {}
    pdeps = {str(k): _strs(v) for k, v in pdeps_raw.items()}
    if not isinstance(props, dict):
        Reader(raw.name, raw.urn, kind, False, pdeps, problems).problem(
            "(properties)", f"expected an object, got {type_name(props)}"
        )
        props = {}
    return props, pdeps


def _translated(raw: PulumiResource, problems: list[Problem]) -> Res:
    kind = types.READ[raw.type]
    props, pdeps = _decoded(raw, problems, kind)
    translator = (
        translate.TRANSLATORS.get(raw.type)
        or compute_lb.TRANSLATORS.get(raw.type)
        or translate_edge.TRANSLATORS[raw.type]
    )
    bag, renames = translator(props)
    arm = TYPES.get(kind) or translate_edge.ARM_TYPES[kind]
    return _res(raw, kind, arm, bag, problems, translate.renamed_deps(pdeps, renames))


def _association(raw: PulumiResource, problems: list[Problem]) -> Res:
    kind = types.ASSOCIATIONS[raw.type][0]
    props, pdeps = _decoded(raw, problems, kind)
    return _res(raw, kind, ArmType(kind, "network", _NO_SEGMENT, "name"), props, problems, pdeps)


# --- associations ------------------------------------------------------------------------------------


class _Links:
    """Applies association resources to the model built without them."""

    def __init__(self, stack: Stack, network: Network, problems: list[Problem]) -> None:
        self.stack = stack
        self.problems = problems
        self.subnets = dict(network.subnets)
        self.nics = dict(network.nics)
        self.vnets = dict(network.vnets)
        self.network = network

    def apply(self, links: list[Res]) -> Network:
        if not links:
            return self.network
        for link in links:
            _guard(self.problems, link.name, link.urn, partial(self._one, link))
        return replace(self.network, subnets=self.subnets, nics=self.nics, vnets=self.vnets)

    def _one(self, link: Res) -> None:
        s, p = self.stack, link.props
        kind = link.kind
        if kind == "SubnetRouteTableAssociation":
            self._subnet(
                link, "route_table", s.resolve(link, p.get("routeTableId"), "routeTableId", ("RouteTable",))
            )
        elif kind == "SubnetNetworkSecurityGroupAssociation":
            nsg = s.resolve(
                link, p.get("networkSecurityGroupId"), "networkSecurityGroupId", ("NetworkSecurityGroup",)
            )
            self._subnet(link, "nsg", nsg)
        elif kind == "SubnetNatGatewayAssociation":
            # Only whether a NAT gateway is attached matters (§5.3): a set id counts even when unresolved.
            node = p.get("natGatewayId")
            nat = s.resolve(link, node, "natGatewayId", ("NatGateway",))
            self._subnet(
                link,
                "nat_gateway",
                nat if isinstance(nat, str) or node is None else f"{link.urn}#natGatewayId",
            )
        elif kind == "NetworkInterfaceSecurityGroupAssociation":
            self._nic(link)
        elif kind == "VirtualNetworkDnsServers":
            self._dns(link)

    def _attach(
        self, link: Res, what: str, targets: dict[str, T], target: MaybeRef, field: str, value: object,
        label: str,
    ) -> None:  # fmt: skip
        if target is None:
            link.reader.problem(label, "required property is missing")
            target = Unknown(f"{label} of {link.name} is missing")
        if isinstance(target, str):
            current = targets.get(target)
            if current is None:
                return  # a target outside the stack: not evaluated here
            before = getattr(current, field)
            if before is not None and before != value:
                # Azure keeps one of the two; which one depends on the order of the deployments.
                self.problems.append(
                    Problem(
                        link.name,
                        label,
                        f"{link.urn} attaches a {what} to a target that already has one",
                        link.urn,
                    )
                )
                value = Unknown(f"{what} set twice (inline and by {link.kind} {link.name})")
            targets[target] = replace(current, **{field: value})  # type: ignore[type-var]
            return
        # The target cannot be determined: every target that may be it gets the attachment unknown,
        # also one that already has another value (the association may replace it).
        why = Unknown(f"{link.kind} {link.name} attaches a {what} to a target not known here ({target.why})")
        for key, current in list(targets.items()):
            if getattr(current, field) != value:
                targets[key] = replace(current, **{field: why})  # type: ignore[type-var]

    def _subnet(self, link: Res, field: str, value: MaybeRef) -> None:
        target = self.stack.subnet(link, link.props.get("subnetId"), "subnetId")
        what = {"route_table": "route table", "nsg": "network security group", "nat_gateway": "NAT gateway"}[
            field
        ]
        if value is None:
            value = link.reader.problem(field, "required property is missing")
        self._attach(link, what, self.subnets, target, field, value, "subnetId")

    def _nic(self, link: Res) -> None:
        p = link.props
        target = self.stack.resolve(
            link, p.get("networkInterfaceId"), "networkInterfaceId", ("NetworkInterface",)
        )
        nsg = self.stack.resolve(
            link, p.get("networkSecurityGroupId"), "networkSecurityGroupId", ("NetworkSecurityGroup",)
        )
        self._attach(link, "network security group", self.nics, target, "nsg", nsg, "networkInterfaceId")

    def _dns(self, link: Res) -> None:
        p = link.props
        target = self.stack.resolve(link, p.get("virtualNetworkId"), "virtualNetworkId", ("VirtualNetwork",))
        servers: Strs | None = link.reader.strs(p, "dnsServers", "dnsServers")
        self._attach(
            link, "DNS server list", self.vnets, target, "dns_servers", servers or (), "virtualNetworkId"
        )


__all__ = ["build"]
