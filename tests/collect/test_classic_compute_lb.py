"""Classic scale sets and load balancers (pulumi-azure 6.40.1) → the model and verdicts.

Property names are the classic SDK's (``pulumi_azure.compute.WindowsVirtualMachineScaleSet``,
``pulumi_azure.lb.LoadBalancer`` …). Each scenario runs on a stack export (known ARM ids) and on a
preview (ids unknown, references through property dependencies); the outbound rules are semantics
§5.1–§5.3 (docs/rules.md#explicit-outbound).
"""

from __future__ import annotations

from typing import Any

import pytest

from collect.classic import RG, SUB, ClassicStack, Ref, U, arm_id
from kmsguard.analysis import analyze
from kmsguard.analysis.settings import Settings
from kmsguard.collect.pulumi import PulumiResource, collect
from kmsguard.model import BackendPool, Network, Unknown

VNET = "azure:network/virtualNetwork:VirtualNetwork"
SUBNET = "azure:network/subnet:Subnet"
NIC = "azure:network/networkInterface:NetworkInterface"
WIN_VM = "azure:compute/windowsVirtualMachine:WindowsVirtualMachine"
PIP = "azure:network/publicIp:PublicIp"
WIN_VMSS = "azure:compute/windowsVirtualMachineScaleSet:WindowsVirtualMachineScaleSet"
LINUX_VMSS = "azure:compute/linuxVirtualMachineScaleSet:LinuxVirtualMachineScaleSet"
FLEX_VMSS = "azure:compute/orchestratedVirtualMachineScaleSet:OrchestratedVirtualMachineScaleSet"
LEGACY_VMSS = "azure:compute/scaleSet:ScaleSet"
LB = "azure:lb/loadBalancer:LoadBalancer"
POOL = "azure:lb/backendAddressPool:BackendAddressPool"
OUTBOUND = "azure:lb/outboundRule:OutboundRule"
ADDRESS = "azure:lb/backendAddressPoolAddress:BackendAddressPoolAddress"
RULE = "azure:lb/rule:Rule"
NAT_RULE = "azure:lb/natRule:NatRule"
PROBE = "azure:lb/probe:Probe"
NIC_POOL = "azure:network/networkInterfaceBackendAddressPoolAssociation:NetworkInterfaceBackendAddressPoolAssociation"

BOTH = pytest.mark.parametrize("deployed", [True, False], ids=["export", "preview"])
IMAGE = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2022-datacenter",
    "version": "latest",
}
WINDOWS_ONLY = Settings(scope="windows-vm-subnets")


def scale_set_id(name: str) -> str:
    return f"{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}"


def private_subnet(s: ClassicStack, default_outbound: bool = False) -> Ref:
    s.add(VNET, "vnet", {"name": "vnet-app", "addressSpaces": ["10.5.0.0/16"]})
    return s.add(
        SUBNET,
        "snet-app",
        {
            "name": "snet-app",
            "virtualNetworkName": "vnet-app",
            "addressPrefixes": ["10.5.1.0/24"],
            "defaultOutboundAccessEnabled": default_outbound,
        },
        own_id=arm_id("virtualNetworks", "vnet-app", ("subnets", "snet-app")),
    )


def load_balancer(s: ClassicStack, *, public: bool = True, sku: str | None = None) -> tuple[Ref, Ref]:
    """A load balancer with one frontend and one standalone backend pool."""
    frontend: dict[str, Any] = {"name": "fe"}
    if public:
        pip = s.add(PIP, "lb-ip", {"name": "lb-ip", "allocationMethod": "Static", "sku": "Standard"})
        frontend["publicIpAddressId"] = pip
    else:
        frontend["subnetId"] = Ref(
            s.urn(SUBNET, "snet-app"), arm_id("virtualNetworks", "vnet-app", ("subnets", "snet-app"))
        )
    props: dict[str, Any] = {"name": "lb-app", "frontendIpConfigurations": [frontend]}
    if sku is not None:
        props["sku"] = sku
    lb = s.add(LB, "lb", props)
    pool = s.add(
        POOL,
        "pool",
        {"name": "pool-app", "loadbalancerId": lb},
        own_id=arm_id("loadBalancers", "lb-app", ("backendAddressPools", "pool-app")),
    )
    return lb, pool


