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


def secret_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every way a secret may come back in a text: as sent, and escaped inside JSON.

    Longest first, so that a secret containing another is replaced whole.
    """
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        forms.add(secret)
        forms.add(json.dumps(secret)[1:-1])  # quotes, backslashes, non-ASCII escaped
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, forms: tuple[str, ...]) -> str:
    """``text`` with every secret form (see :func:`secret_forms`) replaced by HIDDEN."""
    for form in forms:
        if form in text:
            text = text.replace(form, HIDDEN)
    return text
