"""Unit tests of the trace as data: the renderer's cases, rule and route names, ``Step`` itself,
and the hop each step happens on."""

from __future__ import annotations

import pytest

from kmsguard.analysis import Finding, Outcome, Step, StepKind
from kmsguard.analysis.trace import RouteRef, RuleKind, RuleRef, Say, Sentence, ZoneRef
from kmsguard.analysis.wording import render, route_text, rule_text, sentence
from tests.robustness.estate import estate
from tests.robustness.support import in_process

from .network import network, subnet_result
from .test_semantics import run

NSG_RULE = RuleRef(RuleKind.NSG, "nsg-app", "deny-internet", 100, "Deny")
ADMIN = RuleRef(RuleKind.ADMIN, "", "kms-admin", 10, "Deny")
FW_RULE = RuleRef(RuleKind.FIREWALL_POLICY, "fwp", "allow-kms", 200, "Allow", group="rcg", collection="kms")
FWD = RuleRef(RuleKind.DNS_FORWARDING, "rs", "core", note="core.windows.net.")
UDR = RouteRef("route table rt route default", "0.0.0.0/0", "VirtualAppliance", "10.0.100.4", "default")
SYS = RouteRef("default system route", "0.0.0.0/0", "Internet", source="default")
ZONE = ZoneRef("core.windows.net", "V", "azkms")
IP = "20.118.99.224"
FQDN = "azkms.core.windows.net"
NO_A = Sentence(Say.ZONE_NO_A, zone=ZONE, fqdn=FQDN)

