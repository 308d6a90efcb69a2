"""The closed set of findings kmsguard reports: one stable ID, one doc section, one SARIF rule each.

The analysis sets a finding on every step that blocks or leaves the path unknown, where it decides
(``Step.finding``); the policies name the findings of their own checks (route autofix, activation,
duplicate routes). Messages, the JSON report and SARIF read the ID, never guess it from a fix.
The IDs are public: never rename one, add a new one instead. Each has its section in
docs/findings.md (anchor: the ID in lower case), which tests/findings checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Finding(StrEnum):
    # kms-reachability: the path is blocked.
    ROUTE_FORCED_TUNNEL = "KMS-ROUTE-FORCED-TUNNEL"
    NSG_DENY = "KMS-NSG-DENY"
    NSG_LKM_DENY = "KMS-NSG-LKM-DENY"
    ADMIN_RULE_DENY = "KMS-ADMIN-RULE-DENY"
    FIREWALL_NO_RULE = "KMS-FIREWALL-NO-RULE"
    FIREWALL_NO_SNAT = "KMS-FIREWALL-NO-SNAT"
    NO_OUTBOUND = "KMS-NO-OUTBOUND"
    DNS_SHADOWED = "KMS-DNS-SHADOWED"
    ROUTE_DUPLICATE = "KMS-ROUTE-DUPLICATE"
    # kms-unverified: the verdict cannot be known from the stack.
    UNKNOWN_ROUTE = "KMS-UNKNOWN-ROUTE"
    UNKNOWN_APPLIANCE = "KMS-UNKNOWN-APPLIANCE"
    UNKNOWN_DNS = "KMS-UNKNOWN-DNS"
    UNKNOWN_FILTERING = "KMS-UNKNOWN-FILTERING"
    UNKNOWN_FIREWALL = "KMS-UNKNOWN-FIREWALL"
    UNKNOWN_OUTBOUND = "KMS-UNKNOWN-OUTBOUND"
    UNKNOWN_CLOUD = "KMS-UNKNOWN-CLOUD"
    INVALID_INPUT = "KMS-INVALID-INPUT"
    # kms-route-autofix: what remediation could not (or did not) add.
    ROUTE_MISSING = "KMS-ROUTE-MISSING"
    ROUTE_LIMIT = "KMS-ROUTE-LIMIT"
    ROUTE_CONFLICT = "KMS-ROUTE-CONFLICT"
    # kms-client-activation: the VM side.
    ACTIVATION_SETUP = "KMS-ACTIVATION-SETUP"
    AZURE_EDITION_IMDS = "KMS-AZURE-EDITION-IMDS"
    # Any policy: the stack could not be evaluated (bad config, internal error); fails closed.
    NOT_EVALUATED = "KMS-NOT-EVALUATED"

    def __str__(self) -> str:
        return self.value

    @property
    def anchor(self) -> str:
        """Its section in docs/findings.md."""
        return self.value.lower()

    @property
    def info(self) -> FindingInfo:
        return FINDINGS[self]


@dataclass(frozen=True, slots=True)
class FindingInfo:
    policy: str  # the policy that reports it
    level: str  # SARIF default level: error (blocks a preview by default), warning, note
    name: str  # PascalCase, for SARIF's rule name
    short: str  # one line
    full: str  # what it means and why activation fails


_BLOCKED = "kms-reachability"
_UNKNOWN = "kms-unverified"

FINDINGS: dict[Finding, FindingInfo] = {
    Finding.ROUTE_FORCED_TUNNEL: FindingInfo(
        _BLOCKED,
        "error",
        "KmsRouteForcedTunnel",
        "KMS traffic is routed away from the Internet (gateway, on-premises appliance, None or the VNet).",
        "The route selected for a KMS IP sends it to a VPN/ExpressRoute gateway, to an appliance that forwards "
        "on-premises, to None or into the virtual network, so KMS sees a non-Azure source or nothing at all: "
        "activation fails with 0xC004F074.",
    ),
    Finding.NSG_DENY: FindingInfo(
        _BLOCKED,
        "error",
        "KmsNsgDeny",
        "An NSG denies TCP 1688 to the KMS IPs while a custom 0.0.0.0/0 route turns the KMS platform rule off.",
        "With a custom default route in effect, NSGs filter KMS traffic like any other, and a Deny rule drops "
        "it: activation fails with 0xC004F074.",
    ),
    Finding.NSG_LKM_DENY: FindingInfo(
        _BLOCKED,
        "error",
        "KmsNsgAzurePlatformLkmDeny",
        "An NSG rule denies the AzurePlatformLKM service tag, which overrides the KMS platform rule.",
        "A Deny to AzurePlatformLKM filters KMS traffic even without forced tunneling: activation fails with "
        "0xC004F074.",
    ),
    Finding.ADMIN_RULE_DENY: FindingInfo(
        _BLOCKED,
        "error",
        "KmsAdminRuleDeny",
        "An Azure Virtual Network Manager security admin rule denies TCP 1688 to the KMS IPs.",
        "Admin rules are evaluated before NSGs; under forced tunneling a Deny drops KMS traffic: activation "
        "fails with 0xC004F074.",
    ),
    Finding.FIREWALL_NO_RULE: FindingInfo(
        _BLOCKED,
        "error",
        "KmsFirewallNoRule",
        "The Azure Firewall on the path has no network rule allowing TCP 1688 to the KMS IPs.",
        "Azure Firewall denies by default, and only network rules match TCP 1688: activation fails with "
        "0xC004F074.",
    ),
    Finding.FIREWALL_NO_SNAT: FindingInfo(
        _BLOCKED,
        "error",
        "KmsFirewallNoSnat",
        "The Azure Firewall does not SNAT KMS traffic to its public IP (snat.privateRanges covers the KMS IPs).",
        "KMS accepts only Azure public source IPs; without SNAT the private source is refused: activation fails "
        "with 0xC004F074.",
    ),
    Finding.NO_OUTBOUND: FindingInfo(
        _BLOCKED,
        "error",
        "KmsNoOutbound",
        "The Internet next hop has no Azure public egress (private subnet, or a load balancer without outbound rules).",
        "Without NAT gateway, public IP, outbound rule or default outbound access, traffic to the Internet is "
        "dropped: activation fails with 0xC004F074.",
    ),
    Finding.DNS_SHADOWED: FindingInfo(
        _BLOCKED,
        "error",
        "KmsDnsShadowed",
        "A private DNS zone linked to the VNet answers for the KMS name without the right record.",
        "The zone answers NXDOMAIN (or another address) for the KMS name with no fallback to public DNS: "
        "activation fails with 0xC004F074 or 0x800705B4.",
    ),
    Finding.ROUTE_DUPLICATE: FindingInfo(
        _BLOCKED,
        "error",
        "KmsRouteDuplicate",
        "A route table declares the same KMS prefix inline and as a standalone Route.",
        "The table's PUT replaces its whole route list, so each deployment overwrites one set with the other "
        "and KMS routing flaps.",
    ),
    Finding.UNKNOWN_ROUTE: FindingInfo(
        _UNKNOWN,
        "warning",
        "KmsUnknownRoute",
        "Which route KMS traffic takes cannot be known from the stack.",
        "BGP routes, service-tag prefixes, unknown next hops or route tables outside the stack may send KMS "
        "traffic away from the Internet.",
    ),
    Finding.UNKNOWN_APPLIANCE: FindingInfo(
        _UNKNOWN,
        "warning",
        "KmsUnknownAppliance",
        "KMS traffic goes to a third-party appliance whose behaviour cannot be seen.",
        "Whether the appliance allows TCP 1688 and SNATs to an Azure public IP is not in the stack.",
    ),
    Finding.UNKNOWN_DNS: FindingInfo(
        _UNKNOWN,
        "warning",
        "KmsUnknownDns",
        "How the KMS name resolves cannot be known from the stack.",
        "Custom DNS servers, forwarding rules or private zones whose content is unknown may not resolve the "
        "KMS name to its public IPs.",
    ),
    Finding.UNKNOWN_FILTERING: FindingInfo(
        _UNKNOWN,
        "warning",
        "KmsUnknownFiltering",
        "Whether NSGs or admin rules allow TCP 1688 cannot be known from the stack.",
        "NSG or admin rules unknown at preview or outside the stack may deny KMS traffic.",
    ),
    Finding.UNKNOWN_FIREWALL: FindingInfo(
        _UNKNOWN,
        "warning",
        "KmsUnknownFirewall",
        "Whether the Azure Firewall allows and SNATs KMS traffic cannot be known from the stack.",
        "Its rules, policy, SNAT settings, public IP or own routes are unknown or outside the stack.",
    ),
    Finding.UNKNOWN_OUTBOUND: FindingInfo(
        _UNKNOWN,
        "warning",
        "KmsUnknownOutbound",
        "The outbound method of the Internet next hop cannot be known from the stack.",
        "NAT gateway, public IPs, load balancer rules or defaultOutboundAccess are unknown or outside the stack.",
    ),
    Finding.UNKNOWN_CLOUD: FindingInfo(
        _UNKNOWN,
        "warning",
        "KmsUnknownCloud",
        "The subnet's cloud, and so its KMS endpoints, cannot be known.",
        "The location is unknown, outside the stack, or not a documented Azure cloud.",
    ),
    Finding.INVALID_INPUT: FindingInfo(
        _UNKNOWN,
        "warning",
        "KmsInvalidInput",
        "A resource has a value Azure would reject or a property of the wrong type.",
        "kmsguard cannot judge a path through a value Azure would not deploy.",
    ),
    Finding.ROUTE_MISSING: FindingInfo(
        "kms-route-autofix",
        "warning",
        "KmsRouteMissing",
        "A route table diverts KMS traffic and lacks the /32 → Internet KMS routes.",
        "Reported when the autofix is below the remediate level (or could not apply): the routes it would add.",
    ),
    Finding.ROUTE_LIMIT: FindingInfo(
        "kms-route-autofix",
        "warning",
        "KmsRouteLimit",
        "The KMS routes cannot be added without exceeding the route limit of a route table.",
        "A route table holds at most 400 routes; KMS traffic keeps its diverted path.",
    ),
    Finding.ROUTE_CONFLICT: FindingInfo(
        "kms-route-autofix",
        "warning",
        "KmsRouteConflict",
        "A user /32 route sends a KMS IP to a next hop other than Internet.",
        "kmsguard never rewrites a user route; KMS traffic for that IP keeps the user's next hop.",
    ),
    Finding.ACTIVATION_SETUP: FindingInfo(
        "kms-client-activation",
        "warning",
        "KmsActivationSetup",
        "A Windows VM from a custom or gallery image has no KMS activation set-up.",
        "A custom image may hold a RETAIL or AVMA key and fail activation however good the network is.",
    ),
    Finding.AZURE_EDITION_IMDS: FindingInfo(
        "kms-client-activation",
        "warning",
        "KmsAzureEditionImds",
        "An NSG denies AzurePlatformIMDS to an Azure Edition VM.",
        "Azure Edition reads its attested state from IMDS; denied, Windows shows the activation watermark.",
    ),
    Finding.NOT_EVALUATED: FindingInfo(
        "any",
        "error",
        "KmsNotEvaluated",
        "The stack could not be evaluated (invalid config, unreadable input or internal error).",
        "kmsguard fails closed: a stack it could not evaluate is reported at the policy's level, never passed.",
    ),
}

BLOCKED_FINDINGS = tuple(f for f, i in FINDINGS.items() if i.policy == _BLOCKED)
UNKNOWN_FINDINGS = tuple(f for f, i in FINDINGS.items() if i.policy == _UNKNOWN)
