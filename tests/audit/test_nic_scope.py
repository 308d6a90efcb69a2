"""Scope ``windows-vm-subnets`` judges the Windows VMs' own NICs; ``all-subnets`` keeps the path of a
VM without its own egress and says so (DESIGN "Verdicts"; docs/rules.md#explicit-outbound)."""

from __future__ import annotations

from typing import Any

import pytest
from scenarios.network import PUBLIC_KMS, analyze_data, network

from kmsguard.analysis import SubnetResult, Verdict

PRIVATE = {"defaultOutboundAccess": False}
PUBLIC_LB = {
    "name": "plb",
    "sku": "Standard",
    "public": True,
    "backendPools": [{"name": "pool"}],
    "outboundRules": [{"backendPool": "pool"}],
}
WIN_VM = {"name": "win", "osType": "Windows", "nics": ["wnic"]}
FLEX_VMSS = {
    "name": "ss",
    "osType": "Windows",
    "scaleSet": True,
    "orchestrationMode": "Flexible",
    "nics": ["wnic"],
    "subnets": ["V/S"],
}
PIP_EGRESS = "Internet next hop: NIC wnic has an instance-level public IP"
LB_EGRESS = "Internet next hop: outbound rule of Standard public load balancer plb"
PRIVATE_BLOCK = (
    "subnet V/S is private (defaultOutboundAccess: false) with no NAT gateway or public IP: Windows activation "
    "needs explicit outbound (docs/rules.md#explicit-outbound)"
)
BY_NICS = (
    "scope windows-vm-subnets: judged by the Windows VMs' own NICs (wnic), each with its own egress (instance "
    "public IP, load balancer outbound rule, scale set); a VM added later without its own egress is not judged"
)
ALL_SUBNETS = (
    "scope all-subnets: judged for any VM of the subnet, including a new VM without its own egress (instance "
    "public IP, load balancer outbound rule), which is blocked; the NICs in the stack (wnic) are reachable "
    "(scope windows-vm-subnets judges only those)"
)

# (case, the NIC's own settings, the VM or scale set, load balancers, the NIC's egress step)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[dict[str, Any]], str]] = [
    ("instance-public-ip", {"publicIp": True}, WIN_VM, [], PIP_EGRESS),
    ("lb-outbound-rule", {"backendPools": ["plb/pool"]}, WIN_VM, [PUBLIC_LB], LB_EGRESS),
    ("flexible-vmss-behind-lb", {"backendPools": ["plb/pool"]}, FLEX_VMSS, [PUBLIC_LB], LB_EGRESS),
]


def _subnet(scope: str, nic: dict[str, Any], vm: dict[str, Any], lbs: list[dict[str, Any]]) -> SubnetResult:
    data = network(
        subnet=PRIVATE,
        settings={"scope": scope},
        nics=[{"name": "wnic", "subnet": "V/S", "privateIp": "10.0.1.4", **nic}],
        vms=[vm],
        loadBalancers=lbs,
    )
    [found] = [s for s in analyze_data(data) if s.name == "V/S"]
    return found


@pytest.mark.parametrize(("nic", "vm", "lbs", "egress"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_windows_vm_scope_judges_the_vms_own_egress(
    nic: dict[str, Any], vm: dict[str, Any], lbs: list[dict[str, Any]], egress: str
) -> None:
    result = _subnet("windows-vm-subnets", nic, vm, lbs)
    assert result.verdict is Verdict.REACHABLE
    assert [(n.name, n.verdict) for n in result.nics] == [("wnic", Verdict.REACHABLE)]
    # The subnet's endpoints are its NICs' (so reports, diffs and JUnit agree with the verdict).
    assert {e.ip: e.verdict for e in result.endpoints} == dict.fromkeys(PUBLIC_KMS, Verdict.REACHABLE)
    assert [e.decisive.detail for e in result.endpoints if e.decisive] == [egress] * 3
    assert [n.detail for n in result.notes] == [BY_NICS]
    assert result.fixes == ()


@pytest.mark.parametrize(("nic", "vm", "lbs", "egress"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_all_subnets_keeps_a_vm_without_its_own_egress_and_says_so(
    nic: dict[str, Any], vm: dict[str, Any], lbs: list[dict[str, Any]], egress: str
) -> None:
    result = _subnet("all-subnets", nic, vm, lbs)
    assert result.verdict is Verdict.BLOCKED
    assert [e.decisive.detail for e in result.endpoints if e.decisive] == [PRIVATE_BLOCK] * 3
    assert [(n.name, n.verdict) for n in result.nics] == [("wnic", Verdict.REACHABLE)]
    assert [e.decisive.detail for e in result.nics[0].endpoints if e.decisive] == [egress] * 3
    assert [n.detail for n in result.notes] == [ALL_SUBNETS]
    assert [f.kind for f in result.fixes] == ["add-nat-gateway"]


def test_windows_vm_scope_still_blocks_a_nic_without_egress() -> None:
    """A Windows VM in a Standard public LB pool without an outbound rule has no outbound access."""
    lb = {**PUBLIC_LB, "outboundRules": []}
    result = _subnet("windows-vm-subnets", {"backendPools": ["plb/pool"]}, WIN_VM, [lb])
    assert result.verdict is Verdict.BLOCKED
    assert [e.decisive.detail for e in result.endpoints if e.decisive] == [
        "Internet next hop: the VM is in Standard public load balancer plb without an outbound rule, so the VM "
        "has no outbound access (docs/rules.md#explicit-outbound)"
    ] * 3
    assert [f.kind for f in result.fixes] == ["add-nat-gateway"]
    assert result.fixes_verified


def test_windows_vm_scope_judges_a_scale_set_without_nics_as_the_subnet() -> None:
    """A Windows scale set placed by subnet only has no NIC to judge: the subnet-level path stands
    for its VMs (a Flexible one has no default outbound access)."""
    vmss = {k: v for k, v in FLEX_VMSS.items() if k != "nics"}
    data = network(settings={"scope": "windows-vm-subnets"}, vms=[vmss])
    [result] = [s for s in analyze_data(data) if s.name == "V/S"]
    assert result.verdict is Verdict.BLOCKED
    assert result.nics == ()
    assert [e.decisive.detail for e in result.endpoints if e.decisive] == [
        "Flexible-orchestration scale sets never get default outbound access (docs/rules.md#explicit-outbound)"
    ] * 3
    assert result.notes == ()