def outbound_rule(s: ClassicStack, lb: Ref, pool: Ref) -> None:
    s.add(
        OUTBOUND,
        "outbound",
        {
            "name": "outbound-all",
            "loadbalancerId": lb,
            "backendAddressPoolId": pool,
            "protocol": "All",
            "frontendIpConfigurations": [{"name": "fe"}],
        },
        own_id=arm_id("loadBalancers", "lb-app", ("outboundRules", "outbound-all")),
    )


def windows_vmss(s: ClassicStack, subnet: Ref, pools: list[Any] | None = None, **ipc: Any) -> Ref:
    config: dict[str, Any] = {"name": "ipc", "primary": True, "subnetId": subnet, **ipc}
    if pools is not None:
        config["loadBalancerBackendAddressPoolIds"] = pools
    return s.add(
        WIN_VMSS,
        "vmss",
        {
            "name": "vmss-app",
            "sku": "Standard_D2s_v5",
            "instances": 2,
            "adminUsername": "azureuser",
            "adminPassword": "[secret]",
            "sourceImageReference": IMAGE,
            "osDisk": {"caching": "ReadWrite", "storageAccountType": "Standard_LRS"},
            "networkInterfaces": [{"name": "nic", "primary": True, "ipConfigurations": [config]}],
        },
        own_id=scale_set_id("vmss-app"),
    )


def verdicts(resources: list[PulumiResource], settings: Settings | None = None) -> dict[str, str]:
    return {r.name: r.verdict.value for r in analyze(collect(resources), settings).subnets}


def details(resources: list[PulumiResource]) -> list[str]:
    """Every trace step of the subnets and of their NICs (NIC templates of scale sets included)."""
    result = analyze(collect(resources))
    endpoints = [
        e for sub in result.subnets for e in (*sub.endpoints, *(x for n in sub.nics for x in n.endpoints))
    ]
    return [step.detail for e in endpoints for step in e.trace]


def nic_verdicts(resources: list[PulumiResource]) -> dict[str, str]:
    return {n.name: n.verdict.value for sub in analyze(collect(resources)).subnets for n in sub.nics}


def template(s: ClassicStack, name: str = "vmss", token: str = WIN_VMSS, nic: str = "nic") -> str:
    return f"{s.urn(token, name)}#networkInterfaceConfigurations/{nic}"


# --- scale sets ---------------------------------------------------------------------------------------


@BOTH
def test_windows_scale_set_is_a_uniform_windows_template_in_its_subnet(deployed: bool) -> None:
    s = ClassicStack(deployed)
    subnet = private_subnet(s, default_outbound=True)
    windows_vmss(s, subnet)
    network = collect(s.resources)
    assert network.problems == ()
    vmss = network.vms[s.urn(WIN_VMSS, "vmss")]
    assert (vmss.os_type, vmss.scale_set, vmss.orchestration_mode) == ("Windows", True, "Uniform")
    assert vmss.nics == (template(s),)
    nic = network.nics[template(s)]
    assert isinstance(nic.ip_configurations, tuple)
    assert [(c.name, c.subnet, c.backend_pools, c.public_ip) for c in nic.ip_configurations] == [
        ("ipc", s.urn(SUBNET, "snet-app"), (), None)
    ]
    assert network.vm_subnets == {s.urn(WIN_VMSS, "vmss"): (s.urn(SUBNET, "snet-app"),)}
    assert verdicts(s.resources) == {"snet-app": "reachable"}


