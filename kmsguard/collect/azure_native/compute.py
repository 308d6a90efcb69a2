"""NICs, VMs, scale sets, load balancers and NAT gateways.

A VM's or scale set's ``networkInterfaceConfigurations`` are NIC templates: Azure creates one NIC
per VM from each (pulumi-mechanics §3.1). They become ``NetworkInterface`` objects keyed
``<urn>#networkInterfaceConfigurations/<name>`` so the analysis sees their NSG, DNS servers,
public IP configuration and load balancer pools exactly as for a standalone NIC, and a scale set's
subnets also go to ``Network.vm_subnets`` (model: scale sets place VMs in subnets directly).
"""

from __future__ import annotations

from collections.abc import Mapping

from kmsguard.collect.azure_native.refs import ref_list, subnet_field, vnet_of
from kmsguard.collect.azure_native.stack import Res, Stack
from kmsguard.collect.azure_native.values import SECRET_PLACEHOLDER, Node, Reader
from kmsguard.model import (
    BackendPool,
    ImageReference,
    IpConfiguration,
    LoadBalancer,
    NatGateway,
    NetworkInterface,
    Origin,
    Unknown,
    VirtualMachine,
)
from kmsguard.model.network import MaybeBool, MaybeRef, MaybeStr, Strs

POOL = ("LoadBalancerBackendAddressPool", "LoadBalancer")
ASG = ("ApplicationSecurityGroup",)

# §8.1: marketplace publishers/offers that tell the OS when osType is not given.
WINDOWS_PUBLISHERS = frozenset(
    {
        "microsoftwindowsserver",
        "microsoftwindowsdesktop",
        "microsoftvisualstudio",
        "microsoftwindowsserverhpcpack",
    }
)
LINUX_PUBLISHERS = frozenset(
    {
        "canonical",
        "redhat",
        "suse",
        "debian",
        "openlogic",
        "almalinux",
        "kinvolk",
        "microsoftcblmariner",
        "resf",
    }
)


def _dns_servers(r: Res, obj: Mapping[str, Node], path: str) -> Strs | None:
    rd = r.reader
    dns = rd.mapping(obj, "dnsSettings", path)
    if dns is None or isinstance(dns, Unknown):
        return dns
    return rd.strs(dns, "dnsServers", f"{path}.dnsServers")


def _pools(stack: Stack, r: Res, obj: Mapping[str, Node], path: str) -> tuple[MaybeRef, ...] | Unknown:
    return ref_list(stack, r, obj, "loadBalancerBackendAddressPools", path, POOL, resolve=stack.pool)


def _ip_configurations(
    stack: Stack, r: Res, obj: Mapping[str, Node], prefix: str, owner_key: str, template: bool
) -> tuple[IpConfiguration, ...] | Unknown:
    rd = r.reader
    items = rd.seq(obj, "ipConfigurations", f"{prefix}ipConfigurations")
    if items is None:
        return ()
    if isinstance(items, Unknown):
        return items
    out: list[IpConfiguration] = []
    for i, item in enumerate(items):
        path = f"{prefix}ipConfigurations[{i}]"
        ipc = rd.to_dict(item, path)
        if isinstance(ipc, Unknown):
            return ipc
        name = rd.label(ipc, "name", f"{path}.name", f"#{i}")
        public: MaybeRef
        if template:
            # A publicIPAddressConfiguration makes Azure create an instance public IP per VM (§5.1).
            config = rd.mapping(ipc, "publicIPAddressConfiguration", f"{path}.publicIPAddressConfiguration")
            public = (
                config if not isinstance(config, dict) else f"{owner_key}#ipConfigurations/{name}/publicIP"
            )
        else:
            public = stack.ref_field(
                r, ipc, "publicIPAddress", f"{path}.publicIPAddress", ("PublicIPAddress",), presence_only=True
            )
        subnet = subnet_field(stack, r, ipc, f"{path}.subnet")
        out.append(
            IpConfiguration(
                name=name,
                subnet=subnet,
                vnet=None if isinstance(subnet, str) else vnet_of(stack, r, subnet, f"{path}.subnet"),
                private_ip=None
                if template
                else rd.text(ipc, "privateIPAddress", f"{path}.privateIPAddress", "leaf"),
                public_ip=public,
                backend_pools=_pools(stack, r, ipc, f"{path}.loadBalancerBackendAddressPools"),
                asgs=ref_list(
                    stack, r, ipc, "applicationSecurityGroups", f"{path}.applicationSecurityGroups", ASG
                ),
                primary=rd.flag(ipc, "primary", f"{path}.primary"),
            )
        )
    return tuple(out)


