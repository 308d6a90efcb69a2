"""Name resolution of the KMS FQDNs from a subnet or NIC (§7).

Which resolver a VM uses (§7.1): the NIC's DNS servers, else the VNet's, else Azure-provided DNS.
Azure DNS answers from private zones linked to the VNet first, and a zone whose name is a suffix of
the KMS name answers for it authoritatively, NXDOMAIN included (§7.2 R7.2). Forwarding rulesets
linked to the VNet send matching names elsewhere, except that the wildcard rule ignores domains
reserved for Azure such as windows.net (§7.3). A custom DNS server is a black box (R7.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kmsguard.analysis.fixes import dns_record_code
from kmsguard.analysis.index import NetworkIndex
from kmsguard.analysis.match import canonical
from kmsguard.analysis.settings import Settings
from kmsguard.analysis.trace import RuleKind, RuleRef, Say, Sentence, StepKind, ZoneRef
from kmsguard.analysis.verdict import Fix, Outcome, Step
from kmsguard.catalog import Cloud
from kmsguard.findings import Finding
from kmsguard.model import (
    DnsForwardingRuleset,
    NetworkInterface,
    PrivateDnsZone,
    Ref,
    Unknown,
    VirtualNetwork,
)

AZURE_DNS_IP = "168.63.129.16"


@dataclass(frozen=True, slots=True)
class Resolver:
    """Who answers the VM's queries: Azure DNS for a VNet, or named custom servers."""

    azure_vnet: Ref | None  # Azure DNS as seen from this VNet (its zone links and rulesets)
    custom: tuple[str, ...] = ()
    origin: str = ""
    urn: str | None = None
    unknown: str = ""  # why the resolver itself is unknown


def resolver_for(
    index: NetworkIndex, vnet: VirtualNetwork | None, vnet_ref: object, nic: NetworkInterface | None
) -> Resolver:
    """§7.1: NIC DNS servers override the VNet's; empty means inherit; AzureProvidedDNS resets."""
    if nic is not None and nic.dns_servers is not None:
        servers = nic.dns_servers
        if isinstance(servers, Unknown) or any(isinstance(s, Unknown) for s in servers):
            return Resolver(
                None,
                origin=f"NIC {nic.origin.name} dnsSettings",
                urn=nic.origin.urn,
                unknown="NIC DNS servers unknown",
            )
        names = tuple(s for s in servers if isinstance(s, str))
        if names:
            if [canonical(n) for n in names] == ["azureprovideddns"]:
                return _azure(
                    vnet_ref, f"NIC {nic.origin.name} dnsSettings: AzureProvidedDNS", nic.origin.urn
                )
            return Resolver(None, names, f"NIC {nic.origin.name} dnsSettings.dnsServers", nic.origin.urn)
    if vnet is None:
        return Resolver(
            None, origin="virtual network", unknown="the subnet's VNet is unknown or outside the stack"
        )
    vnet_servers = vnet.dns_servers
    if isinstance(vnet_servers, Unknown) or (
        vnet_servers is not None and any(isinstance(s, Unknown) for s in vnet_servers)
    ):
        return Resolver(
            None,
            origin=f"VNet {vnet.origin.name} dhcpOptions",
            urn=vnet.origin.urn,
            unknown="VNet DNS servers unknown",
        )
    names = tuple(s for s in vnet_servers or () if isinstance(s, str))
    if names:
        return Resolver(None, names, f"VNet {vnet.origin.name} dhcpOptions.dnsServers", vnet.origin.urn)
    return _azure(vnet.key, f"VNet {vnet.origin.name} uses Azure-provided DNS", vnet.origin.urn)


def _azure(vnet_ref: object, origin: str, urn: str | None) -> Resolver:
    return Resolver(
        vnet_ref if isinstance(vnet_ref, str) else None,
        origin=origin,
        urn=urn,
        unknown="" if isinstance(vnet_ref, str) else "the VNet is unknown",
    )


def resolve(index: NetworkIndex, resolver: Resolver, fqdn: str, cloud: Cloud, settings: Settings) -> Step:
    """One DNS step for ``fqdn``: PASS when it resolves to KMS IPs of the cloud, BLOCK or UNKNOWN."""
    if resolver.unknown:
        return Step(
            StepKind.DNS,
            Sentence(Say.DNS_RESOLVER_UNKNOWN, subject=resolver.origin, fqdn=fqdn, reason=resolver.unknown),
            Outcome.UNKNOWN,
            resolver.urn,
            settle="make the DNS settings known at preview",
            finding=Finding.UNKNOWN_DNS,
        )
    if resolver.custom:
        return _custom(index, resolver, fqdn, cloud, settings)
    assert resolver.azure_vnet is not None
    return _azure_dns(index, resolver.azure_vnet, fqdn, cloud, settings, resolver.origin, resolver.urn)


