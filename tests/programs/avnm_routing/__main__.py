"""An Azure Virtual Network Manager routing configuration forces the spoke's traffic to an appliance.

The routing rule sends 0.0.0.0/0 to a ``VirtualAppliance`` at 10.0.0.4 for the VNets of the network
group, and a ``Commit`` of type ``Routing`` deploys it to westeurope: in Azure the spoke's KMS traffic
would leave through the appliance. kmsguard does not read AVNM routing configurations yet, so the
spoke's verdict is ``unknown`` and each routing resource is named by ``kms-unverified`` — never a
silent ``reachable`` (docs/findings.md#kms-invalid-input). With the policy at its default (advisory)
the preview passes; set to mandatory it blocks.
"""

from __future__ import annotations

import pulumi_azure_native as azure

rg = azure.resources.ResourceGroup("rg", resource_group_name="rg-avnm")
spoke = azure.network.VirtualNetwork(
    "spoke",
    resource_group_name=rg.name,
    address_space={"address_prefixes": ["10.1.0.0/16"]},
    subnets=[{"name": "app", "address_prefix": "10.1.1.0/24"}],
)

manager = azure.network.NetworkManager(
    "anm",
    resource_group_name=rg.name,
    network_manager_scopes={"subscriptions": ["/subscriptions/00000000-0000-0000-0000-000000000000"]},
    network_manager_scope_accesses=["Routing"],
)
group = azure.network.NetworkGroup("spokes", resource_group_name=rg.name, network_manager_name=manager.name)
azure.network.StaticMember(
    "spoke-member",
    resource_group_name=rg.name,
    network_manager_name=manager.name,
    network_group_name=group.name,
    resource_id=spoke.id,
)
routing = azure.network.RoutingConfiguration(
    "force-nva", resource_group_name=rg.name, network_manager_name=manager.name
)
collection = azure.network.RoutingRuleCollection(
    "coll",
    resource_group_name=rg.name,
    network_manager_name=manager.name,
    configuration_name=routing.name,
    applies_to=[{"network_group_id": group.id}],
)
azure.network.RoutingRule(
    "default-to-nva",
    resource_group_name=rg.name,
    network_manager_name=manager.name,
    configuration_name=routing.name,
    rule_collection_name=collection.name,
    destination={"type": "AddressPrefix", "destination_address": "0.0.0.0/0"},
    next_hop={"next_hop_type": "VirtualAppliance", "next_hop_address": "10.0.0.4"},
)
azure.network.Commit(
    "deploy-routing",
    resource_group_name=rg.name,
    network_manager_name=manager.name,
    properties={
        "commit_type": "Routing",
        "configuration_ids": [routing.id],
        "target_locations": ["westeurope"],
    },
)
