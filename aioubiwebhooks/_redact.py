"""Keeping secrets out of what people and programs see.

The API token and protected header values must never reach a repr, a log line, an
exception message or a file. :data:`HIDDEN` is the one stand-in shown wherever a
secret would otherwise appear; :func:`redact` puts it in place of every secret a
text contains, for texts that come from elsewhere (a server may echo what it got).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final

__all__ = ["HIDDEN", "redact", "secret_forms"]

HIDDEN: Final = "<hidden>"
"""Shown in place of a secret: a protected header's value, a receiver's secret header."""

_ESCAPE_DEPTH = 3
"""A server may echo the request body (JSON) inside its own JSON, escaped once more each time."""

_MIN_CUT = 3
"""The shortest start of a secret hidden where a text ends (it was cut off there)."""

_MIN_INNER = 8
"""The shortest start of a secret hidden inside a text (a quoted excerpt cut off)."""


def secret_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every way a secret may come back in a text: as sent, and escaped inside JSON once,
    twice or three times (a body echoed inside a body). Longest first, so that a form
    containing another is replaced whole."""
    forms: set[str] = set()
    for secret in secrets:
        form = secret
        for _ in range(_ESCAPE_DEPTH + 1):
            if not form:
                break
            forms.add(form)
            form = json.dumps(form)[1:-1]  # quotes, backslashes and non-ASCII escaped
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, forms: tuple[str, ...]) -> str:
    """``text`` with every secret form (see :func:`secret_forms`) replaced by HIDDEN.

    An excerpt cut off in the middle of a secret holds the secret's start: at its end,
    or inside it when the excerpt was quoted. That start is hidden too (from three
    characters at the end, from eight inside).
    """
    for form in forms:
        if form in text:
            text = text.replace(form, HIDDEN)
    for form in forms:
        for length in range(min(len(form) - 1, len(text)), _MIN_CUT - 1, -1):
            start = form[:length]
            if text.endswith(start):
                text = text[: len(text) - length] + HIDDEN
                break
            if length >= _MIN_INNER and start in text:
                text = text.replace(start, HIDDEN)
                break
    return text
