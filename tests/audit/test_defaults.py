"""Unconfirmed defaults are unknown, not pass: a Virtual WAN hub connection without
``enableInternetSecurity`` (the REST specification declares no default: Azure/azure-rest-api-specs
``specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/virtualWan.json``,
``HubVirtualNetworkConnectionProperties.enableInternetSecurity`` is ``{"type": "boolean"}`` only)."""

from __future__ import annotations

from scenarios.network import PUBLIC_KMS, U, decisive, subnet_result, verdicts
from scenarios.test_semantics import APPLICATION_COLLECTION, vwan

from kmsguard.findings import Finding

UNSET = (
    "enableInternetSecurity of conn is not set and the REST specification declares no default for it "
    "(docs/rules.md#virtual-wan)"
)


def test_unset_enable_internet_security_is_unknown() -> None:
    # The hub firewall has no 1688 rule: with the flag true the spoke is blocked (#23), with false
    # it is reachable; unset, kmsguard cannot tell which.
    data = vwan({**APPLICATION_COLLECTION, "applicationRules": 3})
    del data["hubConnections"][0]["enableInternetSecurity"]
    result = subnet_result(data)
    assert result.verdict is U
    assert verdicts(result) == dict.fromkeys(PUBLIC_KMS, U)
    ip = PUBLIC_KMS[0]
    assert decisive(result, ip) == (
        f"route for {ip}: default system route: 0.0.0.0/0 → Internet unless another route applies ({UNSET})"
    )
    [step] = [s for s in result.endpoints[0].trace if s.kind == "route"]
    assert step.finding is Finding.UNKNOWN_ROUTE
