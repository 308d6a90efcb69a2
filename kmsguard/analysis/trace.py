"""The trace as data: what a step is about, which rule or route decided it, and which sentence says it.

A trace step (``verdict.Step``) carries a ``StepKind``, the hop it happens on, and a ``Sentence``:
the deciding rule (``RuleRef``) or route (``RouteRef``) as typed fields, the few other values the
sentence names, and a ``Say`` naming the sentence. ``wording.sentence`` is the only place that turns
these into text, so tests assert the data and one golden test owns the wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StepKind(StrEnum):
    """The stage of the KMS path a step belongs to; the values are the JSON report's ``step``."""

    CLOUD = "cloud"
    SCOPE = "scope"
    DNS = "dns"
    ADMIN_RULE = "admin-rule"
    NSG = "nsg"
    ROUTE = "route"
    FIREWALL = "firewall"
    APPLIANCE = "appliance"
    EGRESS = "egress"
    INPUT = "input"

    def __str__(self) -> str:
        return self.value


class RuleKind(StrEnum):
    """Where a rule lives; each has its own way of being named in a trace."""

    NSG = "nsg"
    NSG_DEFAULT = "nsg-default"
    ADMIN = "admin"
    FIREWALL_POLICY = "firewall-policy"
    FIREWALL_CLASSIC = "firewall-classic"
    DNS_FORWARDING = "dns-forwarding"


@dataclass(frozen=True, slots=True)
class RuleRef:
    """One NSG, AVNM admin, firewall or DNS forwarding rule, as the analysis saw it."""

    kind: RuleKind
    resource: str  # the NSG, firewall, firewall policy or ruleset holding it ("" for admin rules)
    rule: str  # the rule's own name
    priority: int | None = None  # None also when the priority is unknown
    action: str | None = None  # Allow | Deny | AlwaysAllow as written, None when unknown
    group: str = ""  # firewall policy: the rule collection group
    collection: str = ""  # firewall: the rule collection
    # Admin rule: why it may apply though this stack does not deploy it; DNS forwarding: its domain.
    note: str = ""


@dataclass(frozen=True, slots=True)
class RouteRef:
    """One effective route: what it matches and where it sends the packet."""

    origin: str  # how a person recognises the route ("route table rt-spoke route default", ...)
    prefix: str
    next_hop_type: str | None  # None: unknown at preview
    next_hop_ip: str | None = None
    name: str = ""  # the route's name; "" for system and gateway routes
    source: str = "user"  # user | gateway | default


@dataclass(frozen=True, slots=True)
class ZoneRef:
    """The private DNS zone that answers for a KMS name in one VNet, and the record label asked."""

    zone: str
    vnet: str
    label: str