def nic(stack: Stack, r: Res) -> NetworkInterface:
    p = r.props
    return NetworkInterface(
        key=r.urn,
        origin=r.origin,
        ip_configurations=_ip_configurations(stack, r, p, "", r.urn, template=False),
        nsg=stack.ref_field(r, p, "networkSecurityGroup", "networkSecurityGroup", ("NetworkSecurityGroup",)),
        dns_servers=_dns_servers(r, p, "dnsSettings"),
    )


def _templates(
    stack: Stack, r: Res, network: Mapping[str, Node], prefix: str
) -> list[NetworkInterface] | Unknown:
    rd = r.reader
    items = rd.seq(network, "networkInterfaceConfigurations", f"{prefix}networkInterfaceConfigurations")
    if items is None:
        return []
    if isinstance(items, Unknown):
        return items
    out: list[NetworkInterface] = []
    for i, item in enumerate(items):
        path = f"{prefix}networkInterfaceConfigurations[{i}]"
        cfg = rd.to_dict(item, path)
        if isinstance(cfg, Unknown):
            return cfg
        label = rd.label(cfg, "name", f"{path}.name", f"#{i}")
        suffix = label if label != SECRET_PLACEHOLDER and not label.startswith("#") else f"[{i}]"
        key = f"{r.urn}#networkInterfaceConfigurations/{suffix}"
        out.append(
            NetworkInterface(
                key=key,
                origin=Origin(f"{r.name}/{label}", r.urn, "NetworkInterfaceConfiguration"),
                ip_configurations=_ip_configurations(stack, r, cfg, f"{path}.", key, template=True),
                nsg=stack.ref_field(
                    r, cfg, "networkSecurityGroup", f"{path}.networkSecurityGroup", ("NetworkSecurityGroup",)
                ),
                dns_servers=_dns_servers(r, cfg, f"{path}.dnsSettings"),
            )
        )
    return out


def _os(
    rd: Reader, profile: Mapping[str, Node], prefix: str
) -> tuple[MaybeStr, ImageReference | Unknown | None]:
    """OS type: osDisk.osType, else the OS configuration block, else licence or image (§8.1)."""
    storage = rd.mapping(profile, "storageProfile", f"{prefix}storageProfile")
    os_type: MaybeStr = None
    image: ImageReference | Unknown | None = None
    if isinstance(storage, Unknown):
        os_type = image = storage
    elif storage is not None:
        disk = rd.mapping(storage, "osDisk", f"{prefix}storageProfile.osDisk")
        os_type = disk if isinstance(disk, Unknown) else None
        if isinstance(disk, dict):
            os_type = rd.text(disk, "osType", f"{prefix}storageProfile.osDisk.osType")
        ref = rd.mapping(storage, "imageReference", f"{prefix}storageProfile.imageReference")
        if isinstance(ref, dict):
            ipath = f"{prefix}storageProfile.imageReference"
            image_id = rd.text(ref, "id", f"{ipath}.id")
            for key in ("sharedGalleryImageId", "communityGalleryImageId"):
                image_id = image_id or rd.text(ref, key, f"{ipath}.{key}")
            image = ImageReference(
                rd.text(ref, "publisher", f"{ipath}.publisher"),
                rd.text(ref, "offer", f"{ipath}.offer"),
                rd.text(ref, "sku", f"{ipath}.sku"),
                image_id,
            )
        else:
            image = ref
    if isinstance(os_type, str):
        return os_type, image
    guess = _os_from_profile(rd, profile, prefix) or _os_from_image(rd, profile, prefix, image)
    return (guess or os_type), image


