"""A journal in one SQLite file (WAL mode): the embedded default for a receiver on one machine.

A commit stores a whole batch of deliveries and removes a batch of handled events
in one transaction: under load, many deliveries share one commit (group commit),
and none is answered before its commit.

``synchronous`` is SQLite's setting: ``"normal"`` (the default) keeps every commit
across the death of the process (a crash, a kill, a deploy) and flushes nothing to
disk per commit, so a commit takes tens of microseconds and runs on the event loop
itself (a hop to a thread would cost more); the flushes happen at checkpoints,
which a worker thread runs on a second connection every ``_CHECKPOINT_EVERY``
commits. ``"full"`` flushes each commit, so it also survives a power loss; those
commits run in a worker thread (anyio.to_thread), so the loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import anyio
import anyio.to_thread

from .._delivery_check import dedupe_key
from ..events import WebhookEvent
from ._base import (
    DEFAULT_DEDUPE_KEYS,
    DEFAULT_DEDUPE_SECONDS,
    DEFAULT_MAX_PENDING,
    Entry,
    Journal,
    JournalError,
    Stored,
    decode_event,
    encode_headers,
)

__all__ = ["SqliteJournal"]

_log = logging.getLogger("aioubiwebhooks.receiver")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body BLOB NOT NULL,
    headers TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dedupe (
    event TEXT NOT NULL,
    request TEXT NOT NULL,
    seen REAL NOT NULL,
    PRIMARY KEY (event, request)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedupe_by_age ON dedupe (seen);
"""
_PURGE_EVERY: Final = 1000
"""Commits between two purges of expired dedupe keys."""
_CHECKPOINT_EVERY: Final = 500
"""Commits between two checkpoints of the write-ahead log (``synchronous="normal"``)."""


class SqliteJournal(Journal):
    """Accepted events in a SQLite file; for one receiver process at a time."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
        dedupe_keys: int = DEFAULT_DEDUPE_KEYS,
        synchronous: str = "normal",
    ) -> None:
        if synchronous not in ("normal", "full"):
            raise ValueError(f"synchronous must be 'normal' or 'full', got {synchronous!r}")
        self._path = Path(path)
        self._max_pending = max_pending
        self._dedupe_seconds = dedupe_seconds
        self._dedupe_keys = dedupe_keys
        self._synchronous = synchronous
        self._db: sqlite3.Connection | None = None
        self._lock = anyio.Lock()
        self._ready: collections.deque[Entry] = collections.deque()
        self._arrived = anyio.Event()
        self._count = 0
        self._commits = 0
        self._inline = synchronous == "normal"
        self._checkpoint: anyio.Event | None = None  # set when the one under way is done
        self._checkpointer: asyncio.Future[None] | None = None

    def describe(self) -> str:
        return f"sqlite:{self._path}"

    async def open(self) -> None:
        async with self._lock:
            rows = await anyio.to_thread.run_sync(self._open)
        self._ready.extend(Entry(str(i), decode_event(b, h, r)) for i, b, h, r in rows)
        self._count = len(rows)

    def _open(self) -> list[tuple[int, bytes, str, str]]:
        try:
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self._synchronous.upper()}")
            if self._inline:  # checkpoints are run from a thread instead (see the module)
                db.execute("PRAGMA wal_autocheckpoint=0")
            db.executescript(_SCHEMA)
            rows = db.execute(
                "SELECT id, body, headers, received_at FROM events ORDER BY id"
            ).fetchall()
        except sqlite3.Error as error:
            raise JournalError(f"cannot open the journal {self._path}: {error}") from None
        self._db = db
        return rows

    async def close(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint.wait()
        async with self._lock:
            db, self._db = self._db, None
            if db is not None:
                await anyio.to_thread.run_sync(db.close)

    async def commit(
        self, events: Sequence[WebhookEvent], handled: Sequence[str]
    ) -> list[str | Stored]:
        async with self._lock:
            if self._inline:
                results = self._commit(events, handled)
            else:
                results = await anyio.to_thread.run_sync(self._commit, events, handled)
        if self._inline and self._commits % _CHECKPOINT_EVERY == 0 and self._checkpoint is None:
            self._checkpoint = anyio.Event()
            self._checkpointer = asyncio.ensure_future(self._run_checkpoint(self._checkpoint))
        new = False
        for event, result in zip(events, results, strict=True):
            if isinstance(result, str):
                self._ready.append(Entry(result, event))
                new = True
        if new:
            arrived, self._arrived = self._arrived, anyio.Event()
            arrived.set()
        return results

    def _commit(self, events: Sequence[WebhookEvent], handled: Sequence[str]) -> list[str | Stored]:
        db = self._connection()
        results: list[str | Stored] = []
        now = time.time()
        count = self._count
        try:
            db.execute("BEGIN IMMEDIATE")
            if handled:
                removed = db.executemany(
                    "DELETE FROM events WHERE id = ?", [(int(i),) for i in handled]
                ).rowcount
                count -= max(removed, 0)
            for event in events:
                if count >= self._max_pending:
                    results.append(Stored.FULL)
                    continue
                name, request = dedupe_key(event)
                if not db.execute(
                    "INSERT OR IGNORE INTO dedupe VALUES (?, ?, ?)", (name, request, now)
                ).rowcount:
                    results.append(Stored.DUPLICATE)
                    continue
                cursor = db.execute(
                    "INSERT INTO events (body, headers, received_at) VALUES (?, ?, ?)",
                    (event.raw, encode_headers(event), event.received_at.isoformat()),
                )
                results.append(str(cursor.lastrowid))
                count += 1
            self._commits += 1
            if self._commits % _PURGE_EVERY == 1:
                self._purge(db, now)
            db.execute("COMMIT")
        except sqlite3.Error as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise JournalError(f"cannot write the journal {self._path}: {error}") from None
        self._count = count
        return results

    async def _run_checkpoint(self, done: anyio.Event) -> None:
        """Copy the write-ahead log into the database file, on a connection of its own."""
        try:
            await anyio.to_thread.run_sync(self._checkpoint_now)
        except sqlite3.Error as error:
            _log.warning("journal %s: checkpoint failed: %s", self._path, error)
        finally:
            self._checkpoint = None
            done.set()

    def _checkpoint_now(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    def _purge(self, db: sqlite3.Connection, now: float) -> None:
        """Forget dedupe keys older than the retention, and the oldest beyond the key cap."""
        db.execute("DELETE FROM dedupe WHERE seen < ?", (now - self._dedupe_seconds,))
        db.execute(
            "DELETE FROM dedupe WHERE seen <= (SELECT seen FROM dedupe ORDER BY seen DESC "
            "LIMIT 1 OFFSET ?)",
            (self._dedupe_keys,),
        )

    async def take(self, limit: int, wait: float) -> list[Entry]:
        if not self._ready:
            with anyio.move_on_after(wait):
                await self._arrived.wait()
        batch: list[Entry] = []
        while self._ready and len(batch) < limit:
            batch.append(self._ready.popleft())
        return batch

    async def pending(self) -> list[Entry]:
        async with self._lock:
            rows = await anyio.to_thread.run_sync(self._rows)
        return [Entry(str(i), decode_event(b, h, r)) for i, b, h, r in rows]

    def _rows(self) -> list[tuple[int, bytes, str, str]]:
        try:
            return (
                self._connection()
                .execute("SELECT id, body, headers, received_at FROM events ORDER BY id")
                .fetchall()
            )
        except sqlite3.Error as error:
            raise JournalError(f"cannot read the journal {self._path}: {error}") from None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalError(f"the journal {self._path} is not open")
        return self._db
