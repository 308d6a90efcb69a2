"""Engine stand-in: start a Python policy pack like the Pulumi CLI and drive it over the Analyzer protocol,
and run a Pulumi Python program offline as a preview would (the program runner).

See docs/pulumi-mechanics.md §1 (analyzer) and §2 (mocks) for the behaviour reproduced here.
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
from .mocks.runner import ProgramError, ProgramRun, Registration, run_program
from .types import EnforcementLevel
from .wire import UNKNOWN, Secret, Unknown, decode_struct, decode_value, encode_struct, encode_value

__all__ = [
    "UNKNOWN",
    "DriveResult",
    "EnforcementLevel",
    "PackProcess",
    "PackResource",
    "PolicyInfo",
    "ProgramError",
    "ProgramRun",
    "Registration",
    "Remediation",
    "Secret",
    "Unknown",
    "Violation",
    "decode_struct",
    "decode_value",
    "drive_pack",
    "encode_struct",
    "encode_value",
    "run_program",
]
