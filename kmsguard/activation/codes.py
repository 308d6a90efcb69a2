"""Activation error codes with their meaning and usual Azure cause (§8.5)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["ERROR_CODES"]

ERROR_CODES: Mapping[str, str] = MappingProxyType(
    {
        "0xC004F074": (
            "no KMS could be contacted: network path (forced tunnel, appliance, internal load balancer "
            "without outbound, DNS), guest firewall or wrong /skms; also shown for 0xC004F06C"
        ),
        "0x800705B4": "timeout: network connectivity or DNS resolution",
        "0xC004FD01": "AVMA in Azure: not running on a supported Hyper-V platform; install the GVLK",
        "0xC004FD02": "AVMA in Azure: Windows is not activated on the host; install the GVLK",
        "0xC004F06C": (
            "the KMS judged the request time invalid: Windows Time not running, NtpClient disabled or "
            "a domain member not syncing with AD DS"
        ),
        "0xC004E015": "EUL consumption failed",
        "0x80070005": "access denied: the command was not run elevated",
    }
)
