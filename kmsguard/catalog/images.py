"""Marketplace image SKU → (Windows version, edition), from ``data/images.json``.

A Marketplace SKU name encodes the version and edition (``2022-datacenter-azure-edition-core``), plus
variants that do not change the edition or its GVLK (``-core``, ``-smalldisk``, ``-g2``, ...). The
table holds explicit SKUs and rules; a SKU that neither matches exactly nor parses as
``<version>-<edition>[-<variant>...]`` is unknown, never the closest guess: a wrong edition would
install a key that fails with an error on the VM instead of at preview (§8.1, §8.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from kmsguard.errors import ValidationError

__all__ = ["ImageFamily", "ImageLookup", "SkuRule", "UnknownImage", "WindowsImage", "build_images"]

_IMAGES = "images.json"


@dataclass(frozen=True, slots=True)
class WindowsImage:
    """A SKU the catalog knows: its version, edition and the GVLK of that pair (§8.2)."""

    publisher: str
    offer: str
    sku: str
    version: str
    edition: str
    key: str


@dataclass(frozen=True, slots=True)
class UnknownImage:
    """The catalog cannot tell the edition; ``reason`` says why, for an error message."""

    reason: str


ImageLookup = WindowsImage | UnknownImage


@dataclass(frozen=True, slots=True)
class SkuRule:
    edition: str
    token: str
    versions: tuple[tuple[str, str], ...]  # (SKU token, catalog version)
    variants: tuple[str, ...]

    def match(self, sku: str) -> tuple[str, str] | None:
        for token, version in self.versions:
            head = f"{token}-{self.token}"
            if sku == head:
                return version, self.edition
            rest = sku[len(head) + 1 :] if sku.startswith(head + "-") else ""
            if rest and _variants_only(rest, self.variants):
                return version, self.edition
        return None


def _variants_only(rest: str, variants: Sequence[str]) -> bool:
    """``rest`` is a '-'-joined sequence of distinct variants (any order; variants may contain '-')."""
    for variant in sorted(variants, key=len, reverse=True):
        if rest == variant:
            return True
        tail = rest[len(variant) + 1 :] if rest.startswith(variant + "-") else ""
        if tail and _variants_only(tail, [v for v in variants if v != variant]):
            return True
    return False


@dataclass(frozen=True, slots=True)
class ImageFamily:
    publisher: str
    offer: str
    rules: tuple[SkuRule, ...]
    skus: Mapping[str, tuple[str, str]]

    def edition_of(self, sku: str) -> tuple[str, str] | None:
        """(version, edition) of ``sku`` (case-insensitive, as ARM compares SKUs), or None."""
        name = sku.lower()
        explicit = self.skus.get(name)
        if explicit is not None:
            return explicit
        found = {m for rule in self.rules if (m := rule.match(name)) is not None}
        # Two rules claiming one SKU means the table is ambiguous for it: unknown, not the first.
        return found.pop() if len(found) == 1 else None


def build_images(document: Any, has_gvlk: Any) -> tuple[ImageFamily, ...]:
    """Families from a validated ``images.json``; every (version, edition) must have a GVLK."""
    families: list[ImageFamily] = []
    seen: dict[tuple[str, str], str] = {}
    for f_index, raw in enumerate(document["images"]):
        base = f"images[{f_index}]"
        pair = (raw["publisher"].lower(), raw["offer"].lower())
        if pair in seen:
            raise ValidationError(
                _IMAGES, base, f"duplicate image {raw['publisher']}/{raw['offer']} (same as {seen[pair]})"
            )
        seen[pair] = base
        rules: list[SkuRule] = []
        for r_index, rule in enumerate(raw["rules"]):
            where = f"{base}.rules[{r_index}]"
            versions: list[tuple[str, str]] = []
            for v_index, item in enumerate(rule["versions"]):
                _require_gvlk(has_gvlk, item["version"], rule["edition"], f"{where}.versions[{v_index}]")
                versions.append((item["token"], item["version"]))
            rules.append(SkuRule(rule["edition"], rule["token"], tuple(versions), tuple(rule["variants"])))
        skus: dict[str, tuple[str, str]] = {}
        for s_index, item in enumerate(raw["skus"]):
            where = f"{base}.skus[{s_index}]"
            if item["sku"] in skus:
                raise ValidationError(_IMAGES, f"{where}.sku", f"duplicate SKU {item['sku']!r}")
            _require_gvlk(has_gvlk, item["version"], item["edition"], where)
            skus[item["sku"]] = (item["version"], item["edition"])
        families.append(ImageFamily(raw["publisher"], raw["offer"], tuple(rules), MappingProxyType(skus)))
    return tuple(families)


def _require_gvlk(has_gvlk: Any, version: str, edition: str, where: str) -> None:
    # A SKU mapped to a pair without a key would pass the lookup and fail later, on the VM.
    if not has_gvlk(version, edition):
        raise ValidationError(_IMAGES, where, f"no GVLK for version {version!r} edition {edition!r}")
