"""Stack config validation: every kind of bad value stops the program before it declares anything,
with a message naming the key and the expected value."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kmsguard.engine.mocks.runner import ProgramError, run_program
from kmsguard.pulumi import StackConfigError, validate_stack_config
from kmsguard.pulumi.config import load_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "stacks" / "stack-config.schema.json"
PROBE = Path(__file__).resolve().parent / "config_probe.py"
NS = "kmsguard-network"

SPOKE = {"name": "app", "addressSpace": "10.1.0.0/16", "subnets": [{"name": "web", "prefix": "10.1.1.0/24"}]}
HUB = {"addressSpace": "10.0.0.0/16"}
GOOD = {"location": "westeurope", "hub": HUB, "spokes": [SPOKE]}


def spoke(**changes: Any) -> dict[str, Any]:
    return {**SPOKE, **changes}


def as_pulumi_config(values: dict[str, Any]) -> dict[str, str]:
    """What the CLI passes: strings, structured values as JSON text (pulumi-mechanics §2.4)."""
    return {f"{NS}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


# (config, the exact message) — shapes (JSON Schema), then what a schema cannot say (stack_settings).
BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "missing key",
        {"hub": HUB, "spokes": [SPOKE]},
        'kmsguard-network:location: is required: an Azure location name in lower case without spaces, e.g. "westeurope"',
    ),
    (
        "unknown key",
        {**GOOD, "hub": {**HUB, "firewal": {"subnetPrefix": "10.0.1.0/26"}}},
        "kmsguard-network:hub.firewal: is not a known key (expected one of: addressSpace, dnsServers, gateway, "
        "firewall, subnets)",
    ),
    (
        "bad enum",
        {**GOOD, "hub": {**HUB, "gateway": {"type": "vpm"}}},
        'kmsguard-network:hub.gateway.type: expected one of "vpn", "expressroute", got "vpm"',
    ),
    (
        "wrong type",
        {**GOOD, "hub": {**HUB, "firewall": {"subnetPrefix": "10.0.1.0/26", "dnsProxy": "yes"}}},
        'kmsguard-network:hub.firewall.dnsProxy: expected boolean, got string "yes"',
    ),
    (
        "bad prefix",
        {**GOOD, "spokes": [spoke(addressSpace="10.1.0.0/33")]},
        'kmsguard-network:spokes[0].addressSpace: expected an IPv4 prefix in CIDR notation, e.g. "10.0.0.0/16", '
        'got "10.1.0.0/33"',
    ),
    (
        "bad location",
        {**GOOD, "location": "West Europe"},
        'kmsguard-network:location: expected an Azure location name in lower case without spaces, e.g. "westeurope", '
        'got "West Europe"',
    ),
    (
        "empty list",
        {**GOOD, "spokes": []},
        "kmsguard-network:spokes: expected at least 1 item(s), got 0",
    ),
    (
        "bad kms mode",
        {**GOOD, "kms": {"routes": "always"}},
        'kmsguard-network:kms.routes: expected one of "auto", "explicit", "none", got "always"',
    ),
    (
        "subnet outside its VNet",
        {**GOOD, "spokes": [spoke(subnets=[{"name": "web", "prefix": "10.2.1.0/24"}])]},
        "kmsguard-network:spokes[0].subnets[0].prefix: expected a prefix inside the address space 10.1.0.0/16, "
        "got '10.2.1.0/24'",
    ),
    (
        "prefix with host bits",
        {**GOOD, "spokes": [spoke(subnets=[{"name": "web", "prefix": "10.1.1.7/24"}])]},
        "kmsguard-network:spokes[0].subnets[0].prefix: expected a network address (10.1.1.0/24), got '10.1.1.7/24'",
    ),
    (
        "egress without its gateway",
        {**GOOD, "spokes": [spoke(egress="gateway")]},
        'kmsguard-network:spokes[0].egress: expected "firewall" or "internet": egress "gateway" needs '
        'hub.gateway.type "vpn" (an ExpressRoute gateway cannot be a route\'s next hop, §2.3)',
    ),
    (
        "egress without a firewall",
        {**GOOD, "spokes": [spoke(egress="firewall")]},
        'kmsguard-network:spokes[0].egress: expected "gateway" or "internet": egress "firewall" needs hub.firewall',
    ),
    (
        "link to an unknown VNet",
        {**GOOD, "privateDnsZones": [{"name": "privatelink.blob.core.windows.net", "linkTo": ["hub", "ap"]}]},
        "kmsguard-network:privateDnsZones[0].linkTo[1]: expected \"hub\" or a spoke name (app), got 'ap'",
    ),
]


@pytest.fixture(scope="module")
def probed() -> list[dict[str, Any]]:
    """Every bad config (and one good one, the control) through the real program under mocks."""
    cases = [as_pulumi_config(config) for _, config, _ in BAD] + [as_pulumi_config(GOOD)]
    done = subprocess.run(
        [sys.executable, str(PROBE)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize(
    ("index", "message"), [(i, m) for i, (_, _, m) in enumerate(BAD)], ids=[c[0] for c in BAD]
)
def test_bad_config_stops_the_program_before_any_resource(
    probed: list[dict[str, Any]], index: int, message: str
) -> None:
    result = probed[index]
    assert result["error"] == {"type": "StackConfigError", "message": f"stack config: {message}"}
    assert result["declared"] == []


def test_the_probe_sees_declarations_of_a_good_config(probed: list[dict[str, Any]]) -> None:
    # The control: without it, "declared == []" above could be true of a probe that sees nothing.
    good = probed[len(BAD)]
    assert good["error"] is None
    assert "azure-native:network:VirtualNetwork::vnet-hub" in good["declared"]
    assert "azure-native:network:Subnet::snet-app-web" in good["declared"]


def test_validator_reports_the_first_bad_key_in_document_order() -> None:
    schema = load_schema(SCHEMA)
    bad = {**GOOD, "hub": {**HUB, "gateway": {"type": "vpm"}}, "spokes": [spoke(addressSpace="x")]}
    with pytest.raises(StackConfigError) as caught:
        validate_stack_config(bad, schema, NS)
    assert caught.value.prop == "kmsguard-network:hub.gateway.type"
    validate_stack_config(GOOD, schema, NS)  # and the good config passes


def test_every_shipped_stack_file_is_valid() -> None:
    schema = load_schema(SCHEMA)
    from kmsguard.engine.project import load_project, load_stack_config

    project = load_project(ROOT)
    stacks = sorted(p.name.split(".")[1] for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
    assert stacks == ["china", "dev", "hub-firewall", "noncompliant", "usgov"]
    for stack in stacks:
        values = load_stack_config(project, stack).values
        ours = {k.split(":", 1)[1]: _parse(v) for k, v in values.items() if k.startswith(f"{NS}:")}
        validate_stack_config(ours, schema, NS)


def _parse(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def test_bad_config_fails_an_offline_preview_with_the_message() -> None:
    with pytest.raises(ProgramError) as caught:
        run_program(ROOT, "dev", config={"kms": json.dumps({"routes": "always"})})
    assert str(caught.value).endswith(
        'StackConfigError: stack config: kmsguard-network:kms.routes: expected one of "auto", "explicit", "none", '
        'got "always"'
    )
