"""Message helpers that the pack tests reach only through whole messages."""

from __future__ import annotations

from kmsguard.policies.messages import merge_by_ip

IPS = ["20.118.99.224", "40.83.235.53", "23.102.135.246"]


def test_lines_differing_only_in_the_ip_are_merged() -> None:
    texts = [f"route for {ip}: next hop unknown; add a {ip}/32 → Internet route" for ip in IPS]
    assert merge_by_ip(texts, IPS) == [
        "route for 20.118.99.224, 40.83.235.53, 23.102.135.246: next hop unknown; add a 20.118.99.224/32, "
        "40.83.235.53/32, 23.102.135.246/32 → Internet route"
    ]


def test_other_lines_keep_their_order_and_are_deduplicated() -> None:
    texts = [
        "custom DNS server 10.0.0.4 may not resolve azkms.core.windows.net",
        f"firewall fw: SNAT range covers {IPS[0]}",
        "custom DNS server 10.0.0.4 may not resolve azkms.core.windows.net",
        f"firewall fw: SNAT range covers {IPS[2]}",
        # Two KMS IPs in one text: not a per-IP variant, kept as is.
        f"{IPS[0]} and {IPS[1]} share route r",
        # A longer number that merely starts with a KMS IP is not that IP.
        "prefix 20.118.99.2240 is invalid",
    ]
    assert merge_by_ip(texts, IPS) == [
        "custom DNS server 10.0.0.4 may not resolve azkms.core.windows.net",
        "firewall fw: SNAT range covers 20.118.99.224, 23.102.135.246",
        f"{IPS[0]} and {IPS[1]} share route r",
        "prefix 20.118.99.2240 is invalid",
    ]
    assert merge_by_ip(texts[:3], []) == texts[:2]