class Say(StrEnum):
    """Which sentence a step says; ``wording.sentence`` holds the text of each."""

    # cloud and scope (subnet notes)
    CLOUD_VNET_UNKNOWN = "cloud-vnet-unknown"
    CLOUD_LOCATION_UNKNOWN = "cloud-location-unknown"
    CLOUD_LOCATION_UNMAPPED = "cloud-location-unmapped"
    CLOUD_CLOSED = "cloud-closed"
    LOCATION_NOTE = "location-note"
    SCOPE_EXCLUDED = "scope-excluded"
    SCOPE_BY_NICS = "scope-by-nics"
    SCOPE_NICS_UNSEEN = "scope-nics-unseen"
    SCOPE_ALL_SUBNETS = "scope-all-subnets"
    # DNS
    DNS_RESOLVER_UNKNOWN = "dns-resolver-unknown"
    DNS_TRUSTED_SERVERS = "dns-trusted-servers"
    DNS_AZURE_DNS = "dns-azure-dns"
    DNS_FIREWALL_PROXY = "dns-firewall-proxy"
    DNS_CUSTOM = "dns-custom"
    DNS_ZONE_LINK_UNKNOWN = "dns-zone-link-unknown"
    DNS_ZONE_OR_FORWARDING = "dns-zone-or-forwarding"
    DNS_ZONES_UNKNOWN = "dns-zones-unknown"
    DNS_PUBLIC = "dns-public"
    ZONE_RECORDS_UNKNOWN = "zone-records-unknown"
    ZONE_NO_RECORD = "zone-no-record"
    ZONE_CNAME = "zone-cname"
    ZONE_A_UNKNOWN = "zone-a-unknown"
    ZONE_NO_A = "zone-no-a"
    ZONE_WRONG_IPS = "zone-wrong-ips"
    ZONE_KMS_IPS = "zone-kms-ips"
    FORWARDING_UNCERTAIN = "forwarding-uncertain"
    FORWARDING_TRUSTED = "forwarding-trusted"
    FORWARDING_UNSEEN = "forwarding-unseen"
    # AVNM admin rules and NSGs
    ADMIN_ALWAYS_ALLOW = "admin-always-allow"
    ADMIN_DENY = "admin-deny"
    ADMIN_DENY_UNDOCUMENTED = "admin-deny-undocumented"
    ADMIN_ALLOW = "admin-allow"
    ADMIN_NO_MATCH = "admin-no-match"
    ADMIN_UNKNOWN = "admin-unknown"
    MAY_BE_BYPASSED = "may-be-bypassed"
    PLATFORM_RULE_MOOT = "platform-rule-moot"
    PLATFORM_RULE_DECIDES = "platform-rule-decides"
    PLATFORM_RULE_OFF = "platform-rule-off"
    PLATFORM_RULE_ON = "platform-rule-on"
    NSG_NONE = "nsg-none"
    NSG_MISSING = "nsg-missing"
    NSG_DENY = "nsg-deny"
    NSG_ALLOW = "nsg-allow"
    NSG_UNDECIDED = "nsg-undecided"
    NSG_MISSING_LKM = "nsg-missing-lkm"
    NSG_LKM_DENY = "nsg-lkm-deny"
    NSG_LKM_MAYBE = "nsg-lkm-maybe"
    # routes and next hops
    ROUTE_UNCERTAIN = "route-uncertain"
    ROUTE_SELECTED = "route-selected"
    ROUTE_HOP_UNKNOWN = "route-hop-unknown"
    ROUTE_DROP = "route-drop"
    ROUTE_VNET = "route-vnet"
    ROUTE_GATEWAY = "route-gateway"
    ROUTE_UNEXPECTED = "route-unexpected"
    ROUTE_TO_FIREWALL = "route-to-firewall"
    ROUTE_APPLIANCE_OUTSIDE = "route-appliance-outside"
    ROUTE_APPLIANCE_UNKNOWN = "route-appliance-unknown"
    ROUTE_NEXT_HOP_IP_UNKNOWN = "route-next-hop-ip-unknown"
    ROUTE_NO_NEXT_HOP_IP = "route-no-next-hop-ip"
    ROUTE_ONPREM_APPLIANCE = "route-onprem-appliance"
    ROUTE_THIRD_PARTY = "route-third-party"
    APPLIANCE_DECLARED = "appliance-declared"
    INVALID_ROUTE = "invalid-route"
    # Azure Firewall
    FIREWALL_ALLOW = "firewall-allow"
    FIREWALL_DENY = "firewall-deny"
    FIREWALL_DEFAULT_DENY = "firewall-default-deny"
    FIREWALL_UNDECIDED = "firewall-undecided"
    SNAT_EXCLUDED = "snat-excluded"
    SNAT_UNCERTAIN = "snat-uncertain"
    FIREWALL_PIP_UNKNOWN = "firewall-pip-unknown"
    FIREWALL_NO_PIP = "firewall-no-pip"
    FIREWALL_VWAN = "firewall-vwan"
    FIREWALL_VNET_UNKNOWN = "firewall-vnet-unknown"
    FIREWALL_SUBNET_MISSING = "firewall-subnet-missing"
    FIREWALL_DIRECT = "firewall-direct"
    # the same egress when SNAT does not apply or may not (the SNAT step says why)
    FIREWALL_DIRECT_UNSNATED = "firewall-direct-unsnated"
    FIREWALL_SUBNET_UNCERTAIN = "firewall-subnet-uncertain"
    FIREWALL_SUBNET_INTERNET = "firewall-subnet-internet"
    FIREWALL_SUBNET_INTERNET_UNSNATED = "firewall-subnet-internet-unsnated"
    FIREWALL_SUBNET_FORCED = "firewall-subnet-forced"
    FIREWALL_SUBNET_UNSEEN = "firewall-subnet-unseen"
    # outbound (Internet next hop)
    EGRESS_NAT = "egress-nat"
    EGRESS_PUBLIC_IP = "egress-public-ip"
    EGRESS_LOAD_BALANCER = "egress-load-balancer"
    EGRESS_LOAD_BALANCER_NONE = "egress-load-balancer-none"
    EGRESS_PRIVATE_SUBNET = "egress-private-subnet"
    EGRESS_FLEXIBLE = "egress-flexible"
    EGRESS_DEFAULT = "egress-default"
    EGRESS_DOUBTS = "egress-doubts"
    # a block that holds only if a NIC of unknown subnet is in this one
    IF_NIC_HERE = "if-nic-here"


@dataclass(frozen=True, slots=True)
class Sentence:
    """The typed detail of one step. Which fields a ``Say`` reads is in ``wording.sentence``."""

    say: Say
    rule: RuleRef | None = None
    route: RouteRef | None = None
    zone: ZoneRef | None = None
    subject: str = ""  # the resource or place the sentence is about, by display name
    other: str = ""  # a second resource it names (an appliance, the firewall of a DNS proxy)
    ip: str = ""
    fqdn: str = ""
    values: tuple[str, ...] = ()  # servers, IP addresses, reasons: whatever the sentence lists
    # Why something is unknown, in the words of the part that found out (free text by design).
    reason: str = ""
    # The sentence this one qualifies ("...; whether the zone is linked is unknown").
    base: Sentence | str | None = None

    @property
    def decider(self) -> str | None:
        """The name of the deciding rule, else of the route, else of the DNS zone, else the
        qualified sentence's. System and gateway routes have no name: their origin stands for it."""
        if self.rule is not None:
            return self.rule.rule
        if self.route is not None:
            return self.route.name or self.route.origin
        if self.zone is not None:
            return self.zone.zone
        if isinstance(self.base, Sentence):
            return self.base.decider
        return None
