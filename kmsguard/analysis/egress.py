"""Outbound SNAT for the Internet next hop (§5): is the source an Azure public IP?

§5.3 order: NAT gateway, instance public IP, Standard public LB with outbound rules, Basic public LB;
any other Standard LB pool disables default outbound (O2, S4); a private subnet has none (O1);
otherwise the default outbound access IP.
"""

from __future__ import annotations

from kmsguard.analysis.fixes import nat_gateway_code
from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.match import Tri, canonical
from kmsguard.analysis.settings import Settings
from kmsguard.analysis.trace import Say, Sentence, StepKind
from kmsguard.analysis.verdict import Fix, Outcome, Step
from kmsguard.findings import Finding
from kmsguard.model import IpConfiguration, NetworkInterface, Subnet, Unknown


def nat_gateway_fix(subnet: Subnet) -> Fix:
    return Fix(
        "add-nat-gateway",
        subnet.origin.name,
        subnet.origin.urn,
        f"subnet {subnet.origin.name}: associate a NAT gateway with a public IP (explicit outbound; Windows "
        "activation needs it in a private subnet or behind a Standard load balancer, docs/rules.md#explicit-outbound)",
        nat_gateway_code(subnet.origin.name),
        {"subnet": subnet.key},
    )


def egress_step(
    index: NetworkIndex,
    subnet: Subnet,
    nic: NetworkInterface | None,
    ipc: IpConfiguration | None,
    settings: Settings,
    scale_set_flexible: Tri = Tri.NO,
) -> Step:
    network = index.network
    # The source as a trace hop, named as path.SourceContext names it.
    here = nic.key if nic is not None else subnet.key
    # Unknowns that could only add an Azure public egress (a NAT gateway, a public IP), and
    # unknowns that could take the default egress away (pools, defaultOutboundAccess).
    could_add: list[str] = []
    could_remove: list[str] = []
    nat = subnet.nat_gateway
    if isinstance(nat, str):
        known = network.nat_gateways.get(nat)
        name = known.origin.name if known else nat
        return Step(
            StepKind.EGRESS,
            Sentence(Say.EGRESS_NAT, subject=name),
            Outcome.PASS,
            known.origin.urn if known else subnet.origin.urn,
            hop=here,
        )
    if isinstance(nat, Unknown):
        could_add.append(f"whether subnet {subnet.origin.name} has a NAT gateway is unknown")
    if ipc is not None and nic is not None:
        if isinstance(ipc.public_ip, str):
            return Step(
                StepKind.EGRESS,
                Sentence(Say.EGRESS_PUBLIC_IP, subject=nic.origin.name),
                Outcome.PASS,
                nic.origin.urn,
                hop=here,
            )
        if isinstance(ipc.public_ip, Unknown):
            could_add.append(f"whether NIC {nic.origin.name} has a public IP is unknown")
        lb = _load_balancer_egress(index, ipc)
        if lb is not None:
            outcome, detail = lb
            if outcome is Outcome.PASS:
                return Step(
                    StepKind.EGRESS,
                    Sentence(Say.EGRESS_LOAD_BALANCER, reason=detail),
                    Outcome.PASS,
                    nic.origin.urn,
                    hop=here,
                )
            if outcome is Outcome.BLOCK:
                step = Step(
                    StepKind.EGRESS,
                    Sentence(Say.EGRESS_LOAD_BALANCER_NONE, reason=detail),
                    Outcome.BLOCK,
                    nic.origin.urn,
                    fix=nat_gateway_fix(subnet),
                    finding=Finding.NO_OUTBOUND,
                    hop=here,
                )
                return _settled(step, could_add, could_remove)
            if outcome is Outcome.UNKNOWN:
                could_remove.append(detail)
    access = subnet.default_outbound_access
    if access is None and settings.absent_default_outbound == "private":
        access = False
    if access is False:
        step = Step(
            StepKind.EGRESS,
            Sentence(Say.EGRESS_PRIVATE_SUBNET, subject=subnet.origin.name),
            Outcome.BLOCK,
            subnet.origin.urn,
            fix=nat_gateway_fix(subnet),
            finding=Finding.NO_OUTBOUND,
            hop=here,
        )
        return _settled(step, could_add, could_remove)
    if isinstance(access, Unknown):
        could_remove.append(f"defaultOutboundAccess of subnet {subnet.origin.name} unknown")
    if scale_set_flexible is Tri.MAYBE:
        could_remove.append(
            "the orchestration mode of a scale set here is unknown (Flexible ones get no default outbound, docs/rules.md#explicit-outbound)"
        )
    if scale_set_flexible is Tri.YES:
        step = Step(
            StepKind.EGRESS,
            Sentence(Say.EGRESS_FLEXIBLE),
            Outcome.BLOCK,
            subnet.origin.urn,
            fix=nat_gateway_fix(subnet),
            finding=Finding.NO_OUTBOUND,
            hop=here,
        )
        return _settled(step, could_add, could_remove)
    step = Step(
        StepKind.EGRESS,
        Sentence(Say.EGRESS_DEFAULT, subject=subnet.origin.name),
        Outcome.PASS,
        subnet.origin.urn,
        hop=here,
    )
    return _settled(step, could_add, could_remove)