@BOTH
def test_private_subnet_behind_standard_public_lb_needs_an_outbound_rule(deployed: bool) -> None:
    s = ClassicStack(deployed)
    subnet = private_subnet(s)
    lb, pool = load_balancer(s)  # sku absent: the classic provider's default, Standard
    windows_vmss(s, subnet, [pool])
    network = collect(s.resources)
    model = network.load_balancers[s.urn(LB, "lb")]
    assert (model.sku, model.public, model.outbound_rule_pools) == ("Standard", True, ())
    assert model.backend_pools == (BackendPool(s.urn(POOL, "pool"), "pool-app", False),)
    assert verdicts(s.resources) == {"snet-app": "blocked"}
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "blocked"}
    assert nic_verdicts(s.resources) == {"vmss/nic": "blocked"}
    assert any("without an outbound rule" in d for d in details(s.resources))

    outbound_rule(s, lb, pool)
    network = collect(s.resources)
    assert network.load_balancers[s.urn(LB, "lb")].outbound_rule_pools == (s.urn(POOL, "pool"),)
    assert network.problems == ()
    # The scale set's NICs egress through the rule; a new VM of the private subnet would not.
    assert nic_verdicts(s.resources) == {"vmss/nic": "reachable"}
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "reachable"}
    assert verdicts(s.resources) == {"snet-app": "blocked"}
    assert any("outbound rule of Standard public load balancer lb" in d for d in details(s.resources))


@BOTH
def test_standard_internal_lb_takes_default_outbound_away(deployed: bool) -> None:
    s = ClassicStack(deployed)
    subnet = private_subnet(s, default_outbound=True)
    _, pool = load_balancer(s, public=False, sku="Standard")
    windows_vmss(s, subnet, [pool])
    assert collect(s.resources).load_balancers[s.urn(LB, "lb")].public is False
    assert verdicts(s.resources) == {"snet-app": "blocked"}
    assert any(
        "Standard internal load balancer lb without an outbound rule" in d for d in details(s.resources)
    )


@BOTH
def test_instance_public_ip_block_is_explicit_outbound(deployed: bool) -> None:
    s = ClassicStack(deployed)
    subnet = private_subnet(s)
    windows_vmss(s, subnet, publicIpAddresses=[{"name": "pip", "idleTimeoutInMinutes": 4}])
    nic = collect(s.resources).nics[template(s)]
    assert isinstance(nic.ip_configurations, tuple)
    assert nic.ip_configurations[0].public_ip == f"{template(s)}#ipConfigurations/ipc/publicIP"
    assert nic_verdicts(s.resources) == {"vmss/nic": "reachable"}
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "reachable"}


@BOTH
def test_orchestrated_scale_set_is_flexible_and_gets_no_default_outbound(deployed: bool) -> None:
    s = ClassicStack(deployed)
    subnet = private_subnet(s, default_outbound=True)
    s.add(
        FLEX_VMSS,
        "flex",
        {
            "name": "vmss-flex",
            "platformFaultDomainCount": 1,
            "skuName": "Standard_D2s_v5",
            "instances": 1,
            "osProfile": {
                "windowsConfiguration": {"adminUsername": "azureuser", "adminPassword": "[secret]"}
            },
            "sourceImageReference": IMAGE,
            "networkInterfaces": [
                {
                    "name": "nic",
                    "primary": True,
                    "ipConfigurations": [{"name": "ipc", "primary": True, "subnetId": subnet}],
                }
            ],
        },
    )
    vmss = collect(s.resources).vms[s.urn(FLEX_VMSS, "flex")]
    assert (vmss.os_type, vmss.orchestration_mode) == ("Windows", "Flexible")
    assert verdicts(s.resources) == {"snet-app": "blocked"}
    assert any(
        "Flexible-orchestration scale sets never get default outbound access" in d
        for d in details(s.resources)
    )


@BOTH
def test_a_flexible_scale_set_with_a_load_balancer_outbound_rule_has_egress(deployed: bool) -> None:
    """§5.3: a Standard public load balancer with an outbound rule is egress for the scale set's VMs;
    the Flexible rule takes away only the default outbound access, which the subnet's other (future,
    standalone) VMs keep."""
    s = ClassicStack(deployed)
    subnet = private_subnet(s, default_outbound=True)
    lb, pool = load_balancer(s, public=True, sku="Standard")
    outbound_rule(s, lb, pool)
    s.add(
        FLEX_VMSS,
        "flex",
        {
            "name": "vmss-flex",
            "platformFaultDomainCount": 1,
            "skuName": "Standard_D2s_v5",
            "osProfile": {
                "windowsConfiguration": {"adminUsername": "azureuser", "adminPassword": "[secret]"}
            },
            "sourceImageReference": IMAGE,
            "networkInterfaces": [
                {
                    "name": "nic",
                    "primary": True,
                    "ipConfigurations": [
                        {
                            "name": "ipc",
                            "primary": True,
                            "subnetId": subnet,
                            "loadBalancerBackendAddressPoolIds": [pool],
                        }
                    ],
                }
            ],
        },
    )
    assert nic_verdicts(s.resources) == {"flex/nic": "reachable"}
    assert verdicts(s.resources) == {"snet-app": "reachable"}


