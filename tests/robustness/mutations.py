"""Hostile edits of property bags: each one replaces, wraps or removes the value at one path.

Kinds, by what the analysis may do with them:

* ``MALFORMING`` edits make a value unusable (an unknown sentinel of any type, a wrong JSON type,
  an empty string, an invalid CIDR, port or IP, junk unicode, a secret-wrapped junk marker). They
  may never turn a subnet REACHABLE that was not (unknown is never a pass);
* ``PRESERVING`` edits keep the meaning (wrap the value in a secret, re-case an enum); verdicts
  must not change at all;
* ``RESHAPING`` edits are legitimate changes (drop a key, blow a list up, unicode names); only the
  no-crash, no-leak and pack-equals-analysis invariants apply.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from kmsguard.engine import PackResource, Secret, Unknown
from kmsguard.engine.wire import UNKNOWN_SENTINELS

from .support import marker

Path = tuple[str | int, ...]

MALFORMING = ("unknown", "wrong-type", "empty", "bad-cidr", "bad-port", "bad-ip", "junk", "secret-junk")
PRESERVING = ("secret", "recase")
RESHAPING = ("drop", "huge-list", "unicode-name")
KINDS = MALFORMING + PRESERVING + RESHAPING

BAD_CIDRS = [
    "10.0.0.0/33",
    "300.1.1.1/8",
    "10.0.0/8",
    "0.0.0.0/-1",
    "10.0.0.0/ 8",
    "::/0",
    "1e3",
    "10.0.0.0/08",
]
BAD_PORTS = ["70000", "2000-1000", "-1", "1688-", "*-*", "１６８８", "0x698", "1688,1689"]
BAD_IPS = ["10.0.1.300", "not-an-ip", "10.0.1", "010.000.001.004", "10.0.1.4/33", " "]
JUNK = ["Ünïcødé", "网络", "\u202e", "\x00", "x" * 300, "${jndi:ldap://x}", "../../etc/passwd", "%s%n"]
UNICODE_NAMES = ["Ünïcødé", "网络-子网", "ñ/ñ", "a b", "🙂", "İ"]

# Enum-valued keys whose values Azure compares case-insensitively (recased by "recase").
ENUM_KEYS = frozenset(
    {
        "nextHopType", "access", "direction", "protocol", "osType", "gatewayType", "vpnType",
        "ruleCollectionType", "ruleType", "commitType", "kind", "addressPrefixType", "forwardingRuleState",
        "orchestrationMode", "privateIPAllocationMethod", "publicIPAllocationMethod", "recordType",
        "destinationType", "ipProtocols", "protocols", "type",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Edit:
    resource: int
    path: Path
    kind: str
    choice: int  # picks among the kind's candidate values

    def describe(self, resources: list[PackResource]) -> str:
        return f"{self.kind} at {resources[self.resource].name}{_show(self.path)}"


def _show(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every node below the top level, containers before their children."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


def _get(value: Any, path: Path) -> Any:
    for p in path:
        value = value[p]
    return value


def _json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str | Unknown):
        return "string"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    return type(v).__name__


WRONG_TYPES: list[Any] = [7, 3.5, True, "7", ["x"], {"x": 1}]


def _value_for(kind: str, old: Any, choice: int, key: str | int) -> Any:
    def pick(options: list[Any]) -> Any:
        return options[choice % len(options)]

    if kind == "unknown":
        return Unknown(pick(sorted(UNKNOWN_SENTINELS)))
    if kind == "wrong-type":
        return pick([w for w in WRONG_TYPES if _json_type(w) != _json_type(old)])
    if kind == "empty":
        return "" if _json_type(old) != "string" or old != "" else " "
    if kind == "bad-cidr":
        return pick(BAD_CIDRS)
    if kind == "bad-port":
        return pick(BAD_PORTS)
    if kind == "bad-ip":
        return pick(BAD_IPS)
    if kind == "junk":
        return pick(JUNK)
    if kind == "secret-junk":
        return Secret(marker())
    if kind == "secret":
        return Secret(old)
    if kind == "recase":
        return _recase(old, choice)
    if kind == "huge-list":
        items = old if old else [None]
        return [copy.deepcopy(items[i % len(items)]) for i in range(200 + choice % 300)]
    if kind == "unicode-name":
        return pick(UNICODE_NAMES)
    raise AssertionError(kind)


def _recase(value: Any, choice: int) -> Any:
    if isinstance(value, list):
        return [_recase(v, choice) for v in value]
    if not isinstance(value, str):
        return value
    return [value.upper(), value.lower(), value.swapcase()][choice % 3]


def applicable(kind: str, value: Any, key: str | int) -> bool:
    """Whether ``kind`` makes sense at a node holding ``value`` under ``key``."""
    if isinstance(value, Unknown | Secret):
        return kind in ("unknown", "wrong-type", "drop")
    if kind == "drop":
        return isinstance(key, str)
    if kind == "huge-list":
        return isinstance(value, list)
    if kind == "recase":
        return key in ENUM_KEYS and (isinstance(value, str) or (isinstance(value, list) and bool(value)))
    if kind == "unicode-name":
        return key == "name" or (isinstance(key, str) and key.endswith("Name") and key != "resourceGroupName")
    if kind == "empty":
        return not isinstance(value, dict | list)
    return True


def apply(resources: list[PackResource], edits: list[Edit]) -> list[PackResource]:
    """A copy of ``resources`` with every applicable edit made (inapplicable ones are skipped)."""
    out = [replace(r, inputs=copy.deepcopy(dict(r.inputs))) for r in resources]
    for e in edits:
        r = out[e.resource]
        bag = r.inputs
        try:
            parent = _get(bag, e.path[:-1])
            old = parent[e.path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or retyped the node
        if not isinstance(parent, dict | list):
            continue  # an earlier edit turned the container into a scalar
        key = e.path[-1]
        if not applicable(e.kind, old, key):
            continue
        if e.kind == "drop":
            del parent[key]
        else:
            parent[key] = _value_for(e.kind, old, e.choice, key)
    return out


# A name set to another string is a rename, not a malformed value: the resource simply is another
# one (a reference by the old name or id then points outside the stack, which may be legitimate).
RENAMING = frozenset({"bad-cidr", "bad-port", "bad-ip", "junk", "secret-junk"})


def is_identity(key: str | int) -> bool:
    return isinstance(key, str) and (key == "name" or key.endswith("Name"))


@st.composite
def edits(
    draw: st.DrawFn,
    resources: list[PackResource],
    kinds: tuple[str, ...],
    max_edits: int = 4,
    *,
    no_renames: bool = False,
) -> list[Edit]:
    """Up to ``max_edits`` edits of the given kinds at random nodes of random resources.

    ``no_renames`` turns a string edit of a name into an unknown (see ``RENAMING``)."""
    out: list[Edit] = []
    for _ in range(draw(st.integers(1, max_edits))):
        i = draw(st.integers(0, len(resources) - 1))
        where = list(paths(resources[i].inputs))
        if not where:
            continue
        path, kind = draw(st.sampled_from(where)), draw(st.sampled_from(kinds))
        if no_renames and kind in RENAMING and is_identity(path[-1]):
            kind = "unknown"
        out.append(Edit(i, path, kind, draw(st.integers(0, 1000))))
    return out
