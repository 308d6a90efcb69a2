"""Per-subnet verdicts: scope, cloud, endpoints, NICs, aggregation and verified fixes (DESIGN)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kmsguard.analysis import fixes as fixmod
from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.match import canonical, parse_prefix
from kmsguard.analysis.path import evaluate_endpoint
from kmsguard.analysis.settings import Settings
from kmsguard.analysis.source import build_source
from kmsguard.analysis.trace import Say, Sentence, StepKind
from kmsguard.analysis.verdict import (
    EndpointResult,
    Fix,
    NicResult,
    Outcome,
    Step,
    SubnetResult,
    Verdict,
    worst,
)
from kmsguard.catalog import Catalog, Cloud, Endpoint, load_catalog
from kmsguard.findings import Finding
from kmsguard.model import (
    Network,
    NetworkInterface,
    Origin,
    Problem,
    Subnet,
    Unknown,
    VirtualMachine,
    VirtualNetwork,
)

# DESIGN: special-purpose subnets are excluded from the KMS question.
SPECIAL_SUBNETS = {
    "gatewaysubnet": "GatewaySubnet",
    "azurefirewallsubnet": "AzureFirewallSubnet",
    "azurefirewallmanagementsubnet": "AzureFirewallManagementSubnet",
    "azurebastionsubnet": "AzureBastionSubnet",
    "routeserversubnet": "RouteServerSubnet",
}

MAX_REPAIR_ROUNDS = 6


@dataclass(frozen=True)
class NetworkResult:
    subnets: tuple[SubnetResult, ...]
    problems: tuple[Problem, ...]

    @property
    def verdict(self) -> Verdict:
        return worst(s.verdict for s in self.subnets if s.verdict is not Verdict.EXCLUDED)


def analyze(
    network: Network, settings: Settings | None = None, catalog: Catalog | None = None
) -> NetworkResult:
    settings = settings or Settings()
    catalog = catalog or load_catalog()
    index = NetworkIndex.build(network)
    results = [analyze_subnet(index, subnet, settings, catalog) for subnet in network.subnets.values()]
    attached = {s.route_table for s in network.subnets.values() if isinstance(s.route_table, str)}
    for table in network.route_tables.values():
        if table.key not in attached:
            results.append(_unattached_table(index, table.key, settings, catalog))
    return NetworkResult(tuple(results), network.problems)


def _unattached_table(
    index: NetworkIndex, table_key: str, settings: Settings, catalog: Catalog
) -> SubnetResult:
    """DESIGN: a route table with no subnet in the stack is evaluated as if attached to a subnet of
    its location (in a VNet with Azure DNS and no NSG), so its own routes are judged."""
    table = index.network.route_tables[table_key]
    vnet_key = f"{table_key}#vnet"
    vnet = VirtualNetwork(vnet_key, Origin(f"(a VNet in {table.location})"), table.location, ())
    subnet = Subnet(
        f"{table_key}#subnet",
        Origin(f"{table.origin.name} (not attached in this stack)", table.origin.urn, "RouteTable"),
        "(any)",
        vnet_key,
        (),
        route_table=table_key,
    )
    network = dataclasses.replace(
        index.network,
        vnets={**index.network.vnets, vnet_key: vnet},
        subnets={**index.network.subnets, subnet.key: subnet},
    )
    return analyze_subnet(index.with_subnet(network, vnet, subnet), subnet, settings, catalog)


def exclusion(index: NetworkIndex, subnet: Subnet, settings: Settings) -> str:
    name = subnet.subnet_name
    if isinstance(name, str) and canonical(name) in SPECIAL_SUBNETS:
        return f"{SPECIAL_SUBNETS[canonical(name)]} is a special-purpose subnet"
    if (
        isinstance(subnet.delegations, tuple)
        and any(isinstance(d, str) for d in subnet.delegations)
        and subnet.delegations
    ):
        names = ", ".join(d for d in subnet.delegations if isinstance(d, str))
        return f"delegated subnet ({names}): outbound is managed by the service"
    if subnet.origin.name in settings.exclude_subnets or subnet.key in settings.exclude_subnets:
        return "excluded by config (excludeSubnets)"
    if settings.scope == "windows-vm-subnets" and subnet.key not in index.windows_subnets:
        return "no Windows VM in this subnet in the stack (scope: windows-vm-subnets)"
    return ""


def cloud_for(
    subnet: Subnet, vnet: VirtualNetwork | None, settings: Settings, catalog: Catalog
) -> tuple[Cloud | None, str, Step | None]:
    """§1.3: the cloud of the subnet's location, or the configured override."""
    location = vnet.location if vnet is not None else None
    loc_text = location if isinstance(location, str) else ""
    if settings.cloud:
        return catalog.cloud(settings.cloud), loc_text, None
    if vnet is None:
        return (
            None,
            "",
            Step(
                StepKind.CLOUD,
                Sentence(Say.CLOUD_VNET_UNKNOWN, subject=subnet.origin.name),
                Outcome.UNKNOWN,
                subnet.origin.urn,
                settle="declare the VNet in the stack or set the cloud in config",
                finding=Finding.UNKNOWN_CLOUD,
                hop=_hop(subnet),
            ),
        )
    if not isinstance(location, str) or not location.strip():
        why = location.why if isinstance(location, Unknown) else "missing"
        return (
            None,
            "",
            Step(
                StepKind.CLOUD,
                Sentence(Say.CLOUD_LOCATION_UNKNOWN, subject=vnet.origin.name, reason=why),
                Outcome.UNKNOWN,
                vnet.origin.urn,
                settle="set the location explicitly, or set the cloud in config",
                finding=Finding.UNKNOWN_CLOUD,
                hop=_hop(subnet),
            ),
        )
    name = catalog.cloud_of_location(location)
    if name is None:
        note = (
            catalog.location_note(location) or "the KMS endpoints of this location's cloud are not documented"
        )
        return (
            None,
            location,
            Step(
                StepKind.CLOUD,
                Sentence(Say.CLOUD_LOCATION_UNMAPPED, subject=location, reason=note),
                Outcome.UNKNOWN,
                vnet.origin.urn,
                settle="set the cloud and extraEndpoints in config",
                finding=Finding.UNKNOWN_CLOUD,
                hop=_hop(subnet),
            ),
        )
    return catalog.cloud(name), location, None


