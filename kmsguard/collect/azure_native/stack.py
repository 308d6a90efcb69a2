"""One deployment's resources, indexed once, and reference resolution.

Model keys: a resource in the stack is keyed by its URN; an inline sub-resource by its owner's URN
plus ``#<collection>/<name>`` (``#subnets/app``, ``#backendAddressPools/pool``); a resource outside
the stack by its normalised ARM id (``arm.normalise``), so the analysis sees a key that is not in
the ``Network`` maps (model/network.py).

A reference is resolved, in order (pulumi-mechanics §1.6, §3.0):

1. a known ARM id: the resource in the stack whose own known ``id`` is that id, else the one of
   the right type whose Azure name (``<type>Name`` input, else output ``name``) and resource group
   (``resourceGroupName`` input, when known) match, case-insensitively;
2. an id that is unknown during preview (sentinel), or an id built from an unknown name: the
   **property dependencies** of the top-level property holding it — the engine records which
   resources' outputs flowed into each input (§1.6), so a Subnet's ``routeTable`` that depends on
   exactly one RouteTable URN is that route table;
3. neither: ``Unknown`` saying why. A known id that matches nothing in the stack is outside it,
   unless a resource of that type has an Azure name not known here (then it may be that one, and
   the reference is ``Unknown``).

Standalone child resources (Subnet, Route, SecurityRule, …) find their parent the same way from
their parent-name input (``virtualNetworkName``, ``routeTableName``, …), then their own id, then
their Pulumi parent. A child whose parent cannot be determined is an *orphan*: the collections of
the parents it may belong to become unknown, because ignoring it could hide a route or a rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kmsguard.collect.azure_native.arm import TYPES, ArmId, ArmType, kind_of, parse_id
from kmsguard.collect.azure_native.values import (
    SECRET_PLACEHOLDER,
    UNK,
    Node,
    Reader,
    Secret,
    decode,
    peel,
    top_of,
    type_name,
)
from kmsguard.model import Origin, Problem, Unknown
from kmsguard.model.network import MaybeRef
from kmsguard.protocol import logical_name

if TYPE_CHECKING:
    from kmsguard.collect.resource import PulumiResource


@dataclass
class Res:
    """A decoded resource of a handled type, with what identifies it in Azure."""

    urn: str
    kind: str
    name: str  # Pulumi logical name
    props: dict[str, Node]
    parent_urn: str
    deps: tuple[str, ...]
    pdeps: Mapping[str, tuple[str, ...]]
    reader: Reader
    arm: ArmType
    id: str | None = None  # normalised, when known
    arm_id: ArmId | None = None
    azure_name: str | None = None  # lower-case, when known
    rg: str | None = None  # lower-case, when known

    @property
    def origin(self) -> Origin:
        return Origin(self.name, self.urn, self.kind)


@dataclass(frozen=True, slots=True)
class InlineItem:
    """One element of an inline sub-resource list (``VirtualNetwork.subnets[i]``)."""

    index: int
    node: Node
    key: str
    lname: str | None  # lower-case Azure name, when known
    label: str  # display name (never a secret)
    path: str


@dataclass
class InlineList:
    items: list[InlineItem] | Unknown | None
    children: list[Res]  # standalone resources of the same collection
    readback: int = 0  # inline items that were the read-back of standalone children


def _strs(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _projected(props: Mapping[str, Node]) -> bool:
    """A preview projection of inputs onto outputs (values module doc): output-only properties
    that every azure-native resource has are the unknown sentinel."""
    return any(props.get(k) is UNK for k in ("id", "provisioningState", "etag"))


def make_res(raw: PulumiResource, problems: list[Problem]) -> Res | None:
    """A ``Res`` for a handled azure-native type; ``None`` for other types (providers, components,
    types ``coverage`` calls irrelevant; the collector reports the unread ones before calling this)."""
    token = raw.type if isinstance(raw.type, str) else ""
    kind = kind_of(token)
    if kind is None:
        return None
    urn = raw.urn if isinstance(raw.urn, str) else ""
    name = raw.name if isinstance(raw.name, str) and raw.name else logical_name(urn) or kind
    props = decode(raw.props) if isinstance(raw.props, Mapping) else None
    pdeps_raw = raw.property_dependencies if isinstance(raw.property_dependencies, Mapping) else {}
    pdeps = {str(k): _strs(v) for k, v in pdeps_raw.items()}
    reader = Reader(name, urn, kind, False, pdeps, problems)
    if not isinstance(props, dict):
        reader.problem("(properties)", f"expected an object, got {type_name(props)}")
        props = {}
    return res_of(raw, reader, props, TYPES[kind])


def res_of(raw: PulumiResource, reader: Reader, props: dict[str, Node], arm: ArmType) -> Res:
    """The ``Res`` of ``raw`` read through ``reader`` (its name, URN, kind and property dependencies),
    identified by its ARM id: shared by the azure-native and the classic collector."""
    reader.projected = _projected(props)
    res = Res(
        reader.urn,
        reader.kind,
        reader.name,
        props,
        raw.parent if isinstance(raw.parent, str) else "",
        _strs(raw.dependencies),
        reader.property_dependencies,
        reader,
        arm,
    )
    _identify(res)
    return res


def _known_str(node: Node) -> str | None:
    value = peel(node)
    return value if isinstance(value, str) and value else None


def _identify(res: Res) -> None:
    """Azure id, name and resource group from whatever the bag has (§3.0, §4.2)."""
    props = res.props
    text = _known_str(props.get("id"))
    if text is not None:
        parsed = parse_id(text)
        if (
            parsed is not None
            and parsed.complete
            and (not res.arm.segment or parsed.segment == res.arm.segment)
        ):
            res.arm_id, res.id = parsed, parsed.normalised()
    rg = _known_str(props.get("resourceGroupName"))
    if rg is None and res.arm_id is not None:
        rg = res.arm_id.resource_group
    res.rg = rg.lower() if rg else None
    name = _known_str(props.get(res.arm.name_prop)) or _known_str(props.get("name"))
    if name is None and res.arm_id is not None:
        name = res.arm_id.name
    res.azure_name = name.lower() if name else None


class Stack:
    """The index of one deployment and the reference resolver used by the builders."""

    def __init__(self, resources: Iterable[Res], problems: list[Problem]) -> None:
        self.problems = problems
        self.res: dict[str, Res] = {}
        self.by_kind: dict[str, list[Res]] = defaultdict(list)
        self.by_id: dict[str, Res] = {}
        self.by_name: dict[tuple[str, str], list[Res]] = defaultdict(list)
        # Same-named resources bucketed by resource group, and resources without a known name or id
        # by kind and resource group, so that a lookup reads only the resources that can match; a
        # copy of a network per resource group otherwise makes every lookup scan every copy.
        self._named_rg: dict[tuple[str, str], dict[str | None, list[Res]]] = defaultdict(dict)
        self._unnamed_rg: dict[str, dict[str | None, list[Res]]] = defaultdict(dict)
        self._order: dict[str, int] = {}
        for r in resources:
            if r.urn in self.res:
                r.reader.problem("(urn)", "the same URN appears twice; the second resource is ignored")
                continue
            self._order[r.urn] = len(self.res)
            self.res[r.urn] = r
            self.by_kind[r.kind].append(r)
            if r.id is not None:
                self.by_id.setdefault(r.id, r)
            if r.azure_name is not None:
                self.by_name[(r.kind, r.azure_name)].append(r)
                self._named_rg[(r.kind, r.azure_name)].setdefault(r.rg, []).append(r)
            elif r.id is None:
                self._unnamed_rg[r.kind].setdefault(r.rg, []).append(r)
        self.parents: dict[str, MaybeRef] = {}
        self._orphans: dict[tuple[str, str], list[Res]] = defaultdict(list)
        self._children: dict[tuple[str, str], list[Res]] = defaultdict(list)
        self._inline: dict[tuple[str, str], InlineList] = {}
        for r in self.res.values():
            if r.arm.parent is not None:
                parent, candidates = self._resolve_parent(r)
                self.parents[r.urn] = parent
                if isinstance(parent, str) and parent in self.res:
                    self._children[(parent, r.kind)].append(r)
                elif isinstance(parent, Unknown):
                    for candidate in candidates:
                        self._orphans[(candidate.urn, r.kind)].append(r)

    # --- lookups -----------------------------------------------------------------------------------

    def of_kind(self, *kinds: str) -> list[Res]:
        return [r for k in kinds for r in self.by_kind.get(k, ())]

    def children(self, parent_urn: str, kind: str) -> list[Res]:
        return self._children.get((parent_urn, kind), [])

    def orphans_of(self, parent_urn: str, kind: str) -> list[Res]:
        """Children of ``kind`` whose parent is unknown and may be ``parent_urn``."""
        return self._orphans.get((parent_urn, kind), [])

    def dep_candidates(self, r: Res, prop: str, kinds: tuple[str, ...]) -> list[Res]:
        """Resources of ``kinds`` that the top-level input ``prop`` depends on (§1.6).

        A producer that gives no property dependencies at all (an older export) falls back to the
        resource-level dependencies."""
        urns = r.pdeps.get(prop)
        if urns is None and not r.pdeps:
            urns = r.deps
        out: dict[str, Res] = {}
        for urn in urns or ():
            dep = self.res.get(urn)
            if dep is not None and dep.kind in kinds:
                out.setdefault(urn, dep)
        return list(out.values())

    def _in_rg(self, everyone: list[Res], buckets: dict[str | None, list[Res]], rg: str | None) -> list[Res]:
        """Those of ``everyone`` (bucketed by resource group in ``buckets``) that may be in ``rg``:
        a resource whose group is not known may be in any; in stack order, as a scan would give."""
        if rg is None:
            return list(everyone)
        anywhere = buckets.get(None, [])
        there = buckets.get(rg.lower(), [])
        if not anywhere or not there:
            return list(anywhere or there)
        return sorted((*anywhere, *there), key=lambda x: self._order[x.urn])

    def _named(self, kind: str, lname: str, rg: str | None) -> list[Res]:
        """Resources of ``kind`` named ``lname`` (lower-case) that may be in resource group ``rg``."""
        return self._in_rg(self.by_name.get((kind, lname), []), self._named_rg.get((kind, lname), {}), rg)

    # --- parents of standalone children ------------------------------------------------------------

    def _resolve_parent(self, r: Res) -> tuple[MaybeRef, list[Res]]:
        kind, prop = r.arm.parent, r.arm.parent_prop
        assert kind is not None and prop is not None
        cands = self.dep_candidates(r, prop, (kind,))
        if len(cands) == 1:
            return cands[0].urn, []
        node = r.props.get(prop)
        name = _known_str(node)
        if name is not None:
            lname = name.lower()
            matches = self._named(kind, lname, r.rg)
            if len(matches) == 1:
                return matches[0].urn, []
            shown = SECRET_PLACEHOLDER if isinstance(node, Secret) else name
            if matches:
                return Unknown(f"several {kind} resources are named {shown}"), matches
            unnamed = self._unnamed(kind, lname, r.rg)
            if unnamed:
                return (
                    Unknown(f"{kind} {shown} may be {_names(unnamed)}, whose Azure name is not known here"),
                    unnamed,
                )
            return self._outside_parent(r, kind, lname, isinstance(node, Secret)), []
        if r.arm_id is not None and len(r.arm_id.pairs) >= 2:
            found = self._match_id(r.arm_id.ancestor(len(r.arm_id.pairs) - 1), (kind,))
            if found is not None:
                return found, []
        parent = self.res.get(r.parent_urn)
        if parent is not None and parent.kind == kind:
            return parent.urn, []
        if len(cands) > 1:
            return Unknown(f"{prop} depends on several {kind} resources ({_names(cands)})"), cands
        return (
            Unknown(f"the {kind} of {r.kind} {r.name} cannot be determined: {prop} is not known here"),
            list(self.by_kind.get(kind, ())),
        )

    def _outside_parent(self, r: Res, kind: str, lname: str, secret: bool) -> MaybeRef:
        t = TYPES[kind]
        if t.parent is None and r.rg is not None and not secret:
            provider = "microsoft.compute" if t.module == "compute" else "microsoft.network"
            return f"/subscriptions/*/resourcegroups/{r.rg}/providers/{provider}/{t.segment}/{lname}"
        return Unknown(f"{kind} {SECRET_PLACEHOLDER if secret else lname} is not in the stack")

    def _match_id(self, parsed: ArmId, kinds: tuple[str, ...]) -> MaybeRef | None:
        """An in-stack resource for a parsed id, without Problems; ``None`` when nothing matches."""
        if parsed.complete:
            hit = self.by_id.get(parsed.normalised())
            if hit is not None and hit.kind in kinds:
                return hit.urn
        name = parsed.name
        if name is None:
            return None
        fitting = [k for k in kinds if TYPES[k].segment == parsed.segment]
        matches = [
            x
            for k in fitting
            for x in self._named(k, name.lower(), parsed.resource_group)
            if self._parent_ok(x, parsed)
        ]
        if len(matches) > 1:
            exact = [x for x in matches if x.rg is not None]
            matches = exact if len(exact) == 1 else matches
        if len(matches) == 1:
            return matches[0].urn
        if matches:
            return Unknown(f"several {fitting[0]} resources are named {name}: {_names(matches)}")
        return None

    def _unnamed(self, kind: str, lname: str, rg: str | None) -> list[Res]:
        """Resources of ``kind`` whose Azure name is not known here but may be ``lname``.

        A preview projection has no path parameters (§3.0), so a resource created in the same
        preview has no visible name. Pulumi names an unnamed resource after its logical name (plus
        a random suffix for top-level resources, §2.6), and a program that writes a literal id for
        its own resource usually gives it the same name; so only a resource whose logical name
        starts the referenced name is taken as a possible match. A name input that is set but
        unknown (computed from another output) or malformed may be any name."""
        buckets = self._unnamed_rg.get(kind, {})
        everyone = [x for bucket in buckets.values() for x in bucket] if rg is None else []
        if rg is None and len(buckets) > 1:
            everyone.sort(key=lambda x: self._order[x.urn])
        return [
            x
            for x in self._in_rg(everyone, buckets, rg)
            if lname.startswith(x.name.lower()) or x.arm.name_prop in x.props
        ]

    def _parent_ok(self, x: Res, parsed: ArmId) -> bool:
        if x.arm.parent is None or len(parsed.pairs) < 2:
            return True
        want = parsed.pairs[-2][1]
        parent = self.parents.get(x.urn)
        if want is None or not isinstance(parent, str) or parent not in self.res:
            return True
        have = self.res[parent].azure_name
        return have is None or have == want.lower()

    # --- references ----------------------------------------------------------------------------------

    def ref_field(
        self,
        r: Res,
        obj: Mapping[str, Node],
        key: str,
        path: str,
        kinds: tuple[str, ...],
        *,
        presence_only: bool = False,
    ) -> MaybeRef:
        """A ``{"id": …}`` reference at ``obj[key]`` (§3.0: references are SubResource objects).

        ``presence_only``: the model only asks whether the reference is set (a NAT gateway, an
        instance public IP, a gateway's default site). An object that is present with an id that
        cannot be resolved still proves it is set, so it gets a key of its own."""
        sub = r.reader.mapping(obj, key, path)
        if sub is None:
            return None
        if isinstance(sub, Unknown):
            # A whole reference object unknown at preview: only its dependencies can tell.
            return self._by_deps(r, path, kinds, sub.why) if obj.get(key) is UNK else sub
        node = sub.get("id")
        if node is None:
            return r.reader.problem(f"{path}.id", "required property is missing")
        ref = self.resolve(r, node, f"{path}.id", kinds)
        if presence_only and isinstance(ref, Unknown) and node is UNK:
            return f"{r.urn}#{path}"
        return ref

    def resolve(self, r: Res, node: Node, path: str, kinds: tuple[str, ...]) -> MaybeRef:
        """An id value (string, unknown or secret) → a model key."""
        if node is None or isinstance(node, Unknown):
            return node
        if node is UNK:
            return self._by_deps(r, path, kinds, "")
        value = peel(node)
        secret = isinstance(node, Secret)
        if not isinstance(value, str):
            return r.reader.problem(path, f"expected an ARM id string, got {type_name(node)}")
        if value in self.res and self.res[value].kind in kinds:
            return value  # §1.8: a resource reference whose id is unknown travels as its URN
        parsed = parse_id(value)
        if parsed is None:
            return r.reader.problem(path, "not an ARM resource id")
        fitting = [k for k in kinds if TYPES[k].segment == parsed.segment]
        if not fitting:
            return r.reader.problem(
                path, f"refers to a {parsed.segment} resource, expected {' or '.join(kinds)}"
            )
        if parsed.name is None:
            return self._by_deps(r, path, kinds, "")
        found = self._match_id(parsed, kinds)
        if found is not None:
            return found
        lname = parsed.name.lower()
        unnamed = [x for k in fitting for x in self._unnamed(k, lname, parsed.resource_group)]
        if unnamed:
            deps = [d for d in self.dep_candidates(r, top_of(path), kinds) if d in unnamed]
            if len(deps) == 1:
                return deps[0].urn
            shown = SECRET_PLACEHOLDER if secret else parsed.name
            return Unknown(
                f"{path} of {r.kind} {r.name} names {fitting[0]} {shown}, which may be {_names(unnamed)} "
                "(Azure name not known here)"
            )
        if secret:
            return Unknown(
                f"{path} of {r.kind} {r.name} is a secret id that matches no resource in the stack"
            )
        return parsed.normalised()

    def _by_deps(self, r: Res, path: str, kinds: tuple[str, ...], why: str) -> MaybeRef:
        cands = self.dep_candidates(r, top_of(path), kinds)
        if len(cands) == 1:
            return cands[0].urn
        if cands:
            return Unknown(f"{path} of {r.kind} {r.name} depends on several resources: {_names(cands)}")
        return Unknown(
            why
            or f"{path} of {r.kind} {r.name} is not known until deployment and depends on no "
            f"{' or '.join(kinds)} in the stack"
        )

    # --- subnets and backend pools (children that may be inline) ------------------------------------

    def inline(self, owner: Res, prop: str, child_kind: str | None) -> InlineList:
        """The inline items of ``owner.props[prop]`` minus read-backs of standalone children.

        After a deployment the owner's outputs list every child Azure knows, the standalone ones
        included (§3.3); such an item has a known id (or a known name) of a standalone child, and
        is that child, not an inline declaration."""
        cache_key = (owner.urn, prop)
        if cache_key in self._inline:
            return self._inline[cache_key]
        children = self.children(owner.urn, child_kind) if child_kind else []
        child_ids = {c.id for c in children if c.id}
        child_names = {c.azure_name for c in children if c.azure_name}
        raw = owner.reader.seq(owner.props, prop, prop)
        result = InlineList(None if raw is None else raw if isinstance(raw, Unknown) else [], children)
        if isinstance(raw, list):
            items: list[InlineItem] = []
            seen: set[str] = set()
            for i, node in enumerate(raw):
                path = f"{prop}[{i}]"
                name_node = node.get("name") if isinstance(node, dict) else None
                name = _known_str(name_node)
                if isinstance(node, dict):
                    item_id = _known_str(node.get("id"))
                    parsed = parse_id(item_id) if item_id else None
                    if parsed is not None and (
                        parsed.normalised() in child_ids or (name is not None and name.lower() in child_names)
                    ):
                        result.readback += 1
                        continue
                secret = isinstance(name_node, Secret)
                label = SECRET_PLACEHOLDER if secret else name or f"#{i}"
                suffix = name if name and not secret else f"[{i}]"
                key = f"{owner.urn}#{prop}/{suffix}"
                if key in seen:
                    owner.reader.problem(f"{path}.name", "the same name is used twice in the list")
                    key = f"{key}[{i}]"
                seen.add(key)
                items.append(InlineItem(i, node, key, name.lower() if name else None, label, path))
            result.items = items
        self._inline[cache_key] = result
        return result

    def subnet(self, r: Res, node: Node, path: str) -> MaybeRef:
        """A subnet id: ``…/virtualNetworks/<v>/subnets/<s>`` → inline or standalone subnet key."""
        if node is None or isinstance(node, Unknown):
            return node
        if node is UNK:
            return self._child_by_deps(r, path, "Subnet", "VirtualNetwork", "subnets")
        value = peel(node)
        secret = isinstance(node, Secret)
        if not isinstance(value, str):
            return r.reader.problem(path, f"expected an ARM id string, got {type_name(node)}")
        if value in self.res and self.res[value].kind == "Subnet":
            return value
        parsed = parse_id(value)
        if (
            parsed is None
            or len(parsed.pairs) < 2
            or parsed.pairs[-2][0] != "virtualnetworks"
            or parsed.segment != "subnets"
        ):
            return r.reader.problem(path, "not the ARM id of a subnet")
        return self._child_of(r, parsed, path, secret, "Subnet", "VirtualNetwork", "subnets")

    def pool(self, r: Res, node: Node, path: str) -> MaybeRef:
        """A load balancer backend pool id → inline or standalone pool key."""
        if node is None:
            return None
        if node is UNK or isinstance(node, Unknown):
            return self._child_by_deps(
                r, path, "LoadBalancerBackendAddressPool", "LoadBalancer", "backendAddressPools"
            )
        value = peel(node)
        secret = isinstance(node, Secret)
        if not isinstance(value, str):
            return r.reader.problem(path, f"expected an ARM id string, got {type_name(node)}")
        parsed = parse_id(value)
        if (
            parsed is None
            or len(parsed.pairs) < 2
            or parsed.pairs[-2][0] != "loadbalancers"
            or parsed.segment != "backendaddresspools"
        ):
            return r.reader.problem(path, "not the ARM id of a load balancer backend pool")
        return self._child_of(
            r, parsed, path, secret, "LoadBalancerBackendAddressPool", "LoadBalancer", "backendAddressPools"
        )

    def _child_of(
        self, r: Res, parsed: ArmId, path: str, secret: bool, kind: str, owner_kind: str, prop: str
    ) -> MaybeRef:
        if parsed.complete:
            hit = self.by_id.get(parsed.normalised())
            if hit is not None and hit.kind == kind:
                return hit.urn
        owner_id = parsed.ancestor(len(parsed.pairs) - 1)
        owner: MaybeRef | None
        if owner_id.name is None:
            cands = self.dep_candidates(r, top_of(path), (owner_kind, kind))
            owners = {c.urn if c.kind == owner_kind else self.parents.get(c.urn) for c in cands}
            owners.discard(None)
            owner = owners.pop() if len(owners) == 1 else None
            if owner is None:
                return Unknown(f"{path} of {r.kind} {r.name}: the {owner_kind} part of the id is not known")
        else:
            owner = self._match_id(owner_id, (owner_kind,))
            if owner is None:
                unnamed = self._unnamed(owner_kind, owner_id.name.lower(), owner_id.resource_group)
                deps = [d for d in self.dep_candidates(r, top_of(path), (owner_kind,)) if d in unnamed]
                if len(deps) == 1:
                    owner = deps[0].urn
                elif unnamed:
                    return Unknown(
                        f"{path} of {r.kind} {r.name} names {owner_kind} "
                        f"{SECRET_PLACEHOLDER if secret else owner_id.name}, which may be {_names(unnamed)} "
                        "(Azure name not known here)"
                    )
                elif secret:
                    return Unknown(
                        f"{path} of {r.kind} {r.name} is a secret id that matches no resource in the stack"
                    )
                else:
                    return parsed.normalised()  # the owner is outside the stack
        if not isinstance(owner, str):
            return owner
        if owner not in self.res:
            if secret:
                return Unknown(
                    f"{path} of {r.kind} {r.name} is a secret id that matches no resource in the stack"
                )
            return parsed.normalised()
        name = parsed.name
        if name is None:
            return self._only_child(r, owner, path, kind, prop)
        return self._named_child(r, owner, name.lower(), path, kind, prop, secret)

    def _named_child(
        self, r: Res, owner: str, lname: str, path: str, kind: str, prop: str, secret: bool
    ) -> MaybeRef:
        entry = self.inline(self.res[owner], prop, kind)
        if isinstance(entry.items, list):
            for item in entry.items:
                if item.lname == lname:
                    return item.key
        for child in entry.children:
            if child.azure_name == lname:
                return child.urn
        shown = SECRET_PLACEHOLDER if secret else lname
        owner_name = self.res[owner].name
        doubtful = (
            isinstance(entry.items, Unknown)
            or (isinstance(entry.items, list) and any(i.lname is None for i in entry.items))
            or any(c.azure_name is None for c in entry.children)
            or self.orphans_of(owner, kind)
        )
        if doubtful:
            return Unknown(
                f"{path} of {r.kind} {r.name}: {kind} {shown} of {owner_name} cannot be matched (names not known here)"
            )
        return Unknown(f"{path} of {r.kind} {r.name}: {owner_name} declares no {kind} {shown} in the stack")

    def _only_child(self, r: Res, owner: str, path: str, kind: str, prop: str) -> MaybeRef:
        entry = self.inline(self.res[owner], prop, kind)
        if isinstance(entry.items, Unknown):
            return Unknown(f"{path} of {r.kind} {r.name}: the {prop} of {self.res[owner].name} are not known")
        keys = [i.key for i in entry.items or ()] + [c.urn for c in entry.children]
        if len(keys) == 1 and not self.orphans_of(owner, kind):
            return keys[0]
        return Unknown(
            f"{path} of {r.kind} {r.name} is one of the {len(keys)} {prop} of {self.res[owner].name}"
        )

    def _child_by_deps(self, r: Res, path: str, kind: str, owner_kind: str, prop: str) -> MaybeRef:
        cands = self.dep_candidates(r, top_of(path), (kind, owner_kind))
        direct = [c for c in cands if c.kind == kind]
        if len(direct) == 1:
            return direct[0].urn
        if direct:
            return Unknown(
                f"{path} of {r.kind} {r.name} depends on several {kind} resources: {_names(direct)}"
            )
        owners = [c for c in cands if c.kind == owner_kind]
        if len(owners) == 1:
            return self._only_child(r, owners[0].urn, path, kind, prop)
        if owners:
            return Unknown(
                f"{path} of {r.kind} {r.name} depends on several {owner_kind} resources: {_names(owners)}"
            )
        return Unknown(
            f"{path} of {r.kind} {r.name} is not known until deployment and depends on no {kind} in the stack"
        )

    def owner_of(self, key: MaybeRef, owner_kind: str, child_kind: str) -> MaybeRef:
        """The VNet of a subnet key (or the load balancer of a pool key)."""
        if not isinstance(key, str):
            return key
        if "#" in key:
            return key.split("#", 1)[0]
        child = self.res.get(key)
        if child is not None:
            return self.parents.get(child.urn, Unknown(f"the {owner_kind} of {child.name} is unknown"))
        parsed = parse_id(key)
        if parsed is not None and len(parsed.pairs) >= 2:
            return parsed.ancestor(len(parsed.pairs) - 1).normalised()
        return Unknown(f"the {owner_kind} of {key} is unknown")


def _names(items: Iterable[Res]) -> str:
    return ", ".join(sorted(r.name for r in items))
