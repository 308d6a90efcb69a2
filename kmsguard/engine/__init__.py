"""Engine stand-in: start a Python policy pack like the Pulumi CLI and drive it over the Analyzer protocol.

See docs/pulumi-mechanics.md §1 for the behaviour reproduced here.
"""

from .driver import (
    DriveResult,
    PackProcess,
    PackResource,
    PolicyInfo,
    Remediation,
    Violation,
    drive_pack,
)
from .wire import UNKNOWN, Secret, Unknown, decode_struct, decode_value, encode_struct, encode_value

__all__ = [
    "UNKNOWN",
    "DriveResult",
    "PackProcess",
    "PackResource",
    "PolicyInfo",
    "Remediation",
    "Secret",
    "Unknown",
    "Violation",
    "decode_struct",
    "decode_value",
    "drive_pack",
    "encode_struct",
    "encode_value",
]
