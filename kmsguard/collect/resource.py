"""``PulumiResource``, the neutral input of ``kmsguard.collect``, and ``merge_inputs``.

A leaf on purpose: the collectors under ``kmsguard.collect`` take ``PulumiResource`` and
``kmsguard.collect.pulumi`` dispatches to them, so the type lives here, where it imports nothing from
``kmsguard.collect``, and no module of the package needs another one that needs it back
(tests/test_layering.py). ``kmsguard.collect.pulumi`` re-exports both names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from kmsguard.protocol import SECRET_SIG, SIG_KEY, UNKNOWN_SENTINELS

__all__ = ["PulumiResource", "merge_inputs"]


@dataclass(frozen=True)
class PulumiResource:
    """One resource of a deployment, as the pack, the runner and stack export all produce it."""

    urn: str
    type: str  # type token, e.g. "azure-native:network:RouteTable"
    name: str  # logical name
    props: Mapping[str, Any]  # plain values; unknowns are the sentinel string; secrets wrapped or not
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict
    )  # top-level prop → URNs


def merge_inputs(outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs completed with the inputs that are not outputs (path parameters such as
    ``resourceGroupName`` or ``virtualNetworkName``, §3.0). Outputs win where both exist: after a
    deployment they are what Azure holds; in a preview they are the inputs anyway.

    Their secret marking does not win when it is coarser than the input's: the engine marks a whole
    output property secret when its same-named input holds a secret anywhere inside (pulumi's
    ``annotateSecrets``; azure-native's preview outputs do the same), so one secret prefix would hide
    every route name of the table. When an output property is secret as a whole and its input is
    present, not secret as a whole but holding secrets, the output's value is kept and re-marked:
    only its leaves whose text is the text of one of the input's secret leaves are secret
    (``_remark``). An output secret that no input secret explains stays whole.

    Secrets come as the wire's signature objects (``{SIG_KEY: SECRET_SIG, "value": ...}``, the form
    ``kmsguard.evaluate.pack_view`` merges) or a stack export's (``"plaintext"``/``"ciphertext"``);
    the pack's AnalyzeStack values have them unwrapped already, so there is nothing to re-mark."""
    merged = dict(outputs)
    for key, value in inputs.items():
        if key.startswith("__"):
            continue
        if key not in merged:
            merged[key] = value
        elif _is_secret(merged[key]) and not _is_secret(value):
            merged[key] = _remark(merged[key], value)
    return merged


# --- secret re-marking -----------------------------------------------------------------------------

_OPAQUE: Final = object()  # a secret whose value cannot be read (a stack export's ciphertext)


def _is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG


def _reveal(secret: Mapping[str, Any]) -> Any:
    """The value inside a secret envelope, or ``_OPAQUE``."""
    if "value" in secret:
        return secret["value"]
    plaintext = secret.get("plaintext")
    if isinstance(plaintext, str):
        try:
            return json.loads(plaintext)
        except ValueError:
            return _OPAQUE
    return _OPAQUE


def _text(leaf: Any) -> str | None:
    """A scalar's text for matching (case-insensitive, numbers by value, across types); None if none."""
    if isinstance(leaf, bool):
        return "true" if leaf else "false"
    if isinstance(leaf, int | float):
        number = float(leaf)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(leaf, str) and leaf not in UNKNOWN_SENTINELS:
        return leaf.casefold()
    return None


def _secret_texts(value: Any, inside: bool, texts: set[str]) -> bool:
    """Add the texts of ``value``'s secret leaves to ``texts``; whether every secret could be read."""
    if isinstance(value, Mapping):
        if _is_secret(value):
            revealed = _reveal(value)
            return revealed is not _OPAQUE and _secret_texts(revealed, True, texts)
        return all([_secret_texts(v, inside, texts) for v in value.values()])
    if isinstance(value, list):
        return all([_secret_texts(v, inside, texts) for v in value])
    if inside and (text := _text(value)) is not None:
        texts.add(text)
    return True


def _has_secret(value: Any) -> bool:
    if isinstance(value, Mapping):
        return _is_secret(value) or any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def _remark(output: Mapping[str, Any], given: Any) -> Any:
    """A whole-secret output property re-marked after its input ``given`` (see ``merge_inputs``).

    Matching texts rather than positions keeps every secret text secret wherever the output holds it
    (Azure may order a list otherwise than the program, or copy a value elsewhere): a plain leaf that
    happens to read like a secret one is marked too, never the other way round."""
    if not _has_secret(given):
        return output  # the secret is the provider's own (or additionalSecretOutputs'): keep it whole
    revealed = _reveal(output)
    if revealed is _OPAQUE:
        # A ciphertext the export did not decrypt: the input is the best value known, and it is
        # marked as the program marked it.
        return given
    texts: set[str] = set()
    if not _secret_texts(given, False, texts):
        return output  # an input secret cannot be read, so neither can its text be found
    form = "value" if "value" in output else "plaintext"

    def mark(leaf: Any) -> Any:
        return {SIG_KEY: SECRET_SIG, form: leaf if form == "value" else json.dumps(leaf)}

    def walk(node: Any) -> Any:
        if isinstance(node, Mapping):
            if SIG_KEY in node:
                # A secret stays one; another signature object (a resource reference) is secret
                # when any text in it is.
                if _is_secret(node):
                    return node
                found: set[str] = set()
                _secret_texts(node, True, found)
                return mark(node) if found & texts else node
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        text = _text(node)
        return mark(node) if text is not None and text in texts else node

    return walk(revealed)
