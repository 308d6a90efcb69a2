"""Where the policies' documentation lives (the ``url`` of each policy), importable without the analysis."""

from __future__ import annotations

DOCS = "https://github.com/kmsguard/kmsguard/blob/main/docs/findings.md"
ACTIVATION_DOCS = f"{DOCS.rsplit('/', 1)[0]}/activation.md#kms-client-activation"