def _settled(step: Step, could_add: list[str], could_remove: list[str]) -> Step:
    """A pass holds if no unknown could take egress away; a block holds if none could add one."""
    doubts = could_remove if step.outcome is Outcome.PASS else could_add + could_remove
    if not doubts:
        return step
    return Step(
        StepKind.EGRESS,
        Sentence(Say.EGRESS_DOUBTS, values=tuple(doubts), base=step.what),
        Outcome.UNKNOWN,
        step.urn,
        settle="make the outbound settings known at preview",
        finding=Finding.UNKNOWN_OUTBOUND,
        hop=step.hop,
    )


def _load_balancer_egress(index: NetworkIndex, ipc: IpConfiguration) -> tuple[Outcome, str] | None:
    pools = ipc.backend_pools
    if isinstance(pools, Unknown):
        return Outcome.UNKNOWN, "the NIC's load balancer backend pools are unknown"
    if not pools:
        return None
    results: list[tuple[Outcome, str]] = []
    for ref in pools:
        found = index.backend_pools.get(ref) if isinstance(ref, str) else None
        if found is None:
            results.append(
                (Outcome.UNKNOWN, f"load balancer backend pool {ref} unknown or outside the stack")
            )
            continue
        lb, pool = found
        sku = canonical(lb.sku) if isinstance(lb.sku, str) else None
        if sku is None or not isinstance(lb.public, bool):
            results.append((Outcome.UNKNOWN, f"load balancer {lb.origin.name}: SKU or type unknown"))
        elif sku == "basic":
            results.append(
                (
                    Outcome.PASS if lb.public else Outcome.INFO,
                    f"Basic {'public' if lb.public else 'internal'} load balancer {lb.origin.name}",
                )
            )
        elif pool.by_ip_address is True:
            # O1 known issue: pools configured by IP address keep default outbound access.
            results.append(
                (Outcome.INFO, f"load balancer {lb.origin.name} pool {pool.name} is configured by IP address")
            )
        else:
            rules = lb.outbound_rule_pools
            if isinstance(rules, Unknown):
                results.append((Outcome.UNKNOWN, f"outbound rules of load balancer {lb.origin.name} unknown"))
            elif lb.public and pool.key in rules:
                results.append(
                    (Outcome.PASS, f"outbound rule of Standard public load balancer {lb.origin.name}")
                )
            else:
                kind = "public" if lb.public else "internal"
                results.append(
                    (
                        Outcome.BLOCK,
                        f"the VM is in Standard {kind} load balancer {lb.origin.name} without an outbound rule",
                    )
                )
    for wanted in (Outcome.PASS, Outcome.BLOCK, Outcome.UNKNOWN):
        for outcome, detail in results:
            if outcome is wanted:
                return outcome, detail
    return None