def _custom(index: NetworkIndex, resolver: Resolver, fqdn: str, cloud: Cloud, settings: Settings) -> Step:
    servers = resolver.custom
    if all(s in settings.trusted_dns_servers for s in servers):
        return Step(
            StepKind.DNS,
            Sentence(Say.DNS_TRUSTED_SERVERS, subject=resolver.origin, fqdn=fqdn, values=tuple(servers)),
            Outcome.PASS,
            resolver.urn,
        )
    if all(s == AZURE_DNS_IP for s in servers):
        vnet = resolver.azure_vnet
        return (
            Step(
                StepKind.DNS,
                Sentence(Say.DNS_AZURE_DNS, subject=resolver.origin, ip=AZURE_DNS_IP),
                Outcome.INFO,
                resolver.urn,
            )
            if vnet is None
            else _azure_dns(index, vnet, fqdn, cloud, settings, resolver.origin, resolver.urn)
        )
    # An Azure Firewall DNS proxy forwards to Azure DNS from the firewall's VNet (§7.1, F5).
    firewalls = [index.firewall_by_ip.get(s) for s in servers]
    if all(f is not None for f in firewalls):
        steps = []
        for fw in firewalls:
            assert fw is not None
            proxy = firewall_dns_proxy(index, fw.key)
            if proxy is not True or not isinstance(fw.vnet, str):
                break
            custom = firewall_dns_servers(index, fw.key)
            if custom:
                if not all(s in settings.trusted_dns_servers for s in custom):
                    break
                steps.append(
                    Step(
                        StepKind.DNS,
                        Sentence(
                            Say.DNS_FIREWALL_PROXY,
                            subject=resolver.origin,
                            other=fw.origin.name,
                            values=tuple(custom),
                        ),
                        Outcome.PASS,
                        fw.origin.urn,
                    )
                )
                continue
            steps.append(
                _azure_dns(
                    index,
                    fw.vnet,
                    fqdn,
                    cloud,
                    settings,
                    f"{resolver.origin}: Azure Firewall {fw.origin.name} DNS proxy → Azure DNS of its VNet",
                    fw.origin.urn,
                )
            )
        else:
            return _worst_step(steps)
    untrusted = [s for s in servers if s not in settings.trusted_dns_servers]
    return Step(
        StepKind.DNS,
        Sentence(Say.DNS_CUSTOM, subject=resolver.origin, fqdn=fqdn, values=tuple(servers)),
        Outcome.UNKNOWN,
        resolver.urn,
        settle=f"add {', '.join(untrusted)} to trustedDnsServers if it forwards to Azure DNS (168.63.129.16) or public DNS",
        finding=Finding.UNKNOWN_DNS,
    )


def _worst_step(steps: Sequence[Step]) -> Step:
    for outcome in (Outcome.BLOCK, Outcome.UNKNOWN):
        for s in steps:
            if s.outcome is outcome:
                return s
    return steps[0]


def firewall_dns_proxy(index: NetworkIndex, fw_key: Ref) -> bool | None:
    """Whether the firewall's DNS proxy is on: its policy's (or a base policy's) setting, or classic."""
    fw = index.network.firewalls[fw_key]
    if fw.policy is None:
        return fw.dns_proxy if isinstance(fw.dns_proxy, bool) else (False if fw.dns_proxy is None else None)
    if not isinstance(fw.policy, str):
        return None
    seen: set[str] = set()
    ref: object = fw.policy
    while isinstance(ref, str) and ref not in seen:
        seen.add(ref)
        policy = index.network.firewall_policies.get(ref)
        if policy is None:
            return None
        if isinstance(policy.dns_proxy, bool):
            return policy.dns_proxy
        if isinstance(policy.dns_proxy, Unknown):
            return None
        ref = policy.base_policy
    return None if isinstance(ref, Unknown) else False


def firewall_dns_servers(index: NetworkIndex, fw_key: Ref) -> tuple[str, ...]:
    fw = index.network.firewalls[fw_key]
    policy = index.network.firewall_policies.get(fw.policy) if isinstance(fw.policy, str) else None
    if policy is None or not isinstance(policy.dns_servers, tuple):
        return ()
    return tuple(s for s in policy.dns_servers if isinstance(s, str))


def shadowing_zone(name: str, fqdn: str) -> bool:
    """R7.2 suffix rule: zone Z shadows n iff n == Z or n ends with "." + Z (case-insensitive)."""
    z = name.lower().rstrip(".")
    n = fqdn.lower().rstrip(".")
    return n == z or n.endswith("." + z)


