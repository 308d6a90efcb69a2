"""Windows activation on the VM side: the KMS client set-up script and its decision logic (§8, §9).

Pure Python, no Pulumi: ``activation_target`` picks the GVLK and the KMS host from the catalog,
``render_script`` writes the PowerShell that applies them, and ``decide`` is the tested twin of
the script's decision on ``slmgr /dlv`` output.
"""

from kmsguard.activation.codes import ERROR_CODES
from kmsguard.activation.decide import Decision, decide, error_code, explain, plan_data
from kmsguard.activation.script import bootstrap_command, data_block, render_script
from kmsguard.activation.target import (
    ATTEMPTS,
    DELAY_SECONDS,
    ActivationTarget,
    activation_target,
    cloud_for_location,
)

__all__ = [
    "ATTEMPTS",
    "DELAY_SECONDS",
    "ERROR_CODES",
    "ActivationTarget",
    "Decision",
    "activation_target",
    "bootstrap_command",
    "cloud_for_location",
    "data_block",
    "decide",
    "error_code",
    "explain",
    "plan_data",
    "render_script",
]
