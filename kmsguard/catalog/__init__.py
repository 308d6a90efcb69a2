"""The KMS catalog: endpoints per cloud, location → cloud, and GVLKs.

The facts are data, not code: ``data/endpoints.json``, ``data/locations.json`` and ``data/gvlk.json``
copy docs/azure-kms-semantics.md §1 and §8.2, ``data/images.json`` maps Marketplace image SKUs to
the §8.2 editions, and ``data/catalog.schema.json`` describes them. Each
entry keeps its source tag so a reviewer can check it against the doc. The files are validated
(schema, then the checks a schema cannot express) and loaded once per process by ``load_catalog``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kmsguard.catalog import loader
from kmsguard.catalog.images import ImageFamily, ImageLookup, UnknownImage, WindowsImage, build_images
from kmsguard.errors import ValidationError

__all__ = [
    "KMS_PORT",
    "Catalog",
    "Cloud",
    "Endpoint",
    "Gvlk",
    "ImageLookup",
    "Location",
    "UnknownImage",
    "WindowsImage",
    "load_catalog",
    "load_catalog_from",
    "normalise_location",
    "parse_endpoints",
]

KMS_PORT = 1688
"""Every Azure KMS endpoint listens on TCP 1688 (§1.1 [S1][S2])."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One (name, address) pair that must be reachable on ``port``."""

    cloud: str
    fqdn: str
    ip: str
    port: int = KMS_PORT
    # §1.1 R1.1: 23.102.135.246 no longer answers for kms.core.windows.net (S3) but S1 still asks
    # for it to be routed, so it stays an endpoint and is flagged for reports.
    legacy: bool = False


@dataclass(frozen=True, slots=True)
class Cloud:
    name: str
    display_name: str
    endpoints: tuple[Endpoint, ...]
    # Excluded from the hash (a mapping is not hashable) but still compared, so equal clouds hash
    # equally and a Cloud can be a dict key or set member.
    resolution: Mapping[str, tuple[str, ...]] = field(hash=False)
    default_fqdn: str
    reserved_domains: tuple[str, ...]
    closed: bool

    @property
    def ips(self) -> frozenset[str]:
        return frozenset(endpoint.ip for endpoint in self.endpoints)

    @property
    def fqdns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(endpoint.fqdn for endpoint in self.endpoints))


@dataclass(frozen=True, slots=True)
class Location:
    """What the catalog knows about one normalised location name."""

    name: str
    display_name: str | None
    cloud: str | None  # None: the cloud's KMS endpoints are not documented (§1.3)
    note: str | None


@dataclass(frozen=True, slots=True)
class Gvlk:
    product: str  # "Windows Server" | "Windows"
    version: str  # "2025", "2008 R2", "1809", "11", ...
    edition: str  # "Datacenter", "Datacenter: Azure Edition", "Enterprise LTSC 2024", ...
    key: str
    channel: str  # "LTSC" | "SAC" | "client"