def _os_from_profile(rd: Reader, profile: Mapping[str, Node], prefix: str) -> str | None:
    osp = rd.mapping(profile, "osProfile", f"{prefix}osProfile")
    if not isinstance(osp, dict):
        return None
    if isinstance(rd.mapping(osp, "windowsConfiguration", f"{prefix}osProfile.windowsConfiguration"), dict):
        return "Windows"
    if isinstance(rd.mapping(osp, "linuxConfiguration", f"{prefix}osProfile.linuxConfiguration"), dict):
        return "Linux"
    return None


def _os_from_image(
    rd: Reader, profile: Mapping[str, Node], prefix: str, image: ImageReference | Unknown | None
) -> str | None:
    licence = rd.text(profile, "licenseType", f"{prefix}licenseType")
    if isinstance(licence, str) and licence.lower().startswith("windows"):
        return "Windows"
    if isinstance(licence, str) and licence.lower().startswith(("rhel", "sles", "ubuntu")):
        return "Linux"
    if not isinstance(image, ImageReference):
        return None
    publisher = image.publisher.lower() if isinstance(image.publisher, str) else ""
    offer = image.offer.lower() if isinstance(image.offer, str) else ""
    if publisher in WINDOWS_PUBLISHERS or "windows" in offer:
        return "Windows"
    if publisher in LINUX_PUBLISHERS or any(
        w in offer for w in ("ubuntu", "rhel", "sles", "debian", "centos", "linux")
    ):
        return "Linux"
    return None


def vm(stack: Stack, r: Res) -> tuple[VirtualMachine, list[NetworkInterface]]:
    rd = r.reader
    p = r.props
    os_type, image = _os(rd, p, "")
    network = rd.mapping(p, "networkProfile", "networkProfile")
    nics: tuple[MaybeRef, ...] | Unknown = ()
    templates: list[NetworkInterface] = []
    if isinstance(network, Unknown):
        nics = network
    elif network is not None:
        nics = ref_list(
            stack, r, network, "networkInterfaces", "networkProfile.networkInterfaces", ("NetworkInterface",)
        )
        found = _templates(stack, r, network, "networkProfile.")
        if isinstance(found, Unknown):
            nics = found
        else:
            templates = found
            if not isinstance(nics, Unknown):
                nics = (*nics, *(t.key for t in found))
    return VirtualMachine(r.urn, r.origin, os_type, nics, image), templates


def scale_set(stack: Stack, r: Res) -> tuple[VirtualMachine, list[NetworkInterface], tuple[str, ...]]:
    rd = r.reader
    p = r.props
    mode = rd.text(p, "orchestrationMode", "orchestrationMode")
    profile = rd.mapping(p, "virtualMachineProfile", "virtualMachineProfile")
    if not isinstance(profile, dict):
        # Flexible scale sets may have no profile: their VMs are separate VirtualMachine resources.
        return VirtualMachine(r.urn, r.origin, profile, (), None, True, mode), [], ()
    os_type, image = _os(rd, profile, "virtualMachineProfile.")
    network = rd.mapping(profile, "networkProfile", "virtualMachineProfile.networkProfile")
    templates: list[NetworkInterface] | Unknown = []
    if isinstance(network, Unknown):
        templates = network
    elif network is not None:
        templates = _templates(stack, r, network, "virtualMachineProfile.networkProfile.")
    if isinstance(templates, Unknown):
        return VirtualMachine(r.urn, r.origin, os_type, templates, image, True, mode), [], ()
    subnets = tuple(
        dict.fromkeys(
            ipc.subnet
            for t in templates
            if not isinstance(t.ip_configurations, Unknown)
            for ipc in t.ip_configurations
            if isinstance(ipc.subnet, str)
        )
    )
    model = VirtualMachine(r.urn, r.origin, os_type, tuple(t.key for t in templates), image, True, mode)
    return model, templates, subnets