# Every sentence the analysis can say, from made-up data, with its exact text.
CASES: list[tuple[Sentence, str]] = [
    (
        Sentence(Say.CLOUD_VNET_UNKNOWN, subject="V/S"),
        "the VNet of subnet V/S is unknown or outside the stack, so its location and cloud are unknown",
    ),
    (
        Sentence(Say.CLOUD_LOCATION_UNKNOWN, subject="V", reason="location unknown at preview"),
        "location of VNet V is unknown (location unknown at preview)",
    ),
    (
        Sentence(Say.CLOUD_LOCATION_UNMAPPED, subject="marsnorth", reason="not a known Azure region"),
        "location marsnorth: not a known Azure region (docs/rules.md#location-to-cloud)",
    ),
    (
        Sentence(Say.CLOUD_CLOSED, subject="Azure Germany"),
        "Azure Germany: this cloud is closed; its KMS endpoint is kept for old templates (docs/rules.md#location-to-cloud)",
    ),
    (
        Sentence(Say.LOCATION_NOTE, subject="germanywestcentral", reason="public cloud region"),
        "location germanywestcentral: public cloud region",
    ),
    (
        Sentence(Say.SCOPE_EXCLUDED, reason="excluded by config (excludeSubnets)"),
        "excluded by config (excludeSubnets)",
    ),
    (
        Sentence(Say.SCOPE_BY_NICS, subject="nic1, nic2"),
        "scope windows-vm-subnets: judged by the Windows VMs' own NICs (nic1, nic2), each with its own egress (instance public IP, load balancer outbound rule, scale set); a VM added later without its own egress is not judged",
    ),
    (
        Sentence(Say.SCOPE_NICS_UNSEEN),
        "scope windows-vm-subnets: a Windows VM whose NICs are not in the stack may be in this subnet, so it is also judged as a VM without its own egress",
    ),
    (
        Sentence(Say.SCOPE_ALL_SUBNETS, subject="nic1", values=("blocked", "reachable")),
        "scope all-subnets: judged for any VM of the subnet, including a new VM without its own egress (instance public IP, load balancer outbound rule), which is blocked; the NICs in the stack (nic1) are reachable (scope windows-vm-subnets judges only those)",
    ),
    (
        Sentence(
            Say.DNS_RESOLVER_UNKNOWN,
            subject="virtual network",
            fqdn=FQDN,
            reason="the subnet's VNet is unknown or outside the stack",
        ),
        "virtual network: the subnet's VNet is unknown or outside the stack; cannot tell how azkms.core.windows.net resolves",
    ),
    (
        Sentence(
            Say.DNS_TRUSTED_SERVERS,
            subject="VNet V dhcpOptions.dnsServers",
            fqdn=FQDN,
            values=("10.0.0.4", "10.0.0.5"),
        ),
        "VNet V dhcpOptions.dnsServers 10.0.0.4, 10.0.0.5: trusted to resolve azkms.core.windows.net (config trustedDnsServers)",
    ),
    (
        Sentence(Say.DNS_AZURE_DNS, subject="VNet V dhcpOptions.dnsServers", ip="168.63.129.16"),
        "VNet V dhcpOptions.dnsServers: 168.63.129.16 is Azure DNS",
    ),
    (
        Sentence(
            Say.DNS_FIREWALL_PROXY, subject="VNet V dhcpOptions.dnsServers", other="fw", values=("10.9.0.4",)
        ),
        "VNet V dhcpOptions.dnsServers: Azure Firewall fw DNS proxy forwards to trusted servers 10.9.0.4",
    ),
    (
        Sentence(Say.DNS_CUSTOM, subject="VNet V dhcpOptions.dnsServers", fqdn=FQDN, values=("10.0.0.4",)),
        "VNet V dhcpOptions.dnsServers 10.0.0.4: custom DNS; whether it resolves azkms.core.windows.net to the KMS IPs cannot be seen (docs/rules.md#custom-dns)",
    ),
    (
        Sentence(Say.DNS_ZONE_LINK_UNKNOWN, base=NO_A),
        "private DNS zone core.windows.net linked to VNet V has no A record azkms: azkms.core.windows.net does not resolve; whether the zone is linked to this VNet is unknown",
    ),
    (
        Sentence(Say.DNS_ZONE_OR_FORWARDING, fqdn=FQDN, base=NO_A),
        "private DNS zone core.windows.net linked to VNet V has no A record azkms: azkms.core.windows.net does not resolve; a forwarding rule also matches azkms.core.windows.net and which one wins is not documented (docs/rules.md#dns-forwarding-rulesets)",
    ),
    (
        Sentence(
            Say.DNS_ZONES_UNKNOWN,
            subject="VNet V uses Azure-provided DNS",
            fqdn=FQDN,
            values=("zone a unknown", "zone b unknown"),
        ),
        "VNet V uses Azure-provided DNS: zone a unknown; zone b unknown; it may shadow azkms.core.windows.net",
    ),
    (
        Sentence(Say.DNS_PUBLIC, subject="VNet V uses Azure-provided DNS", fqdn=FQDN),
        "VNet V uses Azure-provided DNS: azkms.core.windows.net resolves to its public KMS IPs",
    ),
    (
        Sentence(Say.ZONE_RECORDS_UNKNOWN, zone=ZONE, fqdn=FQDN),
        "private DNS zone core.windows.net linked to VNet V answers for azkms.core.windows.net, but its records are unknown",
    ),
    (
        Sentence(Say.ZONE_NO_RECORD, zone=ZONE, fqdn=FQDN),
        "private DNS zone core.windows.net linked to VNet V has no record azkms: azkms.core.windows.net is NXDOMAIN (no fallback for non-privatelink zones, docs/rules.md#private-dns-zones)",
    ),
    (
        Sentence(Say.ZONE_CNAME, zone=ZONE),
        "private DNS zone core.windows.net linked to VNet V: azkms is a CNAME; where it leads is not modelled",
    ),
    (
        Sentence(Say.ZONE_A_UNKNOWN, zone=ZONE),
        "private DNS zone core.windows.net linked to VNet V: the A record azkms has unknown addresses",
    ),
    (
        NO_A,
        "private DNS zone core.windows.net linked to VNet V has no A record azkms: azkms.core.windows.net does not resolve",
    ),
    (
        Sentence(Say.ZONE_WRONG_IPS, zone=ZONE, subject="public", values=("10.1.1.1", "10.1.1.2")),
        "private DNS zone core.windows.net linked to VNet V: azkms resolves to 10.1.1.1, 10.1.1.2, not a KMS IP of the public cloud",
    ),
    (
        Sentence(Say.ZONE_KMS_IPS, zone=ZONE, values=(IP, "40.83.235.53")),
        "private DNS zone core.windows.net linked to VNet V: azkms → 20.118.99.224, 40.83.235.53 (KMS IPs)",
    ),
    (
        Sentence(
            Say.FORWARDING_UNCERTAIN,
            values=("rules of forwarding ruleset rs unknown", "domain of forwarding rule r unknown"),
        ),
        "rules of forwarding ruleset rs unknown; domain of forwarding rule r unknown",
    ),
    (
        Sentence(Say.FORWARDING_TRUSTED, rule=FWD, fqdn=FQDN, values=("10.50.0.4",)),
        "forwarding rule core (core.windows.net.) sends azkms.core.windows.net to trusted servers 10.50.0.4",
    ),
    (
        Sentence(Say.FORWARDING_UNSEEN, rule=FWD, fqdn=FQDN),
        "forwarding rule core (core.windows.net.) sends azkms.core.windows.net to unknown servers; what they answer cannot be seen (docs/rules.md#dns-forwarding-rulesets)",
    ),
    (
        Sentence(Say.ADMIN_ALWAYS_ALLOW, rule=ADMIN),
        "AVNM admin rule kms-admin: AlwaysAllow; NSGs are not evaluated (docs/rules.md#admin-rules)",
    ),
    (Sentence(Say.ADMIN_DENY, rule=ADMIN), "AVNM admin rule kms-admin: denied (docs/rules.md#admin-rules)"),
    (
        Sentence(Say.ADMIN_DENY_UNDOCUMENTED, rule=ADMIN),
        "AVNM admin rule kms-admin: Deny; how an admin Deny interacts with the KMS platform rule is not documented (docs/rules.md#admin-rules)",
    ),
    (
        Sentence(Say.ADMIN_ALLOW, rule=ADMIN),
        "AVNM admin rule kms-admin: Allow; evaluation continues with the NSGs (docs/rules.md#admin-rules)",
    ),
    (Sentence(Say.ADMIN_NO_MATCH), "no AVNM admin rule matches TCP 1688"),
    (
        Sentence(
            Say.ADMIN_UNKNOWN,
            values=("AVNM admin rule a: priority unknown", "AVNM admin rule b may match (source)"),
        ),
        "AVNM admin rules: outcome unknown (AVNM admin rule a: priority unknown; AVNM admin rule b may match (source))",
    ),
    (
        Sentence(Say.MAY_BE_BYPASSED, base=Sentence(Say.NSG_DENY, rule=NSG_RULE)),
        "NSG nsg-app rule 100 deny-internet: denied (an AVNM AlwaysAllow rule may bypass this)",
    ),
    (
        Sentence(Say.PLATFORM_RULE_MOOT, reason="the 0.0.0.0/0 route is unknown"),
        "whether the KMS platform rule applies is unknown (the 0.0.0.0/0 route is unknown); the NSG outcome is the same either way",
    ),
    (
        Sentence(Say.PLATFORM_RULE_DECIDES, reason="the 0.0.0.0/0 route is unknown"),
        "NSGs decide TCP 1688 differently with and without the KMS platform rule, and whether it applies is unknown (the 0.0.0.0/0 route is unknown)",
    ),
    (
        Sentence(Say.PLATFORM_RULE_OFF, route=UDR),
        "route table rt route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4: custom 0.0.0.0/0 route in effect, so the KMS platform rule is off and NSGs filter TCP 1688 (docs/rules.md#nsg-platform-rule)",
    ),
    (
        Sentence(Say.PLATFORM_RULE_ON),
        "KMS platform rule: no custom 0.0.0.0/0 route is in effect, so NSGs do not filter TCP 1688 to the KMS IPs (docs/rules.md#nsg-platform-rule)",
    ),
    (Sentence(Say.NSG_NONE), "no NSG on the NIC or the subnet: nothing filters the flow"),
    (
        Sentence(Say.NSG_MISSING, reason="NSG nsg-x of subnet V/S is outside the stack"),
        "NSG nsg-x of subnet V/S is outside the stack; cannot tell whether it allows TCP 1688",
    ),
    (Sentence(Say.NSG_DENY, rule=NSG_RULE), "NSG nsg-app rule 100 deny-internet: denied"),
    (
        Sentence(
            Say.NSG_ALLOW,
            rule=RuleRef(RuleKind.NSG_DEFAULT, "nsg-app", "AllowInternetOutBound", 65001, "Allow"),
        ),
        "NSG nsg-app default rule 65001 AllowInternetOutBound: allowed",
    ),
    (
        Sentence(
            Say.NSG_UNDECIDED, subject="nsg-app", ip=IP, values=("NSG nsg-app rule ? r: priority unknown",)
        ),
        "NSG nsg-app: cannot tell whether TCP 1688 to 20.118.99.224 is allowed (NSG nsg-app rule ? r: priority unknown)",
    ),
    (
        Sentence(Say.NSG_MISSING_LKM, reason="the NSG of subnet V/S is unknown (output)"),
        "the NSG of subnet V/S is unknown (output); it may deny AzurePlatformLKM",
    ),
    (
        Sentence(Say.NSG_LKM_DENY, rule=RuleRef(RuleKind.NSG, "nsg-app", "deny-lkm", None, "Deny")),
        "NSG nsg-app rule ? deny-lkm: Deny to AzurePlatformLKM overrides the KMS platform rule (docs/rules.md#nsg-platform-rule)",
    ),
    (
        Sentence(Say.NSG_LKM_MAYBE, subject="nsg-app", reason="rules unknown (output)"),
        "NSG nsg-app: rules unknown (output): may deny AzurePlatformLKM",
    ),
    (
        Sentence(
            Say.ROUTE_UNCERTAIN, route=SYS, ip=IP, values=("BGP route may exist", "service tag unknown")
        ),
        "route for 20.118.99.224: default system route: 0.0.0.0/0 → Internet unless another route applies (BGP route may exist; service tag unknown)",
    ),
    (
        Sentence(Say.ROUTE_SELECTED, route=SYS, ip=IP),
        "default system route: 0.0.0.0/0 → Internet (selected for 20.118.99.224)",
    ),
    (
        Sentence(
            Say.ROUTE_HOP_UNKNOWN,
            route=RouteRef("route table rt route r", "0.0.0.0/0", None, name="r"),
            ip=IP,
            reason="nextHopType unknown at preview",
        ),
        "route table rt route r: 0.0.0.0/0 → unknown next hop (selected for 20.118.99.224): next hop unknown (nextHopType unknown at preview)",
    ),
    (
        Sentence(
            Say.ROUTE_DROP,
            route=RouteRef("route table rt route drop", "20.0.0.0/8", "None", name="drop"),
            ip=IP,
        ),
        "route table rt route drop: 20.0.0.0/8 → None (selected for 20.118.99.224): next hop None drops the traffic (docs/rules.md#user-defined-routes)",
    ),
    (
        Sentence(
            Say.ROUTE_VNET,
            route=RouteRef("route table rt route v", "20.118.99.224/32", "VnetLocal", name="v"),
            ip=IP,
        ),
        "route table rt route v: 20.118.99.224/32 → VnetLocal (selected for 20.118.99.224): the KMS IP is routed inside the virtual network and never reaches KMS",
    ),
    (
        Sentence(
            Say.ROUTE_GATEWAY,
            route=RouteRef(
                "route table rt route default", "0.0.0.0/0", "VirtualNetworkGateway", name="default"
            ),
            ip=IP,
        ),
        "route table rt route default: 0.0.0.0/0 → VirtualNetworkGateway (selected for 20.118.99.224): traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP (docs/rules.md#azure-public-source)",
    ),
    (
        Sentence(
            Say.ROUTE_UNEXPECTED,
            route=RouteRef("route table rt route odd", "0.0.0.0/0", "Odd", name="odd"),
            ip=IP,
        ),
        "route table rt route odd: 0.0.0.0/0 → Odd (selected for 20.118.99.224): unexpected next hop",
    ),
    (
        Sentence(Say.ROUTE_TO_FIREWALL, route=UDR, ip=IP, other="fw"),
        "route table rt route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4 (selected for 20.118.99.224) (Azure Firewall fw)",
    ),
    (
        Sentence(Say.ROUTE_APPLIANCE_OUTSIDE, route=UDR, ip=IP, other="fw-elsewhere"),
        "route table rt route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4 (selected for 20.118.99.224): the appliance fw-elsewhere is outside the stack",
    ),
    (
        Sentence(Say.ROUTE_APPLIANCE_UNKNOWN, route=UDR, ip=IP, reason="output of fw"),
        "route table rt route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4 (selected for 20.118.99.224): the appliance is unknown (output of fw)",
    ),
    (
        Sentence(
            Say.ROUTE_NEXT_HOP_IP_UNKNOWN,
            route=RouteRef("route table rt route default", "0.0.0.0/0", "VirtualAppliance", name="default"),
            ip=IP,
            reason="output of fw",
        ),
        "route table rt route default: 0.0.0.0/0 → VirtualAppliance (selected for 20.118.99.224): next hop IP unknown at preview and not traced to an Azure Firewall (output of fw)",
    ),
    (
        Sentence(
            Say.ROUTE_NO_NEXT_HOP_IP,
            route=RouteRef("route table rt route default", "0.0.0.0/0", "VirtualAppliance", name="default"),
            ip=IP,
        ),
        "route table rt route default: 0.0.0.0/0 → VirtualAppliance (selected for 20.118.99.224): VirtualAppliance route without nextHopIpAddress (invalid, docs/rules.md#user-defined-routes)",
    ),
    (
        Sentence(Say.ROUTE_ONPREM_APPLIANCE, route=UDR, ip=IP, other="10.0.100.4"),
        "route table rt route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4 (selected for 20.118.99.224): appliance 10.0.100.4 forwards Internet traffic on-premises (config egressAppliances), so KMS sees a non-Azure source IP (docs/rules.md#third-party-appliances)",
    ),
    (
        Sentence(Say.ROUTE_THIRD_PARTY, route=UDR, ip=IP, other="10.0.100.4"),
        "route table rt route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4 (selected for 20.118.99.224): third-party appliance 10.0.100.4; what it does with KMS traffic cannot be seen (docs/rules.md#third-party-appliances)",
    ),
    (
        Sentence(Say.APPLIANCE_DECLARED, subject="10.0.100.4"),
        "appliance 10.0.100.4 is declared in egressAppliances: it SNATs to an Azure public IP and allows TCP 1688 (config)",
    ),
    (
        Sentence(
            Say.INVALID_ROUTE, reason="route table rt route r: service tag 'Internet' is invalid in routes"
        ),
        "route table rt route r: service tag 'Internet' is invalid in routes",
    ),
    (
        Sentence(Say.FIREWALL_ALLOW, rule=FW_RULE, ip=IP),
        "firewall policy fwp rule collection group rcg collection kms rule allow-kms: TCP 1688 to 20.118.99.224 allowed",
    ),
    (
        Sentence(
            Say.FIREWALL_DENY,
            rule=RuleRef(RuleKind.FIREWALL_CLASSIC, "fw", "deny-all", 100, "Deny", collection="c"),
            ip=IP,
            values=("note one", "note two"),
        ),
        "firewall fw network rule collection c rule deny-all: TCP 1688 to 20.118.99.224 denied; note one; note two",
    ),
    (
        Sentence(Say.FIREWALL_DEFAULT_DENY, subject="fw", ip=IP),
        "Azure Firewall fw: no network rule allows TCP 1688 to 20.118.99.224, so the default deny drops it (docs/rules.md#firewall-default-deny)",
    ),
    (
        Sentence(Say.FIREWALL_UNDECIDED, subject="fw", ip=IP, reason="rules unknown"),
        "Azure Firewall fw: cannot tell whether TCP 1688 to 20.118.99.224 is allowed (rules unknown)",
    ),
    (
        Sentence(Say.SNAT_EXCLUDED, subject="firewall policy fwp", ip=IP, values=("0.0.0.0/0",)),
        "firewall policy fwp snat.privateRanges contains 0.0.0.0/0, so 20.118.99.224 is not SNATed to a public IP (docs/rules.md#firewall-snat)",
    ),
    (
        Sentence(Say.SNAT_UNCERTAIN, subject="firewall fw", reason="unknown"),
        "firewall fw snat.privateRanges unknown",
    ),
    (
        Sentence(Say.FIREWALL_PIP_UNKNOWN, subject="fw"),
        "Azure Firewall fw: whether it has a data-path public IP is unknown",
    ),
    (
        Sentence(Say.FIREWALL_NO_PIP, subject="fw"),
        "Azure Firewall fw has no data-path public IP; direct egress is not documented (docs/rules.md#firewall-forced-tunneling)",
    ),
    (
        Sentence(Say.FIREWALL_VWAN, subject="hubfw"),
        "Virtual WAN hub firewall hubfw egresses from its public IPs (Direct Access, docs/rules.md#virtual-wan)",
    ),
    (
        Sentence(Say.FIREWALL_VNET_UNKNOWN, subject="fw", reason="output of vnet"),
        "the VNet of firewall fw is unknown (output of vnet)",
    ),
    (
        Sentence(Say.FIREWALL_SUBNET_MISSING, subject="fw"),
        "firewall fw is in forced-tunnel mode and its AzureFirewallSubnet routes are not in the stack",
    ),
    (
        Sentence(Say.FIREWALL_DIRECT, subject="fw"),
        "firewall fw (no management NIC) egresses to the Internet with SNAT to its public IP (docs/rules.md#firewall-snat)",
    ),
    (
        Sentence(Say.FIREWALL_DIRECT_UNSNATED, subject="fw"),
        "firewall fw (no management NIC) egresses to the Internet; the source IP is not SNATed (see the SNAT step)",
    ),
    (
        Sentence(Say.FIREWALL_SUBNET_UNCERTAIN, subject="fw", ip=IP, values=("BGP route may exist",)),
        "AzureFirewallSubnet of fw: route for 20.118.99.224 uncertain (BGP route may exist)",
    ),
    (
        Sentence(Say.FIREWALL_SUBNET_INTERNET, subject="fw", route=SYS),
        "AzureFirewallSubnet of fw: default system route: 0.0.0.0/0 → Internet; SNAT to the firewall's public IP (docs/rules.md#firewall-snat)",
    ),
    (
        Sentence(Say.FIREWALL_SUBNET_INTERNET_UNSNATED, subject="fw", route=SYS),
        "AzureFirewallSubnet of fw: default system route: 0.0.0.0/0 → Internet; the source IP is not SNATed (see the SNAT step)",
    ),
    (
        Sentence(
            Say.FIREWALL_SUBNET_FORCED,
            subject="fw",
            route=RouteRef(
                "route table rt-fw route default", "0.0.0.0/0", "VirtualNetworkGateway", name="default"
            ),
        ),
        "AzureFirewallSubnet of fw: route table rt-fw route default: 0.0.0.0/0 → VirtualNetworkGateway: the firewall forwards KMS traffic away from its public IP (forced tunneling, docs/rules.md#firewall-forced-tunneling)",
    ),
    (
        Sentence(Say.FIREWALL_SUBNET_UNSEEN, subject="fw", route=UDR),
        "AzureFirewallSubnet of fw: route table rt route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4: where that next hop sends KMS traffic cannot be seen",
    ),
    (
        Sentence(Say.EGRESS_NAT, subject="nat"),
        "Internet next hop: SNAT through NAT gateway nat (Azure public IP)",
    ),
    (
        Sentence(Say.EGRESS_PUBLIC_IP, subject="nic1"),
        "Internet next hop: NIC nic1 has an instance-level public IP",
    ),
    (
        Sentence(Say.EGRESS_LOAD_BALANCER, reason="outbound rule of Standard public load balancer lb"),
        "Internet next hop: outbound rule of Standard public load balancer lb",
    ),
    (
        Sentence(
            Say.EGRESS_LOAD_BALANCER_NONE,
            reason="the VM is in Standard internal load balancer ilb without an outbound rule",
        ),
        "Internet next hop: the VM is in Standard internal load balancer ilb without an outbound rule, so the VM has no outbound access (docs/rules.md#explicit-outbound)",
    ),
    (
        Sentence(Say.EGRESS_PRIVATE_SUBNET, subject="V/S"),
        "subnet V/S is private (defaultOutboundAccess: false) with no NAT gateway or public IP: Windows activation needs explicit outbound (docs/rules.md#explicit-outbound)",
    ),
    (
        Sentence(Say.EGRESS_FLEXIBLE),
        "Flexible-orchestration scale sets never get default outbound access (docs/rules.md#explicit-outbound)",
    ),
    (
        Sentence(Say.EGRESS_DEFAULT, subject="V/S"),
        "Internet next hop: default outbound access of subnet V/S (Azure public IP)",
    ),
    (
        Sentence(
            Say.EGRESS_DOUBTS,
            base=Sentence(Say.EGRESS_DEFAULT, subject="V/S"),
            values=("defaultOutboundAccess of subnet V/S unknown",),
        ),
        "Internet next hop: default outbound access of subnet V/S (Azure public IP); but defaultOutboundAccess of subnet V/S unknown",
    ),
    (
        Sentence(Say.IF_NIC_HERE, subject="nic9", base=Sentence(Say.EGRESS_PRIVATE_SUBNET, subject="V/S")),
        "subnet V/S is private (defaultOutboundAccess: false) with no NAT gateway or public IP: Windows activation needs explicit outbound (docs/rules.md#explicit-outbound) (if NIC nic9, whose subnet is unknown, is in this subnet)",
    ),
]


