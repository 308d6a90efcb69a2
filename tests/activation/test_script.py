"""The generated PowerShell: data block per edition and cloud, structure, syntax and golden text."""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

import pytest

from kmsguard.activation import (
    ActivationTarget,
    activation_target,
    bootstrap_command,
    cloud_for_location,
    data_block,
    render_script,
)
from kmsguard.catalog import load_catalog
from kmsguard.errors import ValidationError

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = DATA / "golden-2022-datacenter-azure-edition-public.ps1"
CATALOG = load_catalog()
BLOCK = re.compile(r"^\$Config = @'\n(.*?)\n'@ \| ConvertFrom-Json$", re.MULTILINE | re.DOTALL)


def embedded(script: str) -> dict[str, object]:
    match = BLOCK.search(script)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


@pytest.mark.parametrize("gvlk", CATALOG.gvlks, ids=lambda g: f"{g.version}-{g.edition}")
def test_every_catalog_edition_gets_its_key_host_port_and_retries(gvlk: object) -> None:
    from kmsguard.catalog import Gvlk

    assert isinstance(gvlk, Gvlk)
    data = embedded(render_script(activation_target(gvlk.version, gvlk.edition, "public")))
    assert data["gvlk"] == gvlk.key
    assert (data["version"], data["edition"], data["product"]) == (gvlk.version, gvlk.edition, gvlk.product)
    assert (data["kmsHost"], data["port"]) == ("azkms.core.windows.net", 1688)
    assert (data["attempts"], data["delaySeconds"]) == (12, 5)
    assert data["checkImds"] is (gvlk.edition == "Datacenter: Azure Edition")


CLOUDS = [
    (
        "public",
        "azkms.core.windows.net",
        [
            ("azkms.core.windows.net", "20.118.99.224"),
            ("azkms.core.windows.net", "40.83.235.53"),
            ("kms.core.windows.net", "23.102.135.246"),
        ],
    ),
    (
        "usgov",
        "azkms.core.usgovcloudapi.net",
        [("kms.core.usgovcloudapi.net", "23.97.0.13"), ("azkms.core.usgovcloudapi.net", "52.126.105.2")],
    ),
    (
        "china",
        "azkms.core.chinacloudapi.cn",
        [
            ("azkms.core.chinacloudapi.cn", "159.27.28.100"),
            ("azkms.core.chinacloudapi.cn", "163.228.64.161"),
            ("kms.core.chinacloudapi.cn", "42.159.7.249"),
        ],
    ),
]


@pytest.mark.parametrize(("cloud", "host", "endpoints"), CLOUDS)
def test_each_cloud_sets_its_host_and_tests_all_its_ips(
    cloud: str, host: str, endpoints: list[tuple[str, str]]
) -> None:
    data = embedded(render_script(activation_target("2019", "Standard", cloud)))
    assert data["kmsHost"] == host
    assert data["gvlk"] == "N69G4-B89J2-4G8F4-WWYCC-J464C"
    assert [(e["fqdn"], e["ip"], e["port"]) for e in data["endpoints"]] == [
        (f, i, 1688) for f, i in endpoints
    ]  # type: ignore[attr-defined, index]


def test_cloud_from_location() -> None:
    assert cloud_for_location("eastus") == "public"
    assert cloud_for_location("US Gov Virginia") == "usgov"
    assert cloud_for_location("chinanorth3") == "china"
    with pytest.raises(ValidationError) as info:
        cloud_for_location("usseceast")
    assert str(info.value).startswith("activation: location: 'usseceast': ")


BAD_TARGETS: list[tuple[tuple[str, str, str], dict[str, int], str]] = [
    (
        ("2022", "Essentials", "public"),
        {},
        "activation: edition: no KMS client setup key (GVLK) for Windows version '2022' edition 'Essentials' (docs/rules.md#image-channel); "
        "kmsguard/catalog/data/gvlk.json lists the known pairs",
    ),
    (
        ("2022", "Datacenter", "mars"),
        {},
        "activation: cloud: unknown cloud 'mars'; known: public, usgov, china, germany",
    ),
    (
        ("2022", "Datacenter", "germany"),
        {},
        "activation: cloud: Microsoft Cloud Deutschland (closed 2021-10-29): the cloud is closed and its KMS no longer answers (docs/rules.md#kms-endpoints)",
    ),
    (
        ("2022", "Datacenter", "public"),
        {"attempts": 0},
        "activation: attempts: 0 is not an integer between 1 and 100",
    ),
    (
        ("2022", "Datacenter", "public"),
        {"delay_seconds": -1},
        "activation: delay_seconds: -1 is not an integer between 0 and 300",
    ),
]