def _azure_dns(
    index: NetworkIndex, vnet: Ref, fqdn: str, cloud: Cloud, settings: Settings, origin: str, urn: str | None
) -> Step:
    network = index.network
    candidates: list[tuple[PrivateDnsZone, bool]] = []
    unknown_zones: list[str] = []
    links = list(index.zone_links_by_vnet.get(vnet, ())) + list(index.zone_links_vnet_unknown)
    for link in links:
        certain = isinstance(link.vnet, str)
        zone = network.dns_zones.get(link.zone) if isinstance(link.zone, str) else None
        if zone is None:
            unknown_zones.append(
                f"the zone of link {link.origin.name} is {'unknown' if not isinstance(link.zone, str) else 'outside the stack'}"
            )
            continue
        if isinstance(zone.zone_name, Unknown) or zone.zone_name is None:
            unknown_zones.append(f"the name of private DNS zone {zone.origin.name} is unknown")
            continue
        if shadowing_zone(zone.zone_name, fqdn):
            candidates.append((zone, certain))
    rule_step = _ruleset(index, vnet, fqdn, cloud, settings)
    if candidates:
        zone, certain = max(candidates, key=lambda zc: len(str(zc[0].zone_name)))
        step = _zone_answer(zone, fqdn, cloud, vnet, network.vnets.get(vnet))
        if not certain and step.outcome is not Outcome.PASS:
            return Step(
                StepKind.DNS,
                Sentence(Say.DNS_ZONE_LINK_UNKNOWN, base=step.what),
                Outcome.UNKNOWN,
                step.urn,
                settle="make the zone link's virtualNetwork known at preview",
                finding=Finding.UNKNOWN_DNS,
            )
        if rule_step is not None and rule_step.outcome is not Outcome.PASS:
            # §7.3 UNCONFIRMED: precedence of a matching ruleset rule versus a linked private zone.
            return Step(
                StepKind.DNS,
                Sentence(Say.DNS_ZONE_OR_FORWARDING, fqdn=fqdn, base=step.what),
                Outcome.UNKNOWN,
                step.urn,
                settle="remove either the zone link or the forwarding rule",
                finding=Finding.UNKNOWN_DNS,
            )
        return step
    if unknown_zones:
        return Step(
            StepKind.DNS,
            Sentence(Say.DNS_ZONES_UNKNOWN, subject=origin, fqdn=fqdn, values=tuple(unknown_zones)),
            Outcome.UNKNOWN,
            urn,
            settle="make the private DNS zone names and links known at preview",
            finding=Finding.UNKNOWN_DNS,
        )
    if rule_step is not None:
        return rule_step
    return Step(StepKind.DNS, Sentence(Say.DNS_PUBLIC, subject=origin, fqdn=fqdn), Outcome.PASS, urn)


def _zone_answer(
    zone: PrivateDnsZone, fqdn: str, cloud: Cloud, vnet_ref: Ref, vnet: VirtualNetwork | None
) -> Step:
    zname = str(zone.zone_name).lower().rstrip(".")
    label = fqdn[: -len(zname)].rstrip(".") or "@"
    vname = vnet.origin.name if vnet else vnet_ref
    ref = ZoneRef(zname, vname, label)
    if isinstance(zone.records, Unknown):
        return Step(
            StepKind.DNS,
            Sentence(Say.ZONE_RECORDS_UNKNOWN, zone=ref, fqdn=fqdn),
            Outcome.UNKNOWN,
            zone.origin.urn,
            settle=f"make the record sets of {zname} known",
            finding=Finding.UNKNOWN_DNS,
        )
    records = [r for r in zone.records if r.name.lower().rstrip(".") == label.lower()]
    expected = cloud.resolution.get(fqdn, tuple(sorted(cloud.ips)))
    fix = Fix(
        "add-dns-records",
        zone.origin.name,
        zone.origin.urn,
        f"private DNS zone {zname}: add A record {label} → {', '.join(expected)} (or unlink the zone from VNet {vname})",
        dns_record_code(zname, zone.origin.name, label, expected, exists=bool(records)),
        {"zone": zone.key, "name": label, "ips": list(expected)},
    )
    if not records:
        return Step(
            StepKind.DNS,
            Sentence(Say.ZONE_NO_RECORD, zone=ref, fqdn=fqdn),
            Outcome.BLOCK,
            zone.origin.urn,
            fix=fix,
            finding=Finding.DNS_SHADOWED,
        )
    if any(canonical(r.type) == "cname" for r in records):
        return Step(
            StepKind.DNS,
            Sentence(Say.ZONE_CNAME, zone=ref),
            Outcome.UNKNOWN,
            zone.origin.urn,
            settle=f"use A records for {label} pointing at the KMS IPs",
            finding=Finding.UNKNOWN_DNS,
        )
    ips: list[str] = []
    for r in records:
        if canonical(r.type) != "a":
            continue
        if isinstance(r.values, Unknown) or any(isinstance(v, Unknown) for v in r.values):
            return Step(
                StepKind.DNS,
                Sentence(Say.ZONE_A_UNKNOWN, zone=ref),
                Outcome.UNKNOWN,
                zone.origin.urn,
                finding=Finding.UNKNOWN_DNS,
            )
        ips.extend(v for v in r.values if isinstance(v, str))
    if not ips:
        return Step(
            StepKind.DNS,
            Sentence(Say.ZONE_NO_A, zone=ref, fqdn=fqdn),
            Outcome.BLOCK,
            zone.origin.urn,
            fix=fix,
            finding=Finding.DNS_SHADOWED,
        )
    wrong = [ip for ip in ips if ip not in cloud.ips]
    if wrong:
        return Step(
            StepKind.DNS,
            Sentence(Say.ZONE_WRONG_IPS, zone=ref, subject=cloud.name, values=tuple(wrong)),
            Outcome.BLOCK,
            zone.origin.urn,
            fix=fix,
            finding=Finding.DNS_SHADOWED,
        )
    return Step(
        StepKind.DNS, Sentence(Say.ZONE_KMS_IPS, zone=ref, values=tuple(ips)), Outcome.PASS, zone.origin.urn
    )


