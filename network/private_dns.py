"""Private DNS zones linked to the hub and spokes (e.g. Private Link zones for storage).

A zone named after a parent of the KMS names (``core.windows.net``, ``windows.net``) would shadow
them and break activation (§7.2 R7.2); the pack checks every linked zone.
"""

from __future__ import annotations

import re

import pulumi
from pulumi_azure_native import network, privatedns
from stack_settings import ZoneSpec


def zones(
    specs: tuple[ZoneSpec, ...], rg: pulumi.Input[str], vnets: dict[str, network.VirtualNetwork]
) -> list[privatedns.PrivateZone]:
    out: list[privatedns.PrivateZone] = []
    for spec in specs:
        slug = re.sub(r"[^a-z0-9]+", "-", spec.name)
        zone = privatedns.PrivateZone(
            f"pdz-{slug}",
            private_zone_name=spec.name,
            resource_group_name=rg,
            location="Global",
        )
        for target in spec.link_to:
            privatedns.VirtualNetworkLink(
                f"pdzlink-{slug}-{target}",
                virtual_network_link_name=f"link-{target}",
                private_zone_name=zone.name,
                resource_group_name=rg,
                location="Global",
                registration_enabled=False,
                virtual_network={"id": vnets[target].id},
            )
        out.append(zone)
    return out
