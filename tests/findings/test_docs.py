"""The findings and the rules live in the repository: every finding has its documented section, and
nothing kmsguard tells a user cites a section that does not exist.

The meta-test of PSRule's ``Rule.Help``: a finding without synopsis, reason, recommendation and a
passing example fails, and so does a message citing ``§4.5`` of a document users cannot read.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from kmsguard.findings import FINDINGS, Finding
from kmsguard.policies import POLICIES

ROOT = Path(__file__).resolve().parents[2]
FINDINGS_MD = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
RULES_MD = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
PARTS = ("#### Synopsis", "#### Why Windows activation fails", "#### Recommendation", "#### Example")


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors (the headings here are lower-case words and dashes)."""
    return {
        re.sub(r"[^a-z0-9 -]", "", m.group(1).strip().lower()).replace(" ", "-")
        for m in re.finditer(r"^#{1,6} (.+)$", markdown, re.M)
    }


def section(markdown: str, anchor: str) -> str:
    m = re.search(rf"^### {re.escape(anchor)}\n(.*?)(?=^### |^## |\Z)", markdown, re.S | re.M)
    return m.group(1) if m else ""


def user_facing_strings() -> list[tuple[str, int, str]]:
    """Every string literal of the package that is not a docstring (messages, fixes, schema text)."""
    out: list[tuple[str, int, str]] = []
    for path in sorted((ROOT / "kmsguard").rglob("*.py")):
        tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
        for i, tok in enumerate(tokens):
            if tok.type != tokenize.STRING:
                continue
            before = tokens[i - 1].type if i else None
            after = tokens[i + 1].type if i + 1 < len(tokens) else None
            docstring = before in (
                tokenize.INDENT,
                tokenize.NEWLINE,
                tokenize.NL,
                tokenize.DEDENT,
                None,
            ) and (after == tokenize.NEWLINE)
            if not docstring:
                out.append((str(path.relative_to(ROOT)), tok.start[0], tok.string))
    return out


STRINGS = user_facing_strings()


def test_the_set_of_findings_is_closed_and_stable() -> None:
    assert set(FINDINGS) == set(Finding)
    assert all(re.fullmatch(r"KMS-[A-Z]+(-[A-Z0-9]+)+", f.value) for f in Finding)
    assert {i.level for i in FINDINGS.values()} <= {"error", "warning", "note"}
    assert {i.policy for i in FINDINGS.values()} <= {p.name for p in POLICIES} | {"any"}
    assert len({i.name for i in FINDINGS.values()}) == len(FINDINGS)


@pytest.mark.parametrize("finding", list(Finding), ids=str)
def test_every_finding_has_its_section_and_a_passing_example(finding: Finding) -> None:
    assert finding.anchor in anchors(FINDINGS_MD)
    text = section(FINDINGS_MD, finding.anchor)
    assert f"**{finding.value}**" in text
    positions = [text.find(part) for part in PARTS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), (finding, positions)
    for start, end in zip(positions, [*positions[1:], len(text)], strict=True):
        assert text[start:end].split("\n", 1)[1].strip(), (finding, text[start:end])
    example = text[positions[-1] :]
    assert re.search(r"```python\n.+?\n```", example, re.S), finding


def test_every_rule_names_its_microsoft_sources() -> None:
    rules = re.findall(r"^## ([a-z0-9-]+)\n(.*?)(?=^## |\Z)", RULES_MD, re.S | re.M)
    assert len(rules) >= 20
    for name, body in rules:
        assert "Sources:" in body and re.search(
            r"(articles|support|WindowsServerDocs|learn\.microsoft|azure\.cn|specification|includes)", body
        ), name


def test_no_message_cites_a_section_users_cannot_read() -> None:
    """``§4.5 R4.2``-style citations pointed into a document outside the repository."""
    dangling = [
        (f, line, s)
        for f, line, s in STRINGS
        if re.search(r"§\s*\d|\(\s*[SNRVEFWODKGA]\d{1,2}\b|\bR\d\.\d\b", s) and "re.compile" not in s
    ]
    # html.py strips old-style citations from diagram labels (a pattern, not a citation).
    assert [d for d in dangling if not d[0].endswith("report/html.py")] == []


def test_every_cited_rule_and_finding_exists() -> None:
    rule_anchors, finding_anchors = anchors(RULES_MD), anchors(FINDINGS_MD)
    cited = [
        (f, line, page, anchor)
        for f, line, s in STRINGS
        for page, anchor in re.findall(r"docs/(rules|findings)\.md#([a-z0-9-]+)", s)
    ]
    assert {a for _, _, p, a in cited if p == "rules"} >= {"nsg-platform-rule", "azure-public-source"}
    missing = [c for c in cited if c[3] not in (rule_anchors if c[2] == "rules" else finding_anchors)]
    assert missing == []
    # The docs' own links into rules.md.
    linked = re.findall(r"\]\(rules\.md#([a-z0-9-]+)\)", FINDINGS_MD)
    assert linked and sorted(set(linked) - rule_anchors) == []


def test_policy_urls_are_repository_relative_and_exist() -> None:
    for policy in POLICIES:
        page, _, anchor = policy.url.partition("#")
        assert (ROOT / page).is_file() and not policy.url.startswith("http"), policy.url
        assert anchor in anchors((ROOT / page).read_text(encoding="utf-8")), policy.url


def test_no_invented_url() -> None:
    """No link to a repository host the project does not have; a published copy is the user's base URL."""
    assert [s for _, _, s in STRINGS if "github.com/kmsguard" in s] == []
