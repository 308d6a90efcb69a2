"""Reports rendered from analysis results: text for people; JSON, SARIF, JUnit and HTML for machines."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kmsguard.evaluate import Evaluation

FORMATS = ("text", "json", "sarif", "junit", "html")


def render(ev: Evaluation, fmt: str, *, colour: bool = False) -> str:
    """The report of one evaluation in one of ``FORMATS``, with every secret text redacted
    (``kmsguard.report.redact``: inside the format's values, never across its syntax)."""
    from kmsguard.report import redact

    report = _render(ev, fmt, colour=colour)
    return redact.REDACTORS[fmt](report, redact.secret_texts(ev))


def _render(ev: Evaluation, fmt: str, *, colour: bool) -> str:
    if fmt == "text":
        from kmsguard.report import text

        return text.render_evaluation(ev, colour=colour)
    if fmt == "json":
        from kmsguard.report import document

        return document.render(ev)
    if fmt == "sarif":
        from kmsguard.report import sarif

        return sarif.render(ev)
    if fmt == "junit":
        from kmsguard.report import junit

        return junit.render(ev)
    if fmt == "html":
        from kmsguard.report import html

        return html.render(ev)
    raise ValueError(f"unknown report format {fmt!r}; formats: {', '.join(FORMATS)}")
