"""Reports rendered from analysis results: text for people; JSON, SARIF, JUnit and HTML for machines."""

from __future__ import annotations

import html as html_escape
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kmsguard.evaluate import Evaluation

FORMATS = ("text", "json", "sarif", "junit", "html")
REDACTED = "[secret]"


def render(ev: Evaluation, fmt: str, *, colour: bool = False) -> str:
    """The report of one evaluation in one of ``FORMATS``, with every secret text redacted.

    The analysis reads secret values (a secret prefix still routes) and its traces quote prefixes
    and IPs, so the secrets of the evaluated resources are replaced in the finished report, in
    each escaped form the formats use. Texts shorter than 3 characters are left (as in the pack)."""
    report = _render(ev, fmt, colour=colour)
    texts: set[str] = set()
    for r in ev.drive.final_resources:
        texts.update(_secret_texts(r.inputs))
        if r.outputs is not None:
            texts.update(_secret_texts(r.outputs))
    for text in sorted(texts, key=len, reverse=True):
        forms = {
            text,
            html_escape.escape(text),
            html_escape.escape(text, quote=False),
            json.dumps(text)[1:-1],
        }
        forms.add(json.dumps(text, ensure_ascii=False)[1:-1])
        for form in sorted(forms, key=len, reverse=True):
            report = report.replace(form, REDACTED)
    return report


def _secret_texts(value: Any, inside: bool = False) -> Iterator[str]:
    from kmsguard.engine import Secret

    if isinstance(value, Secret):
        yield from _secret_texts(value.value, True)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _secret_texts(item, inside)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secret_texts(item, inside)
    elif inside and isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        if len(text) >= 3 and text != REDACTED:
            yield text


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