@BOTH
def test_vm_joined_to_an_orchestrated_scale_set_gets_no_default_outbound(deployed: bool) -> None:
    """A Flexible scale set without NIC blocks: its VMs are WindowsVirtualMachines naming it by id."""
    s = ClassicStack(deployed)
    subnet = private_subnet(s, default_outbound=True)
    flex = s.add(
        FLEX_VMSS,
        "flex",
        {"name": "vmss-flex", "platformFaultDomainCount": 1},
        own_id=scale_set_id("vmss-flex"),
    )
    nic = s.add(NIC, "nic", {"name": "nic-vm", "ipConfigurations": [{"name": "ipc", "subnetId": subnet}]})
    vm = {"name": "vm", "size": "Standard_B2s", "networkInterfaceIds": [nic], "sourceImageReference": IMAGE}
    s.add(WIN_VM, "vm", vm)
    assert verdicts(s.resources) == {"snet-app": "reachable"}
    s.resources.pop()
    s.add(WIN_VM, "vm", {**vm, "virtualMachineScaleSetId": flex})
    network = collect(s.resources)
    assert network.vms[s.urn(FLEX_VMSS, "flex")].nics == (s.urn(NIC, "nic"),)
    assert network.vm_subnets[s.urn(FLEX_VMSS, "flex")] == (s.urn(SUBNET, "snet-app"),)
    assert verdicts(s.resources) == {"snet-app": "blocked"}
    assert any(
        "Flexible-orchestration scale sets never get default outbound access" in d
        for d in details(s.resources)
    )


@pytest.mark.parametrize("outside", [scale_set_id("vmss-elsewhere"), "unknown"])
def test_vm_joined_to_a_scale_set_not_in_the_stack_is_still_a_flexible_member(outside: str) -> None:
    # Only an orchestrated (Flexible) scale set takes a VM by virtualMachineScaleSetId, wherever it is
    # declared, and an id not known until deployment is one too: never a plain VM with default outbound.
    s = ClassicStack(False)
    subnet = private_subnet(s, default_outbound=True)
    nic = s.add(NIC, "nic", {"name": "nic-vm", "ipConfigurations": [{"name": "ipc", "subnetId": subnet}]})
    joined: Any = U if outside == "unknown" else outside
    vm = {"name": "vm", "size": "Standard_B2s", "networkInterfaceIds": [nic], "sourceImageReference": IMAGE}
    s.add(WIN_VM, "vm", {**vm, "virtualMachineScaleSetId": joined})
    member = collect(s.resources).vms[s.urn(WIN_VM, "vm")]
    assert (member.scale_set, member.orchestration_mode) == (True, "Flexible")
    assert verdicts(s.resources) == {"snet-app": "blocked"}


def test_linux_scale_sets_are_out_of_windows_scope_like_azure_native_ones() -> None:
    s = ClassicStack()
    subnet = private_subnet(s)
    s.add(
        LINUX_VMSS,
        "linux",
        {
            "name": "vmss-linux",
            "sku": "Standard_B2s",
            "adminUsername": "azureuser",
            "sourceImageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server"},
            "networkInterfaces": [{"name": "nic", "ipConfigurations": [{"name": "ipc", "subnetId": subnet}]}],
        },
    )
    vmss = collect(s.resources).vms[s.urn(LINUX_VMSS, "linux")]
    assert (vmss.os_type, vmss.orchestration_mode) == ("Linux", "Uniform")
    assert verdicts(s.resources) == {"snet-app": "blocked"}
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "excluded"}
    windows_vmss(s, subnet)
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "blocked"}