def endpoints_for(cloud: Cloud, settings: Settings) -> tuple[Endpoint, ...]:
    extra = tuple(
        e
        for e in settings.extra_endpoints
        if e.cloud == cloud.name and (e.fqdn, e.ip) not in {(x.fqdn, x.ip) for x in cloud.endpoints}
    )
    return cloud.endpoints + extra


def analyze_subnet(index: NetworkIndex, subnet: Subnet, settings: Settings, catalog: Catalog) -> SubnetResult:
    network = index.network
    vnet = network.vnets.get(subnet.vnet) if isinstance(subnet.vnet, str) else None
    vnet_name = (
        vnet.origin.name if vnet is not None else (subnet.vnet if isinstance(subnet.vnet, str) else "")
    )

    def result(location: str, cloud: str, verdict: Verdict, **rest: Any) -> SubnetResult:
        return SubnetResult(
            subnet.key, subnet.origin.name, subnet.origin.urn, vnet_name, location, cloud, verdict, **rest
        )

    reason = exclusion(index, subnet, settings)
    if reason:
        loc = vnet.location if vnet is not None and isinstance(vnet.location, str) else ""
        excluded = Step(StepKind.SCOPE, Sentence(Say.SCOPE_EXCLUDED, reason=reason), hop=_hop(subnet))
        return result(loc, "", Verdict.EXCLUDED, notes=(excluded,))
    cloud, location, cloud_step = cloud_for(subnet, vnet, settings, catalog)
    if cloud is None:
        assert cloud_step is not None
        return result(location, "", Verdict.UNKNOWN, notes=(cloud_step,))
    endpoints, nics = _evaluate(index, subnet, cloud, settings)
    by_nics = _judged_by_nics(index, subnet, settings, nics)
    scope_notes = _scope_notes(settings, endpoints, nics, by_nics, _hop(subnet))
    if by_nics:
        # The subnet-level source stands for "any VM of the subnet", including one without its own
        # egress; with scope windows-vm-subnets only the Windows VMs in the stack count, and each
        # leaves through its own NIC (instance public IP, load balancer outbound rule, scale set).
        endpoints = _worst_per_endpoint(nics)
    verdict = worst([*(e.verdict for e in endpoints), *(n.verdict for n in nics)])
    notes = _notes(index, subnet, cloud, location) + scope_notes
    fixes: tuple[Fix, ...] = ()
    verified = False
    if verdict is Verdict.BLOCKED:
        fixes, verified = _repair(index, subnet, cloud, settings, endpoints, nics, by_nics)
    return result(
        location,
        cloud.name,
        verdict,
        endpoints=endpoints,
        nics=nics,
        fixes=fixes,
        notes=notes,
        fixes_verified=verified,
    )


def _hop(subnet: Subnet) -> str:
    """The subnet as a trace hop (see ``Step.hop``)."""
    return subnet.key