def test_every_sentence_has_a_case() -> None:
    assert [s.say for s, _ in CASES] == list(Say)


@pytest.mark.parametrize(("data", "text"), CASES, ids=[s.say.value for s, _ in CASES])
def test_sentence(data: Sentence, text: str) -> None:
    assert sentence(data) == text


def test_a_plain_string_is_its_own_sentence() -> None:
    assert sentence("hand-written") == "hand-written"


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (RuleRef(RuleKind.NSG, "nsg", "deny", 100, "Deny"), "NSG nsg rule 100 deny"),
        (RuleRef(RuleKind.NSG, "nsg", "deny"), "NSG nsg rule ? deny"),
        (
            RuleRef(RuleKind.NSG_DEFAULT, "nsg", "DenyAllOutBound", 65500),
            "NSG nsg default rule 65500 DenyAllOutBound",
        ),
        (RuleRef(RuleKind.ADMIN, "", "kms-admin", 10), "AVNM admin rule kms-admin"),
        (
            RuleRef(RuleKind.ADMIN, "", "kms-admin", note="not deployed by this stack"),
            "AVNM admin rule kms-admin (not deployed by this stack)",
        ),
        (
            RuleRef(RuleKind.FIREWALL_POLICY, "fwp", "r", 200, group="rcg", collection="c"),
            "firewall policy fwp rule collection group rcg collection c rule r",
        ),
        (
            RuleRef(RuleKind.FIREWALL_CLASSIC, "fw", "r", collection="c"),
            "firewall fw network rule collection c rule r",
        ),
        (
            RuleRef(RuleKind.DNS_FORWARDING, "rs", "core", note="core.windows.net."),
            "core (core.windows.net.)",
        ),
        (None, ""),
    ],
)
def test_rule_text(rule: RuleRef | None, text: str) -> None:
    assert rule_text(rule) == text


