"""The activation decision, as data the PowerShell script consumes and as its Python twin.

The generated script embeds ``plan_data(target)`` as JSON and implements ``decide`` over it with
the same patterns, channel lists and reason texts. The twin runs here, on Linux, against recorded
``slmgr /dlv`` outputs, so the decision is tested even though the script only runs on Windows.

The channel is read with a case-sensitive pattern on the license description ("Windows(R)
Operating System, RETAIL channel"), which slmgr does not translate, rather than on the localised
"Description:" label (§8.1, §8.3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kmsguard.activation.codes import ERROR_CODES
from kmsguard.activation.target import ActivationTarget

__all__ = [
    "CHANNEL_PATTERN",
    "ERROR_PATTERN",
    "IMDS_ADDRESS",
    "IMDS_PORT",
    "Decision",
    "decide",
    "error_code",
    "explain",
    "plan_data",
]

CHANNEL_PATTERN = r"\b([A-Z][A-Z_]+) channel\b"
ERROR_PATTERN = r"0x[0-9A-Fa-f]{8}"
# §8.1: RETAIL needs the GVLK; AVMA is not supported in Azure (0xC004FD01/0xC004FD02) and is
# replaced by the GVLK too. VOLUME_KMSCLIENT already is a KMS client.
INSTALL_KEY_CHANNELS = ("RETAIL", "VIRTUAL_MACHINE_ACTIVATION")
KEEP_KEY_CHANNELS = ("VOLUME_KMSCLIENT",)
# §8.1: Enterprise multi-session shows "ServerRdsh"; a key of another edition cannot be undone.
NEVER_CHANGE_KEY_PATTERN = r"ServerRdsh"
IMDS_ADDRESS = "169.254.169.254"
IMDS_PORT = 80
CONNECT_TIMEOUT_MS = 3000

REASONS: Mapping[str, str] = {
    "no-channel": "the license channel is not in the slmgr /dlv output; nothing was changed",
    "keep-key": "channel {0} is already a KMS client; the key is kept",
    "install-gvlk": "channel {0} is not a KMS client; the GVLK for {1} {2} is installed",
    "multi-session": "channel {0} on a multi-session (ServerRdsh) image: changing its key cannot be undone (docs/rules.md#image-channel); nothing was changed",
    "other-channel": "channel {0} is not a KMS client channel (expected one of {1}); the key is left as it is",
}


@dataclass(frozen=True, slots=True)
class Decision:
    channel: str  # "" when the output shows none
    action: str  # "install-gvlk" | "keep-key" | "stop"
    reason: str


def plan_data(target: ActivationTarget) -> dict[str, Any]:
    """The JSON block the script reads: the target plus every rule the decision uses."""
    return {
        "product": target.product,
        "version": target.version,
        "edition": target.edition,
        "gvlk": target.key,
        "cloud": target.cloud,
        "kmsHost": target.kms_host,
        "port": target.port,
        "endpoints": [{"fqdn": e.fqdn, "ip": e.ip, "port": e.port} for e in target.endpoints],
        "attempts": target.attempts,
        "delaySeconds": target.delay_seconds,
        "connectTimeoutMs": CONNECT_TIMEOUT_MS,
        "checkImds": target.azure_edition,
        "imds": {"ip": IMDS_ADDRESS, "port": IMDS_PORT},
        "channelPattern": CHANNEL_PATTERN,
        "installKeyChannels": list(INSTALL_KEY_CHANNELS),
        "keepKeyChannels": list(KEEP_KEY_CHANNELS),
        "neverChangeKeyPattern": NEVER_CHANGE_KEY_PATTERN,
        "errorPattern": ERROR_PATTERN,
        "reasons": dict(REASONS),
        "errors": dict(ERROR_CODES),
    }


def decide(dlv: str, data: Mapping[str, Any]) -> Decision:
    """What to do with the key, from ``slmgr /dlv`` output; mirrors ``Get-Decision`` in the script."""
    reasons = data["reasons"]
    match = re.search(data["channelPattern"], dlv)
    if match is None:
        return Decision("", "stop", reasons["no-channel"])
    channel = match.group(1)
    if channel in data["keepKeyChannels"]:
        return Decision(channel, "keep-key", reasons["keep-key"].format(channel))
    if channel in data["installKeyChannels"]:
        if re.search(data["neverChangeKeyPattern"], dlv):
            return Decision(channel, "stop", reasons["multi-session"].format(channel))
        text = reasons["install-gvlk"].format(channel, data["version"], data["edition"])
        return Decision(channel, "install-gvlk", text)
    expected = ", ".join([*data["keepKeyChannels"], *data["installKeyChannels"]])
    return Decision(channel, "stop", reasons["other-channel"].format(channel, expected))


def error_code(output: str) -> str:
    """The first 0x........ code in slmgr output, as ``0xC004F074``; "" when there is none."""
    match = re.search(ERROR_PATTERN, output)
    return "0x" + match.group(0)[2:].upper() if match else ""


def explain(code: str) -> str:
    """§8.5: what an activation error code means and its usual Azure cause."""
    return ERROR_CODES.get(code, "")
