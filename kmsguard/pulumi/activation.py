"""``KmsActivation``: make a Windows VM or scale set a KMS client of its cloud and activate it.

The component carries the script of ``kmsguard.activation`` to the VM as a run command (default)
or a CustomScriptExtension (the only choice for a scale set). The edition, and so the GVLK, is
decided at construction, from a Marketplace image reference or from explicit arguments for custom
images: an edition the catalog does not know fails the preview, not the VM's first boot (§8.1).

``pulumi_azure_native`` is imported only when a component is built, so importing ``kmsguard.pulumi``
stays cheap; the policy pack never imports it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import pulumi

from kmsguard.activation import (
    ATTEMPTS,
    DELAY_SECONDS,
    ActivationTarget,
    activation_target,
    bootstrap_command,
    cloud_for_location,
    render_script,
)
from kmsguard.catalog import UnknownImage, load_catalog
from kmsguard.errors import ValidationError

if TYPE_CHECKING:
    import pulumi_azure_native.compute as compute

__all__ = [
    "ACTIVATION_NAME",
    "ACTIVATION_TAG",
    "COMPONENT_TYPE",
    "KmsActivation",
    "target_for_image",
]

COMPONENT_TYPE = "kmsguard:activation:KmsActivation"
# The run command / extension name and tag the kms-client-activation policy recognises.
ACTIVATION_NAME = "kmsguard-activation"
ACTIVATION_TAG = "kmsguard-activation"
EXTENSION_PUBLISHER = "Microsoft.Compute"
EXTENSION_TYPE = "CustomScriptExtension"
EXTENSION_VERSION = "1.10"
CUSTOM_IMAGE_KEYS = ("id", "shared_gallery_image_id", "community_gallery_image_id")

Method = Literal["run-command", "extension"]


def _image_field(image: Any, snake: str) -> Any:
    camel = snake.split("_")[0] + "".join(part.title() for part in snake.split("_")[1:])
    if isinstance(image, Mapping):
        return image.get(snake, image.get(camel))
    return getattr(image, snake, None)


def target_for_image(
    name: str,
    image_reference: Any,
    windows_version: str | None,
    windows_edition: str | None,
    cloud: str,
    *,
    attempts: int = ATTEMPTS,
    delay_seconds: int = DELAY_SECONDS,
) -> ActivationTarget:
    """The activation target, or a ``ValidationError`` naming the component and the argument."""
    where = f"KmsActivation {name}"
    if (windows_version is None) != (windows_edition is None):
        raise ValidationError(where, "windows_version/windows_edition", "give both or neither")
    if windows_version is not None and windows_edition is not None:
        target = activation_target(
            windows_version,
            windows_edition,
            cloud,
            attempts=attempts,
            delay_seconds=delay_seconds,
            where=where,
        )
        if image_reference is not None and not isinstance(image_reference, pulumi.Output):
            parts = [_image_field(image_reference, key) for key in ("publisher", "offer", "sku")]
            found = load_catalog().marketplace_image(*parts)
            # A Marketplace SKU that says another edition means one of the two is wrong.
            if not isinstance(found, UnknownImage) and (found.version, found.edition) != (
                target.version,
                target.edition,
            ):
                raise ValidationError(
                    where,
                    "windows_edition",
                    f"{target.version} {target.edition} contradicts image SKU {found.sku!r} "
                    f"({found.version} {found.edition})",
                )
        return target
    if image_reference is None:
        raise ValidationError(
            where,
            "image_reference",
            "give the VM's Marketplace image reference, or windows_version and windows_edition",
        )
    if isinstance(image_reference, pulumi.Output):
        raise ValidationError(
            where,
            "image_reference",
            "is an Output; pass the plain dict or ImageReferenceArgs the VM uses (the edition is chosen at "
            "preview), or give windows_version and windows_edition",
        )
    for key in CUSTOM_IMAGE_KEYS:
        if _image_field(image_reference, key) is not None:
            raise ValidationError(
                where,
                f"image_reference.{key}",
                "a custom or gallery image does not say its edition; give windows_version and windows_edition",
            )
    parts = [_image_field(image_reference, key) for key in ("publisher", "offer", "sku")]
    if not all(isinstance(p, str) for p in parts):
        raise ValidationError(
            where,
            "image_reference",
            "publisher, offer and sku must be plain strings (the edition is chosen at preview); "
            "or give windows_version and windows_edition",
        )
    found = load_catalog().marketplace_image(*parts)
    if isinstance(found, UnknownImage):
        raise ValidationError(
            where, "image_reference.sku", f"{found.reason}; give windows_version and windows_edition"
        )
    return activation_target(
        found.version, found.edition, cloud, attempts=attempts, delay_seconds=delay_seconds, where=where
    )


class KmsActivation(pulumi.ComponentResource):
    """Sets the GVLK (RETAIL and AVMA images), the KMS host of the cloud, and activates with retries."""

    target: ActivationTarget
    script: str
    command: pulumi.CustomResource

    def __init__(
        self,
        name: str,
        *,
        vm: compute.VirtualMachine | compute.VirtualMachineScaleSet,
        resource_group_name: pulumi.Input[str],
        location: str | None = None,
        image_reference: Any = None,
        windows_version: str | None = None,
        windows_edition: str | None = None,
        cloud: str | None = None,
        method: Method = "run-command",
        attempts: int = ATTEMPTS,
        delay_seconds: int = DELAY_SECONDS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        import pulumi_azure_native.compute as compute

        where = f"KmsActivation {name}"
        if cloud is None:
            if not isinstance(location, str):
                raise ValidationError(
                    where, "location", "give the VM's location as a plain string, or the cloud"
                )
            cloud = cloud_for_location(location, where=where)
        scale_set = isinstance(vm, compute.VirtualMachineScaleSet)
        if method not in ("run-command", "extension"):
            raise ValidationError(where, "method", f"{method!r} is not 'run-command' or 'extension'")
        if scale_set and method == "run-command":
            # A run command by virtual machine targets one VM; a scale set's VMs get the extension.
            method = "extension"
        target = target_for_image(
            name,
            image_reference,
            windows_version,
            windows_edition,
            cloud,
            attempts=attempts,
            delay_seconds=delay_seconds,
        )
        super().__init__(COMPONENT_TYPE, name, {}, opts)
        self.target = target
        self.script = render_script(target)
        tag = {ACTIVATION_TAG: f"{target.product} {target.version} {target.edition}"}
        child = pulumi.ResourceOptions(parent=self, depends_on=[vm])
        # A changed script (new catalog, new cloud) must run again; an unchanged one must not.
        digest = hashlib.sha256(self.script.encode("utf-8")).hexdigest()[:16]
        if scale_set:
            self.command = compute.VirtualMachineScaleSetExtension(
                f"{name}-extension",
                resource_group_name=resource_group_name,
                vm_scale_set_name=vm.name,
                vmss_extension_name=ACTIVATION_NAME,
                publisher=EXTENSION_PUBLISHER,
                type=EXTENSION_TYPE,
                type_handler_version=EXTENSION_VERSION,
                auto_upgrade_minor_version=True,
                force_update_tag=digest,
                settings={"commandToExecute": bootstrap_command(self.script)},
                opts=child,
            )
        elif method == "extension":
            self.command = compute.VirtualMachineExtension(
                f"{name}-extension",
                resource_group_name=resource_group_name,
                vm_name=vm.name,
                vm_extension_name=ACTIVATION_NAME,
                location=location if location is not None else vm.location,
                publisher=EXTENSION_PUBLISHER,
                type=EXTENSION_TYPE,
                type_handler_version=EXTENSION_VERSION,
                auto_upgrade_minor_version=True,
                force_update_tag=digest,
                settings={"commandToExecute": bootstrap_command(self.script)},
                tags=tag,
                opts=child,
            )
        else:
            self.command = compute.VirtualMachineRunCommandByVirtualMachine(
                f"{name}-run-command",
                resource_group_name=resource_group_name,
                vm_name=vm.name,
                run_command_name=ACTIVATION_NAME,
                location=location if location is not None else vm.location,
                source=compute.VirtualMachineRunCommandScriptSourceArgs(script=self.script),
                async_execution=False,
                treat_failure_as_deployment_failure=True,
                timeout_in_seconds=_timeout(target),
                tags=tag,
                opts=child,
            )
        self.register_outputs(
            {
                "version": target.version,
                "edition": target.edition,
                "cloud": target.cloud,
                "kmsHost": f"{target.kms_host}:{target.port}",
            }
        )


def _timeout(target: ActivationTarget) -> int:
    # Each /ato may wait ~30 s for the KMS before it fails; plus the steps before it.
    return target.attempts * (target.delay_seconds + 30) + 120
