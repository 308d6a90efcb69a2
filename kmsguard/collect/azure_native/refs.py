"""Reference helpers shared by the builders: lists of references, subnets, appliances."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kmsguard.collect.azure_native.stack import Res, Stack
from kmsguard.collect.azure_native.values import UNK, Node, top_of
from kmsguard.model import Unknown
from kmsguard.model.network import MaybeRef

# Resources whose outputs can be a route's next-hop IP: an Azure Firewall, or something that is not
# one (an NVA's NIC or VM, an internal load balancer, a gateway). §3.5: only the firewall is seen.
APPLIANCE_KINDS = (
    "AzureFirewall",
    "NetworkInterface",
    "LoadBalancer",
    "VirtualMachine",
    "VirtualMachineScaleSet",
    "VirtualHub",
    "VirtualNetworkGateway",
)


def ref_list(
    stack: Stack,
    r: Res,
    obj: Mapping[str, Node],
    key: str,
    path: str,
    kinds: tuple[str, ...],
    *,
    id_objects: bool = True,
    resolve: Callable[[Res, Node, str], MaybeRef] | None = None,
) -> tuple[MaybeRef, ...] | Unknown:
    """A list of references (``[{"id": …}]``, or plain id strings when ``id_objects`` is false).

    Unknown ids are resolved through property dependencies (§1.6). The list order does not matter
    to the model, so when as many resources of the right kind as unknown items are left among the
    dependencies, each unknown item is one of them (a VM with two NICs whose ids are unknown and
    whose networkProfile depends on exactly two NICs has those two)."""
    rd = r.reader
    items = rd.seq(obj, key, path)
    if items is None:
        return ()
    if isinstance(items, Unknown):
        return items
    one = resolve or (lambda res, node, p: stack.resolve(res, node, p, kinds))
    out: list[MaybeRef] = []
    pending: list[tuple[int, str]] = []
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]"
        node: Node = item
        if id_objects and item is not UNK:
            sub = rd.to_dict(item, item_path)
            if isinstance(sub, Unknown):
                out.append(sub)
                continue
            item_path = f"{item_path}.id"
            node = sub.get("id")
            if node is None:
                out.append(rd.problem(item_path, "required property is missing"))
                continue
        if node is UNK:
            pending.append((len(out), item_path))
            out.append(None)
        else:
            out.append(one(r, node, item_path))
    if pending and resolve is None:
        known = {k for k in out if isinstance(k, str)}
        cands = [c.urn for c in stack.dep_candidates(r, top_of(path), kinds) if c.urn not in known]
        if len(cands) == len(pending):
            for (pos, _), urn in zip(pending, cands, strict=True):
                out[pos] = urn
            pending = []
    for pos, item_path in pending:
        out[pos] = one(r, UNK, item_path)
    return tuple(out)


def subnet_field(stack: Stack, r: Res, obj: Mapping[str, Node], path: str, key: str = "subnet") -> MaybeRef:
    """``obj[key]`` (``{"id": …}``) → a subnet key."""
    rd = r.reader
    sub = rd.mapping(obj, key, path)
    if sub is None:
        return None
    if isinstance(sub, Unknown):
        return stack.subnet(r, UNK, path) if obj.get(key) is UNK else sub
    node = sub.get("id")
    if node is None:
        return rd.problem(f"{path}.id", "required property is missing")
    return stack.subnet(r, node, f"{path}.id")


def vnet_of(stack: Stack, r: Res, subnet: MaybeRef, path: str) -> MaybeRef:
    """The VNet a subnet reference places a resource in.

    When the subnet itself cannot be told apart (the id is unknown and the property depends on a
    VNet with several subnets), the VNet is still known from the dependency."""
    if isinstance(subnet, str):
        return stack.owner_of(subnet, "VirtualNetwork", "Subnet")
    if subnet is None:
        return None
    cands = stack.dep_candidates(r, top_of(path), ("VirtualNetwork", "Subnet"))
    vnets = {c.urn if c.kind == "VirtualNetwork" else stack.parents.get(c.urn) for c in cands}
    vnets.discard(None)
    if len(vnets) == 1:
        return vnets.pop()
    return subnet


def appliance_by_deps(stack: Stack, r: Res, path: str) -> MaybeRef:
    """The Azure Firewall a next-hop IP unknown at preview comes from (brief: the IP of a firewall
    created in the same preview is an output, so only the dependency tells who owns it)."""
    cands = stack.dep_candidates(r, top_of(path), APPLIANCE_KINDS)
    firewalls = [c for c in cands if c.kind == "AzureFirewall"]
    if len(firewalls) == 1 and len(cands) == 1:
        return firewalls[0].urn
    if firewalls:
        names = ", ".join(sorted(c.name for c in cands))
        return Unknown(
            f"{path} of {r.kind} {r.name} depends on {names}; which of them provides the IP is not known"
        )
    return None