def test_every_rule_kind_is_named() -> None:
    assert all(rule_text(RuleRef(kind, "x", "r")) for kind in RuleKind)


@pytest.mark.parametrize(
    ("route", "text"),
    [
        (SYS, "default system route: 0.0.0.0/0 → Internet"),
        (UDR, "route table rt route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4"),
        (
            RouteRef("route table rt route r", "AzureCloud", None, name="r"),
            "route table rt route r: AzureCloud → unknown next hop",
        ),
    ],
)
def test_route_text(route: RouteRef, text: str) -> None:
    assert route_text(route) == text


@pytest.mark.parametrize(
    ("data", "decider"),
    [
        (Sentence(Say.NSG_DENY, rule=NSG_RULE), "deny-internet"),
        (Sentence(Say.ROUTE_DROP, route=UDR, ip=IP), "default"),
        (Sentence(Say.ROUTE_SELECTED, route=SYS, ip=IP), "default system route"),
        (Sentence(Say.ZONE_NO_A, zone=ZONE), "core.windows.net"),
        (Sentence(Say.MAY_BE_BYPASSED, base=Sentence(Say.NSG_DENY, rule=NSG_RULE)), "deny-internet"),
        (Sentence(Say.EGRESS_DEFAULT, subject="V/S"), None),
    ],
)
def test_the_decider_is_the_rule_else_the_route_else_the_zone(data: Sentence, decider: str | None) -> None:
    assert data.decider == decider


