"""``kms-client-activation``: Windows VMs that reach the KMS but may still not activate (§8, §9).

Two findings, both advisory:

* a Windows VM or scale set built from a custom or gallery image (image ``id``,
  ``sharedGalleryImageId``, ``communityGalleryImageId``, a non-Microsoft publisher, or an attached
  OS disk) with no activation set-up in the stack. Marketplace images carry the GVLK (§8.1); a
  custom image may be RETAIL or AVMA and fail with 0xC004F074 or 0xC004FD01 however good the
  network is;
* an Azure Edition VM whose NIC or subnet NSG denies ``AzurePlatformIMDS``: it activates but shows
  the watermark, because the attested state comes from IMDS (§8.4, §4.5).

It is a stack policy because both need other resources: the set-up is a separate run command or
extension (``KmsActivation`` or an equivalent), linked to the VM by its ``vmName`` property
dependency or value, and the NSGs hang off NICs and subnets. A tag on the VM would be a claim the
user can copy, not evidence, and the component cannot change a VM declared before it.

Properties are read raw (never through the unknown-raising proxy); an unknown image, script or
NSG rule yields a "cannot tell" advisory, never silence.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from kmsguard.analysis.match import Tri, canonical, port_matches
from kmsguard.catalog import WindowsImage, load_catalog
from kmsguard.collect.azure_native.values import UNK, Secret, decode
from kmsguard.collect.pulumi import collect
from kmsguard.collect.resource import PulumiResource
from kmsguard.findings import Finding as FindingId
from kmsguard.model import ImageReference, Network, NetworkSecurityGroup, Unknown, VirtualMachine
from kmsguard.policies import ACTIVATION, _guarded, _redacting, kms_client_activation, shared_for
from kmsguard.policies.links import with_finding

__all__ = ["ACTIVATION", "Finding", "activation_findings", "kms_client_activation", "validate"]

COMPONENT_TYPE = "kmsguard:activation:KmsActivation"
ACTIVATION_NAME = "kmsguard-activation"
ACTIVATION_TAG = "kmsguard-activation"
AZURE_EDITION = "Datacenter: Azure Edition"
IMDS_TAG = "azureplatformimds"
IMDS_PORT = 80

RUN_COMMAND = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"
VM_EXTENSION = "azure-native:compute:VirtualMachineExtension"
VMSS_EXTENSION = "azure-native:compute:VirtualMachineScaleSetExtension"
# Set-up resource type → (property naming the VM or scale set, property naming the set-up itself).
SETUP_TYPES: Mapping[str, tuple[str, str]] = {
    RUN_COMMAND: ("vmName", "runCommandName"),
    VM_EXTENSION: ("vmName", "vmExtensionName"),
    VMSS_EXTENSION: ("vmScaleSetName", "vmssExtensionName"),
}
VM_NAME_PROPS: Mapping[str, str] = {
    "azure-native:compute:VirtualMachine": "vmName",
    "azure-native:compute:VirtualMachineScaleSet": "vmScaleSetName",
}

_READ_TYPES = frozenset({*SETUP_TYPES, *VM_NAME_PROPS})


@dataclass(frozen=True, slots=True)
class Finding:
    urn: str
    message: str
    id: FindingId = FindingId.ACTIVATION_SETUP


# --- set-up resources ----------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if isinstance(value, Secret):
        value = value.value
    return value if isinstance(value, str) else None


def _script_of(props: Mapping[str, Any]) -> Any:
    """The script text of a run command or extension: str, UNK (cannot tell) or None (none)."""
    source = props.get("source")
    if isinstance(source, dict):
        return source.get("script", source.get("commandId"))
    if source is UNK:
        return UNK
    for key in ("settings", "protectedSettings"):
        bag = props.get(key)
        if bag is UNK:
            return UNK
        if isinstance(bag, dict):
            command = bag.get("commandToExecute")
            if command is not None:
                return command.value if isinstance(command, Secret) else command
    return None


def _is_activation_script(script: Any) -> Tri:
    # An equivalent set-up sets the KMS host or activates: slmgr with /skms or /ato (§8.3).
    if script is UNK:
        return Tri.MAYBE
    text = _text(script)
    if text is None:
        return Tri.NO
    lowered = text.lower()
    return Tri.YES if "slmgr" in lowered and ("/skms" in lowered or "/ato" in lowered) else Tri.NO


def _setup_kind(r: PulumiResource, props: Mapping[str, Any], types: Mapping[str, str]) -> Tri:
    """Whether a run command / extension sets up activation: ours by parent, tag or name, or by script."""
    if types.get(r.parent) == COMPONENT_TYPE:
        return Tri.YES
    tags = props.get("tags")
    if isinstance(tags, dict) and ACTIVATION_TAG in tags:
        return Tri.YES
    if _text(props.get(SETUP_TYPES[r.type][1])) == ACTIVATION_NAME:
        return Tri.YES
    return _is_activation_script(_script_of(props))


def _setup_edition(props: Mapping[str, Any]) -> str | None:
    tags = props.get("tags")
    value = _text(tags.get(ACTIVATION_TAG)) if isinstance(tags, dict) else None
    return value


def _inline_setups(props: Mapping[str, Any]) -> Iterator[tuple[Tri, str]]:
    """A scale set's own ``extensionProfile.extensions`` (§ pulumi-mechanics 3.1), each with what
    an uncertain answer means (the advisory must describe what the scale set really has)."""
    profile = props.get("virtualMachineProfile")
    if profile is UNK:
        yield Tri.MAYBE, "its VM profile is unknown during this preview, so its extensions cannot be seen"
        return
    if not isinstance(profile, dict):
        return
    extensions = profile.get("extensionProfile")
    extensions = extensions.get("extensions") if isinstance(extensions, dict) else extensions
    if extensions is UNK:
        yield Tri.MAYBE, "its extension list is unknown during this preview"
        return
    for item in extensions if isinstance(extensions, list) else ():
        if item is UNK:
            yield Tri.MAYBE, "an extension in its VM profile is unknown during this preview"
        elif isinstance(item, dict):
            if _text(item.get("name")) == ACTIVATION_NAME:
                yield Tri.YES, ""
            else:
                label = _text(item.get("name"))
                yield (
                    _is_activation_script(_script_of(item)),
                    f"extension {label or '(unnamed)'} in its VM profile may set up activation, but its script is unknown",
                )


@dataclass
class _Setups:
    by_vm: dict[str, Tri]
    editions: dict[str, str]
    # For a MAYBE: what the VM or scale set has that may set up activation (or what is unknown).
    maybe: dict[str, str] = field(default_factory=dict)


def _link_setups(resources: Sequence[PulumiResource], decoded: Mapping[str, Any]) -> _Setups:
    types = {r.urn: r.type for r in resources}
    names: dict[tuple[str, str], list[str]] = {}
    for r in resources:
        name_prop = VM_NAME_PROPS.get(r.type)
        if name_prop is None:
            continue
        props = decoded[r.urn]
        for key in (name_prop, "name"):
            text = _text(props.get(key))
            if text:
                names.setdefault((name_prop, text.lower()), []).append(r.urn)
    setups = _Setups({}, {})
    for r in resources:
        if r.type not in SETUP_TYPES:
            continue
        props = decoded[r.urn]
        kind = _setup_kind(r, props, types)
        if kind is Tri.NO:
            continue
        link_prop = SETUP_TYPES[r.type][0]
        targets = [u for u in r.property_dependencies.get(link_prop, ()) if types.get(u) in VM_NAME_PROPS]
        text = _text(props.get(link_prop))
        if text:
            targets.extend(names.get((link_prop, text.lower()), ()))
        edition = _setup_edition(props)
        what = "a run command" if r.type == RUN_COMMAND else "an extension"
        for urn in targets:
            setups.by_vm[urn] = max(setups.by_vm.get(urn, Tri.NO), kind)
            if kind is Tri.MAYBE:
                setups.maybe.setdefault(
                    urn, f"{what} on it ({r.name}) may set up activation, but its script is unknown"
                )
            if edition:
                setups.editions[urn] = edition
    for r in resources:
        if r.type == "azure-native:compute:VirtualMachineScaleSet":
            for kind, why in _inline_setups(decoded[r.urn]):
                setups.by_vm[r.urn] = max(setups.by_vm.get(r.urn, Tri.NO), kind)
                if kind is Tri.MAYBE:
                    setups.maybe.setdefault(r.urn, why)
    return setups


# --- images --------------------------------------------------------------------------------------


def _custom_image(image: ImageReference | Unknown | None) -> tuple[Tri, str]:
    """Whether the image may lack the GVLK (§8.1), and how the image is described."""
    if image is None:
        return Tri.YES, "no image reference (an attached or specialized OS disk)"
    if isinstance(image, Unknown):
        return Tri.MAYBE, f"its image reference is unknown ({image.why})"
    if isinstance(image.id, str):
        return Tri.YES, f"custom or gallery image {image.id}"
    if isinstance(image.id, Unknown):
        return Tri.MAYBE, "its image id is unknown"
    if isinstance(image.publisher, Unknown):
        return Tri.MAYBE, "its image publisher is unknown"
    if not isinstance(image.publisher, str):
        return Tri.YES, "an image reference without publisher"
    if not image.publisher.lower().startswith("microsoft"):
        return Tri.YES, f"non-Microsoft image {image.publisher}/{image.offer}/{image.sku}"
    return Tri.NO, f"Marketplace image {image.publisher}/{image.offer}/{image.sku}"


def _azure_edition(image: ImageReference | Unknown | None, setup_edition: str | None) -> bool:
    if setup_edition is not None and setup_edition.endswith(AZURE_EDITION):
        return True
    if not isinstance(image, ImageReference) or not isinstance(image.sku, str):
        return False
    found = load_catalog().marketplace_image(image.publisher, image.offer, image.sku)
    if isinstance(found, WindowsImage):
        return found.edition == AZURE_EDITION
    # §8.4 names the "*-azure-edition" images; a SKU the catalog lacks still says so.
    return "azure-edition" in image.sku.lower()


# --- NSGs that deny IMDS -------------------------------------------------------------------------


def _nsgs_of(network: Network, vm: VirtualMachine) -> Iterator[NetworkSecurityGroup | Unknown]:
    seen: set[str] = set()

    def nsg(ref: Any) -> Iterator[NetworkSecurityGroup | Unknown]:
        if isinstance(ref, Unknown):
            yield ref
        elif isinstance(ref, str) and ref not in seen:
            seen.add(ref)
            found = network.nsgs.get(ref)
            if found is not None:
                yield found

    if isinstance(vm.nics, Unknown):
        yield vm.nics
        return
    for ref in vm.nics:
        if isinstance(ref, Unknown):
            yield ref
            continue
        nic = network.nics.get(ref) if isinstance(ref, str) else None
        if nic is None:
            continue
        yield from nsg(nic.nsg)
        if isinstance(nic.ip_configurations, Unknown):
            yield nic.ip_configurations
            continue
        for ipc in nic.ip_configurations:
            if isinstance(ipc.subnet, Unknown):
                yield ipc.subnet
                continue
            subnet = network.subnets.get(ipc.subnet) if isinstance(ipc.subnet, str) else None
            if subnet is not None:
                yield from nsg(subnet.nsg)


def _imds_denials(nsg: NetworkSecurityGroup) -> Iterator[tuple[Tri, str]]:
    """§4.5: an outbound Deny whose destination is the AzurePlatformIMDS tag blocks IMDS."""
    if isinstance(nsg.rules, Unknown):
        yield Tri.MAYBE, f"NSG {nsg.origin.name}: its rules are unknown ({nsg.rules.why})"
        return
    for rule in nsg.rules:
        dests = rule.destination_address_prefixes
        items: Sequence[Any] = (dests,) if isinstance(dests, Unknown) else dests
        target = max(
            (
                Tri.MAYBE if not isinstance(d, str) else Tri.YES if canonical(d) == IMDS_TAG else Tri.NO
                for d in items
            ),
            default=Tri.NO,
        )
        if target is Tri.NO:
            continue
        checks = [
            target,
            _word(rule.access, "deny"),
            _word(rule.direction, "outbound"),
            Tri.MAYBE
            if not isinstance(rule.protocol, str)
            else Tri.YES
            if canonical(rule.protocol) in ("*", "tcp")
            else Tri.NO,
            port_matches(rule.destination_port_ranges, IMDS_PORT, [], "destination port"),
        ]
        verdict = min(checks)
        if verdict is not Tri.NO:
            priority = rule.priority if isinstance(rule.priority, int | float) else "?"
            label = f"{int(priority)}" if isinstance(priority, int | float) else priority
            yield verdict, f"NSG {nsg.origin.name} rule {label} {rule.name}"


def _word(value: Any, wanted: str) -> Tri:
    if not isinstance(value, str):
        return Tri.MAYBE
    return Tri.YES if canonical(value) == wanted else Tri.NO


# --- findings ------------------------------------------------------------------------------------

_SETUP_HINT = (
    "Add kmsguard.pulumi.KmsActivation(vm=..., windows_version=..., windows_edition=...), which installs the "
    "GVLK on RETAIL/AVMA images, sets the KMS host of the cloud and retries activation"
)


def activation_findings(resources: Sequence[PulumiResource], network: Network | None = None) -> list[Finding]:
    """The policy's findings for a deployment (pure: the pack and in-process evaluation share it).

    ``network``: ``collect(resources)`` if the caller already has it (the pack shares the one
    ``kms-reachability`` collected); the model is frozen, so sharing it cannot change a finding.
    """
    # Only VMs, scale sets and set-ups are read (``_link_setups``): decoding every bag of the stack
    # again cost more than the checks. A URN shared by several resources keeps the last bag, as before.
    read = {r.urn for r in resources if r.type in _READ_TYPES}
    decoded = {r.urn: decode(r.props) for r in resources if r.urn in read}
    decoded = {u: (p if isinstance(p, dict) else {}) for u, p in decoded.items()}
    if network is None:
        # In URN order, as kms-reachability collects it (analyze_resources), so the findings come in
        # the same order whether or not the network is shared.
        network = collect(resources)
    setups = _link_setups(resources, decoded)
    findings: list[Finding] = []
    # Per NSG key: the VMs of a subnet share its NSG, which may hold a thousand rules.
    denials: dict[str, list[tuple[Tri, str]]] = {}
    for urn, vm in network.vms.items():
        kind = "scale set" if vm.scale_set else "VM"
        name = vm.origin.name
        if isinstance(vm.os_type, Unknown):
            findings.append(
                Finding(
                    urn,
                    f"cannot tell whether {kind} {name} runs Windows ({vm.os_type.why}); check its activation set-up",
                )
            )
            continue
        if not isinstance(vm.os_type, str) or canonical(vm.os_type) != "windows":
            continue  # Linux, or a flexible scale set without a VM profile: not applicable
        setup = setups.by_vm.get(urn, Tri.NO)
        custom, described = _custom_image(vm.image)
        if custom is not Tri.NO and setup is not Tri.YES:
            lead = (
                f"Windows {kind} {name} is built from {described}"
                if custom is Tri.YES
                else f"cannot tell whether Windows {kind} {name} has the KMS client key: {described}"
            )
            what = (
                "nothing in the stack sets up KMS activation"
                if setup is Tri.NO
                else setups.maybe.get(urn, "something on it may set up activation, but it cannot be seen")
            )
            findings.append(
                Finding(
                    urn,
                    f"{lead}, and {what}. A custom image can be RETAIL or AVMA and fail activation with "
                    f"0xC004F074 or 0xC004FD01 however good the network is (docs/rules.md#image-channel). {_SETUP_HINT}.",
                )
            )
        if _azure_edition(vm.image, setups.editions.get(urn)):
            for nsg in _nsgs_of(network, vm):
                if isinstance(nsg, Unknown):
                    findings.append(
                        Finding(
                            urn,
                            f"Azure Edition {kind} {name}: cannot tell whether an NSG denies AzurePlatformIMDS "
                            f"({nsg.why}); a denied IMDS shows the activation watermark (docs/rules.md#azure-edition-imds).",
                            FindingId.AZURE_EDITION_IMDS,
                        )
                    )
                    continue
                if nsg.key not in denials:
                    denials[nsg.key] = list(_imds_denials(nsg))
                for verdict, rule in denials[nsg.key]:
                    verb = "denies" if verdict is Tri.YES else "may deny"
                    findings.append(
                        Finding(
                            urn,
                            f"Azure Edition {kind} {name}: {rule} {verb} AzurePlatformIMDS. KMS activation can "
                            "succeed, but Windows shows the activation watermark because the attested state "
                            "comes from IMDS 169.254.169.254 (docs/rules.md#azure-edition-imds). Remove the rule, or allow "
                            "AzurePlatformIMDS ahead of it.",
                            FindingId.AZURE_EDITION_IMDS,
                        )
                    )
    return findings


def validate(args: StackValidationArgs, report: ReportViolation) -> None:
    """The ``kms-client-activation`` policy (``kmsguard.policies.kms_client_activation``)."""
    report = _redacting(report)

    def run() -> None:
        # The resources and network kms-reachability already built in this call (or built here).
        shared = shared_for(args)
        if shared.network is None:
            shared.network = collect(shared.resources)
        for finding in activation_findings(shared.resources, shared.network):
            report(with_finding(finding.message, finding.id), finding.urn)

    _guarded(ACTIVATION, report, run)
