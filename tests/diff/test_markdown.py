"""The Markdown PR summary, rendered the way GitHub renders it (CommonMark plus tables)."""

from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt

from kmsguard import diff
from kmsguard.report import markdown

from .reports import FIX, report, subnet, violation
from .test_compare import FORCED, pr


class Page(HTMLParser):
    """The rendered page's tables (rows of cell texts), <pre> blocks and headings."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.pre: list[str] = []
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("pre", "h3", "h4"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "pre" and self._text is not None:
            self.pre.append("".join(self._text))
            self._text = None
        elif tag in ("h3", "h4") and self._text is not None:
            self.headings.append("".join(self._text))
            self._text = None

    def handle_data(self, data: str) -> None:
        for sink in (self._cell, self._text):
            if sink is not None:
                sink.append(data)


def rendered(md: str) -> Page:
    page = Page()
    page.feed(MarkdownIt("commonmark").enable("table").render(md))
    return page


def test_pr_summary_renders_a_table_of_changes_the_failing_details_and_folded_unchanged() -> None:
    base, head = pr()
    md = markdown.render_diff(diff.compare(base, head))
    assert md.splitlines()[0] == (
        "### ❌ kmsguard: this change breaks Windows activation: 1 subnet(s) lose KMS reachability and 1 new "
        "subnet(s) blocked (1 regressed, 3 added, 1 improved, 1 removed, 3 unchanged)"
    )
    page = rendered(md)
    changed, unchanged = page.tables
    assert changed == [
        ["subnet", "VNet", "before", "after", "change"],
        ["snet-app", "vnet", "✅ reachable", "❌ blocked", "regressed"],
        ["snet-batch", "vnet", "—", "✅ reachable", "added"],
        ["snet-web", "vnet", "—", "❌ blocked", "added"],
        ["snet-ops", "vnet", "—", "✅ reachable", "added"],
        ["snet-data", "vnet", "❌ blocked", "✅ reachable", "improved"],
        ["snet-legacy", "vnet", "✅ reachable", "—", "removed"],
    ]
    assert "| snet-app | vnet | ✅ reachable | ❌ blocked | **regressed** |" in md.splitlines()
    assert unchanged == [
        ["subnet", "VNet", "verdict"],
        ["snet-mgmt", "vnet", "❌ blocked"],
        ["vnet-a/two", "vnet-a", "❔ unknown"],
        ["vnet-a/one", "vnet-a", "✅ reachable"],
    ]
    assert "<details><summary>3 unchanged subnets</summary>" in md.splitlines()
    assert page.headings[1:] == ["❌ snet-app: reachable → blocked", "❌ snet-web: (none) → blocked"]
    assert page.pre == [
        f"{FORCED}\n",
        f"{FIX['code']}\n",
        "NSG nsg-web rule 200 deny-kms: denied\nNSG nsg-web rule 300: denied\n",
    ]


def test_names_from_the_stack_cannot_break_the_table_or_inject_html() -> None:
    name = "a|b <img src=x> `c` *d*"
    head_subnet = subnet(name, "blocked", fixes=[{**FIX, "code": "x = '```'"}])
    head = report([head_subnet], [violation(head_subnet, ["rule | with ``` fence"])])
    md = markdown.render_diff(diff.compare(report([subnet(name, "reachable")]), head))
    page = rendered(md)
    assert page.tables[0][1] == [name, "vnet", "✅ reachable", "❌ blocked", "regressed"]
    assert "<img" not in MarkdownIt("commonmark").enable("table").render(md)
    assert page.pre == ["rule | with ``` fence\n", "x = '```'\n"]


def test_endpoint_moves_show_when_the_subnet_verdict_did_not() -> None:
    base = report([subnet("s", "blocked", endpoints=["blocked", "reachable", "reachable"])])
    head = report([subnet("s", "blocked", endpoints=["blocked", "blocked", "reachable"])])
    page = rendered(markdown.render_diff(diff.compare(base, head)))
    assert page.tables[0][1] == [
        "s",
        "vnet",
        "❌ blocked",
        "❌ blocked (40.83.235.53 reachable → blocked)",
        "regressed",
    ]


def test_single_report_summary() -> None:
    _, head = pr()
    md = markdown.render_report(head)
    assert md.splitlines()[0] == (
        "### ❌ kmsguard: `pulumi preview` with the pack would fail (4 reachable, 3 blocked, 1 unknown)"
    )
    page = rendered(md)
    assert page.tables[0][1] == ["snet-app", "vnet", "westeurope", "❌ blocked"]
    assert page.headings[1:] == [
        "❌ snet-app: blocked",
        "❌ snet-mgmt: blocked",
        "❌ snet-web: blocked",
        "❔ vnet-a/two: unknown",
    ]


def test_a_new_mandatory_violation_is_listed_under_its_own_heading() -> None:
    from .test_compare import activation

    base = report([subnet("s", "reachable")])
    head = report([subnet("s", "reachable")], [activation("vm1")])
    md = markdown.render_diff(diff.compare(base, head))
    page = rendered(md)
    assert page.headings == [
        "❌ kmsguard: this change breaks Windows activation: 1 new mandatory violation(s) (1 unchanged)",
        "❌ New mandatory violations",
    ]
    assert page.pre == [activation("vm1")["message"] + "\n"]
    assert "`kms-activation`" in md.splitlines()


def test_policy_names_go_into_code_spans_unescaped() -> None:
    assert markdown.code_span("kms-client-activation") == "`kms-client-activation`"
    assert markdown.code_span("a_b|c") == "`a_b|c`"  # no backslash escapes inside a code span
    assert markdown.code_span("x`y") == "``x`y``"
    assert markdown.code_span("`x") == "`` `x ``"


def test_single_report_summary_lists_mandatory_violations_about_no_subnet() -> None:
    from .test_compare import activation

    head = report([subnet("s", "reachable")], [activation("vm1")])
    page = rendered(markdown.render_report(head))
    assert page.headings[-1] == "❌ Other mandatory violations"
    assert page.pre == [activation("vm1")["message"] + "\n"]
    # A blocked subnet's own violation is explained under the subnet, not repeated.
    blocked = subnet("b", "blocked")
    page = rendered(markdown.render_report(report([blocked], [violation(blocked, [FORCED])])))
    assert "❌ Other mandatory violations" not in page.headings
