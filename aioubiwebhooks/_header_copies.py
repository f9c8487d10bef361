"""One read-only copy of each distinct request head, shared by the events that carry it.

Every delivery of a webhook repeats the same headers: the sender's, the webhook's own
and the secret. An event holds its delivery's headers (the secret hidden), and a copy
of its own per event takes about a third of a kept event's memory; the receiver keeps
its last ``max_history`` events. Equal raw heads (the bytes as received) decode to
equal headers, so events whose heads are byte for byte the same can share one copy;
a head that differs in any byte, even only in ``Content-Length``, gets its own.

Bounded: at most ``limit`` heads are remembered, and all are forgotten once that many
are. The keys hold the raw head, secret header included; only deliveries that passed
the secret check get here, so that is the receiver's own secret, which it holds
anyway. Nothing here is shown in a repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from multidict import CIMultiDictProxy

from ._delivery_check import redact_headers

__all__ = ["DEFAULT_LIMIT", "HeaderCopies", "RawHeaders"]

RawHeaders = tuple[tuple[bytes, bytes], ...]
"""A request head as aiohttp received it: ``request.raw_headers``."""

DEFAULT_LIMIT: Final = 64
"""Distinct heads remembered: a few webhooks, each with a few body lengths."""


class HeaderCopies:
    """Hands out the redacted headers of a delivery, the same object for the same head."""

    __slots__ = ("_copies", "_hidden", "_limit")

    def __init__(self, hidden_header: str | None, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self._hidden = hidden_header
        self._limit = limit
        self._copies: dict[RawHeaders, CIMultiDictProxy[str]] = {}

    def __len__(self) -> int:
        """How many distinct heads are remembered now."""
        return len(self._copies)

    def __repr__(self) -> str:
        return f"<HeaderCopies {len(self._copies)} of at most {self._limit}>"

    def redacted(self, raw: RawHeaders, headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
        """``headers`` (decoded from ``raw``) with the hidden header's value replaced,
        as :func:`~aioubiwebhooks._delivery_check.redact_headers` gives them."""
        copies = self._copies
        shared = copies.get(raw)
        if shared is None:
            if len(copies) >= self._limit:
                copies.clear()
            shared = copies[raw] = redact_headers(headers, self._hidden)
        return shared
