"""How the model says "known", "unknown" and "absent".

Every field that can be missing or unknown is typed ``T | Unknown | None``:

* a value of type ``T``: known;
* an ``Unknown``: the property exists but its value is not known here (a preview unknown, a
  reference to a resource outside the stack, a value that failed validation). It carries why;
* ``None``: the property is absent (not set), which in Azure usually has a documented default.

The analysis must never read an ``Unknown`` as a pass, so the distinction is explicit in types
rather than overloaded onto ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias, TypeGuard, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value that exists but cannot be known; ``why`` says what would settle it."""

    why: str = "value not known"

    def __repr__(self) -> str:
        return f"UNKNOWN({self.why})"


UNKNOWN = Unknown()

Maybe: TypeAlias = "T | Unknown | None"
"""A field that is known (``T``), unknown (``Unknown``) or absent (``None``)."""


def is_unknown(value: object) -> TypeGuard[Unknown]:
    return isinstance(value, Unknown)


def is_known(value: T | Unknown | None) -> TypeGuard[T]:
    return value is not None and not isinstance(value, Unknown)
