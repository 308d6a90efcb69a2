"""The ``kms-reachability`` policy config: its JSON Schema and its translation to ``Settings``.

The same keys are used by the policy pack (``--policy-pack-config``), by ``kmsguard explain``
(``settings`` in the network file) and by the CLI (``--policy-config``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kmsguard.errors import ValidationError

if TYPE_CHECKING:
    import jsonschema

    from kmsguard.analysis.settings import Settings

IPV4 = r"^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$"

CONFIG_PROPERTIES: dict[str, Any] = {
    "cloud": {
        "type": "string",
        "enum": ["public", "usgov", "china", "germany"],
        "description": "Use this cloud's KMS endpoints for every subnet instead of deriving it from the location.",
    },
    "scope": {
        "type": "string",
        "enum": ["all-subnets", "windows-vm-subnets"],
        "description": "Which subnets must reach KMS: every subnet (default) or only those with Windows VMs in the stack.",
    },
    "excludeSubnets": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "description": "Subnets to leave out: a standalone Subnet's logical name, or '<vnet>/<subnet>'.",
    },
    "egressAppliances": {
        "type": "array",
        "items": {
            "anyOf": [
                {"type": "string", "pattern": IPV4},
                {
                    "type": "object",
                    "properties": {
                        "ip": {"type": "string", "pattern": IPV4},
                        "egress": {"type": "string", "enum": ["azure-public-ip", "on-premises"]},
                    },
                    "required": ["ip", "egress"],
                    "additionalProperties": False,
                },
            ]
        },
        "description": "Third-party appliances (docs/rules.md#third-party-appliances): a private IP that SNATs to an Azure public IP and allows TCP 1688, "
        "or {ip, egress: 'azure-public-ip' | 'on-premises'}.",
    },
    "trustedDnsServers": {
        "type": "array",
        "items": {"type": "string", "pattern": IPV4},
        "description": "Custom DNS servers that resolve the KMS names to their public IPs.",
    },
    "extraEndpoints": {
        "type": "array",
        "items": {"type": "object"},
        "description": "More KMS endpoints to check: [{cloud, fqdn, ip, port?}].",
    },
    "internetNextHopDenied": {
        "type": "boolean",
        "description": "Next hop Internet is forbidden (a landing-zone policy): kms-route-autofix adds no Internet "
        "route and kms-reachability proposes the Azure Firewall rule for TCP 1688 instead.",
    },
    "absentDefaultOutboundAccess": {
        "type": "string",
        "enum": ["allowed", "private"],
        "description": "How an unset defaultOutboundAccess reads: 'allowed' (API versions before the 2026 default) or 'private'.",
    },
}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": CONFIG_PROPERTIES,
    "additionalProperties": False,
}

# Keys the engine adds to every policy's config, which are not ours to validate.
ENGINE_KEYS = frozenset({"enforcementLevel"})


def parse_settings(config: Mapping[str, Any] | None, where: str = "config") -> Settings:
    """Validate ``config`` against ``CONFIG_SCHEMA`` and build ``Settings``; errors name the key."""
    # Imported here: the pack needs only CONFIG_PROPERTIES to start (its config schema).
    import jsonschema

    from kmsguard.analysis.settings import Settings
    from kmsguard.catalog import load_catalog, parse_endpoints

    data = {k: _integral(v) for k, v in (config or {}).items() if k not in ENGINE_KEYS}
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    errors = list(validator.iter_errors(data))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        assert err is not None
        path = "".join(
            f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
            for i, p in enumerate(err.absolute_path)
        )
        if err.validator == "additionalProperties" and not err.absolute_path:
            extra = sorted(set(data) - set(CONFIG_PROPERTIES))
            raise ValidationError(where, extra[0], f"unknown key; known keys: {', '.join(CONFIG_PROPERTIES)}")
        raise ValidationError(where, path or "(top level)", _message(err))
    cloud = data.get("cloud")
    if cloud is not None:
        load_catalog().cloud(cloud)
    return Settings(
        cloud=cloud,
        scope=data.get("scope", "all-subnets"),
        exclude_subnets=frozenset(data.get("excludeSubnets", ())),
        egress_appliances=frozenset(
            a if isinstance(a, str) else a["ip"]
            for a in data.get("egressAppliances", ())
            if isinstance(a, str) or a["egress"] == "azure-public-ip"
        ),
        onprem_appliances=frozenset(
            a["ip"]
            for a in data.get("egressAppliances", ())
            if isinstance(a, dict) and a["egress"] == "on-premises"
        ),
        trusted_dns_servers=frozenset(data.get("trustedDnsServers", ())),
        extra_endpoints=parse_endpoints(data["extraEndpoints"], f"{where}: extraEndpoints")
        if "extraEndpoints" in data
        else (),
        absent_default_outbound=data.get("absentDefaultOutboundAccess", "allowed"),
    )


def _integral(value: Any) -> Any:
    """Whole floats as ints: Configure carries every number as a double (pulumi-mechanics §1.8), so
    ``"port": 1688`` reaches the pack as ``1688.0``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    return value


def _message(err: jsonschema.ValidationError) -> str:
    if err.validator == "pattern" and err.validator_value == IPV4:
        return f"{err.instance!r} is not an IPv4 address"
    if err.validator == "anyOf" and isinstance(err.instance, str):
        return f"{err.instance!r} is not an IPv4 address or an appliance object {{ip, egress}}"
    return err.message
