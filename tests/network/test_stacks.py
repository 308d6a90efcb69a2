"""Every stack of the reference network through the offline preview: the program under the runner,
then the real policy pack over the Analyzer gRPC protocol (what ``pulumi preview --policy-pack
policy`` does)."""

from __future__ import annotations

import pytest

from kmsguard.collect.pulumi import PulumiResource, merge_inputs
from kmsguard.engine.mocks.runner import ProgramRun
from kmsguard.policies import analyze_resources

from .conftest import Previews, kms_routes, table_routes

PUBLIC = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]
USGOV = ["23.97.0.13", "52.126.105.2"]
CHINA = ["159.27.28.100", "163.228.64.161", "42.159.7.249"]

# Every subnet of each compliant stack and its verdict (special-purpose subnets are excluded).
VERDICTS = {
    "dev": {
        "vnet-hub/GatewaySubnet": "excluded",
        "vnet-hub/shared": "reachable",
        "snet-app-web": "reachable",
        "snet-app-api": "reachable",
        "snet-data-db": "reachable",
    },
    "hub-firewall": {
        "vnet-hub/AzureFirewallSubnet": "excluded",
        "snet-app-web": "reachable",
        "snet-app-api": "reachable",
        "snet-shared-tools": "reachable",
    },
    "usgov": {
        "vnet-hub/GatewaySubnet": "excluded",
        "snet-app-web": "reachable",
        "snet-ops-jump": "reachable",
    },
    "china": {
        "vnet-hub/GatewaySubnet": "excluded",
        "snet-app-web": "reachable",
        "snet-batch-workers": "reachable",
    },
}


def verdicts(run: ProgramRun) -> dict[str, str]:
    """The pack's own analysis (collect + analyze) of what AnalyzeStack receives, per subnet."""
    resources = [
        PulumiResource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=merge_inputs(r.outputs, r.inputs),
            parent=r.parent,
            dependencies=r.dependencies,
            property_dependencies=r.property_dependencies,
        )
        for r in run.registrations
    ]
    result = analyze_resources(resources, {})
    assert result.problems == ()
    return {s.name: s.verdict.value for s in result.subnets}


@pytest.mark.parametrize("stack", sorted(VERDICTS))
def test_compliant_stack_passes_the_pack_with_no_violation(previews: Previews, stack: str) -> None:
    result = previews.pack(stack)
    assert [(v.policy, v.level, v.message) for v in result.violations] == []
    assert not result.preview_fails
    # The program added every route itself: the pack's autofix found nothing to add.
    assert result.remediations == ()


@pytest.mark.parametrize("stack", sorted(VERDICTS))
def test_compliant_stack_every_subnet_reachable(previews: Previews, stack: str) -> None:
    assert verdicts(previews.run(stack)) == VERDICTS[stack]


def test_compliant_stacks_pass_without_the_autofix_too(previews: Previews) -> None:
    # Compliance comes from the program (component and transform), not from the pack fixing it.
    for stack in ("dev", "hub-firewall", "usgov", "china"):
        result = previews.pack(stack, policy={"kms-route-autofix": "disabled"})
        assert result.violations == (), stack


def test_noncompliant_stack_is_blocked_with_the_exact_violations(previews: Previews) -> None:
    result = previews.pack("noncompliant")
    assert result.preview_fails
    found = sorted((v.policy, v.level, v.urn.rsplit("::", 1)[-1]) for v in result.violations)
    assert found == [
        ("kms-reachability", "mandatory", "snet-app-web"),
        ("kms-reachability", "mandatory", "snet-data-db"),
        ("kms-reachability", "mandatory", "vnet-hub"),
    ]
    messages = {v.urn.rsplit("::", 1)[-1]: v.message for v in result.violations}
    assert (
        "Subnet vnet-hub/shared (westeurope, public cloud): Windows cannot activate. KMS TCP 1688 is blocked to "
        "20.118.99.224, 40.83.235.53, 23.102.135.246" in messages["vnet-hub"]
    )
    assert (
        "- VPN gateway vgw-hub Default Site (forced tunneling): 0.0.0.0/0 → VirtualNetworkGateway"
        in messages["vnet-hub"]
    )
    assert "- NSG nsg-app-web rule 4000 deny-internet: denied" in messages["snet-app-web"]
    assert (
        "- route table rt-data route default-to-onprem: 0.0.0.0/0 → VirtualNetworkGateway"
        in messages["snet-data-db"]
    )
    # The autofix repaired the one thing it may touch: the app spoke's inline route table.
    assert [(r.policy, r.urn.rsplit("::", 1)[-1]) for r in result.remediations] == [
        ("kms-route-autofix", "rt-app")
    ]
    fixed = {r.urn: r.after for r in result.remediations}
    assert kms_routes(
        [(x["name"], x["addressPrefix"], x["nextHopType"]) for x in next(iter(fixed.values()))["routes"]]
    ) == [
        "20.118.99.224",
        "40.83.235.53",
        "23.102.135.246",
    ]


def test_noncompliant_stack_without_autofix_blocks_the_api_subnet_too(previews: Previews) -> None:
    result = previews.pack("noncompliant", policy={"kms-route-autofix": "disabled"})
    assert sorted(v.urn.rsplit("::", 1)[-1] for v in result.violations if v.level == "mandatory") == [
        "snet-app-api",
        "snet-app-web",
        "snet-data-db",
        "vnet-hub",
    ]


