"""Windows scale sets behind a Standard public load balancer on the classic provider (§5.1–§5.3).

``vmss-app`` (private subnet ``snet-app``) and ``vmss-web`` (``snet-web``, default outbound access) are
in the load balancer's backend pool, which takes their default outbound access away: stack ``dev`` has
no outbound rule (both blocked), stack ``outbound`` has one (their NICs reachable; ``snet-app`` stays
blocked for a VM without its own egress, since it is private). ``vmss-flex`` is a Flexible
(orchestrated) scale set, which never gets default outbound access. The load-balancing rule and the
probe are inbound only.
"""

import pulumi
import pulumi_azure as azure

LOCATION = "westeurope"
outbound_rule = pulumi.Config().get_bool("outboundRule") or False
IMAGE = azure.compute.WindowsVirtualMachineScaleSetSourceImageReferenceArgs(
    publisher="MicrosoftWindowsServer",
    offer="WindowsServer",
    sku="2022-datacenter-azure-edition",
    version="latest",
)

rg = azure.core.ResourceGroup("rg", name="rg-classic", location=LOCATION)
vnet = azure.network.VirtualNetwork(
    "vnet", name="vnet-app", resource_group_name=rg.name, location=LOCATION, address_spaces=["10.7.0.0/16"]
)
subnets = {
    name: azure.network.Subnet(
        name,
        name=name,
        resource_group_name=rg.name,
        virtual_network_name=vnet.name,
        address_prefixes=[prefix],
        default_outbound_access_enabled=default_outbound,
    )
    for name, prefix, default_outbound in (
        ("snet-app", "10.7.1.0/24", False),
        ("snet-web", "10.7.2.0/24", True),
        ("snet-flex", "10.7.3.0/24", True),
    )
}

lb_ip = azure.network.PublicIp(
    "lb-ip",
    name="lb-ip",
    resource_group_name=rg.name,
    location=LOCATION,
    allocation_method="Static",
    sku="Standard",
)
lb = azure.lb.LoadBalancer(
    "lb",
    name="lb-app",
    resource_group_name=rg.name,
    location=LOCATION,
    sku="Standard",
    frontend_ip_configurations=[
        azure.lb.LoadBalancerFrontendIpConfigurationArgs(name="fe", public_ip_address_id=lb_ip.id)
    ],
)
pool = azure.lb.BackendAddressPool("pool", name="pool-app", loadbalancer_id=lb.id)
probe = azure.lb.Probe("probe", name="http", loadbalancer_id=lb.id, port=80)
azure.lb.Rule(
    "http",
    name="http",
    loadbalancer_id=lb.id,
    protocol="Tcp",
    frontend_port=80,
    backend_port=80,
    frontend_ip_configuration_name="fe",
    backend_address_pool_ids=[pool.id],
    probe_id=probe.id,
    disable_outbound_snat=True,
)
if outbound_rule:
    azure.lb.OutboundRule(
        "outbound",
        name="outbound-all",
        loadbalancer_id=lb.id,
        backend_address_pool_id=pool.id,
        protocol="All",
        frontend_ip_configurations=[azure.lb.OutboundRuleFrontendIpConfigurationArgs(name="fe")],
    )

for name, subnet in (("vmss-app", subnets["snet-app"]), ("vmss-web", subnets["snet-web"])):
    azure.compute.WindowsVirtualMachineScaleSet(
        name,
        name=name,
        resource_group_name=rg.name,
        location=LOCATION,
        sku="Standard_D2s_v5",
        instances=2,
        admin_username="azureuser",
        admin_password="Example-Passw0rd!",
        source_image_reference=IMAGE,
        os_disk=azure.compute.WindowsVirtualMachineScaleSetOsDiskArgs(
            caching="ReadWrite", storage_account_type="Standard_LRS"
        ),
        network_interfaces=[
            azure.compute.WindowsVirtualMachineScaleSetNetworkInterfaceArgs(
                name="nic",
                primary=True,
                ip_configurations=[
                    azure.compute.WindowsVirtualMachineScaleSetNetworkInterfaceIpConfigurationArgs(
                        name="ipc",
                        primary=True,
                        subnet_id=subnet.id,
                        load_balancer_backend_address_pool_ids=[pool.id],
                    )
                ],
            )
        ],
    )

azure.compute.OrchestratedVirtualMachineScaleSet(
    "vmss-flex",
    name="vmss-flex",
    resource_group_name=rg.name,
    location=LOCATION,
    platform_fault_domain_count=1,
    sku_name="Standard_D2s_v5",
    instances=1,
    os_profile=azure.compute.OrchestratedVirtualMachineScaleSetOsProfileArgs(
        windows_configuration=azure.compute.OrchestratedVirtualMachineScaleSetOsProfileWindowsConfigurationArgs(
            admin_username="azureuser", admin_password="Example-Passw0rd!"
        )
    ),
    source_image_reference=azure.compute.OrchestratedVirtualMachineScaleSetSourceImageReferenceArgs(
        publisher="MicrosoftWindowsServer",
        offer="WindowsServer",
        sku="2022-datacenter-azure-edition",
        version="latest",
    ),
    network_interfaces=[
        azure.compute.OrchestratedVirtualMachineScaleSetNetworkInterfaceArgs(
            name="nic",
            primary=True,
            ip_configurations=[
                azure.compute.OrchestratedVirtualMachineScaleSetNetworkInterfaceIpConfigurationArgs(
                    name="ipc", primary=True, subnet_id=subnets["snet-flex"].id
                )
            ],
        )
    ],
)
