"""Secret texts out of finished reports, without touching the structure of the format.

The analysis reads secret values (a secret prefix still routes) and its traces quote prefixes and
IPs, so every secret text of the evaluated resources is replaced by ``[secret]`` in what a report
shows. The replacement happens inside the format's own values — JSON strings, XML text and
attribute values, HTML text — never across its syntax, so a secret that happens to read ``true``,
``null``, ``100`` or ``line`` cannot turn a report into invalid JSON, XML or HTML. Texts shorter
than 3 characters are left alone (as in the pack): they would erase half the report.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kmsguard.protocol import SECRET_PLACEHOLDER

if TYPE_CHECKING:
    from kmsguard.evaluate import Evaluation

REDACTED = SECRET_PLACEHOLDER
# JUnit attributes that are counts or places, never text from the stack.
_XML_NUMERIC = frozenset({"tests", "failures", "errors", "skipped", "time", "line"})
_TAG = re.compile(r"(<[^>]*>)")
_ARIA = re.compile(r'(aria-label=")([^"]*)(")')
# JSON and SARIF keys whose values are URNs (SARIF logical locations carry them as qualified names).
_URN_KEYS = frozenset({"urn", "fullyQualifiedName"})


def secret_texts(ev: Evaluation) -> list[str]:
    """The secret texts of the evaluated resources, longest first (so no text is cut in part).

    What the program made secret is the finest marking there is: an output property is secret as a
    whole whenever its same-named input holds a secret anywhere inside (the engine's
    ``annotateSecrets``, azure-native's preview outputs), so a route table's whole ``routes`` list is
    secret when one prefix is. Its texts are then taken from the input, where only the secret prefix
    is marked, not the table's route names and next hop types; an output secret that no input
    explains (a provider's own secret) counts as a whole."""
    texts: set[str] = set()
    for r in ev.drive.final_resources:
        inputs = r.inputs if isinstance(r.inputs, Mapping) else {}
        texts.update(_texts(inputs))
        if not isinstance(r.outputs, Mapping):
            continue
        for key, value in r.outputs.items():
            given = inputs.get(key)
            if given is not None and _has_secret(given):
                continue  # its secret texts came from the input, as the program marked them
            texts.update(_texts(value))
    return sorted(texts, key=lambda t: (-len(t), t))


def _has_secret(value: Any) -> bool:
    from kmsguard.engine import Secret

    if isinstance(value, Secret):
        return True
    if isinstance(value, Mapping):
        return any(_has_secret(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_secret(v) for v in value)
    return False


def _texts(value: Any, inside: bool = False) -> Iterator[str]:
    from kmsguard.engine import Secret

    if isinstance(value, Secret):
        yield from _texts(value.value, True)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item, inside)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item, inside)
    elif inside and isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        if len(text) >= 3 and text != REDACTED:
            yield text


def in_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def in_json(report: str, secrets: list[str]) -> str:
    """Redact the string values of a JSON document rendered with indent 2 (keys are the format's).

    URNs stay as they are: Pulumi shows them in the clear (a logical name is never secret), and a diff
    or a SARIF baseline matches subnets and results by them."""
    if not secrets:
        return report

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, str):
            return value if key in _URN_KEYS and value.startswith("urn:pulumi:") else in_text(value, secrets)
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        return value

    return json.dumps(walk(json.loads(report)), indent=2, ensure_ascii=False) + "\n"


def in_xml(report: str, secrets: list[str]) -> str:
    """Redact the text and the text attributes of an XML document (the JUnit report)."""
    if not secrets:
        return report
    root = ET.fromstring(report)
    for el in root.iter():
        if el.text:
            el.text = in_text(el.text, secrets)
        if el.tail:
            el.tail = in_text(el.tail, secrets)
        for key, value in el.attrib.items():
            if key not in _XML_NUMERIC:
                el.set(key, in_text(value, secrets))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def in_html(report: str, secrets: list[str]) -> str:
    """Redact the text of the HTML report (its text nodes and aria labels; not the style sheet)."""
    if not secrets:
        return report
    forms = sorted(
        {f for s in secrets for f in (html.escape(s), html.escape(s, quote=False), s)}, key=lambda f: -len(f)
    )
    out: list[str] = []
    in_style = False
    for part in _TAG.split(report):
        if part.startswith("<"):
            name = part[1:].split(None, 1)[0].rstrip(">").lower() if len(part) > 2 else ""
            in_style = name == "style" or (in_style and name != "/style")
            out.append(_ARIA.sub(lambda m: m.group(1) + in_text(m.group(2), forms) + m.group(3), part))
        elif in_style:
            out.append(part)
        else:
            out.append(in_text(part, forms))
    return "".join(out)


REDACTORS = {"text": in_text, "json": in_json, "sarif": in_json, "junit": in_xml, "html": in_html}
