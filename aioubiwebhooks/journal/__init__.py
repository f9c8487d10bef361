"""Durable journals behind :class:`~aioubiwebhooks.receiver.WebhookReceiver`.

``WebhookReceiver(journal="events.db")`` keeps accepted events in a SQLite file;
``journal="redis://host:6379/0"`` in a Redis stream that several receivers share.
Either way a delivery is answered ``200`` only once it is stored, and an event is
forgotten only once handled, so a restart yields again what was accepted and not
handled (at least once). :func:`open_journal` turns such a string into a journal.
"""

from __future__ import annotations

import os

from ._base import (
    DEFAULT_DEDUPE_KEYS,
    DEFAULT_DEDUPE_SECONDS,
    DEFAULT_MAX_PENDING,
    Entry,
    Journal,
    JournalError,
    Stored,
)
from ._redis import DEFAULT_CLAIM_AFTER, DEFAULT_GROUP, RedisJournal, default_consumer
from ._sqlite import SqliteJournal

__all__ = [
    "DEFAULT_CLAIM_AFTER",
    "DEFAULT_DEDUPE_KEYS",
    "DEFAULT_DEDUPE_SECONDS",
    "DEFAULT_GROUP",
    "DEFAULT_MAX_PENDING",
    "Entry",
    "Journal",
    "JournalError",
    "RedisJournal",
    "SqliteJournal",
    "Stored",
    "default_consumer",
    "open_journal",
]


def open_journal(
    spec: str | os.PathLike[str] | Journal,
    *,
    group: str = DEFAULT_GROUP,
    consumer: str | None = None,
    claim_after: float = DEFAULT_CLAIM_AFTER,
    max_pending: int = DEFAULT_MAX_PENDING,
    dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
) -> Journal:
    """A journal from a path (SQLite) or a ``redis://`` / ``rediss://`` URL (not opened yet)."""
    if isinstance(spec, Journal):
        return spec
    text = os.fspath(spec)
    if text.startswith(("redis://", "rediss://", "unix://")):
        return RedisJournal(
            text,
            group=group,
            consumer=consumer,
            claim_after=claim_after,
            max_pending=max_pending,
            dedupe_seconds=dedupe_seconds,
        )
    if not text:
        raise ValueError("journal: give a file path or a redis:// URL")
    return SqliteJournal(text, max_pending=max_pending, dedupe_seconds=dedupe_seconds)
