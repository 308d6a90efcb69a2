"""Tests of kmsguard.catalog: the packaged data, the lookups, and the error messages for bad data."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from kmsguard.catalog import (
    KMS_PORT,
    Catalog,
    Cloud,
    Endpoint,
    Gvlk,
    UnknownImage,
    WindowsImage,
    load_catalog,
    load_catalog_from,
    parse_endpoints,
)
from kmsguard.catalog import loader as catalog_loader
from kmsguard.errors import ValidationError

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "kmsguard" / "catalog" / "data"
DOC = REPO.parent / "shared" / "docs" / "azure-kms-semantics.md"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _doc_section(start: str, end: str) -> str:
    if not DOC.exists():
        pytest.skip(f"{DOC} not present")
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(start) : text.index(end)]


# ---------------------------------------------------------------------------------------------
# Endpoints (§1.1)

EXPECTED_ENDPOINTS: dict[str, list[tuple[str, str, bool]]] = {
    "public": [
        ("azkms.core.windows.net", "20.118.99.224", False),
        ("azkms.core.windows.net", "40.83.235.53", False),
        ("kms.core.windows.net", "23.102.135.246", True),
    ],
    "usgov": [
        ("kms.core.usgovcloudapi.net", "23.97.0.13", False),
        ("azkms.core.usgovcloudapi.net", "52.126.105.2", False),
    ],
    "china": [
        ("azkms.core.chinacloudapi.cn", "159.27.28.100", False),
        ("azkms.core.chinacloudapi.cn", "163.228.64.161", False),
        ("kms.core.chinacloudapi.cn", "42.159.7.249", False),
    ],
    "germany": [("kms.core.cloudapi.de", "51.4.143.248", False)],
}

EXPECTED_RESOLUTION: dict[str, dict[str, tuple[str, ...]]] = {
    "public": {
        "azkms.core.windows.net": ("20.118.99.224", "40.83.235.53"),
        "kms.core.windows.net": ("20.118.99.224",),
    },
    "usgov": {
        "kms.core.usgovcloudapi.net": ("23.97.0.13",),
        "azkms.core.usgovcloudapi.net": ("52.126.105.2",),
    },
    "china": {
        "azkms.core.chinacloudapi.cn": ("159.27.28.100", "163.228.64.161"),
        "kms.core.chinacloudapi.cn": ("42.159.7.249",),
    },
    "germany": {"kms.core.cloudapi.de": ("51.4.143.248",)},
}


def test_kms_port() -> None:
    assert KMS_PORT == 1688


def test_cloud_names_in_order(catalog: Catalog) -> None:
    assert list(catalog.clouds) == ["public", "usgov", "china", "germany"]


@pytest.mark.parametrize("name", list(EXPECTED_ENDPOINTS))
def test_cloud_endpoints(catalog: Catalog, name: str) -> None:
    cloud = catalog.cloud(name)
    assert [(e.fqdn, e.ip, e.legacy) for e in cloud.endpoints] == EXPECTED_ENDPOINTS[name]
    assert all(e.cloud == name and e.port == 1688 for e in cloud.endpoints)
    assert dict(cloud.resolution) == EXPECTED_RESOLUTION[name]
    assert cloud.ips == frozenset(ip for _, ip, _ in EXPECTED_ENDPOINTS[name])
    assert cloud.fqdns == tuple(dict.fromkeys(fqdn for fqdn, _, _ in EXPECTED_ENDPOINTS[name]))


def test_cloud_attributes(catalog: Catalog) -> None:
    got = {
        name: (c.display_name, c.default_fqdn, c.reserved_domains, c.closed)
        for name, c in catalog.clouds.items()
    }
    assert got == {
        "public": (
            "Azure public",
            "azkms.core.windows.net",
            ("windows.net", "azure.com", "azure.net", "windowsazure.us"),
            False,
        ),
        "usgov": ("Azure US Government", "azkms.core.usgovcloudapi.net", (), False),
        "china": ("Azure China (21Vianet)", "azkms.core.chinacloudapi.cn", (), False),
        "germany": ("Microsoft Cloud Deutschland (closed 2021-10-29)", "kms.core.cloudapi.de", (), True),
    }


def test_public_legacy_endpoint(catalog: Catalog) -> None:
    public = catalog.cloud("public")
    assert public.ips == frozenset({"20.118.99.224", "40.83.235.53", "23.102.135.246"})
    assert public.fqdns == ("azkms.core.windows.net", "kms.core.windows.net")
    assert [e.ip for e in public.endpoints if e.legacy] == ["23.102.135.246"]
    # §1.1 [S3]: since 1 March 2023 the old name no longer resolves to the legacy IP.
    assert "23.102.135.246" not in public.resolution["kms.core.windows.net"]


def test_objects_are_frozen_and_hashable(catalog: Catalog) -> None:
    cloud = catalog.cloud("public")
    with pytest.raises(AttributeError):
        cloud.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        cloud.resolution["x"] = ()  # type: ignore[index]
    assert len({cloud, catalog.cloud("public"), *cloud.endpoints}) == 4
    assert Endpoint("public", "a.example", "1.1.1.1") == Endpoint(
        "public", "a.example", "1.1.1.1", 1688, False
    )
    assert isinstance(cloud, Cloud)


def test_unknown_cloud(catalog: Catalog) -> None:
    with pytest.raises(ValidationError) as info:
        catalog.cloud("mars")
    assert str(info.value) == "catalog: cloud: unknown cloud 'mars'; known: public, usgov, china, germany"


def test_endpoints_match_doc(catalog: Catalog) -> None:
    section = _doc_section("### 1.1 Endpoint table", "### 1.2")
    rows = [line for line in section.splitlines() if line.startswith("| Azure")]
    for cloud in catalog.clouds.values():
        for endpoint in cloud.endpoints:
            row = [r for r in rows if r.split("|")[2].strip() == f"`{endpoint.fqdn}`"]
            assert len(row) == 1, endpoint.fqdn
            assert f"`{endpoint.ip}`" in row[0], endpoint


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_load_catalog_from_packaged_copy(tmp_path: Path) -> None:
    shutil.copytree(DATA, tmp_path / "data")
    fresh = load_catalog_from(tmp_path / "data")
    assert fresh is not load_catalog()
    assert dict(fresh.clouds) == dict(load_catalog().clouds)
    assert fresh.gvlks == load_catalog().gvlks


def test_schema_is_valid_2020_12() -> None:
    schema = json.loads((DATA / "catalog.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# ---------------------------------------------------------------------------------------------
# Location → cloud (§1.3)

LOCATIONS: list[tuple[str, str | None]] = [
    ("eastus", "public"),
    ("East US", "public"),
    ("westeurope", "public"),
    ("germanywestcentral", "public"),
    ("Germany West Central", "public"),
    ("germanynorth", "public"),
    ("germanycentral", "germany"),
    ("germanynortheast", "germany"),
    ("usgovvirginia", "usgov"),
    ("US Gov Virginia", "usgov"),
    ("usgovtexas", "usgov"),
    ("usgovarizona", "usgov"),
    ("usdodeast", "usgov"),
    ("usdodcentral", "usgov"),
    ("usgoviowa", "usgov"),
    ("chinaeast", "china"),
    ("chinaeast2", "china"),
    ("chinaeast3", "china"),
    ("chinanorth", "china"),
    ("chinanorth2", "china"),
    ("chinanorth3", "china"),
    ("China North 3", "china"),
    ("usseceast", None),
    ("ussecwest", None),
    ("usnateast", None),
    ("usnatwest", None),
    ("usdodsouthcentral", None),
    ("usdodsouthwest", None),
    ("usdodwestcentral", None),
    ("ussecnorth", None),
    ("usgovnevada", None),
    ("", None),
    ("   ", None),
]


@pytest.mark.parametrize(("location", "cloud"), LOCATIONS)
def test_cloud_of_location(catalog: Catalog, location: str, cloud: str | None) -> None:
    assert catalog.cloud_of_location(location) == cloud


@pytest.mark.parametrize(
    ("location", "note"),
    [
        (
            "germanywestcentral",
            "Germany West Central is a public-cloud region (not the closed Microsoft Cloud Deutschland)",
        ),
        (
            "germanynorth",
            "Germany North is a public-cloud region (not the closed Microsoft Cloud Deutschland)",
        ),
        ("germanycentral", "Microsoft Cloud Deutschland region; that cloud closed on 2021-10-29"),
        ("usgoviowa", "listed in the 2017 developer guide; current availability unconfirmed"),
        ("usnatwest", "KMS endpoints of this cloud are not documented"),
        ("usdodsouthcentral", "KMS endpoints of this cloud are not documented"),
        ("ussecfuture", "KMS endpoints of this cloud are not documented"),
        ("eastus", None),
        ("usgovvirginia", None),
        ("chinanorth3", None),
        ("", None),
    ],
)
def test_location_note(catalog: Catalog, location: str, note: str | None) -> None:
    assert catalog.location_note(location) == note


def test_location_entry(catalog: Catalog) -> None:
    entry = catalog.location("US Gov Virginia")
    assert entry is not None
    assert (entry.name, entry.display_name, entry.cloud, entry.note) == (
        "usgovvirginia",
        "US Gov Virginia",
        "usgov",
        None,
    )


def test_listed_locations_match_doc(catalog: Catalog) -> None:
    section = _doc_section("### 1.3 Location name", "## 2. Route selection")
    for name, entry in catalog.locations.items():
        assert f"`{name}`" in section, name
        if entry.display_name is not None:
            assert entry.display_name in section, entry.display_name


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", max_size=30))
def test_location_mapping_ignores_case_and_spaces(text: str) -> None:
    catalog = load_catalog()
    expected = catalog.cloud_of_location(text)
    assert catalog.cloud_of_location(text.upper()) == expected
    assert catalog.cloud_of_location(text.replace(" ", "")) == expected
    if text.strip() and not text.replace(" ", "").startswith(("ussec", "usnat", "usdod", "usgov")):
        assert expected is not None


# ---------------------------------------------------------------------------------------------
# GVLKs (§8.2)


@pytest.mark.parametrize(
    ("version", "edition", "key"),
    [
        ("2025", "Datacenter: Azure Edition", "XGN3F-F394H-FD2MY-PP6FD-8MCRC"),
        ("2022", "Datacenter: Azure Edition", "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV"),
        ("2022", "Datacenter", "WX4NM-KYWYW-QJJR4-XV3QB-6VM33"),
        ("2019", "Datacenter", "WMDGN-G9PQG-XVVXX-R3X43-63DFG"),
        ("2016", "Standard", "WC2BQ-8NRM3-FDDYY-2BFGV-KHKQY"),
        ("2012 R2", "Essentials", "KNC87-3J2TX-XB4WP-VCPJV-M4FWM"),
        ("2008 R2", "Datacenter", "74YFP-3QFB3-KQT8W-PMXWJ-7M648"),
        ("2008 R2", "for Itanium-based Systems", "GT63C-RJFQ3-4GMB6-BRFB9-CB83V"),
        ("20H2", "Standard", "N2KJX-J94YW-TQVFB-DG9YT-724CC"),
        ("1809", "Datacenter", "6NMRW-2C8FM-D24W7-TQWMY-CWH2D"),
        ("1803", "Datacenter", "2HXDN-KRXHB-GPYC7-YCKFJ-7FVDG"),
        ("1709", "Standard", "DPCNP-XQFKJ-BJF7R-FRC8D-GF6G4"),
        ("11", "Pro", "W269N-WFGWX-YVC9B-4J6C9-T83GX"),
        ("10", "Enterprise", "NPPR9-FWDCX-D2C8J-H872K-2YT43"),
        ("10", "Enterprise LTSC 2019", "M7XTQ-FN8P6-TTKYV-9D4CC-J462D"),
        # Lookups forgive case and spacing; the key table does not depend on them.
        ("2022", "datacenter:  azure edition", "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV"),
    ],
)
def test_gvlk_lookup(catalog: Catalog, version: str, edition: str, key: str) -> None:
    assert catalog.gvlk(version, edition) == key


def test_gvlk_unknown_pair(catalog: Catalog) -> None:
    with pytest.raises(ValidationError) as info:
        catalog.gvlk("2022", "Essentials")
    assert str(info.value) == "catalog: gvlk: no GVLK for version '2022' edition 'Essentials'"


def test_gvlk_rows(catalog: Catalog) -> None:
    assert len(catalog.gvlks) == 47
    assert catalog.gvlks[0] == Gvlk(
        "Windows Server", "2025", "Standard", "TVRH6-WHNXV-R9WG3-9XRFY-MY832", "LTSC"
    )
    channels = {g.channel for g in catalog.gvlks}
    assert channels == {"LTSC", "SAC", "client"}
    sac = [g.version for g in catalog.gvlks if g.channel == "SAC" and g.edition == "Standard"]
    assert sac == ["20H2", "2004", "1909", "1903", "1809", "1803", "1709"]
    assert {g.product for g in catalog.gvlks if g.channel == "client"} == {"Windows"}


def test_gvlks_match_doc(catalog: Catalog) -> None:
    section = _doc_section("### 8.2 GVLK table", "### 8.3")
    ltsc = re.findall(
        r"^\| Windows Server (\d{4}(?: R2)?) \| ([^|]+?) \| ([0-9A-Z]{5}(?:-[0-9A-Z]{5}){4}) \|$",
        section,
        re.MULTILINE,
    )
    assert len(ltsc) == 26
    for version, edition, key in ltsc:
        assert catalog.gvlk(version, edition) == key, (version, edition)
    sac = re.search(r"^\| Windows Server ((?:\w+, )+\w+) \| Standard \| ([0-9A-Z-]{29}) \|$", section, re.M)
    assert sac is not None
    for version in sac.group(1).split(", "):
        assert catalog.gvlk(version, "Standard") == sac.group(2)
    doc_keys = set(re.findall(r"[0-9A-Z]{5}(?:-[0-9A-Z]{5}){4}", section))
    assert {g.key for g in catalog.gvlks} == doc_keys


# ---------------------------------------------------------------------------------------------
# Malformed catalogs

Mutation = Callable[[Any], None]


def _corrupt(tmp_path: Path, file: str, mutate: Mutation) -> Path:
    directory = tmp_path / "data"
    shutil.copytree(DATA, directory)
    document = json.loads((directory / file).read_text(encoding="utf-8"))
    mutate(document)
    (directory / file).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return directory


def _set_ip(doc: Any) -> None:
    doc["clouds"][0]["endpoints"][1]["ip"] = "20.118.99"


def _private_ip(doc: Any) -> None:
    doc["clouds"][2]["endpoints"][0]["ip"] = "10.0.0.4"


def _drop_default_fqdn(doc: Any) -> None:
    del doc["clouds"][1]["defaultFqdn"]


def _duplicate_endpoint(doc: Any) -> None:
    endpoints = doc["clouds"][0]["endpoints"]
    endpoints.append(dict(endpoints[0]))


def _extra_key(doc: Any) -> None:
    doc["clouds"][0]["endpoints"][0]["prot"] = 1689


def _closed_as_string(doc: Any) -> None:
    doc["clouds"][3]["closed"] = "yes"


def _resolution_outside(doc: Any) -> None:
    doc["clouds"][1]["resolution"][0]["ips"] = ["23.97.0.13", "52.126.105.3"]


def _resolution_missing(doc: Any) -> None:
    del doc["clouds"][0]["resolution"][1]


def _default_fqdn_unknown(doc: Any) -> None:
    doc["clouds"][2]["defaultFqdn"] = "azkms.core.windows.net"


def _upper_case_fqdn(doc: Any) -> None:
    doc["clouds"][0]["endpoints"][2]["fqdn"] = "KMS.core.windows.net"


def _trailing_newline(doc: Any) -> None:
    doc["clouds"][0]["reservedDomains"][0] = "windows.net\n"


def _unknown_location_cloud(doc: Any) -> None:
    doc["locations"][14]["cloud"] = "mars"


def _unnormalised_location(doc: Any) -> None:
    doc["locations"][0]["name"] = "US Gov Virginia"


def _duplicate_location(doc: Any) -> None:
    doc["locations"].append({"name": "eastus", "cloud": "public", "source": "G4"})
    doc["locations"].append({"name": "eastus", "cloud": "public", "source": "G4"})


def _bad_channel(doc: Any) -> None:
    doc["gvlks"][3]["channel"] = "MAK"


def _bad_key(doc: Any) -> None:
    doc["gvlks"][5]["key"] = "NTBV8-9K7Q8-V27C6-M2BTV"


def _duplicate_gvlk(doc: Any) -> None:
    doc["gvlks"].append(dict(doc["gvlks"][4], key="AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"))


def _empty_gvlks(doc: Any) -> None:
    doc["gvlks"] = []


MALFORMED: list[tuple[str, Mutation, str]] = [
    (
        "endpoints.json",
        _set_ip,
        "endpoints.json: clouds[0].endpoints[1].ip: '20.118.99' is not an IPv4 address",
    ),
    (
        "endpoints.json",
        _private_ip,
        "endpoints.json: clouds[2].endpoints[0].ip: '10.0.0.4' is not a public IPv4 address",
    ),
    ("endpoints.json", _drop_default_fqdn, "endpoints.json: clouds[1].defaultFqdn: is required"),
    (
        "endpoints.json",
        _duplicate_endpoint,
        "endpoints.json: clouds[0].endpoints[3]: duplicate endpoint azkms.core.windows.net 20.118.99.224 "
        "(same as clouds[0].endpoints[0])",
    ),
    (
        "endpoints.json",
        _extra_key,
        "endpoints.json: clouds[0].endpoints[0].prot: is not an allowed key "
        "(allowed: fqdn, ip, port, legacy, source)",
    ),
    ("endpoints.json", _closed_as_string, "endpoints.json: clouds[3].closed: must be a boolean, got string"),
    (
        "endpoints.json",
        _resolution_outside,
        "endpoints.json: clouds[1].resolution[0].ips[1]: '52.126.105.3' is not one of the cloud's endpoint "
        "IPs (23.97.0.13, 52.126.105.2)",
    ),
    (
        "endpoints.json",
        _resolution_missing,
        "endpoints.json: clouds[0].resolution: no entry for 'kms.core.windows.net'",
    ),
    (
        "endpoints.json",
        _default_fqdn_unknown,
        "endpoints.json: clouds[2].defaultFqdn: 'azkms.core.windows.net' is not one of the cloud's endpoint "
        "names (azkms.core.chinacloudapi.cn, kms.core.chinacloudapi.cn)",
    ),
    (
        "endpoints.json",
        _upper_case_fqdn,
        "endpoints.json: clouds[0].endpoints[2].fqdn: 'KMS.core.windows.net' is not a lower-case DNS name",
    ),
    (
        "endpoints.json",
        _trailing_newline,
        "endpoints.json: clouds[0].reservedDomains[0]: 'windows.net\\n' has leading or trailing whitespace",
    ),
    (
        "locations.json",
        _unknown_location_cloud,
        "locations.json: locations[14].cloud: unknown cloud 'mars'; known: public, usgov, china, germany",
    ),
    (
        "locations.json",
        _unnormalised_location,
        "locations.json: locations[0].name: 'US Gov Virginia' is not a normalised location name "
        "(lower-case letters and digits, no spaces)",
    ),
    (
        "locations.json",
        _duplicate_location,
        "locations.json: locations[24].name: duplicate location 'eastus'",
    ),
    (
        "gvlk.json",
        _bad_channel,
        "gvlk.json: gvlks[3].channel: 'MAK' is not one of 'LTSC', 'SAC', 'client'",
    ),
    (
        "gvlk.json",
        _bad_key,
        "gvlk.json: gvlks[5].key: 'NTBV8-9K7Q8-V27C6-M2BTV' is not a product key "
        "(five groups of five upper-case letters or digits)",
    ),
    (
        "gvlk.json",
        _duplicate_gvlk,
        "gvlk.json: gvlks[47]: duplicate version/edition '2022' 'Datacenter' (same as gvlks[4])",
    ),
    ("gvlk.json", _empty_gvlks, "gvlk.json: gvlks: must not be empty"),
]


@pytest.mark.parametrize(("file", "mutate", "message"), MALFORMED, ids=[m.__name__ for _, m, _ in MALFORMED])
def test_malformed_catalog(tmp_path: Path, file: str, mutate: Mutation, message: str) -> None:
    directory = _corrupt(tmp_path, file, mutate)
    with pytest.raises(ValidationError) as info:
        load_catalog_from(directory)
    assert str(info.value) == message


def test_malformed_json(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    shutil.copytree(DATA, directory)
    (directory / "gvlk.json").write_text('{"gvlks": [}', encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_catalog_from(directory)
    assert str(info.value) == "gvlk.json: not valid JSON: Expecting value (line 1, column 12)"


def test_duplicate_json_key(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    shutil.copytree(DATA, directory)
    (directory / "gvlk.json").write_text('{"gvlks": [], "gvlks": []}', encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_catalog_from(directory)
    assert str(info.value) == "gvlk.json: not valid JSON: duplicate key 'gvlks'"


def test_missing_file(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    shutil.copytree(DATA, directory)
    (directory / "locations.json").unlink()
    with pytest.raises(ValidationError) as info:
        load_catalog_from(directory)
    assert str(info.value) == "locations.json: file not found"


def test_top_level_not_an_object(tmp_path: Path) -> None:
    directory = _corrupt(tmp_path, "endpoints.json", lambda doc: None)
    (directory / "endpoints.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_catalog_from(directory)
    assert str(info.value) == "endpoints.json: must be an object, got array"


def test_format_path() -> None:
    assert catalog_loader.format_path([]) == ""
    assert catalog_loader.format_path(["clouds", 0, "endpoints", 1, "ip"]) == "clouds[0].endpoints[1].ip"
    assert catalog_loader.format_path([3, "port"]) == "[3].port"
    assert catalog_loader.format_path(["a", "b.c"]) == 'a["b.c"]'


# ---------------------------------------------------------------------------------------------
# parse_endpoints (policy config "extraEndpoints")


def test_parse_endpoints_good() -> None:
    data = [
        {"cloud": "public", "fqdn": "AZKMS.core.windows.net", "ip": "20.118.99.224"},
        {"cloud": "onprem-proxy", "fqdn": "kms.example.com", "ip": "8.8.4.4", "port": 11688},
    ]
    assert parse_endpoints(data, "extraEndpoints") == (
        Endpoint("public", "azkms.core.windows.net", "20.118.99.224", 1688, False),
        Endpoint("onprem-proxy", "kms.example.com", "8.8.4.4", 11688, False),
    )
    assert parse_endpoints([], "extraEndpoints") == ()


GOOD: dict[str, object] = {"cloud": "public", "fqdn": "kms.example.com", "ip": "8.8.8.8"}

BAD_ENDPOINTS: list[tuple[object, str]] = [
    ({"extra": []}, "extraEndpoints: must be a list of endpoints, got object"),
    ([GOOD, "kms.example.com"], "extraEndpoints: [1]: must be an object, got string"),
    ([{**GOOD, "ip": "300.1.1.1"}], "extraEndpoints: [0].ip: '300.1.1.1' is not an IPv4 address"),
    ([GOOD, {**GOOD, "ip": "20.118.99"}], "extraEndpoints: [1].ip: '20.118.99' is not an IPv4 address"),
    ([{**GOOD, "ip": "2001:db8::1"}], "extraEndpoints: [0].ip: '2001:db8::1' is not an IPv4 address"),
    ([{**GOOD, "ip": "10.1.2.3"}], "extraEndpoints: [0].ip: '10.1.2.3' is not a public IPv4 address"),
    ([{**GOOD, "ip": "168.63.129.16 "}], "extraEndpoints: [0].ip: '168.63.129.16 ' is not an IPv4 address"),
    ([{**GOOD, "ip": 134744072}], "extraEndpoints: [0].ip: must be a string, got integer"),
    ([{"cloud": "public", "fqdn": "kms.example.com"}], "extraEndpoints: [0].ip: is required"),
    ([{"fqdn": "kms.example.com", "ip": "8.8.8.8"}], "extraEndpoints: [0].cloud: is required"),
    ([{**GOOD, "cloud": " "}], "extraEndpoints: [0].cloud: must not be empty"),
    ([{**GOOD, "cloud": None}], "extraEndpoints: [0].cloud: must be a string, got null"),
    (
        [{**GOOD, "prot": 1689}],
        "extraEndpoints: [0].prot: is not an allowed key (allowed: cloud, fqdn, ip, port)",
    ),
    (
        [{**GOOD, "fqdn": "kms..example.com"}],
        "extraEndpoints: [0].fqdn: 'kms..example.com' is not a valid DNS name (empty label)",
    ),
    (
        [{**GOOD, "fqdn": "kms.example.com."}],
        "extraEndpoints: [0].fqdn: 'kms.example.com.' is not a valid DNS name (empty label)",
    ),
    (
        [{**GOOD, "fqdn": "-kms.example.com"}],
        "extraEndpoints: [0].fqdn: '-kms.example.com' is not a valid DNS name "
        "(label '-kms' starts or ends with '-')",
    ),
    (
        [{**GOOD, "fqdn": "kms_1.example.com"}],
        "extraEndpoints: [0].fqdn: 'kms_1.example.com' is not a valid DNS name "
        "(label 'kms_1' has a character other than a-z, 0-9 and '-')",
    ),
    (
        [{**GOOD, "fqdn": "a" * 64 + ".example.com"}],
        f"extraEndpoints: [0].fqdn: '{'a' * 64}.example.com' is not a valid DNS name "
        "(a label is longer than 63 characters)",
    ),
    (
        [{**GOOD, "fqdn": ".".join(["a" * 63] * 4)}],
        f"extraEndpoints: [0].fqdn: '{'.'.join(['a' * 63] * 4)}' is not a valid DNS name "
        "(longer than 253 characters)",
    ),
    ([{**GOOD, "fqdn": ""}], "extraEndpoints: [0].fqdn: '' is not a valid DNS name (empty)"),
    ([{**GOOD, "port": 0}], "extraEndpoints: [0].port: 0 is not between 1 and 65535"),
    ([{**GOOD, "port": 65536}], "extraEndpoints: [0].port: 65536 is not between 1 and 65535"),
    ([{**GOOD, "port": "1688"}], "extraEndpoints: [0].port: must be an integer, got string"),
    ([{**GOOD, "port": True}], "extraEndpoints: [0].port: must be an integer, got boolean"),
    ([{**GOOD, "port": 1688.0}], "extraEndpoints: [0].port: must be an integer, got number"),
    (
        [GOOD, {**GOOD, "fqdn": "KMS.example.com", "cloud": "other"}],
        "extraEndpoints: [1]: duplicate endpoint kms.example.com 8.8.8.8 (same as [0])",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_ENDPOINTS)
def test_parse_endpoints_bad(data: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_endpoints(data, "extraEndpoints")
    assert str(info.value) == message


_LABELS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@given(
    labels=st.lists(_LABELS, min_size=1, max_size=5),
    ip=st.ip_addresses(v=4).filter(lambda a: a.is_global),
    port=st.integers(1, 65535),
)
def test_parse_endpoints_accepts_valid(labels: list[str], ip: Any, port: int) -> None:
    fqdn = ".".join(labels)
    (endpoint,) = parse_endpoints([{"cloud": "c", "fqdn": fqdn.upper(), "ip": str(ip), "port": port}], "x")
    assert endpoint == Endpoint("c", fqdn, str(ip), port)


# ---------------------------------------------------------------------------------------------
# Marketplace image SKU → (version, edition) (images.json)

WS = ("MicrosoftWindowsServer", "WindowsServer")

SKUS: list[tuple[str, str, str]] = [
    ("2025-datacenter-azure-edition", "2025", "Datacenter: Azure Edition"),
    ("2025-datacenter-azure-edition-hotpatch", "2025", "Datacenter: Azure Edition"),
    ("2025-datacenter-azure-edition-core-smalldisk", "2025", "Datacenter: Azure Edition"),
    ("2025-datacenter-g2", "2025", "Datacenter"),
    ("2022-datacenter-azure-edition", "2022", "Datacenter: Azure Edition"),
    ("2022-datacenter-azure-edition-hotpatch-smalldisk", "2022", "Datacenter: Azure Edition"),
    ("2022-datacenter", "2022", "Datacenter"),
    ("2022-datacenter-core-smalldisk-g2", "2022", "Datacenter"),
    ("2019-datacenter-gensecond", "2019", "Datacenter"),
    ("2019-Datacenter-Core-smalldisk", "2019", "Datacenter"),
    ("2019-datacenter-with-containers-smalldisk-g2", "2019", "Datacenter"),
    ("2019-datacenter-zhcn", "2019", "Datacenter"),
    ("2016-datacenter-smalldisk", "2016", "Datacenter"),
    ("2016-datacenter-server-core-smalldisk", "2016", "Datacenter"),
    ("2012-r2-datacenter-gensecond", "2012 R2", "Datacenter"),
    ("2012-datacenter", "2012", "Datacenter"),
    ("2008-r2-sp1", "2008 R2", "Datacenter"),
    ("2008-r2-sp1-smalldisk", "2008 R2", "Datacenter"),
    ("datacenter-core-1809-with-containers-smalldisk", "1809", "Datacenter"),
    ("datacenter-core-20h2-with-containers-smalldisk-g2", "20H2", "Datacenter"),
]


@pytest.mark.parametrize(("sku", "version", "edition"), SKUS)
def test_marketplace_sku(catalog: Catalog, sku: str, version: str, edition: str) -> None:
    found = catalog.marketplace_image(*WS, sku)
    assert found == WindowsImage(*WS, sku, version, edition, catalog.gvlk(version, edition))


UNKNOWN_SKUS: list[tuple[tuple[object, object, object], str]] = [
    # hotpatch exists only for Azure Edition; a guess would install the Datacenter key on it.
    (
        (*WS, "2022-datacenter-hotpatch"),
        "SKU '2022-datacenter-hotpatch' of image MicrosoftWindowsServer/WindowsServer is not in the catalog",
    ),
    (
        (*WS, "2019-datacenter-azure-edition"),
        "SKU '2019-datacenter-azure-edition' of image MicrosoftWindowsServer/WindowsServer is not in the catalog",
    ),
    (
        (*WS, "2022-datacenter-core-core"),
        "SKU '2022-datacenter-core-core' of image MicrosoftWindowsServer/WindowsServer is not in the catalog",
    ),
    (
        (*WS, "2022-datacenter-"),
        "SKU '2022-datacenter-' of image MicrosoftWindowsServer/WindowsServer is not in the catalog",
    ),
    (
        (*WS, "2022-standard"),
        "SKU '2022-standard' of image MicrosoftWindowsServer/WindowsServer is not in the catalog",
    ),
    (
        (*WS, "2030-datacenter"),
        "SKU '2030-datacenter' of image MicrosoftWindowsServer/WindowsServer is not in the catalog",
    ),
    (
        (*WS, " 2022-datacenter"),
        "SKU ' 2022-datacenter' of image MicrosoftWindowsServer/WindowsServer is not in the catalog",
    ),
    (
        ("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-ent"),
        "the catalog has no SKU table for image MicrosoftWindowsDesktop/windows-11",
    ),
    ((*WS, None), "the image reference has no publisher, offer and SKU"),
    ((*WS, ""), "the image reference has no publisher, offer and SKU"),
    ((None, None, None), "the image reference has no publisher, offer and SKU"),
]


@pytest.mark.parametrize(("ref", "reason"), UNKNOWN_SKUS)
def test_marketplace_sku_unknown(catalog: Catalog, ref: tuple[object, object, object], reason: str) -> None:
    assert catalog.marketplace_image(*ref) == UnknownImage(reason)


def test_marketplace_lookup_ignores_case_of_publisher_and_offer(catalog: Catalog) -> None:
    found = catalog.marketplace_image(
        "microsoftwindowsserver", "windowsserver", "2022-DATACENTER-AZURE-EDITION"
    )
    assert isinstance(found, WindowsImage)
    assert (found.version, found.edition, found.key) == (
        "2022",
        "Datacenter: Azure Edition",
        "NTBV8-9K7Q8-V27C6-M2BTV-KHMXV",
    )


def test_every_sku_rule_maps_to_a_gvlk(catalog: Catalog) -> None:
    (family,) = catalog.images
    pairs = {(v, rule.edition) for rule in family.rules for _, v in rule.versions} | set(family.skus.values())
    assert all(catalog.gvlk_entry(v, e) is not None for v, e in pairs)
    assert len(pairs) == 16


def _image_unknown_edition(doc: Any) -> None:
    doc["images"][0]["rules"][0]["versions"].append({"token": "2019", "version": "2019"})


def _image_bad_token(doc: Any) -> None:
    doc["images"][0]["rules"][1]["variants"][0] = "Core"


def _image_duplicate_sku(doc: Any) -> None:
    doc["images"][0]["skus"].append(dict(doc["images"][0]["skus"][0]))


def _image_duplicate_family(doc: Any) -> None:
    doc["images"].append(dict(doc["images"][0], publisher="microsoftwindowsserver"))


def _image_sku_without_gvlk(doc: Any) -> None:
    doc["images"][0]["skus"][0]["edition"] = "Datacenter: Azure Edition"


IMAGE_MALFORMED: list[tuple[Mutation, str]] = [
    (
        _image_unknown_edition,
        "images.json: images[0].rules[0].versions[2]: no GVLK for version '2019' edition 'Datacenter: Azure Edition'",
    ),
    (
        _image_bad_token,
        "images.json: images[0].rules[1].variants[0]: 'Core' is not a lower-case SKU name or part "
        "(letters, digits and single '-' between them)",
    ),
    (_image_duplicate_sku, "images.json: images[0].skus[12].sku: duplicate SKU '2008-r2-sp1'"),
    (
        _image_duplicate_family,
        "images.json: images[1]: duplicate image microsoftwindowsserver/WindowsServer (same as images[0])",
    ),
    (
        _image_sku_without_gvlk,
        "images.json: images[0].skus[0]: no GVLK for version '2008 R2' edition 'Datacenter: Azure Edition'",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), IMAGE_MALFORMED, ids=[m.__name__ for m, _ in IMAGE_MALFORMED])
def test_malformed_images(tmp_path: Path, mutate: Mutation, message: str) -> None:
    directory = _corrupt(tmp_path, "images.json", mutate)
    with pytest.raises(ValidationError) as info:
        load_catalog_from(directory)
    assert str(info.value) == message