def normalise_location(location: str) -> str:
    """§1.3 R1.6: ARM locations compare lower-case without spaces ("US Gov Virginia" -> "usgovvirginia")."""
    return "".join(location.split()).lower()


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True, slots=True, eq=False)
class Catalog:
    clouds: Mapping[str, Cloud]
    gvlks: tuple[Gvlk, ...]
    locations: Mapping[str, Location]
    default_cloud: str
    undocumented_prefixes: tuple[str, ...]
    undocumented_note: str
    images: tuple[ImageFamily, ...] = ()
    # version.json: named by every report, so a finding can be traced to the data it used.
    version: str = ""
    date: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)  # tag -> title (and URL)

    def cloud(self, name: str) -> Cloud:
        try:
            return self.clouds[name]
        except KeyError:
            known = ", ".join(self.clouds)
            raise ValidationError("catalog", "cloud", f"unknown cloud {name!r}; known: {known}") from None

    def location(self, location: str) -> Location | None:
        """The catalog entry for ``location``; ``None`` only for an empty name."""
        name = normalise_location(location)
        if not name:
            return None
        listed = self.locations.get(name)
        if listed is not None:
            return listed
        # §1.3: the air-gapped and third-party-only US government names have no documented KMS
        # endpoints; guessing "usgov" or "public" for them would turn UNKNOWN into a verdict.
        if name.startswith(self.undocumented_prefixes):
            return Location(name, None, None, self.undocumented_note)
        # §1.3 R1.6: every location not listed belongs to the public cloud.
        return Location(name, None, self.default_cloud, None)

    def cloud_of_location(self, location: str) -> str | None:
        entry = self.location(location)
        return entry.cloud if entry is not None else None

    def location_note(self, location: str) -> str | None:
        entry = self.location(location)
        return entry.note if entry is not None else None

    def gvlk(self, version: str, edition: str) -> str:
        wanted = (_fold(version), _fold(edition))
        for gvlk in self.gvlks:
            if (_fold(gvlk.version), _fold(gvlk.edition)) == wanted:
                return gvlk.key
        raise ValidationError("catalog", "gvlk", f"no GVLK for version {version!r} edition {edition!r}")

    def gvlk_entry(self, version: str, edition: str) -> Gvlk | None:
        wanted = (_fold(version), _fold(edition))
        return next((g for g in self.gvlks if (_fold(g.version), _fold(g.edition)) == wanted), None)

    def marketplace_image(self, publisher: object, offer: object, sku: object) -> ImageLookup:
        """The Windows version and edition of a Marketplace image, or why it is unknown (§8.1, §8.2)."""
        if not (isinstance(publisher, str) and isinstance(offer, str) and isinstance(sku, str)):
            return UnknownImage("the image reference has no publisher, offer and SKU")
        if not (publisher and offer and sku):
            return UnknownImage("the image reference has no publisher, offer and SKU")
        family = next(
            (
                f
                for f in self.images
                if f.publisher.lower() == publisher.lower() and f.offer.lower() == offer.lower()
            ),
            None,
        )
        if family is None:
            return UnknownImage(f"the catalog has no SKU table for image {publisher}/{offer}")
        found = family.edition_of(sku)
        if found is None:
            return UnknownImage(f"SKU {sku!r} of image {publisher}/{offer} is not in the catalog")
        version, edition = found
        entry = self.gvlk_entry(version, edition)
        if entry is None:  # build_images checked every pair; only a hand-built Catalog gets here
            return UnknownImage(f"no GVLK for version {version!r} edition {edition!r}")
        return WindowsImage(family.publisher, family.offer, sku, entry.version, entry.edition, entry.key)


# ---------------------------------------------------------------------------------------------
# Shared value checks (catalog files and user-supplied endpoints)

_LABEL = re.compile(r"[a-z0-9-]+")


def _dns_name_problem(name: str) -> str | None:
    """Why ``name`` (already lower-case) is not a DNS name, or None when it is one."""
    if not name:
        return "empty"
    if len(name) > 253:
        return "longer than 253 characters"
    for label in name.split("."):
        if not label:
            return "empty label"
        if len(label) > 63:
            return "a label is longer than 63 characters"
        if not _LABEL.fullmatch(label):
            return f"label {label!r} has a character other than a-z, 0-9 and '-'"
        if label.startswith("-") or label.endswith("-"):
            return f"label {label!r} starts or ends with '-'"
    return None


def _check_fqdn(value: str, where: str, prop: str) -> str:
    name = value.lower()
    problem = _dns_name_problem(name)
    if problem is not None:
        raise ValidationError(where, prop, f"{value!r} is not a valid DNS name ({problem})")
    return name


def _check_public_ipv4(value: str, where: str, prop: str) -> str:
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise ValidationError(where, prop, f"{value!r} is not an IPv4 address") from None
    # The KMS is an Internet service (§1.1 R1.4: its IPs are in the Internet tag); a private or
    # reserved address here is a typo that would make every reachability check meaningless.
    if not address.is_global:
        raise ValidationError(where, prop, f"{value!r} is not a public IPv4 address")
    return str(address)


# ---------------------------------------------------------------------------------------------
# Building the catalog from validated documents

_ENDPOINTS = "endpoints.json"
_LOCATIONS = "locations.json"
_GVLK = "gvlk.json"
_IMAGES = "images.json"
_VERSION = "version.json"