# --- Step ----------------------------------------------------------------------------------------


def test_step_renders_its_detail_and_names_its_rule() -> None:
    step = Step(
        StepKind.NSG,
        Sentence(Say.NSG_DENY, rule=NSG_RULE),
        Outcome.BLOCK,
        finding=Finding.NSG_DENY,
        hop="V/S",
    )
    assert step.detail == render(step) == "NSG nsg-app rule 100 deny-internet: denied"
    assert (step.finding, step.hop, step.rule) == (Finding.NSG_DENY, "V/S", "deny-internet")


def test_step_kind_from_its_json_value() -> None:
    step = Step("route", "hand-written", Outcome.INFO)  # type: ignore[arg-type]
    assert step.kind is StepKind.ROUTE
    assert (step.detail, step.rule, step.hop) == ("hand-written", None, None)
    with pytest.raises(ValueError, match="'hops' is not a valid StepKind"):
        Step("hops", "x")  # type: ignore[arg-type]


def test_step_kind_values_are_the_json_step_names() -> None:
    assert [k.value for k in StepKind] == [
        "cloud",
        "scope",
        "dns",
        "admin-rule",
        "nsg",
        "route",
        "firewall",
        "appliance",
        "egress",
        "input",
    ]


def test_deciding_steps_need_a_finding() -> None:
    with pytest.raises(
        ValueError, match="a block step needs a finding: nsg: NSG nsg-app rule 100 deny-internet: denied"
    ):
        Step(StepKind.NSG, Sentence(Say.NSG_DENY, rule=NSG_RULE), Outcome.BLOCK)


