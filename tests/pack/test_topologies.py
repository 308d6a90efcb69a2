"""The real pack (``policy/``) over gRPC, driven like ``pulumi preview`` drives it, per topology.

Each case asserts the exact set of (policy, level, URN) violations, whether the preview fails, and
which route tables the autofix remediated. Inputs carry what azure-native's ``Check`` adds; stack
outputs are preview outputs (ids, provider-assigned names and a firewall's private IP unknown, path
parameters absent); references are unknown ids plus property dependencies (see ``bags``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kmsguard.engine import UNKNOWN, PackProcess

from . import topologies as T
from .bags import Stack
from .harness import AUTOFIX, NO_AUTOFIX, REACHABILITY, UNVERIFIED, found, messages, preview

MANDATORY, ADVISORY = "mandatory", "advisory"
DOCS = "docs/findings.md"


def urn(token: str, name: str) -> str:
    return Stack().urn(token, name)


SPOKE = urn(T.VNET, "spoke")
HUB = urn(T.VNET, "hub")
RT_SPOKE = urn(T.RT, "rt-spoke")
SUBNET_APP = urn(T.SUBNET, "app")

Case = tuple[str, Callable[[], Stack], Mapping[str, Any], set[tuple[str, str, str]], bool, set[str]]

CASES: list[Case] = [
    ("baseline", T.baseline, {}, set(), False, set()),
    # --- forced tunneling -------------------------------------------------------------------------
    ("vpn-default-site", T.vpn_default_site, {}, {(REACHABILITY, MANDATORY, HUB)}, True, set()),
    ("udr-vpn-gateway-autofix", T.udr_to_vpn_gateway, {}, set(), False, {RT_SPOKE}),
    (
        "udr-vpn-gateway-no-autofix",
        T.udr_to_vpn_gateway,
        NO_AUTOFIX,
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    (
        "udr-vpn-gateway-autofix-advisory",
        T.udr_to_vpn_gateway,
        {AUTOFIX: {"enforcementLevel": "advisory"}},
        {(AUTOFIX, ADVISORY, RT_SPOKE), (REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    (
        "reachability-advisory",
        T.vpn_default_site,
        {REACHABILITY: {"enforcementLevel": "advisory"}},
        {(REACHABILITY, ADVISORY, HUB)},
        False,
        set(),
    ),
    (
        # "all" sets every level: no remediation runs, every finding is a warning.
        "all-advisory",
        T.udr_to_vpn_gateway,
        {"all": "advisory"},
        {(AUTOFIX, ADVISORY, RT_SPOKE), (REACHABILITY, ADVISORY, SPOKE)},
        False,
        set(),
    ),
    # --- Azure Firewall ---------------------------------------------------------------------------
    ("firewall-allows-kms", T.firewall_allows_kms, NO_AUTOFIX, set(), False, set()),
    # The autofix leaves tables whose KMS traffic goes to a VirtualAppliance to kms-reachability.
    ("firewall-allows-kms-autofix", T.firewall_allows_kms, {}, set(), False, set()),
    (
        "firewall-denies",
        T.firewall_without_kms_rule,
        NO_AUTOFIX,
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    (
        "firewall-denies-autofix",
        T.firewall_without_kms_rule,
        {},
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    (
        "firewall-fqdn-rules-no-dns-proxy",
        T.firewall_fqdn_rules_without_dns_proxy,
        NO_AUTOFIX,
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    # --- NSGs (§4.5) ------------------------------------------------------------------------------
    ("nsg-deny-no-forced-tunnel", T.nsg_deny_internet_without_forced_tunnel, {}, set(), False, set()),
    (
        # Standalone Route children: the autofix leaves the table alone, the NSG deny counts (R4.2).
        "nsg-deny-forced-tunnel-standalone",
        T.nsg_deny_internet_with_forced_tunnel,
        {},
        {(REACHABILITY, MANDATORY, SUBNET_APP)},
        True,
        set(),
    ),
    (
        "nic-allows-subnet-denies",
        lambda: T.nic_and_subnet_nsgs(subnet_allows=False),
        {},
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    ("nic-and-subnet-allow", lambda: T.nic_and_subnet_nsgs(subnet_allows=True), {}, set(), False, set()),
    ("nsg-deny-platform-lkm", T.nsg_denies_platform_lkm, {}, {(REACHABILITY, MANDATORY, SPOKE)}, True, set()),
    # --- outbound ---------------------------------------------------------------------------------
    (
        "private-subnet-no-nat",
        lambda: T.private_subnet(nat_gateway=False),
        {},
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    ("private-subnet-nat", lambda: T.private_subnet(nat_gateway=True), {}, set(), False, set()),
    # --- DNS --------------------------------------------------------------------------------------
    (
        "private-zone-shadows-kms",
        lambda: T.private_dns_zone(records=False),
        {},
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    ("private-zone-with-kms-records", lambda: T.private_dns_zone(records=True), {}, set(), False, set()),
    # --- wrong cloud: public KMS /32s in a US Gov stack ---------------------------------------------
    (
        "usgov-public-routes",
        lambda: T.udr_to_vpn_gateway(location="usgovvirginia", user_kms=T.PUBLIC_KMS),
        NO_AUTOFIX,
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    (
        "usgov-public-routes-autofix",
        lambda: T.udr_to_vpn_gateway(location="usgovvirginia", user_kms=T.PUBLIC_KMS),
        {},
        set(),
        False,
        {RT_SPOKE},
    ),
    (
        "usgov-routes",
        lambda: T.udr_to_vpn_gateway(location="usgovvirginia", user_kms=T.USGOV_KMS),
        {},
        set(),
        False,
        set(),
    ),
    # --- third-party appliance (§3.5) ---------------------------------------------------------------
    ("appliance-unknown", T.third_party_appliance, NO_AUTOFIX, {(UNVERIFIED, ADVISORY, SPOKE)}, False, set()),
    (
        "appliance-unknown-strict",
        T.third_party_appliance,
        {**NO_AUTOFIX, UNVERIFIED: "mandatory"},
        {(UNVERIFIED, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    (
        "appliance-declared",
        T.third_party_appliance,
        {**NO_AUTOFIX, REACHABILITY: {"egressAppliances": [T.NVA_IP]}},
        set(),
        False,
        set(),
    ),
    (
        "appliance-declared-on-premises",
        T.third_party_appliance,
        {**NO_AUTOFIX, REACHABILITY: {"egressAppliances": [{"ip": T.NVA_IP, "egress": "on-premises"}]}},
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
    ("appliance-autofix", T.third_party_appliance, {}, {(UNVERIFIED, ADVISORY, SPOKE)}, False, set()),
    # --- BGP (scenario 20) and the Default Site escape (§3.1) ----------------------------------------
    (
        "expressroute-bgp-unknown",
        lambda: T.expressroute_gateway(disable_bgp=False),
        {},
        {(UNVERIFIED, ADVISORY, SPOKE)},
        False,
        set(),
    ),
    ("expressroute-bgp-off", lambda: T.expressroute_gateway(disable_bgp=True), {}, set(), False, set()),
    ("vpn-default-site-internet-escape", T.vpn_default_site_with_internet_escape, {}, set(), False, set()),
    # --- out of the stack -------------------------------------------------------------------------
    (
        "out-of-stack-route-table",
        T.out_of_stack_route_table,
        {},
        {(UNVERIFIED, ADVISORY, SPOKE)},
        False,
        set(),
    ),
    (
        "standalone-routes-untouched",
        T.inline_route_table_with_standalone_routes,
        {},
        {(REACHABILITY, MANDATORY, SPOKE)},
        True,
        set(),
    ),
]


@pytest.mark.parametrize(
    ("builder", "config", "expected", "fails", "remediated"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_topology(
    pack: PackProcess,
    builder: Callable[[], Stack],
    config: Mapping[str, Any],
    expected: set[tuple[str, str, str]],
    fails: bool,
    remediated: set[str],
) -> None:
    result = preview(pack, builder().resources, config)
    assert found(result) == expected
    assert result.preview_fails is fails
    assert {r.urn for r in result.remediations} == remediated
    assert all(r.policy == AUTOFIX for r in result.remediations)
    # One violation per subnet (or route table) and policy.
    assert len(result.violations) == len(expected)


def test_deployed_stack_with_state_outputs(pack: PackProcess) -> None:
    resources = T.deployed_forced_tunnel()
    blocked = preview(pack, resources, NO_AUTOFIX)
    assert found(blocked) == {(REACHABILITY, MANDATORY, SPOKE)}
    fixed = preview(pack, resources)
    assert (found(fixed), fixed.preview_fails, [r.urn for r in fixed.remediations]) == (
        set(),
        False,
        [RT_SPOKE],
    )
    [rt] = [r for r in fixed.final_resources if r.type == T.RT]
    assert rt.outputs is not None and rt.outputs["routes"] == [
        T.default_route("VirtualNetworkGateway"),
        *T.kms_routes(T.PUBLIC_KMS),
    ]


# --- message content ------------------------------------------------------------------------------


def test_vpn_default_site_message_is_exact(pack: PackProcess) -> None:
    result = preview(pack, T.vpn_default_site().resources)
    code = ", ".join(
        f'azure_native.network.RouteArgs(name="kms-{ip.replace(".", "-")}", address_prefix="{ip}/32", '
        'next_hop_type="Internet")'
        for ip in sorted(T.PUBLIC_KMS)
    )
    assert messages(result, REACHABILITY, HUB) == [
        "Subnet hub/app (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked to "
        "20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key Management "
        "Service could be contacted).\n"
        "Blocked by:\n"
        "- VPN gateway vpn Default Site (forced tunneling): 0.0.0.0/0 → VirtualNetworkGateway (selected for "
        "20.118.99.224): traffic leaves Azure through the gateway, so KMS sees a non-Azure source IP "
        "(docs/rules.md#azure-public-source)\n"
        "Fix (checked: these changes make every KMS endpoint reachable):\n"
        "1. subnet hub/app: associate a route table with 20.118.99.224/32 → Internet, 23.102.135.246/32 → "
        "Internet, 40.83.235.53/32 → Internet (one /32 route per KMS IP, docs/rules.md#kms-routes)\n"
        '   Pulumi: kms_routes = azure_native.network.RouteTable("hub-app-kms-routes", resource_group_name=rg.name, '
        f"location=vnet.location, routes=[{code}]); route_table=azure_native.network.RouteTableArgs(id=kms_routes.id)"
        "  # on subnet hub/app; rg, vnet: its resource group and virtual network\n"
        f"Docs: {DOCS}#kms-route-forced-tunnel (KMS-ROUTE-FORCED-TUNNEL)"
    ]
    [violation] = result.violations
    assert violation.description == (
        "Every subnet must reach every Azure KMS endpoint of its cloud on TCP 1688 from an Azure public IP."
    )


@pytest.mark.parametrize("config", [NO_AUTOFIX, {}], ids=["no-autofix", "autofix"])
def test_firewall_message_names_firewall_rule_and_fix(pack: PackProcess, config: Mapping[str, Any]) -> None:
    # With the autofix on, the firewall table is left alone and the verdict is the same as without it.
    result = preview(pack, T.firewall_without_kms_rule().resources, config)
    assert messages(result, AUTOFIX) == []
    [message] = messages(result, REACHABILITY)
    lines = message.split("\n")
    assert lines[0] == (
        "Subnet spoke/app (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked to "
        "20.118.99.224, 40.83.235.53, 23.102.135.246; VMs will fail with 0xC004F074 (no Key Management "
        "Service could be contacted)."
    )
    assert (
        lines[2]
        == "- Azure Firewall fw: no network rule allows TCP 1688 to 20.118.99.224, so the default deny drops it (docs/rules.md#firewall-default-deny)"
    )
    assert lines[4] == (
        "1. firewall policy fw-policy: add rule collection group kms-activation (priority 100) with a network "
        "rule collection (Allow) and rule allow-kms: TCP 1688 from 10.1.0.0/24 to 20.118.99.224, "
        "23.102.135.246, 40.83.235.53"
    )
    assert lines[5].startswith(
        '   Pulumi: azure_native.network.FirewallPolicyRuleCollectionGroup("fw-policy-kms-activation", '
        'resource_group_name=rg.name, firewall_policy_name=policy.name, rule_collection_group_name="kms-activation", '
        "priority=100, rule_collections=[azure_native.network.FirewallPolicyFilterRuleCollectionArgs("
    )
    assert lines[-1] == f"Docs: {DOCS}#kms-firewall-no-rule (KMS-FIREWALL-NO-RULE)"


def test_fqdn_rule_message_says_dns_proxy_is_off(pack: PackProcess) -> None:
    [message] = messages(
        preview(pack, T.firewall_fqdn_rules_without_dns_proxy().resources, NO_AUTOFIX), REACHABILITY
    )
    assert (
        "- Azure Firewall fw: no network rule allows TCP 1688 to 20.118.99.224, so the default deny drops it "
        "(docs/rules.md#firewall-default-deny); rule allow-kms-fqdn uses destinationFqdns but the DNS proxy of fw is off (docs/rules.md#firewall-fqdn-rules)"
    ) in message.split("\n")


def test_dns_shadowing_message_gives_both_error_codes_and_the_records(pack: PackProcess) -> None:
    [message] = messages(preview(pack, T.private_dns_zone(records=False).resources), REACHABILITY)
    lines = message.split("\n")
    assert lines[0].endswith(
        "VMs will fail with 0xC004F074 (no KMS could be contacted) or 0x800705B4 (timeout)."
    )
    assert lines[2] == (
        "- private DNS zone core.windows.net linked to VNet spoke has no record azkms: azkms.core.windows.net "
        "is NXDOMAIN (no fallback for non-privatelink zones, docs/rules.md#private-dns-zones)"
    )
    assert lines[4] == (
        "1. private DNS zone core.windows.net: add A record azkms → 20.118.99.224, 40.83.235.53 (or unlink "
        "the zone from VNet spoke)"
    )
    assert lines[5].startswith("   Pulumi: azure_native.privatedns.PrivateRecordSet(")
    assert lines[-1] == f"Docs: {DOCS}#kms-dns-shadowed (KMS-DNS-SHADOWED)"


def test_private_subnet_message_asks_for_a_nat_gateway(pack: PackProcess) -> None:
    [message] = messages(preview(pack, T.private_subnet(nat_gateway=False).resources), REACHABILITY)
    assert message.split("\n")[2:5] == [
        "- subnet spoke/app is private (defaultOutboundAccess: false) with no NAT gateway or public IP: "
        "Windows activation needs explicit outbound (docs/rules.md#explicit-outbound)",
        "Fix (checked: these changes make every KMS endpoint reachable):",
        "1. subnet spoke/app: associate a NAT gateway with a public IP (explicit outbound; Windows activation "
        "needs it in a private subnet or behind a Standard load balancer, docs/rules.md#explicit-outbound)",
    ]


def test_wrong_cloud_message_lists_the_usgov_ips(pack: PackProcess) -> None:
    stack = T.udr_to_vpn_gateway(location="usgovvirginia", user_kms=T.PUBLIC_KMS)
    [message] = messages(preview(pack, stack.resources, NO_AUTOFIX), REACHABILITY)
    assert message.startswith(
        "Subnet spoke/app (usgovvirginia, usgov cloud): Windows cannot activate. KMS TCP 1688 is blocked to "
        "23.97.0.13, 52.126.105.2;"
    )
    assert "1. route table rt-spoke: add 23.97.0.13/32 → Internet, 52.126.105.2/32 → Internet" in message


@pytest.mark.parametrize("config", [NO_AUTOFIX, {}], ids=["no-autofix", "autofix"])
def test_unknown_appliance_message_says_how_to_settle(pack: PackProcess, config: Mapping[str, Any]) -> None:
    result = preview(pack, T.third_party_appliance().resources, config)
    assert messages(result, AUTOFIX) == []
    [message] = messages(result, UNVERIFIED)
    ips = ", ".join(T.PUBLIC_KMS)
    assert message.split("\n") == [
        f"Subnet spoke/app (westeurope, public cloud): KMS TCP 1688 reachability to {ips} cannot be proven "
        "from the stack, so Windows activation may fail with 0xC004F074.",
        "Unknown because:",
        f"- route table rt-spoke route default: 0.0.0.0/0 → VirtualAppliance 10.0.100.4 (selected for {ips}): "
        "third-party appliance 10.0.100.4; what it does with KMS traffic cannot be seen (docs/rules.md#third-party-appliances)",
        "To settle it:",
        "- declare the appliance in egressAppliances if it SNATs to an Azure public IP and allows TCP 1688, or "
        "add a 20.118.99.224/32, 40.83.235.53/32, 23.102.135.246/32 → Internet route",
        f"Docs: {DOCS}#kms-unknown-appliance (KMS-UNKNOWN-APPLIANCE)",
    ]


def test_autofix_advisory_message_lists_the_routes(pack: PackProcess) -> None:
    result = preview(pack, T.udr_to_vpn_gateway().resources, {AUTOFIX: "advisory"})
    assert messages(result, AUTOFIX) == [
        "route table rt-spoke: KMS traffic goes 20.118.99.224 → route default (0.0.0.0/0 → VirtualNetworkGateway); "
        "40.83.235.53 → route default (0.0.0.0/0 → VirtualNetworkGateway); 23.102.135.246 → route default "
        "(0.0.0.0/0 → VirtualNetworkGateway). Add 20.118.99.224/32 → Internet (kms-20-118-99-224), "
        "40.83.235.53/32 → Internet (kms-40-83-235-53), 23.102.135.246/32 → Internet (kms-23-102-135-246).\n"
        "Docs: docs/findings.md#kms-route-missing (KMS-ROUTE-MISSING)"
    ]


def test_many_spokes_one_violation_each_and_one_remediation_per_table(pack: PackProcess) -> None:
    st = Stack()
    spokes = []
    for i in range(20):
        rt = T.route_table(st, [T.default_route("VirtualNetworkGateway")], name=f"rt-{i}")
        spokes.append(T.spoke(st, subnet={"routeTable": {"id": UNKNOWN}}, deps=[rt.urn], name=f"spoke-{i}"))
    blocked = preview(pack, st.resources, NO_AUTOFIX)
    assert sorted(v.urn for v in blocked.violations) == sorted(s.urn for s in spokes)
    assert {(v.policy, v.level) for v in blocked.violations} == {(REACHABILITY, MANDATORY)}
    fixed = preview(pack, st.resources)
    assert fixed.violations == ()
    assert sorted(r.urn for r in fixed.remediations) == sorted(st.urn(T.RT, f"rt-{i}") for i in range(20))