def test_legacy_scale_set_reads_its_network_profiles_and_os_block() -> None:
    s = ClassicStack()
    subnet = private_subnet(s)
    _, pool = load_balancer(s, sku="Basic")
    s.add(
        LEGACY_VMSS,
        "legacy",
        {
            "name": "vmss-legacy",
            "upgradePolicyMode": "Manual",
            "sku": {"name": "Standard_B2s", "capacity": 2},
            "osProfile": {"computerNamePrefix": "app", "adminUsername": "azureuser"},
            "osProfileWindowsConfig": {"provisionVmAgent": True},
            "storageProfileOsDisk": {"createOption": "FromImage", "osType": ""},
            "storageProfileImageReference": IMAGE,
            "networkProfiles": [
                {
                    "name": "np",
                    "primary": True,
                    "dnsSettings": {"dnsServers": ["168.63.129.16"]},
                    "ipConfigurations": [
                        {
                            "name": "ipc",
                            "primary": True,
                            "subnetId": subnet,
                            "loadBalancerBackendAddressPoolIds": [pool],
                        }
                    ],
                }
            ],
        },
    )
    network = collect(s.resources)
    vmss = network.vms[s.urn(LEGACY_VMSS, "legacy")]
    assert (vmss.os_type, vmss.orchestration_mode) == ("Windows", "Uniform")
    nic = network.nics[template(s, "legacy", LEGACY_VMSS, "np")]
    assert nic.dns_servers == ("168.63.129.16",)
    assert isinstance(nic.ip_configurations, tuple)
    assert nic.ip_configurations[0].backend_pools == (s.urn(POOL, "pool"),)
    # A Basic public load balancer gives its pool SNAT through the frontend (§5.1).
    assert nic_verdicts(s.resources) == {"legacy/np": "reachable"}
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "reachable"}
    assert any("Basic public load balancer lb" in d for d in details(s.resources))


# --- NICs joined to pools by association, pool addresses, rules that do not matter -------------------------


def _vm_nic(s: ClassicStack, subnet: Ref) -> Ref:
    nic = s.add(NIC, "nic", {"name": "nic-vm", "ipConfigurations": [{"name": "ipc", "subnetId": subnet}]})
    s.add(
        WIN_VM,
        "vm",
        {"name": "vm", "size": "Standard_B2s", "networkInterfaceIds": [nic], "sourceImageReference": IMAGE},
    )
    return nic


@BOTH
def test_nic_backend_pool_association_joins_the_ip_configuration_to_the_pool(deployed: bool) -> None:
    s = ClassicStack(deployed)
    subnet = private_subnet(s, default_outbound=True)
    nic = _vm_nic(s, subnet)
    lb, pool = load_balancer(s)
    s.add(
        NIC_POOL,
        "nic-pool",
        {"networkInterfaceId": nic, "ipConfigurationName": "ipc", "backendAddressPoolId": pool},
    )
    network = collect(s.resources)
    ipcs = network.nics[s.urn(NIC, "nic")].ip_configurations
    assert isinstance(ipcs, tuple)
    assert ipcs[0].backend_pools == (s.urn(POOL, "pool"),)
    assert verdicts(s.resources) == {"snet-app": "blocked"}
    outbound_rule(s, lb, pool)
    assert verdicts(s.resources) == {"snet-app": "reachable"}


def test_backend_pool_address_marks_the_pool_by_ip_and_lb_rules_and_inbound_parts_are_read() -> None:
    s = ClassicStack()
    private_subnet(s, default_outbound=True)
    lb, pool = load_balancer(s)
    s.add(ADDRESS, "addr", {"name": "addr", "backendAddressPoolId": pool, "ipAddress": "10.5.1.4",
                             "virtualNetworkId": arm_id("virtualNetworks", "vnet-app")})  # fmt: skip
    s.add(RULE, "rule", {"name": "http", "loadbalancerId": lb, "protocol": "Tcp", "frontendPort": 80,
                          "backendPort": 80, "frontendIpConfigurationName": "fe", "disableOutboundSnat": True})  # fmt: skip
    s.add(NAT_RULE, "rdp", {"name": "rdp", "loadbalancerId": lb, "protocol": "Tcp", "frontendPort": 3389,
                             "backendPort": 3389, "frontendIpConfigurationName": "fe"})  # fmt: skip
    s.add(PROBE, "probe", {"name": "probe", "loadbalancerId": lb, "port": 80})
    network = collect(s.resources)
    assert network.problems == ()  # nothing reported as "not read yet"
    assert network.load_balancers[s.urn(LB, "lb")].backend_pools == (
        BackendPool(s.urn(POOL, "pool"), "pool-app", True),
    )
    assert verdicts(s.resources) == {"snet-app": "reachable"}