def _build_clouds(document: Any) -> dict[str, Cloud]:
    clouds: dict[str, Cloud] = {}
    first_seen: dict[tuple[str, str], str] = {}
    for c_index, raw in enumerate(document["clouds"]):
        base = f"clouds[{c_index}]"
        name: str = raw["name"]
        if name in clouds:
            raise ValidationError(_ENDPOINTS, f"{base}.name", f"duplicate cloud {name!r}")

        endpoints: list[Endpoint] = []
        for e_index, item in enumerate(raw["endpoints"]):
            where = f"{base}.endpoints[{e_index}]"
            fqdn = _check_fqdn(item["fqdn"], _ENDPOINTS, f"{where}.fqdn")
            ip = _check_public_ipv4(item["ip"], _ENDPOINTS, f"{where}.ip")
            if (fqdn, ip) in first_seen:
                raise ValidationError(
                    _ENDPOINTS, where, f"duplicate endpoint {fqdn} {ip} (same as {first_seen[fqdn, ip]})"
                )
            first_seen[fqdn, ip] = where
            endpoints.append(
                Endpoint(name, fqdn, ip, port=item.get("port", KMS_PORT), legacy=item.get("legacy", False))
            )
        fqdns = tuple(dict.fromkeys(endpoint.fqdn for endpoint in endpoints))
        ips = tuple(dict.fromkeys(endpoint.ip for endpoint in endpoints))

        resolution: dict[str, tuple[str, ...]] = {}
        for r_index, item in enumerate(raw["resolution"]):
            where = f"{base}.resolution[{r_index}]"
            fqdn = item["fqdn"]
            if fqdn not in fqdns:
                raise ValidationError(
                    _ENDPOINTS,
                    f"{where}.fqdn",
                    f"{fqdn!r} is not one of the cloud's endpoint names ({', '.join(fqdns)})",
                )
            if fqdn in resolution:
                raise ValidationError(_ENDPOINTS, f"{where}.fqdn", f"duplicate resolution for {fqdn!r}")
            resolved: list[str] = []
            for i_index, ip in enumerate(item["ips"]):
                # A name resolving outside the cloud's routed IPs would let the DNS check pass for an
                # address the route check never looked at (§0.1 steps 2 and 3).
                if ip not in ips:
                    raise ValidationError(
                        _ENDPOINTS,
                        f"{where}.ips[{i_index}]",
                        f"{ip!r} is not one of the cloud's endpoint IPs ({', '.join(ips)})",
                    )
                if ip in resolved:
                    raise ValidationError(_ENDPOINTS, f"{where}.ips[{i_index}]", f"duplicate IP {ip!r}")
                resolved.append(ip)
            resolution[fqdn] = tuple(resolved)
        unresolved = [fqdn for fqdn in fqdns if fqdn not in resolution]
        if unresolved:
            raise ValidationError(_ENDPOINTS, f"{base}.resolution", f"no entry for {unresolved[0]!r}")

        default_fqdn: str = raw["defaultFqdn"]
        if default_fqdn not in fqdns:
            raise ValidationError(
                _ENDPOINTS,
                f"{base}.defaultFqdn",
                f"{default_fqdn!r} is not one of the cloud's endpoint names ({', '.join(fqdns)})",
            )
        clouds[name] = Cloud(
            name=name,
            display_name=raw["displayName"],
            endpoints=tuple(endpoints),
            resolution=MappingProxyType(resolution),
            default_fqdn=default_fqdn,
            reserved_domains=tuple(raw["reservedDomains"]),
            closed=raw["closed"],
        )
    return clouds


def _build_locations(document: Any, clouds: Mapping[str, Cloud]) -> dict[str, Location]:
    known = ", ".join(clouds)
    default_cloud: str = document["defaultCloud"]
    if default_cloud not in clouds:
        raise ValidationError(_LOCATIONS, "defaultCloud", f"unknown cloud {default_cloud!r}; known: {known}")
    locations: dict[str, Location] = {}
    for index, raw in enumerate(document["locations"]):
        where = f"locations[{index}]"
        name: str = raw["name"]
        if name in locations:
            raise ValidationError(_LOCATIONS, f"{where}.name", f"duplicate location {name!r}")
        cloud: str | None = raw["cloud"]
        if cloud is not None and cloud not in clouds:
            raise ValidationError(_LOCATIONS, f"{where}.cloud", f"unknown cloud {cloud!r}; known: {known}")
        locations[name] = Location(name, raw.get("displayName"), cloud, raw.get("note"))
    return locations


def _build_gvlks(document: Any) -> tuple[Gvlk, ...]:
    gvlks: list[Gvlk] = []
    first_seen: dict[tuple[str, str], str] = {}
    for index, raw in enumerate(document["gvlks"]):
        where = f"gvlks[{index}]"
        # Catalog.gvlk looks up by (version, edition) without the product, so the pair must be
        # unique across products too.
        pair = (_fold(raw["version"]), _fold(raw["edition"]))
        if pair in first_seen:
            raise ValidationError(
                _GVLK,
                where,
                f"duplicate version/edition {raw['version']!r} {raw['edition']!r} "
                f"(same as {first_seen[pair]})",
            )
        first_seen[pair] = where
        gvlks.append(Gvlk(raw["product"], raw["version"], raw["edition"], raw["key"], raw["channel"]))
    return tuple(gvlks)


