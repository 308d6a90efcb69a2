"""kmsguard reference network: a hub-and-spoke network from stack config, with the regional KMS
routes wherever forced tunneling would otherwise break Windows activation.

The stack config is validated before anything is declared (``stack_settings``); a bad value stops
``pulumi preview`` with a message naming the key. Then: resource group, the hub's Firewall Policy,
the KMS transform (``kms.routes: auto``), the hub, the spokes and the private DNS zones.
"""

from __future__ import annotations

import pulumi
from hub import firewall_policy, hub
from private_dns import zones
from pulumi_azure_native import network, resources
from spokes import spoke
from stack_settings import load_settings

from kmsguard.pulumi import auto_kms_routes, resolve_cloud

settings = load_settings()
cloud = resolve_cloud(settings.location, settings.cloud, f"{settings.project}:location")

group = resources.ResourceGroup(
    "rg-network", resource_group_name=settings.resource_group, location=settings.location
)
rg = group.name

kms_rule_wanted = settings.hub.firewall is not None and settings.hub.firewall.kms_rule
# With next hop Internet denied, auto_kms_routes declares the firewall's TCP 1688 rule itself.
auto_declares_rule = settings.kms_routes == "auto" and settings.deny_internet_next_hop
policy = firewall_policy(settings, rg, kms_rule=kms_rule_wanted and not auto_declares_rule)

if settings.kms_routes == "auto":
    spaces = [sp.address_space for sp in settings.spokes] + [settings.hub.address_space]
    fallback = policy if auto_declares_rule and kms_rule_wanted else None
    auto_kms_routes(
        cloud=cloud,
        internet_next_hop_denied=settings.deny_internet_next_hop,
        firewall_policy=fallback,
        firewall_policy_name=fallback.name if fallback is not None else None,
        resource_group_name=rg if fallback is not None else None,
        source_addresses=spaces,
    )

the_hub = hub(settings, rg, policy)
vnets: dict[str, network.VirtualNetwork] = {"hub": the_hub.vnet}
for spec in settings.spokes:
    vnets[spec.name] = spoke(settings, rg, spec, the_hub, cloud)
zones(settings.zones, rg, vnets)

pulumi.export("cloud", cloud)
pulumi.export("hubVnet", the_hub.vnet.name)