def test_mixed_classic_scale_set_in_an_azure_native_load_balancer_pool() -> None:
    s = ClassicStack(deployed=True)
    subnet = private_subnet(s)
    pool_id = arm_id("loadBalancers", "lb-native", ("backendAddressPools", "be"))
    native = "urn:pulumi:dev::classic::azure-native:network:LoadBalancer::lb-native"
    s.resources.append(
        PulumiResource(
            native,
            "azure-native:network:LoadBalancer",
            "lb-native",
            {
                "id": arm_id("loadBalancers", "lb-native"),
                "name": "lb-native",
                "resourceGroupName": "rg-net",
                "sku": {"name": "Standard"},
                "frontendIPConfigurations": [
                    {"name": "fe", "publicIPAddress": {"id": arm_id("publicIPAddresses", "pip")}}
                ],
                "backendAddressPools": [{"name": "be", "id": pool_id}],
                "outboundRules": [{"name": "out", "backendAddressPool": {"id": pool_id}, "protocol": "All"}],
            },
        )
    )
    windows_vmss(s, subnet, [pool_id])
    nic = collect(s.resources).nics[template(s)]
    assert isinstance(nic.ip_configurations, tuple)
    assert nic.ip_configurations[0].backend_pools == (f"{native}#backendAddressPools/be",)
    assert nic_verdicts(s.resources) == {"vmss/nic": "reachable"}
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "reachable"}


def test_mixed_azure_native_nic_in_a_classic_pool_at_preview() -> None:
    s = ClassicStack(deployed=False)
    subnet = private_subnet(s, default_outbound=True)
    lb, pool = load_balancer(s)
    native = "urn:pulumi:dev::classic::azure-native:network:NetworkInterface::nic-native"
    ipc = {"name": "ipc", "subnet": {"id": U}, "loadBalancerBackendAddressPools": [{"id": U}]}
    s.resources.append(
        PulumiResource(
            native,
            "azure-native:network:NetworkInterface",
            "nic-native",
            {"id": U, "resourceGroupName": "rg-net", "ipConfigurations": [ipc]},
            property_dependencies={"ipConfigurations": (subnet.urn, pool.urn)},
        )
    )
    ipcs = collect(s.resources).nics[native].ip_configurations
    assert isinstance(ipcs, tuple)
    assert (ipcs[0].subnet, ipcs[0].backend_pools) == (s.urn(SUBNET, "snet-app"), (s.urn(POOL, "pool"),))
    assert nic_verdicts(s.resources) == {"nic-native": "blocked"}
    outbound_rule(s, lb, pool)
    assert nic_verdicts(s.resources) == {"nic-native": "reachable"}


# --- unknown inputs: never a pass --------------------------------------------------------------------------


def test_association_to_an_undeterminable_nic_makes_every_nic_pool_unknown() -> None:
    s = ClassicStack(deployed=False)
    subnet = private_subnet(s, default_outbound=True)
    _vm_nic(s, subnet)
    _, pool = load_balancer(s)
    assert verdicts(s.resources) == {"snet-app": "reachable"}
    s.add(
        NIC_POOL,
        "nic-pool",
        {"networkInterfaceId": "not-an-id", "ipConfigurationName": "ipc", "backendAddressPoolId": pool},
    )
    network: Network = collect(s.resources)
    assert [(p.where, p.prop, p.message) for p in network.problems] == [
        ("nic-pool", "networkInterfaceId", "not an ARM resource id")
    ]
    ipcs = network.nics[s.urn(NIC, "nic")].ip_configurations
    assert isinstance(ipcs, tuple) and isinstance(ipcs[0].backend_pools, Unknown)
    assert verdicts(s.resources) == {"snet-app": "unknown"}