def nat_gateway(r: Res) -> NatGateway:
    return NatGateway(r.urn, r.origin)


def _by_ip(r: Res, obj: Mapping[str, Node], prefix: str) -> MaybeBool:
    """O1 known issue: a pool configured by IP address keeps default outbound access (§5.1)."""
    rd = r.reader
    items = rd.seq(obj, "loadBalancerBackendAddresses", f"{prefix}loadBalancerBackendAddresses")
    if items is None:
        return False
    if isinstance(items, Unknown):
        return items
    for i, item in enumerate(items):
        addr = rd.to_dict(item, f"{prefix}loadBalancerBackendAddresses[{i}]")
        if isinstance(addr, Unknown):
            return addr
        if addr.get("ipAddress") is not None:
            return True
    return False


def load_balancer(stack: Stack, r: Res) -> LoadBalancer:
    rd = r.reader
    p = r.props
    sku = rd.mapping(p, "sku", "sku")
    sku_name: MaybeStr = (
        sku if isinstance(sku, Unknown) else None if sku is None else rd.text(sku, "name", "sku.name")
    )

    frontends = rd.seq(p, "frontendIPConfigurations", "frontendIPConfigurations")
    public: MaybeBool = False
    if isinstance(frontends, Unknown):
        public = frontends
    for i, item in enumerate(frontends if isinstance(frontends, list) else ()):
        path = f"frontendIPConfigurations[{i}]"
        fe = rd.to_dict(item, path)
        if isinstance(fe, Unknown):
            public = fe
            continue
        for key in ("publicIPAddress", "publicIPPrefix"):
            value = rd.mapping(fe, key, f"{path}.{key}")
            if isinstance(value, dict):
                public = True
            elif isinstance(value, Unknown) and public is False:
                public = value
        if public is True:
            break

    entry = stack.inline(r, "backendAddressPools", "LoadBalancerBackendAddressPool")
    pools: tuple[BackendPool, ...] | Unknown
    orphans = stack.orphans_of(r.urn, "LoadBalancerBackendAddressPool")
    if isinstance(entry.items, Unknown):
        pools = entry.items
    elif orphans:
        pools = Unknown(
            f"standalone backend pools {', '.join(o.name for o in orphans)} may belong to {r.name}"
        )
    else:
        found: list[BackendPool] = []
        unknown_pool: Unknown | None = None
        for item in entry.items or ():
            obj = rd.to_dict(item.node, item.path)
            # An unknown element may be any pool (with any members): the list is unknown.
            if isinstance(obj, Unknown):
                unknown_pool = unknown_pool or obj
            else:
                found.append(BackendPool(item.key, item.label, _by_ip(r, obj, f"{item.path}.")))
        for child in entry.children:
            label = child.reader.label(
                child.props, "backendAddressPoolName", "backendAddressPoolName", child.name
            )
            found.append(BackendPool(child.urn, label, _by_ip(child, child.props, "")))
        pools = unknown_pool if unknown_pool is not None else tuple(found)

    rules = rd.seq(p, "outboundRules", "outboundRules")
    outbound: tuple[MaybeRef, ...] | Unknown = ()
    if isinstance(rules, Unknown):
        outbound = rules
    elif rules is not None:
        refs: list[MaybeRef] = []
        for i, item in enumerate(rules):
            path = f"outboundRules[{i}]"
            rule = rd.to_dict(item, path)
            if isinstance(rule, Unknown):
                refs.append(rule)
                continue
            pool = rd.mapping(rule, "backendAddressPool", f"{path}.backendAddressPool")
            if isinstance(pool, dict):
                refs.append(stack.pool(r, pool.get("id"), f"{path}.backendAddressPool.id"))
            else:
                refs.append(pool)
        outbound = tuple(refs)
    return LoadBalancer(r.urn, r.origin, sku_name, public, pools, outbound)