def _ruleset(index: NetworkIndex, vnet: Ref, fqdn: str, cloud: Cloud, settings: Settings) -> Step | None:
    """§7.3: longest matching enabled rule; the wildcard ignores reserved Azure domains."""
    rulesets: list[tuple[DnsForwardingRuleset, bool]] = [
        (r, True) for r in index.rulesets_by_vnet.get(vnet, ())
    ]
    rulesets += [(r, False) for r in index.rulesets_vnet_unknown]
    best: tuple[int, RuleRef, tuple[str, ...], str | None, bool] | None = None
    uncertain: list[str] = []
    for ruleset, certain in rulesets:
        if isinstance(ruleset.rules, Unknown):
            uncertain.append(f"rules of forwarding ruleset {ruleset.origin.name} unknown")
            continue
        for rule in ruleset.rules:
            if rule.enabled is False:
                continue
            if not isinstance(rule.domain_name, str):
                uncertain.append(f"domain of forwarding rule {rule.name} unknown")
                continue
            domain = rule.domain_name.lower().rstrip(".")
            if domain == "":
                reserved = any(shadowing_zone(r, fqdn) for r in cloud.reserved_domains)
                if reserved:
                    continue  # D5: reserved domains are ignored by the wildcard rule.
                if not cloud.reserved_domains:
                    uncertain.append(
                        f"whether the wildcard rule {rule.name} applies to {fqdn} in the {cloud.name} cloud is not documented (docs/rules.md#dns-forwarding-rulesets)"
                    )
                    continue
            elif not shadowing_zone(domain, fqdn):
                continue
            targets = (
                tuple(t for t in rule.target_servers if isinstance(t, str))
                if not isinstance(rule.target_servers, Unknown)
                else ()
            )
            key = len(domain) if domain else 0
            if best is None or key > best[0]:
                best = (
                    key,
                    RuleRef(RuleKind.DNS_FORWARDING, ruleset.origin.name, rule.name, note=rule.domain_name),
                    targets,
                    ruleset.origin.urn,
                    certain and rule.enabled is True,
                )
    if best is None:
        if uncertain:
            return Step(
                StepKind.DNS,
                Sentence(Say.FORWARDING_UNCERTAIN, values=tuple(uncertain)),
                Outcome.UNKNOWN,
                settle="make the forwarding rules known",
                finding=Finding.UNKNOWN_DNS,
            )
        return None
    _, ref, targets, urn, certain = best
    if targets and all(t in settings.trusted_dns_servers for t in targets) and certain:
        return Step(
            StepKind.DNS,
            Sentence(Say.FORWARDING_TRUSTED, rule=ref, fqdn=fqdn, values=targets),
            Outcome.PASS,
            urn,
        )
    return Step(
        StepKind.DNS,
        Sentence(Say.FORWARDING_UNSEEN, rule=ref, fqdn=fqdn, values=targets),
        Outcome.UNKNOWN,
        urn,
        settle="add the target servers to trustedDnsServers if they resolve public names",
        finding=Finding.UNKNOWN_DNS,
    )
