"""Address layout helpers."""

import ipaddress


def spoke_prefix(text: str) -> str:
    return str(ipaddress.ip_network(text))
