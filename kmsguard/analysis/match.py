"""Tri-state matching of addresses, prefixes, ports and service tags.

A match is ``YES``, ``NO`` or ``MAYBE``. ``MAYBE`` comes from unknown or malformed values and from
facts the documentation leaves open (service-tag membership of the KMS IPs, §1.5); it must never
be read as a match that allows traffic without saying so.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from enum import IntEnum
from functools import lru_cache

from kmsguard.model.values import Unknown

IPv4Network = ipaddress.IPv4Network
IPv4Address = ipaddress.IPv4Address


class Tri(IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


def tri_any(items: Iterable[Tri]) -> Tri:
    best = Tri.NO
    for t in items:
        if t is Tri.YES:
            return Tri.YES
        best = max(best, t)
    return best


def tri_all(items: Iterable[Tri]) -> Tri:
    worst = Tri.YES
    for t in items:
        if t is Tri.NO:
            return Tri.NO
        worst = min(worst, t)
    return worst


@lru_cache(maxsize=65536)
def parse_prefix(text: str) -> IPv4Network | None:
    """A CIDR or a bare IPv4 address as a network; ``None`` when it is neither.

    Host bits are tolerated (``10.0.1.5/24`` is read as ``10.0.1.0/24``) because the question is
    which addresses a rule or route covers, not whether ARM would normalise the string.
    """
    text = text.strip()  # before the first-character test: a leading blank is no service tag
    if not text or not text[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return None


def looks_like_address(text: str) -> bool:
    """True when a string is meant as an address (starts with a digit) even if it is malformed."""
    text = text.strip()
    return bool(text) and text[0].isdigit()


@lru_cache(maxsize=65536)
def parse_port_range(text: str) -> tuple[int, int] | None:
    """``*``, ``n`` or ``a-b`` (inclusive) as a range; ``None`` when malformed (§4.2)."""
    s = text.strip()
    if s == "*":
        return (0, 65535)
    lo, sep, hi = s.partition("-")
    # ASCII digits only: str.isdigit() also accepts "²" (int() then raises) and "１６８８".
    if not _ascii_digits(lo) or (sep and not _ascii_digits(hi)):
        return None
    a = int(lo)
    b = int(hi) if sep else a
    if not (0 <= a <= b <= 65535):
        return None
    return (a, b)


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def port_matches(ranges: Sequence[str | Unknown] | Unknown, port: int, why: list[str], what: str) -> Tri:
    """Whether any of ``ranges`` contains ``port``. An empty list is treated as malformed."""
    if isinstance(ranges, Unknown):
        why.append(f"{what} unknown")
        return Tri.MAYBE
    if not ranges:
        why.append(f"{what} empty")
        return Tri.MAYBE
    result = Tri.NO
    for item in ranges:
        if isinstance(item, Unknown):
            why.append(f"{what} item unknown")
            result = max(result, Tri.MAYBE)
            continue
        r = parse_port_range(item)
        if r is None:
            why.append(f"{what} {item!r} is not a port, range or *")
            result = max(result, Tri.MAYBE)
        elif r[0] <= port <= r[1]:
            return Tri.YES
    return result


def source_ports_cover_ephemeral(ranges: Sequence[str | Unknown] | Unknown, why: list[str]) -> Tri:
    """An outbound rule matches the KMS flow only if it covers any ephemeral source port (§4.2)."""
    if isinstance(ranges, Unknown):
        why.append("source port range unknown")
        return Tri.MAYBE
    if not ranges:
        why.append("source port range empty")
        return Tri.MAYBE
    for item in ranges:
        if isinstance(item, Unknown):
            why.append("source port range item unknown")
            return Tri.MAYBE
        r = parse_port_range(item)
        if r is not None and r[0] <= 1024 and r[1] == 65535:
            return Tri.YES
    why.append(f"source ports {list(ranges)!r} cover only some ephemeral ports")
    return Tri.MAYBE


def prefix_contains_ip(prefix: IPv4Network, ip: IPv4Address) -> bool:
    return ip in prefix


def covers_all(prefix: IPv4Network, sources: Sequence[IPv4Network]) -> Tri:
    """Does ``prefix`` contain every source network? Partial overlap is MAYBE (some VMs match)."""
    if not sources:
        return Tri.MAYBE
    inside = [s.subnet_of(prefix) for s in sources]
    if all(inside):
        return Tri.YES
    if any(inside) or any(s.overlaps(prefix) for s in sources):
        return Tri.MAYBE
    return Tri.NO


def canonical(value: str) -> str:
    """Enum strings compare case-insensitively (azure-native accepts any casing)."""
    return value.strip().lower()


def ip_sort_key(text: str) -> tuple[int, ...]:
    """Dotted IPv4 text in numeric order (fixes list KMS IPs that way)."""
    return tuple(int(p) for p in text.split("."))