def test_the_hop_is_not_part_of_what_a_step_says() -> None:
    """A NIC and its subnet on the same path take equal steps from different hops."""
    what = Sentence(Say.EGRESS_DEFAULT, subject="V/S")
    a = Step(StepKind.EGRESS, what, Outcome.PASS, hop="V/S")
    b = Step(StepKind.EGRESS, what, Outcome.PASS, hop="nic1")
    assert a == b and a.hop != b.hop


# --- hops ----------------------------------------------------------------------------------------


def _hops(trace: tuple[Step, ...]) -> list[tuple[str, str | None, str | None]]:
    return [(str(s.kind), s.hop, s.rule) for s in trace]


def test_firewall_steps_happen_on_the_firewall_then_on_its_subnet() -> None:
    """#22: the source's steps happen on subnet V/S, the rule walk on firewall fw, and where the
    packet goes next on the firewall's own AzureFirewallSubnet."""
    (e, *_) = run("s22-azure-firewall-network-rule").endpoints
    assert _hops(e.trace) == [
        ("dns", "V/S", None),
        ("nsg", "V/S", "default"),
        ("nsg", "V/S", None),
        ("route", "V/S", "default"),
        ("firewall", "fw", "allow-kms"),
        ("firewall", "hub/AzureFirewallSubnet", "default system route"),
    ]


