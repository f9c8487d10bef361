"""The API's token check: ``Authorization: Token <token>``, the prefix being optional."""

from __future__ import annotations

import hmac
from typing import Final

from ._problems import Unauthorized

__all__ = ["DEFAULT_TOKEN", "check_token", "strip_prefix"]

DEFAULT_TOKEN: Final = "emulator-token"  # noqa: S105 - a placeholder, not a secret
"""What ``Emulator.token`` is when no token was configured (any non-empty token passes)."""


def strip_prefix(value: str | None) -> str:
    """The bare token of a header value, with or without ``Token `` in front."""
    text = (value or "").strip()
    if text[:6].lower() == "token ":
        text = text[6:].strip()
    return text


def check_token(header: str | None, expected: str | None) -> None:
    """Raise :class:`Unauthorized` unless ``header`` carries the expected token.

    Without an expected token any non-empty token passes, so a first try needs no set-up.
    """
    given = strip_prefix(header)
    if not given:
        raise Unauthorized("Authentication credentials were not provided.")
    if expected is not None and not hmac.compare_digest(
        given.encode(), strip_prefix(expected).encode()
    ):
        raise Unauthorized("Invalid token.")
