"""What a journal is: durable storage for accepted events, shared by the receiver's stores.

A journal stores each accepted delivery before the sender hears ``200``, hands the
stored events to this process's consumer, and forgets an event once it is handled
(acknowledged). Redeliveries are recognised by the journal itself, so the dedupe
holds across restarts and, with Redis, across receivers.

Both kinds do their work in cycles: :meth:`Journal.commit` stores a batch of new
events and removes a batch of handled ones at once (a group commit), and the
receiver gathers whatever arrived while the previous cycle ran into the next one.
"""

from __future__ import annotations

import abc
import enum
import json
from collections.abc import Sequence
from datetime import datetime

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from .._delivery_check import Rejected, parse_delivery
from ..events import WebhookEvent

__all__ = [
    "DEFAULT_DEDUPE_KEYS",
    "DEFAULT_DEDUPE_SECONDS",
    "DEFAULT_MAX_PENDING",
    "Entry",
    "Journal",
    "JournalError",
    "Stored",
    "decode_event",
    "encode_headers",
]

DEFAULT_MAX_PENDING = 100_000
"""Events accepted and not yet handled that a journal holds; beyond it, deliveries get 503."""
DEFAULT_DEDUPE_SECONDS = 7 * 24 * 3600.0
"""How long a journal remembers a delivery's (event, request id) to recognise a redelivery."""
DEFAULT_DEDUPE_KEYS = 100_000
"""How many (event, request id) keys a SQLite journal keeps at most (the oldest go first)."""


class JournalError(Exception):
    """The journal could not store or read events (the sender gets 503 and may retry)."""


class Stored(enum.Enum):
    """What became of one event in a commit, besides getting an id."""

    DUPLICATE = "duplicate"
    FULL = "full"


@attrs.frozen
class Entry:
    """A stored event and its id in the journal."""

    id: str
    event: WebhookEvent


def encode_headers(event: WebhookEvent) -> str:
    """The headers as stored: the receiver's secret header is already hidden in them."""
    return json.dumps(list(event.headers.items()))


def decode_event(raw: bytes, headers: str, received_at: str) -> WebhookEvent:
    """An event read back from a journal: parsed again from the body exactly as received."""
    pairs = json.loads(headers) if headers else []
    proxy = CIMultiDictProxy(CIMultiDict([(str(k), str(v)) for k, v in pairs]))
    try:
        return parse_delivery(raw, headers=proxy, received_at=datetime.fromisoformat(received_at))
    except Rejected as error:  # stored by an older version with other rules
        raise JournalError(f"a stored event cannot be read: {error}") from None


class Journal(abc.ABC):
    """Durable storage of accepted events, used by one receiver at a time per process."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, create what is missing, and load what this process must handle first."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the connection; what is stored stays stored."""

    @abc.abstractmethod
    async def commit(
        self, events: Sequence[WebhookEvent], handled: Sequence[str]
    ) -> list[str | Stored]:
        """Store ``events`` (an id each, or why not) and forget the ``handled`` ids, durably.

        Returns only once both are durable; raises :class:`JournalError` if nothing was.
        """

    @abc.abstractmethod
    async def take(self, limit: int, wait: float) -> list[Entry]:
        """Up to ``limit`` stored events for this process to handle, waiting up to ``wait`` s."""

    @abc.abstractmethod
    async def pending(self) -> list[Entry]:
        """Every stored event not yet handled, oldest first (with Redis: of every consumer)."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the journal is, for messages (a URL's password is hidden)."""