@pytest.mark.parametrize(("args", "kwargs", "message"), BAD_TARGETS)
def test_bad_targets_are_errors(args: tuple[str, str, str], kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        activation_target(*args, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def _target() -> ActivationTarget:
    return activation_target("2022", "Datacenter: Azure Edition", "public")


def test_golden_script() -> None:
    # The whole text is pinned: a change to the template shows up in review as a diff of this file.
    assert render_script(_target()) == GOLDEN.read_text(encoding="utf-8")


def test_script_holds_no_key_or_address_outside_the_data_block() -> None:
    script = render_script(_target())
    block = BLOCK.search(script)
    assert block is not None
    template = script[: block.start(1)] + script[block.end(1) :]
    assert not re.search(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){4}", template)
    assert "azkms" not in template and "20.118.99.224" not in template
    assert data_block(_target()) == block.group(1)


def test_script_runs_the_slmgr_steps_in_order() -> None:
    script = render_script(_target())
    calls = re.findall(r"Invoke-Slmgr @\('(/[a-z]+)'", script)
    assert calls == ["/dlv", "/ipk", "/ckms", "/skms", "/ato"]
    assert script.index("Test-Tcp $endpoint.ip") < script.index("Invoke-Slmgr @('/ato')")


def _balanced(script: str) -> bool:
    # Brackets outside quoted strings and comments must pair up (a parser-free sanity check).
    stack: list[str] = []
    pairs = {")": "(", "}": "{", "]": "["}
    in_here = False
    for line in script.splitlines():
        if in_here:
            in_here = not line.startswith("'@")
            continue
        if line.rstrip().endswith("@'"):
            in_here = True
        quote = ""
        for ch in line:
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch == "#":
                break
            elif ch in "({[":
                stack.append(ch)
            elif ch in ")}]" and (not stack or stack.pop() != pairs[ch]):
                return False
    return not stack


def test_brackets_balance() -> None:
    assert _balanced(render_script(_target()))
    assert not _balanced(render_script(_target()).replace("exit 0 }", "exit 0 ", 1))


def _parse_errors(source: str) -> list[str]:
    ts = pytest.importorskip("tree_sitter")
    tsp = pytest.importorskip("tree_sitter_powershell")
    tree = ts.Parser(ts.Language(tsp.language())).parse(source.encode("utf-8"))
    found: list[str] = []

    def walk(node: object) -> None:
        if node.type == "ERROR" or node.is_missing:  # type: ignore[attr-defined]
            found.append(f"{node.start_point}: {node.text[:60]!r}")  # type: ignore[attr-defined]
        for child in node.children:  # type: ignore[attr-defined]
            walk(child)

    walk(tree.root_node)
    return found


def test_powershell_parses() -> None:
    assert _parse_errors(render_script(_target())) == []
    # The parser does catch a broken script, so the assertion above can fail.
    assert _parse_errors(render_script(_target()).replace("exit 0 }", "exit 0 ", 1)) != []


def test_bootstrap_carries_the_script_compressed() -> None:
    script = render_script(_target())
    command = bootstrap_command(script)
    assert command.startswith('powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "')
    payload = re.search(r"FromBase64String\('([A-Za-z0-9+/=]+)'\)", command)
    assert payload is not None
    assert gzip.decompress(base64.b64decode(payload.group(1))).decode("utf-8") == script
    assert len(command) < 8000
    assert _parse_errors(command.split('-Command "', 1)[1][:-1]) == []


def test_script_and_twin_read_the_same_data() -> None:
    # The twin is only a twin if the script's decision uses the same keys and reason texts.
    script = render_script(_target())
    data = embedded(script)
    for key in (
        "channelPattern",
        "keepKeyChannels",
        "installKeyChannels",
        "neverChangeKeyPattern",
        "errorPattern",
    ):
        assert f"$Config.{key}" in script, key
    reasons = data["reasons"]
    assert isinstance(reasons, dict)
    for key in reasons:
        assert f"$Config.reasons.'{key}'" in script, key
    decision = script[script.index("function Get-Decision") : script.index("function Test-Tcp")]
    assert (
        decision.index("keepKeyChannels")
        < decision.index("installKeyChannels")
        < decision.index("neverChangeKeyPattern")
    )