def _notes(index: NetworkIndex, subnet: Subnet, cloud: Cloud, location: str) -> tuple[Step, ...]:
    notes = []
    if cloud.closed:
        notes.append(
            Step(StepKind.CLOUD, Sentence(Say.CLOUD_CLOSED, subject=cloud.display_name), hop=_hop(subnet))
        )
    note = index and location and load_catalog().location_note(location)
    if note:
        notes.append(
            Step(StepKind.CLOUD, Sentence(Say.LOCATION_NOTE, subject=location, reason=note), hop=_hop(subnet))
        )
    return tuple(notes)


_RANK = {Verdict.REACHABLE: 0, Verdict.UNKNOWN: 1, Verdict.BLOCKED: 2}


def _judged_by_nics(
    index: NetworkIndex, subnet: Subnet, settings: Settings, nics: tuple[NicResult, ...]
) -> bool:
    """DESIGN scope ``windows-vm-subnets``: the subnet is in scope for its Windows VMs, so their own
    NICs decide it, unless a Windows VM without an evaluated NIC may be here (a scale set placed by
    subnet only, a VM whose NICs are unknown or outside the stack): that one is judged as a VM
    without its own egress, the subnet-level source."""
    if settings.scope != "windows-vm-subnets" or not nics:
        return False
    # A Windows NIC that only may be here (its subnet unknown at preview) is judged "if it is here",
    # which never proves a VM of this subnet reachable: the subnet's own path still counts then.
    if any(_windows_nic(index, nic.key) for nic, _ in _nics_maybe_here(index, subnet)):
        return False
    placed_only, anywhere = _windows_without_nics(index)
    return not anywhere and subnet.key not in placed_only


def _windows_without_nics(index: NetworkIndex) -> tuple[frozenset[str], bool]:
    """(subnets holding a maybe-Windows VM none of whose NICs is known there, whether such a VM may
    be anywhere). Computed once per index: it reads every VM."""
    memo = index.cache("windows-without-nics")
    found = memo.get("")
    if found is None:
        network = index.network
        subnets: set[str] = set()
        anywhere = False
        for vm in network.vms.values():
            if not _maybe_windows(vm):
                continue
            placed: set[str] = set()
            if isinstance(vm.nics, Unknown):
                anywhere = True
            else:
                for ref in vm.nics:
                    nic = network.nics.get(ref) if isinstance(ref, str) else None
                    if nic is None or isinstance(nic.ip_configurations, Unknown):
                        anywhere = True
                        continue
                    # An IP configuration whose subnet is unknown is evaluated in every subnet it
                    # may be in (_nics_maybe_here), so it needs no stand-in.
                    placed.update(ipc.subnet for ipc in nic.ip_configurations if isinstance(ipc.subnet, str))
            subnets.update(s for s in network.vm_subnets.get(vm.key, ()) if s not in placed)
        found = memo[""] = (frozenset(subnets), anywhere)
    assert isinstance(found, tuple)
    return found


def _worst_per_endpoint(nics: tuple[NicResult, ...]) -> tuple[EndpointResult, ...]:
    """Per KMS endpoint, the first NIC result with the worst verdict: the subnet's endpoints then
    agree with its verdict, and their traces name the NIC that decides."""
    return tuple(
        max(column, key=lambda r: _RANK[r.verdict])
        for column in zip(*(n.endpoints for n in nics), strict=True)
    )


def _scope_notes(
    settings: Settings,
    endpoints: tuple[EndpointResult, ...],
    nics: tuple[NicResult, ...],
    by_nics: bool,
    hop: str,
) -> tuple[Step, ...]:
    """Say which source decides the subnet when its own path and its VMs' NICs disagree."""
    if not nics:
        return ()
    names = ", ".join(dict.fromkeys(n.name for n in nics))
    if by_nics:
        return (Step(StepKind.SCOPE, Sentence(Say.SCOPE_BY_NICS, subject=names), hop=hop),)
    if settings.scope == "windows-vm-subnets":
        return (Step(StepKind.SCOPE, Sentence(Say.SCOPE_NICS_UNSEEN), hop=hop),)
    own = worst(e.verdict for e in endpoints)
    theirs = worst(n.verdict for n in nics)
    if _RANK[own] <= _RANK[theirs]:
        return ()
    return (
        Step(
            StepKind.SCOPE,
            Sentence(Say.SCOPE_ALL_SUBNETS, subject=names, values=(str(own), str(theirs))),
            hop=hop,
        ),
    )


def _windows_nic(index: NetworkIndex, nic_key: str) -> bool:
    vms = index.vms_by_nic.get(nic_key, ())
    return not vms or any(_maybe_windows(vm) for vm in vms)


def _maybe_windows(vm: VirtualMachine) -> bool:
    return not (isinstance(vm.os_type, str) and vm.os_type.lower() == "linux")


