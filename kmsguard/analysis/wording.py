"""The one place where trace data becomes text: every sentence of a trace, and how rules and routes
are named in them. The analysis decides and records (``trace``); reports and messages read the text
rendered here. tests/scenarios/golden/wording.txt pins the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kmsguard.analysis.trace import RouteRef, RuleKind, RuleRef, Say, Sentence, ZoneRef
from kmsguard.catalog import KMS_PORT

if TYPE_CHECKING:
    from kmsguard.analysis.verdict import Step


def render(step: Step) -> str:
    """The sentence of one trace step."""
    return sentence(step.what)


def rule_text(rule: RuleRef | None) -> str:
    if rule is None:
        return ""
    match rule.kind:
        case RuleKind.NSG:
            priority = str(rule.priority) if rule.priority is not None else "?"
            return f"NSG {rule.resource} rule {priority} {rule.rule}"
        case RuleKind.NSG_DEFAULT:
            return f"NSG {rule.resource} default rule {rule.priority} {rule.rule}"
        case RuleKind.ADMIN:
            return f"AVNM admin rule {rule.rule}" + (f" ({rule.note})" if rule.note else "")
        case RuleKind.FIREWALL_POLICY:
            return (
                f"firewall policy {rule.resource} rule collection group {rule.group} "
                f"collection {rule.collection} rule {rule.rule}"
            )
        case RuleKind.FIREWALL_CLASSIC:
            return f"firewall {rule.resource} network rule collection {rule.collection} rule {rule.rule}"
        case RuleKind.DNS_FORWARDING:
            return f"{rule.rule} ({rule.note})"


def route_text(route: RouteRef) -> str:
    hop = route.next_hop_type if route.next_hop_type is not None else "unknown next hop"
    if route.next_hop_ip is not None:
        hop += f" {route.next_hop_ip}"
    return f"{route.origin}: {route.prefix} → {hop}"


def _zone_head(zone: ZoneRef | None) -> str:
    assert zone is not None
    return f"private DNS zone {zone.zone} linked to VNet {zone.vnet}"


def _selected(s: Sentence) -> str:
    assert s.route is not None
    return f"{route_text(s.route)} (selected for {s.ip})"


def _list(s: Sentence) -> str:
    return ", ".join(s.values)


def _reasons(s: Sentence) -> str:
    return "; ".join(s.values)


def _label(s: Sentence) -> str:
    return s.zone.label if s.zone is not None else ""


def _base(s: Sentence) -> str:
    return sentence(s.base) if s.base is not None else ""


def _scope_all_subnets(s: Sentence) -> str:
    own, theirs = s.values
    return (
        f"scope all-subnets: judged for any VM of the subnet, including a new VM without its own egress "
        f"(instance public IP, load balancer outbound rule), which is {own}; the NICs in the stack ({s.subject}) "
        f"are {theirs} (scope windows-vm-subnets judges only those)"
    )


def _platform_rule_off(s: Sentence) -> str:
    route = route_text(s.route) if s.route is not None else "custom 0.0.0.0/0 route"
    return f"{route}: custom 0.0.0.0/0 route in effect, so the KMS platform rule is off and NSGs filter TCP {KMS_PORT} (docs/rules.md#nsg-platform-rule)"


def _nsg_lkm_maybe(s: Sentence) -> str:
    what = rule_text(s.rule) or f"NSG {s.subject}" + (f": {s.reason}" if s.reason else "")
    return f"{what}: may deny AzurePlatformLKM"


def _route_uncertain(s: Sentence) -> str:
    assert s.route is not None
    return f"route for {s.ip}: {route_text(s.route)} unless another route applies ({_reasons(s)})"


def _firewall_subnet_internet(s: Sentence) -> str:
    assert s.route is not None
    return f"AzureFirewallSubnet of {s.subject}: {route_text(s.route)}; SNAT to the firewall's public IP (docs/rules.md#firewall-snat)"


def _firewall_subnet_internet_unsnated(s: Sentence) -> str:
    assert s.route is not None
    return f"AzureFirewallSubnet of {s.subject}: {route_text(s.route)}; the source IP is not SNATed (see the SNAT step)"


def _firewall_subnet_forced(s: Sentence) -> str:
    assert s.route is not None
    return (
        f"AzureFirewallSubnet of {s.subject}: {route_text(s.route)}: the firewall forwards KMS traffic away "
        "from its public IP (forced tunneling, docs/rules.md#firewall-forced-tunneling)"
    )


def _firewall_subnet_unseen(s: Sentence) -> str:
    assert s.route is not None
    return f"AzureFirewallSubnet of {s.subject}: {route_text(s.route)}: where that next hop sends KMS traffic cannot be seen"


# One entry per ``Say``: a dict rather than a match, so that finding the words costs one lookup.
_SENTENCES: dict[Say, Callable[[Sentence], str]] = {
    # cloud and scope
    Say.CLOUD_VNET_UNKNOWN: lambda s: (
        f"the VNet of subnet {s.subject} is unknown or outside the stack, so its location and cloud are unknown"
    ),
    Say.CLOUD_LOCATION_UNKNOWN: lambda s: f"location of VNet {s.subject} is unknown ({s.reason})",
    Say.CLOUD_LOCATION_UNMAPPED: lambda s: (
        f"location {s.subject}: {s.reason} (docs/rules.md#location-to-cloud)"
    ),
    Say.CLOUD_CLOSED: lambda s: (
        f"{s.subject}: this cloud is closed; its KMS endpoint is kept for old templates (docs/rules.md#location-to-cloud)"
    ),
    Say.LOCATION_NOTE: lambda s: f"location {s.subject}: {s.reason}",
    Say.SCOPE_EXCLUDED: lambda s: s.reason,
    Say.SCOPE_BY_NICS: lambda s: (
        f"scope windows-vm-subnets: judged by the Windows VMs' own NICs ({s.subject}), each with its own egress "
        "(instance public IP, load balancer outbound rule, scale set); a VM added later without its own "
        "egress is not judged"
    ),
    Say.SCOPE_NICS_UNSEEN: lambda s: (
        "scope windows-vm-subnets: a Windows VM whose NICs are not in the stack may be in this subnet, so it "
        "is also judged as a VM without its own egress"
    ),
    Say.SCOPE_ALL_SUBNETS: _scope_all_subnets,
    # DNS
    Say.DNS_RESOLVER_UNKNOWN: lambda s: f"{s.subject}: {s.reason}; cannot tell how {s.fqdn} resolves",
    Say.DNS_TRUSTED_SERVERS: lambda s: (
        f"{s.subject} {_list(s)}: trusted to resolve {s.fqdn} (config trustedDnsServers)"
    ),
    Say.DNS_AZURE_DNS: lambda s: f"{s.subject}: {s.ip} is Azure DNS",
    Say.DNS_FIREWALL_PROXY: lambda s: (
        f"{s.subject}: Azure Firewall {s.other} DNS proxy forwards to trusted servers {_list(s)}"
    ),
    Say.DNS_CUSTOM: lambda s: (
        f"{s.subject} {_list(s)}: custom DNS; whether it resolves {s.fqdn} to the KMS IPs cannot be seen (docs/rules.md#custom-dns)"
    ),
    Say.DNS_ZONE_LINK_UNKNOWN: lambda s: f"{_base(s)}; whether the zone is linked to this VNet is unknown",
    Say.DNS_ZONE_OR_FORWARDING: lambda s: (
        f"{_base(s)}; a forwarding rule also matches {s.fqdn} and which one wins is not documented (docs/rules.md#dns-forwarding-rulesets)"
    ),
    Say.DNS_ZONES_UNKNOWN: lambda s: f"{s.subject}: {_reasons(s)}; it may shadow {s.fqdn}",
    Say.DNS_PUBLIC: lambda s: f"{s.subject}: {s.fqdn} resolves to its public KMS IPs",
    Say.ZONE_RECORDS_UNKNOWN: lambda s: (
        f"{_zone_head(s.zone)} answers for {s.fqdn}, but its records are unknown"
    ),
    Say.ZONE_NO_RECORD: lambda s: (
        f"{_zone_head(s.zone)} has no record {_label(s)}: {s.fqdn} is NXDOMAIN (no fallback for non-privatelink zones, docs/rules.md#private-dns-zones)"
    ),
    Say.ZONE_CNAME: lambda s: f"{_zone_head(s.zone)}: {_label(s)} is a CNAME; where it leads is not modelled",
    Say.ZONE_A_UNKNOWN: lambda s: f"{_zone_head(s.zone)}: the A record {_label(s)} has unknown addresses",
    Say.ZONE_NO_A: lambda s: f"{_zone_head(s.zone)} has no A record {_label(s)}: {s.fqdn} does not resolve",
    Say.ZONE_WRONG_IPS: lambda s: (
        f"{_zone_head(s.zone)}: {_label(s)} resolves to {_list(s)}, not a KMS IP of the {s.subject} cloud"
    ),
    Say.ZONE_KMS_IPS: lambda s: f"{_zone_head(s.zone)}: {_label(s)} → {_list(s)} (KMS IPs)",
    Say.FORWARDING_UNCERTAIN: lambda s: _reasons(s),
    Say.FORWARDING_TRUSTED: lambda s: (
        f"forwarding rule {rule_text(s.rule)} sends {s.fqdn} to trusted servers {_list(s)}"
    ),
    Say.FORWARDING_UNSEEN: lambda s: (
        f"forwarding rule {rule_text(s.rule)} sends {s.fqdn} to {_list(s) or 'unknown servers'}; what they answer cannot "
        "be seen (docs/rules.md#dns-forwarding-rulesets)"
    ),
    # AVNM admin rules and NSGs
    Say.ADMIN_ALWAYS_ALLOW: lambda s: (
        f"{rule_text(s.rule)}: AlwaysAllow; NSGs are not evaluated (docs/rules.md#admin-rules)"
    ),
    Say.ADMIN_DENY: lambda s: f"{rule_text(s.rule)}: denied (docs/rules.md#admin-rules)",
    Say.ADMIN_DENY_UNDOCUMENTED: lambda s: (
        f"{rule_text(s.rule)}: Deny; how an admin Deny interacts with the KMS platform rule is not documented (docs/rules.md#admin-rules)"
    ),
    Say.ADMIN_ALLOW: lambda s: (
        f"{rule_text(s.rule)}: Allow; evaluation continues with the NSGs (docs/rules.md#admin-rules)"
    ),
    Say.ADMIN_NO_MATCH: lambda s: f"no AVNM admin rule matches TCP {KMS_PORT}",
    Say.ADMIN_UNKNOWN: lambda s: f"AVNM admin rules: outcome unknown ({_reasons(s)})",
    Say.MAY_BE_BYPASSED: lambda s: f"{_base(s)} (an AVNM AlwaysAllow rule may bypass this)",
    Say.PLATFORM_RULE_MOOT: lambda s: (
        f"whether the KMS platform rule applies is unknown ({s.reason}); the NSG outcome is the same either way"
    ),
    Say.PLATFORM_RULE_DECIDES: lambda s: (
        f"NSGs decide TCP {KMS_PORT} differently with and without the KMS platform rule, and whether it applies is unknown ({s.reason})"
    ),
    Say.PLATFORM_RULE_OFF: _platform_rule_off,
    Say.PLATFORM_RULE_ON: lambda s: (
        f"KMS platform rule: no custom 0.0.0.0/0 route is in effect, so NSGs do not filter TCP {KMS_PORT} to the KMS IPs (docs/rules.md#nsg-platform-rule)"
    ),
    Say.NSG_NONE: lambda s: "no NSG on the NIC or the subnet: nothing filters the flow",
    Say.NSG_MISSING: lambda s: f"{s.reason}; cannot tell whether it allows TCP {KMS_PORT}",
    Say.NSG_DENY: lambda s: f"{rule_text(s.rule)}: denied",
    Say.NSG_ALLOW: lambda s: f"{rule_text(s.rule)}: allowed",
    Say.NSG_UNDECIDED: lambda s: (
        f"NSG {s.subject}: cannot tell whether TCP {KMS_PORT} to {s.ip} is allowed ({_reasons(s) or 'rules unknown'})"
    ),
    Say.NSG_MISSING_LKM: lambda s: f"{s.reason}; it may deny AzurePlatformLKM",
    Say.NSG_LKM_DENY: lambda s: (
        f"{rule_text(s.rule)}: Deny to AzurePlatformLKM overrides the KMS platform rule (docs/rules.md#nsg-platform-rule)"
    ),
    Say.NSG_LKM_MAYBE: _nsg_lkm_maybe,
    # routes and next hops
    Say.ROUTE_UNCERTAIN: _route_uncertain,
    Say.ROUTE_SELECTED: lambda s: _selected(s),
    Say.ROUTE_HOP_UNKNOWN: lambda s: f"{_selected(s)}: next hop unknown ({s.reason})",
    Say.ROUTE_DROP: lambda s: (
        f"{_selected(s)}: next hop None drops the traffic (docs/rules.md#user-defined-routes)"
    ),
    Say.ROUTE_VNET: lambda s: (
        f"{_selected(s)}: the KMS IP is routed inside the virtual network and never reaches KMS"
    ),
    Say.ROUTE_GATEWAY: lambda s: (
        f"{_selected(s)}: traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP (docs/rules.md#azure-public-source)"
    ),
    Say.ROUTE_UNEXPECTED: lambda s: f"{_selected(s)}: unexpected next hop",
    Say.ROUTE_TO_FIREWALL: lambda s: f"{_selected(s)} (Azure Firewall {s.other})",
    Say.ROUTE_APPLIANCE_OUTSIDE: lambda s: f"{_selected(s)}: the appliance {s.other} is outside the stack",
    Say.ROUTE_APPLIANCE_UNKNOWN: lambda s: f"{_selected(s)}: the appliance is unknown ({s.reason})",
    Say.ROUTE_NEXT_HOP_IP_UNKNOWN: lambda s: (
        f"{_selected(s)}: next hop IP unknown at preview and not traced to an Azure Firewall ({s.reason})"
    ),
    Say.ROUTE_NO_NEXT_HOP_IP: lambda s: (
        f"{_selected(s)}: VirtualAppliance route without nextHopIpAddress (invalid, docs/rules.md#user-defined-routes)"
    ),
    Say.ROUTE_ONPREM_APPLIANCE: lambda s: (
        f"{_selected(s)}: appliance {s.other} forwards Internet traffic on-premises (config egressAppliances), "
        "so KMS sees a non-Azure source IP (docs/rules.md#third-party-appliances)"
    ),
    Say.ROUTE_THIRD_PARTY: lambda s: (
        f"{_selected(s)}: third-party appliance {s.other}; what it does with KMS traffic cannot be seen (docs/rules.md#third-party-appliances)"
    ),
    Say.APPLIANCE_DECLARED: lambda s: (
        f"appliance {s.subject} is declared in egressAppliances: it SNATs to an Azure public IP and allows TCP {KMS_PORT} (config)"
    ),
    Say.INVALID_ROUTE: lambda s: s.reason,
    # Azure Firewall
    Say.FIREWALL_ALLOW: lambda s: f"{rule_text(s.rule)}: TCP {KMS_PORT} to {s.ip} allowed",
    Say.FIREWALL_DENY: lambda s: (
        f"{rule_text(s.rule)}: TCP {KMS_PORT} to {s.ip} denied" + "".join(f"; {v}" for v in s.values)
    ),
    Say.FIREWALL_DEFAULT_DENY: lambda s: (
        f"Azure Firewall {s.subject}: no network rule allows TCP {KMS_PORT} to {s.ip}, so the default deny "
        "drops it (docs/rules.md#firewall-default-deny)" + "".join(f"; {v}" for v in s.values)
    ),
    Say.FIREWALL_UNDECIDED: lambda s: (
        f"Azure Firewall {s.subject}: cannot tell whether TCP {KMS_PORT} to {s.ip} is allowed ({s.reason})"
    ),
    Say.SNAT_EXCLUDED: lambda s: (
        f"{s.subject} snat.privateRanges contains {_list(s)}, so {s.ip} is not SNATed to a public IP (docs/rules.md#firewall-snat)"
    ),
    Say.SNAT_UNCERTAIN: lambda s: f"{s.subject} snat.privateRanges {s.reason}",
    Say.FIREWALL_PIP_UNKNOWN: lambda s: (
        f"Azure Firewall {s.subject}: whether it has a data-path public IP is unknown"
    ),
    Say.FIREWALL_NO_PIP: lambda s: (
        f"Azure Firewall {s.subject} has no data-path public IP; direct egress is not documented (docs/rules.md#firewall-forced-tunneling)"
    ),
    Say.FIREWALL_VWAN: lambda s: (
        f"Virtual WAN hub firewall {s.subject} egresses from its public IPs (Direct Access, docs/rules.md#virtual-wan)"
    ),
    Say.FIREWALL_VNET_UNKNOWN: lambda s: f"the VNet of firewall {s.subject} is unknown ({s.reason})",
    Say.FIREWALL_SUBNET_MISSING: lambda s: (
        f"firewall {s.subject} is in forced-tunnel mode and its AzureFirewallSubnet routes are not in the stack"
    ),
    Say.FIREWALL_DIRECT: lambda s: (
        f"firewall {s.subject} (no management NIC) egresses to the Internet with SNAT to its public IP (docs/rules.md#firewall-snat)"
    ),
    Say.FIREWALL_DIRECT_UNSNATED: lambda s: (
        f"firewall {s.subject} (no management NIC) egresses to the Internet; the source IP is not SNATed (see the SNAT step)"
    ),
    Say.FIREWALL_SUBNET_UNCERTAIN: lambda s: (
        f"AzureFirewallSubnet of {s.subject}: route for {s.ip} uncertain ({_reasons(s)})"
    ),
    Say.FIREWALL_SUBNET_INTERNET: _firewall_subnet_internet,
    Say.FIREWALL_SUBNET_INTERNET_UNSNATED: _firewall_subnet_internet_unsnated,
    Say.FIREWALL_SUBNET_FORCED: _firewall_subnet_forced,
    Say.FIREWALL_SUBNET_UNSEEN: _firewall_subnet_unseen,
    # outbound
    Say.EGRESS_NAT: lambda s: f"Internet next hop: SNAT through NAT gateway {s.subject} (Azure public IP)",
    Say.EGRESS_PUBLIC_IP: lambda s: f"Internet next hop: NIC {s.subject} has an instance-level public IP",
    Say.EGRESS_LOAD_BALANCER: lambda s: f"Internet next hop: {s.reason}",
    Say.EGRESS_LOAD_BALANCER_NONE: lambda s: (
        f"Internet next hop: {s.reason}, so the VM has no outbound access (docs/rules.md#explicit-outbound)"
    ),
    Say.EGRESS_PRIVATE_SUBNET: lambda s: (
        f"subnet {s.subject} is private (defaultOutboundAccess: false) with no NAT gateway or public IP: "
        "Windows activation needs explicit outbound (docs/rules.md#explicit-outbound)"
    ),
    Say.EGRESS_FLEXIBLE: lambda s: (
        "Flexible-orchestration scale sets never get default outbound access (docs/rules.md#explicit-outbound)"
    ),
    Say.EGRESS_DEFAULT: lambda s: (
        f"Internet next hop: default outbound access of subnet {s.subject} (Azure public IP)"
    ),
    Say.EGRESS_DOUBTS: lambda s: f"{_base(s)}; but {_reasons(s)}",
    Say.IF_NIC_HERE: lambda s: f"{_base(s)} (if NIC {s.subject}, whose subnet is unknown, is in this subnet)",
}


def sentence(s: Sentence | str) -> str:
    """The text of a sentence; a plain string (a hand-built trace) is its own text."""
    if isinstance(s, str):
        return s
    return _SENTENCES[s.say](s)
