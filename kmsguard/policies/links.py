"""Where the documentation of the policies and findings lives, importable without the analysis.

Links are relative to the repository (``docs/findings.md#kms-nsg-deny``), which is where the pages
are: kmsguard invents no URL. A user who publishes the docs sets ``KMSGUARD_DOCS_URL`` to the base
URL of the repository's root (e.g. ``https://git.example.com/kmsguard/blob/main``); it is read when
a link is rendered, never at import.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from kmsguard.findings import Finding

DOCS_URL_ENV = "KMSGUARD_DOCS_URL"
FINDINGS_PAGE = "docs/findings.md"
RULES_PAGE = "docs/rules.md"
ACTIVATION_PAGE = "docs/activation.md"

# The policies' ``url``s (fixed when the pack is built, so repository-relative).
DOCS = FINDINGS_PAGE
ACTIVATION_DOCS = f"{ACTIVATION_PAGE}#kms-client-activation"


def link(page: str, anchor: str = "") -> str:
    """``page#anchor``, under the configured base URL if there is one."""
    base = os.environ.get(DOCS_URL_ENV, "").strip().rstrip("/")
    target = f"{page}#{anchor}" if anchor else page
    return f"{base}/{target}" if base else target


def rule(anchor: str) -> str:
    """A citation of a rule of docs/rules.md, as messages write it (always repository-relative)."""
    return f"{RULES_PAGE}#{anchor}"


def docs_line(findings: Iterable[Finding]) -> str:
    """The last line of a message: each finding's ID and its section of docs/findings.md."""
    found = list(dict.fromkeys(findings))
    return "Docs: " + ", ".join(f"{link(FINDINGS_PAGE, f.anchor)} ({f})" for f in found)


def with_finding(message: str, finding: Finding) -> str:
    """A message with its finding's docs line."""
    return f"{message}\n{docs_line([finding])}"