def test_snat_block_happens_on_the_firewall() -> None:
    (e, *_) = run("s22c-snat-private-ranges-everything").endpoints
    assert e.decisive is not None
    assert (e.decisive.finding, e.decisive.hop, e.decisive.rule) == (Finding.FIREWALL_NO_SNAT, "fw", None)


def test_a_nic_source_is_its_own_hop() -> None:
    result = run("s18-nic-nsg-allows-subnet-nsg-denies")
    (nic,) = result.nics
    assert {s.hop for e in nic.endpoints for s in e.trace} == {"nic1"}
    assert {s.hop for e in result.endpoints for s in e.trace} == {"V/S"}


def test_subnet_notes_happen_on_the_subnet() -> None:
    data = network(settings={"excludeSubnets": ["V/S"]})
    (note,) = subnet_result(data).notes
    assert (note.kind, note.hop, note.detail) == (
        StepKind.SCOPE,
        "V/S",
        "excluded by config (excludeSubnets)",
    )


ESTATE = "urn:pulumi:dev::net::azure-native:"


def test_hops_are_model_keys_urns_in_a_pulumi_stack() -> None:
    """In a stack every node has a URN; an inline subnet has its VNet's, and its hop adds
    ``#subnets/<name>`` so that the firewall's subnet is told apart from its VNet's others."""
    result = in_process(estate())
    by_name = {s.name: s for s in result.subnets}
    (e, *_) = by_name["spoke/web"].endpoints
    assert by_name["spoke/web"].urn == f"{ESTATE}network:VirtualNetwork::spoke"
    assert _hops(e.trace)[-2:] == [
        ("firewall", f"{ESTATE}network:AzureFirewall::fw", "kms"),
        (
            "firewall",
            f"{ESTATE}network:VirtualNetwork::hub#subnets/AzureFirewallSubnet",
            "default system route",
        ),
    ]
    assert {s.hop for s in e.trace[:-2]} == {f"{ESTATE}network:VirtualNetwork::spoke#subnets/web"}
    app = by_name["app"]
    assert {s.hop for ep in app.endpoints for s in ep.trace} == {f"{ESTATE}network:Subnet::app"}
    (nic,) = app.nics
    assert {s.hop for ep in nic.endpoints for s in ep.trace} == {f"{ESTATE}network:NetworkInterface::nic-app"}
    assert [(n.hop, n.detail) for n in by_name["hub/AzureFirewallSubnet"].notes] == [
        (
            f"{ESTATE}network:VirtualNetwork::hub#subnets/AzureFirewallSubnet",
            "AzureFirewallSubnet is a special-purpose subnet",
        )
    ]
