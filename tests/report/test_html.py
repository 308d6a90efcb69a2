"""The HTML report: self-contained, escaped, and rendered by headless Chromium into a screenshot.

The Chromium test skips when no chromium binary is installed, except under CI=true, where a missing
browser is a failure (CI must install it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kmsguard.evaluate import Evaluation, evaluate_export
from kmsguard.findings import Finding
from kmsguard.report import html

from .conftest import BLOCKED

HOSTILE = "rt-<script>alert(1)</script>&\"'"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is required in CI (apt-get install chromium)")
    pytest.skip("chromium is not installed")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    path = tmp_path_factory.mktemp("hostile") / "export.json"
    text = BLOCKED.read_text(encoding="utf-8").replace(
        '::rt-spoke"', "::" + HOSTILE.replace('"', '\\"') + '"'
    )
    path.write_text(text, encoding="utf-8")
    return evaluate_export(path)


def test_page_is_self_contained(blocked: Evaluation) -> None:
    page = html.render(blocked)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""\b(src|href)=["']?(https?:|//)""", page), "no external fetches"
    assert {u for u in re.findall(r"url\(([^)]*)\)", page)} == {"#a-pass", "#a-block"}, "only in-page markers"
    # One drawing per distinct path: the three KMS IPs of each blocked subnet share one.
    assert page.count("<svg") == 2
    assert page.count('<div class="banner blocked">') == 1


def test_blocked_path_is_drawn_red_into_the_kms_node(blocked: Evaluation) -> None:
    page = html.render(blocked)
    first = page[page.index("<svg") : page.index("</svg>")]
    lines = re.findall(r'<line [^>]*stroke="(#[0-9a-f]+)"[^>]*>', first)
    # subnet → route passes; route → next hop and next hop → KMS are blocked edges
    assert lines == ["#1a7f37", "#cf222e", "#cf222e"]
    titles = re.findall(r'font-weight="700" fill="#[0-9a-f]+" font-family="[^"]+">([^<]+)</text>', first)
    assert titles == ["Subnet", "Route", "Next hop", "KMS"]
    assert "VPN/ExpressRoute gateway" in first and "leaves Azure (on-premises)" in first


def test_unknown_edges_are_dashed() -> None:
    from kmsguard.analysis import EndpointResult, Outcome, Step, SubnetResult, Verdict

    e = EndpointResult(
        "azkms.core.windows.net",
        "20.118.99.224",
        Verdict.UNKNOWN,
        (
            Step(
                "route",
                "route table rt: 0.0.0.0/0 → VirtualAppliance 10.9.9.9 (selected for 20.118.99.224)",
                Outcome.UNKNOWN,
                finding=Finding.UNKNOWN_APPLIANCE,
            ),
        ),
    )
    s = SubnetResult("k", "v/s", None, "v", "westeurope", "public", Verdict.UNKNOWN, (e,))
    svg = html._diagram(s, e, [e])
    dashed = re.findall(r"<line [^>]*>", svg)
    assert len(dashed) == 3 and all('stroke-dasharray="6 4"' in x for x in dashed[1:])
    assert "stroke-dasharray" not in dashed[0]


def test_user_input_is_escaped(hostile: Evaluation) -> None:
    page = html.render(hostile)
    assert "<script" not in page
    assert "rt-&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#x27;" in page


def test_chromium_renders_the_page(blocked: Evaluation, hostile: Evaluation, tmp_path: Path) -> None:
    browser = chromium()
    for name, ev in (("blocked", blocked), ("hostile", hostile)):
        page = tmp_path / f"{name}.html"
        page.write_text(html.render(ev), encoding="utf-8")
        shot = tmp_path / f"{name}.png"
        profile = tmp_path / f"profile-{name}"
        subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1280,1600",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
        dom = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        # The browser parsed the diagrams as SVG, and the hostile name stayed text.
        assert dom.count("<svg") == 2
        assert "<script" not in dom
        keep = os.environ.get("KMSGUARD_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / shot.name)


def test_the_baseline_summary_names_new_mandatory_violations() -> None:
    from kmsguard.diff import NewViolation
    from kmsguard.report.html import _baseline_summary

    new = [
        NewViolation("kms-client-activation", None, "VM vm1: ..."),
        NewViolation("kms-client-activation", None, "x"),
    ]
    assert _baseline_summary([], new) == (
        '<p class="baseline">Compared with the baseline: no subnet changed; 2 new mandatory violation(s): '
        "kms-client-activation.</p>"
    )