def _evaluate(
    index: NetworkIndex, subnet: Subnet, cloud: Cloud, settings: Settings
) -> tuple[tuple[EndpointResult, ...], tuple[NicResult, ...]]:
    eps = endpoints_for(cloud, settings)
    base = build_source(index, settings, cloud, subnet)
    endpoints = tuple(evaluate_endpoint(base, e) for e in eps)
    nics = []
    candidates = [(nic, i, True) for nic, i in index.nics_by_subnet.get(subnet.key, ())]
    candidates += [(nic, i, False) for nic, i in _nics_maybe_here(index, subnet)]
    for nic, i, certain in candidates:
        if not _windows_nic(index, nic.key):
            continue
        ipcs = nic.ip_configurations
        assert not isinstance(ipcs, Unknown)
        ctx = build_source(index, settings, cloud, subnet, nic, ipcs[i])
        results = tuple(evaluate_endpoint(ctx, e) for e in eps)
        if not certain:
            results = tuple(_if_here(r, nic.origin.name) for r in results)
        nics.append(NicResult(nic.origin.name, nic.origin.urn, worst(r.verdict for r in results), results))
    return endpoints, tuple(nics)


def _nics_maybe_here(index: NetworkIndex, subnet: Subnet) -> list[tuple[NetworkInterface, int]]:
    """IP configurations whose subnet is unknown and that may be in ``subnet``: unknown is never a
    pass, so they count here too, unless their VNet is known and another (a NIC on a VNet with several
    subnets at preview) or a private IP outside the subnet's prefixes rules it out."""
    prefixes = None
    if not isinstance(subnet.address_prefixes, Unknown):
        parsed = [parse_prefix(p) if isinstance(p, str) else None for p in subnet.address_prefixes]
        if parsed and all(p is not None for p in parsed):
            prefixes = [p for p in parsed if p is not None]
    out = []
    for nic, i in index.nics_subnet_unknown:
        ipc = nic.ip_configurations[i]  # type: ignore[index]
        if isinstance(ipc.vnet, str) and isinstance(subnet.vnet, str) and ipc.vnet != subnet.vnet:
            continue
        ip = parse_prefix(ipc.private_ip) if isinstance(ipc.private_ip, str) else None
        if ip is not None and prefixes is not None and not any(ip.subnet_of(p) for p in prefixes):
            continue
        out.append((nic, i))
    return out


def _if_here(result: EndpointResult, nic_name: str) -> EndpointResult:
    """A NIC that may be in another subnet does not block this one for sure: its blocks are unknown."""
    if result.verdict is not Verdict.BLOCKED:
        return result
    trace = tuple(
        dataclasses.replace(
            s,
            what=Sentence(Say.IF_NIC_HERE, subject=nic_name, base=s.what),
            outcome=Outcome.UNKNOWN,
            settle="make the NIC's subnet known",
        )
        if s.outcome is Outcome.BLOCK
        else s
        for s in result.trace
    )
    return dataclasses.replace(result, verdict=Verdict.UNKNOWN, trace=trace)


def _blocking_fixes(results: Iterable[EndpointResult]) -> list[Fix]:
    out = []
    for r in results:
        for step in r.trace:
            if step.outcome is Outcome.BLOCK and step.fix is not None:
                out.append(step.fix)
    return out


def _repair(
    index: NetworkIndex,
    subnet: Subnet,
    cloud: Cloud,
    settings: Settings,
    endpoints: tuple[EndpointResult, ...],
    nics: tuple[NicResult, ...],
    by_nics: bool = False,
) -> tuple[tuple[Fix, ...], bool]:
    """Every change needed, not only the first (Tiros "blocked path"): apply the fixes of the
    blocking steps to a copy of the model, analyse again, and repeat until nothing blocks. The fix
    list is then known to be sufficient when the final verdict is reachable."""
    applied: list[Fix] = []
    network = index.network
    current = [*endpoints, *(r for n in nics for r in n.endpoints)]
    verdict = Verdict.BLOCKED
    repaired_index = index
    for _ in range(MAX_REPAIR_ROUNDS):
        new = [f for f in fixmod.merge(_blocking_fixes(current)) if f not in applied]
        if not new:
            break
        applied.extend(new)
        network = fixmod.apply(network, new)
        repaired_index = repaired_index.derive(network)
        repaired_subnet = network.subnets[subnet.key]
        eps, nic_results = _evaluate(repaired_index, repaired_subnet, cloud, settings)
        # Judged by its NICs (scope windows-vm-subnets), the subnet-level source does not count.
        current = [*(() if by_nics else eps), *(r for n in nic_results for r in n.endpoints)]
        verdict = worst(r.verdict for r in current)
        if verdict is not Verdict.BLOCKED:
            break
    return fixmod.merge(applied), verdict is Verdict.REACHABLE
