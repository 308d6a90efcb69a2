"""The offline classic provider on the scale set and load balancer types kmsguard reads: Check keeps
the inputs (no autoname, no schema default such as the load balancer's ``sku``, which the collector
applies itself), and a preview Create echoes them with the id, and so every computed reference such as a
backend pool's id, not yet known, as the stand-in does."""

from __future__ import annotations

from typing import Any

import pytest
from provider.test_classic_server import SEED, URN, U, _struct, provider, shim  # noqa: F401
from pulumi.runtime.proto import provider_pb2

from kmsguard.provider.wire import struct_to_dict

CASES: dict[str, dict[str, Any]] = {
    "azure:lb/loadBalancer:LoadBalancer": {
        "resourceGroupName": "rg",
        "location": "westeurope",
        "frontendIpConfigurations": [{"name": "fe", "publicIpAddressId": U}],
    },
    "azure:lb/backendAddressPool:BackendAddressPool": {"name": "pool", "loadbalancerId": U},
    "azure:lb/outboundRule:OutboundRule": {
        "name": "out",
        "loadbalancerId": U,
        "backendAddressPoolId": U,
        "protocol": "All",
        "frontendIpConfigurations": [{"name": "fe"}],
    },
    "azure:network/networkInterfaceBackendAddressPoolAssociation:NetworkInterfaceBackendAddressPoolAssociation": {
        "networkInterfaceId": U,
        "ipConfigurationName": "ipc",
        "backendAddressPoolId": U,
    },
    "azure:compute/windowsVirtualMachineScaleSet:WindowsVirtualMachineScaleSet": {
        "resourceGroupName": "rg",
        "sku": "Standard_D2s_v5",
        "networkInterfaces": [
            {
                "name": "nic",
                "ipConfigurations": [
                    {"name": "ipc", "subnetId": U, "loadBalancerBackendAddressPoolIds": [U]}
                ],
            }
        ],
    },
}


@pytest.mark.parametrize("token", sorted(CASES))
def test_check_and_preview_create_echo_the_inputs(provider: Any, token: str) -> None:  # noqa: F811
    news = CASES[token]
    urn = f"{URN}{token}::x"
    checked = provider.Check(
        provider_pb2.CheckRequest(urn=urn, name="x", type=token, news=_struct(news), randomSeed=SEED),
        timeout=60,
    )
    assert list(checked.failures) == []
    assert struct_to_dict(checked.inputs) == news
    created = provider.Create(
        provider_pb2.CreateRequest(urn=urn, type=token, name="x", properties=checked.inputs, preview=True),
        timeout=60,
    )
    assert created.id == ""
    assert struct_to_dict(created.properties) == news
