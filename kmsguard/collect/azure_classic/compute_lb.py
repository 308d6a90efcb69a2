"""Classic scale sets and load balancers (pulumi-azure 6.40.1) → the azure-native shapes, and the
classic load balancer children that azure-native keeps inline, applied to the built model.

Scale sets. ``WindowsVirtualMachineScaleSet``, ``LinuxVirtualMachineScaleSet`` and the legacy
``ScaleSet`` create Uniform scale sets; ``OrchestratedVirtualMachineScaleSet`` creates a Flexible one
(the provider creates it with ``orchestrationMode: Flexible``), which never gets default outbound
access (docs/rules.md#explicit-outbound); a classic VM that names it in ``virtualMachineScaleSetId``
is one of its VMs. Their inline ``networkInterfaces`` (``networkProfiles`` for
``ScaleSet``) become azure-native ``networkInterfaceConfigurations`` under ``virtualMachineProfile``,
so each is a NIC template with its own NIC-level verdict, exactly as azure-native's. The OS follows
azure-native's rules (§8.1): the Windows and Linux classes fix it; an orchestrated scale set tells it
by its ``osProfile`` block, else by image or licence; an OS that cannot be told counts as Windows.

Load balancers. ``LoadBalancer`` keeps its ``sku`` (absent means ``Standard``, the classic
provider's documented default, which the real provider's Check fills in and the offline one leaves
out) and its ``frontendIpConfigurations`` with
their public IP (or prefix) references. ``BackendAddressPool`` is azure-native's standalone
``LoadBalancerBackendAddressPool``, its load balancer named by the last segment of ``loadbalancerId``.

Children applied after the build (azure-native keeps them inline, classic declares them apart):
``OutboundRule`` adds its pool to its load balancer's outbound rules; ``BackendAddressPoolAddress``
marks its pool as configured by IP address (§5.1 known issue); a
``NetworkInterfaceBackendAddressPoolAssociation`` puts one NIC IP configuration in a pool. One whose
target cannot be determined makes that part unknown wherever it may apply, never ignored.

Unknown values. Classic preview outputs are the program's inputs (provider/azure_classic.py), so a
whole list or block that is unknown (computed with ``apply``) was given by the program: it becomes an
explicit ``Unknown`` in the bag, which the Reader keeps unknown (an azure-native projection would
read a nested unknown as "not set").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial

from kmsguard import protocol
from kmsguard.collect.azure_classic.translate import Bag, Renames, Translator, _base, _last_name, _rg_of
from kmsguard.collect.azure_native.collector import _guard
from kmsguard.collect.azure_native.stack import Res, Stack
from kmsguard.collect.azure_native.values import UNK, Node
from kmsguard.model import (
    IpConfiguration,
    Network,
    NetworkInterface,
    Problem,
    Unknown,
)
from kmsguard.model.network import MaybeRef

WINDOWS_VMSS = "azure:compute/windowsVirtualMachineScaleSet:WindowsVirtualMachineScaleSet"
LINUX_VMSS = "azure:compute/linuxVirtualMachineScaleSet:LinuxVirtualMachineScaleSet"
ORCHESTRATED_VMSS = "azure:compute/orchestratedVirtualMachineScaleSet:OrchestratedVirtualMachineScaleSet"
LEGACY_VMSS = "azure:compute/scaleSet:ScaleSet"
LB = "azure:lb/loadBalancer:LoadBalancer"
POOL = "azure:lb/backendAddressPool:BackendAddressPool"

# Association-like classic resources (collector: decoded as links, applied by ``apply``).
OUTBOUND_RULE = "LoadBalancerOutboundRule"
POOL_ADDRESS = "LoadBalancerBackendAddress"
NIC_POOL = "NetworkInterfaceBackendAddressPoolAssociation"

_PUBLIC_CLASSIC = frozenset(
    {"azure:network/publicIp:PublicIp", "azure:network/publicIpPrefix:PublicIpPrefix"}
)
_PUBLIC_NATIVE = frozenset({"PublicIPAddress", "PublicIPPrefix"})


def _set(node: Node) -> bool:
    """A value the program set: TF state keeps an unset optional string as ``""``."""
    return node is not None and node != ""


def _ref(node: Node) -> Node:
    return {"id": node}


def _given(node: Node, what: str, fn: Callable[[list[Node]], Node]) -> Node:
    """A nested list: converted; unknown as a whole → an explicit ``Unknown`` (module doc)."""
    if isinstance(node, list):
        return fn(node)
    if node is UNK:
        return Unknown(f"{what} is not known until deployment")
    return node  # malformed: left for the Reader to report


def _objects(items: list[Node], fn: Callable[[Mapping[str, Node]], Node]) -> list[Node]:
    return [fn(x) if isinstance(x, dict) else x for x in items]


def _id_objects(items: list[Node]) -> list[Node]:
    return [_ref(x) for x in items if _set(x)]


# --- scale sets --------------------------------------------------------------------------------------


def _unknown_ip_configuration(why: str, i: int) -> Bag:
    """An IP configuration the program computes whole: every part that decides egress is unknown."""
    return {
        "name": f"(unknown #{i})",
        "subnet": Unknown(why),
        "loadBalancerBackendAddressPools": Unknown(why),
        "applicationSecurityGroups": Unknown(why),
        "publicIPAddressConfiguration": Unknown(why),
    }


def _unknown_interface(why: str, i: int) -> Bag:
    """A NIC block the program computes whole. The scale set classes require at least one NIC with at
    least one IP configuration, so it is one NIC template whose subnet, pools and public IP are
    unknown: the analysis then counts it in every subnet it may be in (an unknown list of templates
    would place no NIC at all)."""
    return {
        "name": f"(unknown #{i})",
        "networkSecurityGroup": Unknown(why),
        "dnsSettings": Unknown(why),
        "ipConfigurations": [_unknown_ip_configuration(why, 0)],
    }


def _blocks(
    node: Node, what: str, fn: Callable[[Mapping[str, Node]], Node], unknown: Callable[[str, int], Bag]
) -> Node:
    """A list of blocks; the list or a block unknown as a whole → ``unknown`` stand-ins (see above)."""
    why = f"{what} is not known until deployment"
    if node is UNK:
        return [unknown(why, 0)]
    if not isinstance(node, list):
        return node  # malformed: left for the Reader to report
    return [fn(x) if isinstance(x, dict) else unknown(why, i) if x is UNK else x for i, x in enumerate(node)]


def _ip_configuration(c: Mapping[str, Node]) -> Node:
    out: Bag = {k: c[k] for k in ("name", "primary") if k in c}
    if _set(c.get("subnetId")):
        out["subnet"] = _ref(c["subnetId"])
    if c.get("loadBalancerBackendAddressPoolIds") is not None:
        out["loadBalancerBackendAddressPools"] = _given(
            c["loadBalancerBackendAddressPoolIds"], "loadBalancerBackendAddressPoolIds", _id_objects
        )
    if c.get("applicationSecurityGroupIds") is not None:
        out["applicationSecurityGroups"] = _given(
            c["applicationSecurityGroupIds"], "applicationSecurityGroupIds", _id_objects
        )
    # §5.1: a public IP block makes Azure give each instance a public IP (explicit outbound).
    public = c.get("publicIpAddresses")  # Windows, Linux and orchestrated: a list of blocks
    if public is UNK:
        out["publicIPAddressConfiguration"] = Unknown("publicIpAddresses is not known until deployment")
    elif isinstance(public, list) and public:
        # Any block (even one computed whole) gives each instance a public IP; a block that is not
        # one (null, a string) is handed on as it is, for the reader to report.
        first = next((x for x in public if x is not UNK and not isinstance(x, dict)), public[0])
        out["publicIPAddressConfiguration"] = (
            {"name": first.get("name")} if isinstance(first, dict) else first
        )
    elif public is not None and not isinstance(public, list):
        # Not a list of blocks: one block is read as one, anything else is reported by the reader.
        out["publicIPAddressConfiguration"] = public
    legacy = c.get("publicIpAddressConfiguration")  # ScaleSet: one block
    if legacy is UNK:
        out["publicIPAddressConfiguration"] = Unknown(
            "publicIpAddressConfiguration is not known until deployment"
        )
    elif isinstance(legacy, dict):
        out["publicIPAddressConfiguration"] = {"name": legacy.get("name")}
    return out


def _interface(c: Mapping[str, Node]) -> Node:
    out: Bag = {k: c[k] for k in ("name", "primary") if k in c}
    if _set(c.get("networkSecurityGroupId")):
        out["networkSecurityGroup"] = _ref(c["networkSecurityGroupId"])
    # Windows, Linux and orchestrated: dnsServers; ScaleSet: a dnsSettings block with dnsServers.
    dns = c.get("dnsSettings")
    servers = dns.get("dnsServers") if isinstance(dns, dict) else UNK if dns is UNK else c.get("dnsServers")
    if servers is UNK:  # a custom server not known may answer anything (docs/rules.md#custom-dns)
        out["dnsSettings"] = Unknown("the NIC's DNS servers are not known until deployment")
    elif servers is not None:
        out["dnsSettings"] = {"dnsServers": servers}
    if "ipConfigurations" in c:
        out["ipConfigurations"] = _blocks(
            c["ipConfigurations"], "ipConfigurations", _ip_configuration, _unknown_ip_configuration
        )
    return out


def _image(ref: Node, image_id: Node) -> Node:
    if _set(image_id):
        return {"id": image_id}
    if isinstance(ref, dict):
        return {k: ref[k] for k in ("publisher", "offer", "sku", "id") if _set(ref.get(k))}
    return None


def _scale_set(
    p: Bag, mode: str, os_type: Node, os_profile: Bag | None, interfaces: str, image: Node
) -> tuple[Bag, Renames]:
    out = _base(p)
    out["orchestrationMode"] = mode
    profile: Bag = {}
    storage: Bag = {}
    if os_type is not None:
        storage["osDisk"] = {"osType": os_type}
    if image is not None:
        storage["imageReference"] = image
    if storage:
        profile["storageProfile"] = storage
    if os_profile:
        profile["osProfile"] = os_profile
    if "licenseType" in p:
        profile["licenseType"] = p["licenseType"]
    if p.get(interfaces) is not None:
        profile["networkProfile"] = {
            "networkInterfaceConfigurations": _blocks(
                p[interfaces], interfaces, _interface, _unknown_interface
            )
        }
    out["virtualMachineProfile"] = profile
    moved = (interfaces, "licenseType", "sourceImageReference", "sourceImageId", "osProfile",
             "osProfileWindowsConfig", "osProfileLinuxConfig", "storageProfileOsDisk",
             "storageProfileImageReference")  # fmt: skip
    return out, dict.fromkeys(moved, "virtualMachineProfile")


def windows_scale_set(p: Bag) -> tuple[Bag, Renames]:
    image = _image(p.get("sourceImageReference"), p.get("sourceImageId"))
    return _scale_set(p, "Uniform", "Windows", None, "networkInterfaces", image)


def linux_scale_set(p: Bag) -> tuple[Bag, Renames]:
    image = _image(p.get("sourceImageReference"), p.get("sourceImageId"))
    return _scale_set(p, "Uniform", "Linux", None, "networkInterfaces", image)


def _os_blocks(windows: Node, linux: Node) -> Bag | None:
    """The OS configuration blocks azure-native reads the OS from (an unset block is null or [])."""
    if isinstance(windows, dict):
        return {"windowsConfiguration": {}}
    if isinstance(linux, dict):
        return {"linuxConfiguration": {}}
    return None


def orchestrated_scale_set(p: Bag) -> tuple[Bag, Renames]:
    osp = p.get("osProfile")
    blocks = (
        _os_blocks(osp.get("windowsConfiguration"), osp.get("linuxConfiguration"))
        if isinstance(osp, dict)
        else None
    )
    image = _image(p.get("sourceImageReference"), p.get("sourceImageId"))
    return _scale_set(p, "Flexible", None, blocks, "networkInterfaces", image)


def legacy_scale_set(p: Bag) -> tuple[Bag, Renames]:
    disk = p.get("storageProfileOsDisk")
    os_type = disk.get("osType") if isinstance(disk, dict) and _set(disk.get("osType")) else None
    blocks = _os_blocks(p.get("osProfileWindowsConfig"), p.get("osProfileLinuxConfig"))
    image = _image(p.get("storageProfileImageReference"), None)
    return _scale_set(p, "Uniform", os_type, blocks, "networkProfiles", image)


# --- load balancers ----------------------------------------------------------------------------------


def _frontend(c: Mapping[str, Node]) -> Node:
    out: Bag = {k: c[k] for k in ("id", "name") if k in c}
    for src, dst in (
        ("publicIpAddressId", "publicIPAddress"),
        ("publicIpPrefixId", "publicIPPrefix"),
        ("subnetId", "subnet"),
    ):
        if _set(c.get(src)):
            out[dst] = _ref(c[src])
    if "privateIpAddress" in c:
        out["privateIPAddress"] = c["privateIpAddress"]
    return out


def load_balancer(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    sku = p.get("sku")
    out["sku"] = {"name": sku if _set(sku) else "Standard"}
    if p.get("frontendIpConfigurations") is not None:
        out["frontendIPConfigurations"] = _given(
            p["frontendIpConfigurations"], "frontendIpConfigurations", lambda xs: _objects(xs, _frontend)
        )
    # The top-level publicIpAddressId/subnetId/privateIpAddress are outputs that mirror the frontends.
    return out, {"frontendIpConfigurations": "frontendIPConfigurations"}


def backend_pool(p: Bag) -> tuple[Bag, Renames]:
    out = _base(p)
    if "name" in p:
        out["backendAddressPoolName"] = p["name"]
    # The load balancer is named by id: the azure-native builder finds the parent through
    # ``loadBalancerName`` (property dependencies, then the name in the id).
    lb = p.get("loadbalancerId")
    out["loadBalancerName"] = _last_name(lb)
    if "resourceGroupName" not in out:
        rg = _rg_of(lb)
        if rg is not None:
            out["resourceGroupName"] = rg
    return out, {"loadbalancerId": "loadBalancerName"}


TRANSLATORS: dict[str, Translator] = {
    WINDOWS_VMSS: windows_scale_set,
    LINUX_VMSS: linux_scale_set,
    ORCHESTRATED_VMSS: orchestrated_scale_set,
    LEGACY_VMSS: legacy_scale_set,
    LB: load_balancer,
    POOL: backend_pool,
}


# --- children applied to the built model ------------------------------------------------------------


def _is_public_ip(token: str) -> bool:
    # azure-native tokens may carry an API version: azure-native:network/v20240301:PublicIPAddress
    if token.startswith("azure-native:network"):
        return token.rsplit(":", 1)[-1] in _PUBLIC_NATIVE
    return token in _PUBLIC_CLASSIC


def _token_of(urn: str) -> str:
    return protocol.urn_type(urn)


class _Apply:
    def __init__(self, stack: Stack, network: Network, problems: list[Problem]) -> None:
        self.stack = stack
        self.problems = problems
        self.lbs = dict(network.load_balancers)
        self.nics = dict(network.nics)
        self.vms = dict(network.vms)
        self.vm_subnets = dict(network.vm_subnets)
        self.network = network

    def run(self, links: Sequence[Res]) -> Network:
        for r in self.stack.of_kind("LoadBalancer"):
            if _token_of(r.urn) == LB:
                _guard(self.problems, r.name, r.urn, partial(self._public_by_deps, r))
        for link in links:
            fn = {OUTBOUND_RULE: self._outbound, POOL_ADDRESS: self._address, NIC_POOL: self._nic_pool}.get(
                link.kind
            )
            if fn is not None:
                _guard(self.problems, link.name, link.urn, partial(fn, link))
        for r in self.stack.of_kind("VirtualMachine"):
            if _set(r.props.get("virtualMachineScaleSetId")):
                _guard(self.problems, r.name, r.urn, partial(self._member, r))
        return replace(
            self.network, load_balancers=self.lbs, nics=self.nics, vms=self.vms, vm_subnets=self.vm_subnets
        )

    def _member(self, r: Res) -> None:
        """A classic VM that joins a Flexible scale set (``virtualMachineScaleSetId``) gets no default
        outbound access either (docs/rules.md#explicit-outbound): its NICs become the scale set's, as
        azure-native's scale set NIC templates are, so the analysis judges them as Flexible."""
        vm = self.vms.get(r.urn)
        ref = self.stack.resolve(r, r.props["virtualMachineScaleSetId"], "virtualMachineScaleSetId",
                                 ("VirtualMachineScaleSet",))  # fmt: skip
        owner = self.vms.get(ref) if isinstance(ref, str) else None
        if vm is None:
            return
        if owner is None or isinstance(vm.nics, Unknown) or isinstance(owner.nics, Unknown):
            # A scale set outside the stack or not told apart is still one: a VM joins only an
            # orchestrated (Flexible) scale set (pulumi-azure virtualMachineScaleSetId), so the VM
            # itself is judged as a Flexible member, never as a plain VM with default outbound.
            self.vms[r.urn] = replace(vm, scale_set=True, orchestration_mode="Flexible")
            return
        assert isinstance(ref, str)
        self.vms[ref] = replace(owner, nics=tuple(dict.fromkeys((*owner.nics, *vm.nics))))
        placed: list[str] = []
        for key in vm.nics:
            nic = self.nics.get(key) if isinstance(key, str) else None
            if nic is not None and not isinstance(nic.ip_configurations, Unknown):
                placed.extend(c.subnet for c in nic.ip_configurations if isinstance(c.subnet, str))
        if placed:
            self.vm_subnets[ref] = tuple(dict.fromkeys((*self.vm_subnets.get(ref, ()), *placed)))

    def _public_by_deps(self, r: Res) -> None:
        """A frontend public IP id unknown at preview counts only when it comes from a public IP.

        The classic provider computes an unset frontend ``publicIpAddressId`` (Optional+Computed), so a
        real provider's preview shows it unknown on an internal load balancer too; only the property
        dependencies tell a public IP the program gave from a value the provider will fill."""
        lb = self.lbs.get(r.urn)
        frontends = r.props.get("frontendIPConfigurations")
        if lb is None or lb.public is not True or not isinstance(frontends, list):
            return
        known = unknown = False
        for fe in frontends:
            for key in ("publicIPAddress", "publicIPPrefix"):
                ref = fe.get(key) if isinstance(fe, dict) else None
                if isinstance(ref, dict):
                    if ref.get("id") is UNK:
                        unknown = True
                    else:
                        known = True
        if known or not unknown:
            return
        deps = r.pdeps.get("frontendIPConfigurations", ())
        if any(_is_public_ip(_token_of(u)) for u in deps):
            return
        why = f"whether load balancer {r.name} has a public frontend is not known until deployment"
        self.lbs[r.urn] = replace(lb, public=Unknown(why))

    def _required(self, link: Res, prop: str, ref: MaybeRef) -> str | Unknown:
        return link.reader.problem(prop, "required property is missing") if ref is None else ref

    def _pool(self, link: Res) -> str | Unknown:
        p = link.props
        return self._required(
            link,
            "backendAddressPoolId",
            self.stack.pool(link, p.get("backendAddressPoolId"), "backendAddressPoolId"),
        )

    def _outbound(self, link: Res) -> None:
        """An outbound rule gives SNAT to the pool it names, on its load balancer (§5.1)."""
        p = link.props
        pool = self._pool(link)
        lb = self._required(
            link,
            "loadbalancerId",
            self.stack.resolve(link, p.get("loadbalancerId"), "loadbalancerId", ("LoadBalancer",)),
        )
        if not isinstance(lb, str) and isinstance(pool, str):
            # Azure requires the rule's pool to be one of its load balancer's.
            owner = self.stack.owner_of(pool, "LoadBalancer", "LoadBalancerBackendAddressPool")
            lb = lb if owner is None else owner
        if isinstance(lb, str):
            current = self.lbs.get(lb)
            if current is None or isinstance(current.outbound_rule_pools, Unknown):
                return  # a load balancer outside the stack, or rules already unknown
            if isinstance(pool, Unknown):
                rules: tuple[MaybeRef, ...] | Unknown = Unknown(
                    f"outbound rule {link.name} of load balancer {current.origin.name} names a backend pool "
                    f"not known here ({pool.why})"
                )
            else:
                rules = (*current.outbound_rule_pools, pool)
            self.lbs[lb] = replace(current, outbound_rule_pools=rules)
            return
        why = Unknown(f"outbound rule {link.name} belongs to a load balancer not known here ({lb.why})")
        for key, current in self.lbs.items():
            self.lbs[key] = replace(current, outbound_rule_pools=why)

    def _address(self, link: Res) -> None:
        """A pool address by IP: the known issue that keeps default outbound access (§5.1)."""
        p = link.props
        if not _set(p.get("ipAddress")):
            return  # a global load balancer's pool member by frontend (backendAddressIpConfigurationId)
        pool = self._pool(link)
        for key, current in self.lbs.items():
            pools = current.backend_pools
            if isinstance(pools, Unknown):
                continue
            if isinstance(pool, str):
                changed = tuple(replace(x, by_ip_address=True) if x.key == pool else x for x in pools)
            else:
                why = Unknown(f"backend pool address {link.name} is in a pool not known here ({pool.why})")
                changed = tuple(
                    x if x.by_ip_address is True else replace(x, by_ip_address=why) for x in pools
                )
            self.lbs[key] = replace(current, backend_pools=changed)

    def _nic_pool(self, link: Res) -> None:
        """One IP configuration of a NIC joins a backend pool (azure-native: the ipconfig's pools)."""
        p = link.props
        pool = self._pool(link)
        target = self._required(
            link,
            "networkInterfaceId",
            self.stack.resolve(
                link, p.get("networkInterfaceId"), "networkInterfaceId", ("NetworkInterface",)
            ),
        )
        name = link.reader.text(p, "ipConfigurationName", "ipConfigurationName", "required")
        if isinstance(target, str):
            nic = self.nics.get(target)
            if nic is None or isinstance(nic.ip_configurations, Unknown):
                return  # a NIC outside the stack, or one whose configurations are unknown anyway
            if isinstance(name, str) and not any(c.name == name for c in nic.ip_configurations):
                name = link.reader.problem(
                    "ipConfigurationName", f"NIC {nic.origin.name} has no such IP configuration"
                )
            self.nics[target] = self._joined(nic, name, pool, link)
            return
        # The NIC cannot be determined: every NIC resource may be it (templates are never targets).
        for key, nic in list(self.nics.items()):
            if "#" not in key and not isinstance(nic.ip_configurations, Unknown):
                self.nics[key] = self._joined(nic, Unknown(target.why), pool, link)

    def _joined(
        self, nic: NetworkInterface, name: str | Unknown | None, pool: MaybeRef, link: Res
    ) -> NetworkInterface:
        assert not isinstance(nic.ip_configurations, Unknown)
        out: list[IpConfiguration] = []
        for c in nic.ip_configurations:
            pools = c.backend_pools
            if isinstance(pools, Unknown) or (isinstance(name, str) and c.name != name):
                out.append(c)
            elif isinstance(name, str):
                out.append(replace(c, backend_pools=(*pools, pool)))
            else:
                why = f"{link.kind} {link.name} may put this IP configuration in a backend pool"
                out.append(replace(c, backend_pools=Unknown(why)))
        return replace(nic, ip_configurations=tuple(out))


def apply(stack: Stack, network: Network, links: Sequence[Res], problems: list[Problem]) -> Network:
    """The classic load balancer children (module doc) applied to the model built without them."""
    return _Apply(stack, network, problems).run(links)


__all__ = ["TRANSLATORS", "apply"]