def _load(directory: Traversable) -> Catalog:
    documents = {
        name: loader.validate(loader.read_json(directory.joinpath(name), name), name)
        for name in (_VERSION, _ENDPOINTS, _LOCATIONS, _GVLK, _IMAGES)
    }
    meta = documents[_VERSION]
    sources = {e["tag"]: f"{e['title']} ({e['url']})" if e["url"] else e["title"] for e in meta["sources"]}
    _check_source_tags(documents, sources)
    clouds = _build_clouds(documents[_ENDPOINTS])
    locations = documents[_LOCATIONS]
    undocumented = locations["undocumented"]
    gvlks = _build_gvlks(documents[_GVLK])
    pairs = {(_fold(g.version), _fold(g.edition)) for g in gvlks}
    return Catalog(
        clouds=MappingProxyType(clouds),
        gvlks=gvlks,
        locations=MappingProxyType(_build_locations(locations, clouds)),
        default_cloud=locations["defaultCloud"],
        undocumented_prefixes=tuple(undocumented["prefixes"]),
        undocumented_note=undocumented["note"],
        images=build_images(documents[_IMAGES], lambda v, e: (_fold(v), _fold(e)) in pairs),
        version=meta["version"],
        date=meta["date"],
        sources=MappingProxyType(sources),
    )


def _check_source_tags(documents: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """Every ``source`` tag of the data files is listed in version.json (no fact without a source)."""

    def walk(value: Any, path: list[str | int], where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "source" and isinstance(item, str):
                    for tag in item.split():
                        if tag not in sources:
                            raise ValidationError(
                                where,
                                loader.format_path([*path, key]),
                                f"source {tag!r} is not listed in {_VERSION} (known: {', '.join(sources)})",
                            )
                else:
                    walk(item, [*path, key], where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, [*path, index], where)

    for name, document in documents.items():
        if name != _VERSION:
            walk(document, [], name)


@functools.cache
def load_catalog() -> Catalog:
    """The packaged catalog, validated and built once per process."""
    return _load(loader.data_dir())


def load_catalog_from(directory: Path) -> Catalog:
    """A catalog from another directory (same file names), uncached; the schema stays the packaged one."""
    return _load(directory)


# ---------------------------------------------------------------------------------------------
# User-supplied endpoints (policy config "extraEndpoints")

_ENDPOINT_KEYS = ("cloud", "fqdn", "ip", "port")


def _require_str(item: Mapping[str, object], key: str, where: str, prop: str) -> str:
    value = item[key]
    if not isinstance(value, str):
        raise ValidationError(where, prop, f"must be a string, got {loader.json_type(value)}")
    return value


def parse_endpoints(data: object, where: str) -> tuple[Endpoint, ...]:
    """Validate a JSON list of ``{"cloud", "fqdn", "ip", "port"?}`` objects into endpoints."""
    if not isinstance(data, list):
        raise ValidationError(where, "", f"must be a list of endpoints, got {loader.json_type(data)}")
    endpoints: list[Endpoint] = []
    first_seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(data):
        base = f"[{index}]"
        if not isinstance(item, dict):
            raise ValidationError(where, base, f"must be an object, got {loader.json_type(item)}")
        # Unknown keys are rejected rather than ignored: "prot": 1689 would otherwise silently
        # check 1688.
        for key in item:
            if key not in _ENDPOINT_KEYS:
                raise ValidationError(
                    where,
                    loader.format_path([index, key]),
                    f"is not an allowed key (allowed: {', '.join(_ENDPOINT_KEYS)})",
                )
        for key in ("cloud", "fqdn", "ip"):
            if key not in item:
                raise ValidationError(where, f"{base}.{key}", "is required")

        cloud = _require_str(item, "cloud", where, f"{base}.cloud").strip()
        if not cloud:
            raise ValidationError(where, f"{base}.cloud", "must not be empty")
        fqdn = _check_fqdn(_require_str(item, "fqdn", where, f"{base}.fqdn"), where, f"{base}.fqdn")
        ip = _check_public_ipv4(_require_str(item, "ip", where, f"{base}.ip"), where, f"{base}.ip")
        port = item.get("port", KMS_PORT)
        # bool is an int subclass; "port": true is a mistake, not port 1.
        if isinstance(port, bool) or not isinstance(port, int):
            raise ValidationError(where, f"{base}.port", f"must be an integer, got {loader.json_type(port)}")
        if not 1 <= port <= 65535:
            raise ValidationError(where, f"{base}.port", f"{port} is not between 1 and 65535")

        if (fqdn, ip) in first_seen:
            raise ValidationError(
                where, base, f"duplicate endpoint {fqdn} {ip} (same as [{first_seen[fqdn, ip]}])"
            )
        first_seen[fqdn, ip] = index
        endpoints.append(Endpoint(cloud, fqdn, ip, port))
    return tuple(endpoints)