# --- the KMS routes the program declares -------------------------------------------------------

EXPECTED_ROUTES: dict[str, dict[str, list[tuple[str, str, str]]]] = {
    "dev": {
        "rt-app": [("default-to-onprem", "0.0.0.0/0", "VirtualNetworkGateway")]
        + [(f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet") for ip in PUBLIC],
        "rt-hub-shared": [(f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet") for ip in PUBLIC],
        "rt-data": [("default-to-onprem", "0.0.0.0/0", "VirtualNetworkGateway")]
        + [(f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet") for ip in PUBLIC],
    },
    "hub-firewall": {
        "rt-app": [("default-to-firewall", "0.0.0.0/0", "VirtualAppliance")],
        "rt-shared": [("default-to-firewall", "0.0.0.0/0", "VirtualAppliance")],
    },
    "usgov": {
        "rt-app": [(f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet") for ip in USGOV],
        "rt-ops": [(f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet") for ip in USGOV],
    },
    "china": {
        "rt-app": [("default-to-onprem", "0.0.0.0/0", "VirtualNetworkGateway")]
        + [(f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet") for ip in CHINA],
        "rt-batch": [("default-to-onprem", "0.0.0.0/0", "VirtualNetworkGateway")]
        + [(f"kms-{ip.replace('.', '-')}", f"{ip}/32", "Internet") for ip in CHINA],
    },
    "noncompliant": {
        "rt-app": [("default-to-onprem", "0.0.0.0/0", "VirtualNetworkGateway")],
        "rt-data": [("default-to-onprem", "0.0.0.0/0", "VirtualNetworkGateway")],
    },
}


@pytest.mark.parametrize("stack", sorted(EXPECTED_ROUTES))
def test_route_tables_have_the_kms_routes_of_their_cloud_exactly_once(previews: Previews, stack: str) -> None:
    routes = table_routes(previews.run(stack))
    assert {name: sorted(r) for name, r in routes.items()} == {
        name: sorted(r) for name, r in EXPECTED_ROUTES[stack].items()
    }
    for name, table in routes.items():
        ips = kms_routes(table)
        assert len(ips) == len(set(ips)), f"{stack} {name}: a KMS route twice: {ips}"


def test_hub_firewall_allows_tcp_1688_to_the_kms_ips_instead_of_routes(previews: Previews) -> None:
    run = previews.run("hub-firewall")
    rcg = run.get("kms-activation", "azure-native:network:FirewallPolicyRuleCollectionGroup")
    assert rcg.property_dependencies["firewallPolicyName"] == (
        run.get("fwpol-hub", "azure-native:network:FirewallPolicy").urn,
    )
    [collection] = rcg.inputs["ruleCollections"]
    assert collection["ruleCollectionType"] == "FirewallPolicyFilterRuleCollection"
    assert collection["action"] == {"type": "Allow"}
    [rule] = collection["rules"]
    assert rule["ruleType"] == "NetworkRule"
    assert rule["ipProtocols"] == ["TCP"]
    assert rule["destinationPorts"] == ["1688"]
    assert rule["destinationAddresses"] == PUBLIC
    assert rule["sourceAddresses"] == ["10.11.0.0/16", "10.12.0.0/16", "10.10.0.0/16"]
    # ... declared once: the hub's own platform rules leave KMS to it.
    platform = run.get("fwpol-hub-platform", "azure-native:network:FirewallPolicyRuleCollectionGroup")
    assert [c["name"] for c in platform.inputs["ruleCollections"]] == ["platform-dns"]


def test_hub_firewall_passes_with_the_autofix_on(previews: Previews) -> None:
    # The autofix leaves the tables to the firewall: /32 → Internet around it would bypass its
    # inspection and leave the private api subnet without outbound (§5.2).
    result = previews.pack("hub-firewall", policy={})
    assert result.violations == ()
    assert not result.preview_fails
    assert result.remediations == ()
    assert {name: sorted(r) for name, r in table_routes(previews.run("hub-firewall")).items()} == {
        name: sorted(r) for name, r in EXPECTED_ROUTES["hub-firewall"].items()
    }


# --- the cloud follows the location -------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "ips"), [("usgovvirginia", USGOV), ("chinanorth3", CHINA), ("germanywestcentral", PUBLIC)]
)
def test_another_location_gets_its_clouds_kms_routes(
    previews: Previews, location: str, ips: list[str]
) -> None:
    config = {"location": location, "azure-native:location": location}
    run = previews.run("dev", config)
    routes = table_routes(run)
    assert {name: sorted(kms_routes(r)) for name, r in routes.items()} == {
        "rt-app": sorted(ips),
        "rt-hub-shared": sorted(ips),
        "rt-data": sorted(ips),
    }
    nsg = run.get("nsg-app-web", "azure-native:network:NetworkSecurityGroup")
    allow = next(r for r in nsg.inputs["securityRules"] if r["name"] == "allow-kms-1688")
    assert allow["destinationAddressPrefixes"] == ips
    assert previews.pack("dev", config).violations == ()


def test_undocumented_location_stops_the_program(previews: Previews) -> None:
    from kmsguard.engine.mocks.runner import ProgramError

    with pytest.raises(ProgramError) as caught:
        previews.run("dev", {"location": "usnateast", "azure-native:location": "usnateast"})
    assert (
        "the KMS endpoints of location 'usnateast' are not documented (docs/rules.md#location-to-cloud)"
        in str(caught.value)
    )