def test_outbound_rule_with_an_undeterminable_pool_makes_the_outbound_rules_unknown() -> None:
    s = ClassicStack(deployed=False)
    subnet = private_subnet(s)
    lb, pool = load_balancer(s)
    windows_vmss(s, subnet, [pool])
    s.add(
        OUTBOUND,
        "outbound",
        {"name": "o", "loadbalancerId": lb, "backendAddressPoolId": U, "protocol": "All"},
    )
    rules = collect(s.resources).load_balancers[s.urn(LB, "lb")].outbound_rule_pools
    assert isinstance(rules, Unknown)
    assert nic_verdicts(s.resources) == {"vmss/nic": "unknown"}
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "unknown"}


def test_outbound_rule_load_balancer_comes_from_its_pool_else_every_lb_is_unknown() -> None:
    s = ClassicStack(deployed=False)
    subnet = private_subnet(s)
    _, pool = load_balancer(s)
    windows_vmss(s, subnet, [pool])
    rule = {"name": "o", "loadbalancerId": "not-an-id", "backendAddressPoolId": pool, "protocol": "All"}
    s.add(OUTBOUND, "outbound", rule)
    # Azure requires the rule's pool to be its load balancer's: the pool tells the load balancer.
    assert collect(s.resources).load_balancers[s.urn(LB, "lb")].outbound_rule_pools == (s.urn(POOL, "pool"),)
    assert nic_verdicts(s.resources) == {"vmss/nic": "reachable"}
    s.resources.pop()
    s.add(OUTBOUND, "outbound", {**rule, "backendAddressPoolId": "not-an-id"})
    network = collect(s.resources)
    assert [(p.where, p.prop) for p in network.problems] == [
        ("outbound", "backendAddressPoolId"),
        ("outbound", "loadbalancerId"),
    ]
    assert isinstance(network.load_balancers[s.urn(LB, "lb")].outbound_rule_pools, Unknown)
    assert nic_verdicts(s.resources) == {"vmss/nic": "unknown"}


def test_scale_set_network_interfaces_computed_whole_are_unknown_not_absent() -> None:
    s = ClassicStack(deployed=False)
    private_subnet(s, default_outbound=True)
    vmss = windows_vmss(s, Ref("", U))
    s.resources[-1] = PulumiResource(
        vmss.urn, WIN_VMSS, "vmss", {**s.resources[-1].props, "networkInterfaces": U}
    )
    network = collect(s.resources)
    nic = template(s, nic="(unknown #0)")
    assert network.vms[s.urn(WIN_VMSS, "vmss")].nics == (nic,)
    ipcs = network.nics[nic].ip_configurations
    assert isinstance(ipcs, tuple) and len(ipcs) == 1
    assert all(isinstance(x, Unknown) for x in (ipcs[0].subnet, ipcs[0].backend_pools, ipcs[0].public_ip))
    assert verdicts(s.resources) == {"snet-app": "unknown"}


def test_unknown_frontend_public_ip_without_a_public_ip_dependency_is_unknown() -> None:
    """A real provider's preview shows an unset frontend publicIpAddressId unknown (computed)."""
    s = ClassicStack(deployed=False)
    subnet = private_subnet(s)
    lb = s.add(
        LB,
        "lb",
        {
            "name": "lb-app",
            "sku": "Standard",
            "frontendIpConfigurations": [{"name": "fe", "publicIpAddressId": U}],
        },
    )
    pool = s.add(POOL, "pool", {"name": "pool-app", "loadbalancerId": lb})
    outbound_rule(s, lb, pool)
    windows_vmss(s, subnet, [pool])
    assert isinstance(collect(s.resources).load_balancers[s.urn(LB, "lb")].public, Unknown)
    assert nic_verdicts(s.resources) == {"vmss/nic": "unknown"}
    assert verdicts(s.resources, WINDOWS_ONLY) == {"snet-app": "unknown"}
