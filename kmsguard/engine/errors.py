"""What can go wrong when an engine runs, one class per kind, so that callers tell failures apart by
type and never by their text.

All are ``KmsguardError``s: the CLI reports each as one line and exits 2 (DESIGN "Exit codes"); the
classes decide what goes with that line (the program's traceback, the policy config file's name).
"""

from __future__ import annotations

from kmsguard.errors import KmsguardError

__all__ = ["EngineUnavailable", "PackRpcError", "PackStartError", "PolicyConfigError", "ProgramError"]


class EngineUnavailable(KmsguardError):
    """The engine asked for cannot run here: no usable Pulumi CLI, or a provider the offline sandbox
    does not have."""


class PackStartError(KmsguardError):
    """The policy pack did not start: not a Python pack, its interpreter failed, or it printed no port
    or could not be reached on it."""


class PackRpcError(KmsguardError):
    """A call to a running policy pack failed (a policy raised, the pack died, a deadline passed)."""


class PolicyConfigError(KmsguardError):
    """The policy pack config was refused (by the engine's parsing and schema check, by the pack, or by
    the analysis): the CLI names the ``--policy-config`` file in front of the message."""


class ProgramError(KmsguardError):
    """The Pulumi program failed: ``traceback`` is the program's own (shown before the one-line error,
    as `pulumi preview` shows it), without the runner's frames."""

    exit_code: int = 2

    def __init__(self, message: str, traceback: str, stdout: str = "", stderr: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback
        self.stdout = stdout
        self.stderr = stderr
