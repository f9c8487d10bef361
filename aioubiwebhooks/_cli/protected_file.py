"""``--protected-file``: the values of protected headers, many at once, from a file.

A migration of many webhooks with one secret each would need a ``--protected`` flag per
webhook; a file holds them instead, as a JSON object or dotenv-style lines::

    # webhook-name/Header-Key=value, or Header-Key=value for every webhook
    checkout-failed/Authorization=${CHECKOUT_TOKEN}
    X-Api-Key='k-123'

Keys are those of ``--protected``; a value may be a ``${VAR}`` reference. The file is
read with the bounds of every document the command takes, and no message ever quotes a
value from it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from .._brief import clip
from ..errors import ValidationError
from ..migrate._documents import DocumentProblem, decode_json, read_text_file

__all__ = ["MAX_PROTECTED_FILE_SIZE", "read_protected_file"]

MAX_PROTECTED_FILE_SIZE: Final = 1024 * 1024
"""Bytes a protected-value file may hold: thousands of secrets."""

_QUOTED: Final = re.compile(r"""^(?P<quote>['"])(?P<value>.*)(?P=quote)$""")


def _dotenv(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DocumentProblem(f"line {number}: expected KEY=VALUE")
        value = value.strip()
        quoted = _QUOTED.match(value)
        if quoted:
            value = quoted["value"]
        elif " #" in value:  # an unquoted value ends where a comment begins
            value = value.split(" #", 1)[0].rstrip()
        if key in values:
            raise DocumentProblem(f"line {number}: {clip(key, 80)} is given twice")
        values[key] = value
    return values


def _json(text: str) -> dict[str, str]:
    data = decode_json(text)
    if not isinstance(data, dict):
        raise DocumentProblem("must be a JSON object of KEY: VALUE strings")
    for key, value in data.items():
        if not isinstance(value, str):
            raise DocumentProblem(f"the value of {clip(key, 80)} must be a string")
    return data


def read_protected_file(path: Path) -> dict[str, str]:
    """Protected values from a JSON object or dotenv-style lines (``.json``, or text that
    starts with ``{``, is JSON); ValidationError naming the file and line otherwise."""
    try:
        text = read_text_file(path, MAX_PROTECTED_FILE_SIZE)
        if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            return _json(text)
        return _dotenv(text)
    except DocumentProblem as problem:
        raise ValidationError(str(path), str(problem)) from None
