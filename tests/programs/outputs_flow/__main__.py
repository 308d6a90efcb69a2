"""An NSG rule built from other resources' outputs, and an explicit ordering dependency."""

import pulumi
import pulumi_azure_native as azure

nsg = azure.network.NetworkSecurityGroup("nsg", resource_group_name="rg-flow")
vnet = azure.network.VirtualNetwork(
    "vnet",
    resource_group_name="rg-flow",
    address_space={"address_prefixes": ["10.4.0.0/16"]},
)
# Known at preview: an apply over an input the provider echoes back.
first_prefix = vnet.address_space.apply(lambda space: space.address_prefixes[0])
# Unknown at preview: Output.all over an output only Azure knows (the NSG's Azure name).
rule_name = pulumi.Output.all(nsg.name, first_prefix).apply(lambda args: f"{args[0]}-{args[1]}")
rule = azure.network.SecurityRule(
    "allow-kms",
    resource_group_name="rg-flow",
    network_security_group_name=nsg.name,
    security_rule_name="allow-kms",
    priority=100,
    direction="Outbound",
    access="Allow",
    protocol="Tcp",
    source_address_prefix=first_prefix,
    source_port_range="*",
    destination_address_prefix="Internet",
    destination_port_range="1688",
    description=rule_name,
    opts=pulumi.ResourceOptions(depends_on=[vnet]),
)
pulumi.export("rule", rule.name)
