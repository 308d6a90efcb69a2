"""Helpers shared by the property tests: example budgets, enum casing, KMS addresses."""

from __future__ import annotations

import ipaddress

from hypothesis import settings
from hypothesis import strategies as st

from kmsguard.catalog import load_catalog

# max_examples of the "ci" profile; "long" is ten times this (see conftest.py).
BASE_EXAMPLES = 100


def scaled(n: int) -> int:
    """``n`` examples under the ci profile, proportionally more under the long one."""
    return max(1, n * settings.default.max_examples // BASE_EXAMPLES)


def any_case(value: str) -> st.SearchStrategy[str]:
    """``value`` in the casings azure-native accepts (enum strings compare case-insensitively)."""
    return st.sampled_from(sorted({value, value.lower(), value.upper(), value.swapcase()}))


def one_of_any_case(values: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(values).flatmap(any_case)


# Every KMS IPv4 address of every cloud in the catalog: the only destinations the analysis asks about.
KMS_IPS: tuple[ipaddress.IPv4Address, ...] = tuple(
    sorted({ipaddress.IPv4Address(ip) for cloud in load_catalog().clouds.values() for ip in cloud.ips})
)
