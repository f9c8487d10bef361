"""A journal in a Redis stream: several receivers, on several machines, share one.

One stream holds the events not yet handled; one consumer group hands each event
to exactly one consumer (a consumer name per process). A delivery is stored by a
small Lua script that checks the dedupe key and the stream's length and adds the
event in one step, so two receivers given the same redelivery store it once. A
handled event is acknowledged and deleted (``XACK`` + ``XDEL``), so the stream's
length is the number of events waiting. Events a dead consumer held are claimed by
the others once idle for ``claim_after`` seconds (``XAUTOCLAIM``).

Needs the optional ``redis`` package: ``pip install aioubiwebhooks[redis]``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from .._delivery_check import dedupe_key
from ..events import WebhookEvent
from ._base import (
    DEFAULT_DEDUPE_SECONDS,
    DEFAULT_MAX_PENDING,
    Entry,
    Journal,
    JournalError,
    Stored,
    decode_event,
    encode_headers,
)

__all__ = ["DEFAULT_CLAIM_AFTER", "DEFAULT_GROUP", "RedisJournal", "default_consumer"]

DEFAULT_GROUP: Final = "aioubiwebhooks"
DEFAULT_CLAIM_AFTER: Final = 60.0
"""Seconds an event may sit with a consumer unacknowledged before another claims it."""

_STORE: Final = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 'duplicate' end
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 'full' end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
return redis.call('XADD', KEYS[1], '*', 'b', ARGV[3], 'h', ARGV[4], 't', ARGV[5])
"""


def default_consumer() -> str:
    """This process's consumer name: host name and process id."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisJournal(Journal):
    """Accepted events in a Redis stream with one consumer group."""

    def __init__(
        self,
        url: str,
        *,
        group: str = DEFAULT_GROUP,
        consumer: str | None = None,
        stream: str = "aioubiwebhooks:events",
        claim_after: float = DEFAULT_CLAIM_AFTER,
        max_pending: int = DEFAULT_MAX_PENDING,
        dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
    ) -> None:
        if claim_after <= 0:
            raise ValueError(f"claim_after must be positive, got {claim_after}")
        self._url = url
        self._group = group
        self._consumer = consumer or default_consumer()
        self._stream = stream
        self._claim_after = claim_after
        self._max_pending = max_pending
        self._dedupe_seconds = max(1, int(dedupe_seconds))
        self._client: Any = None
        self._store: Any = None
        self._own_checked = False
        self._next_claim = 0.0

    @property
    def consumer(self) -> str:
        return self._consumer

    def describe(self) -> str:
        return f"{_hide_password(self._url)} (stream {self._stream}, group {self._group})"

    async def open(self) -> None:
        try:
            import redis.asyncio as redis
            from redis.exceptions import ResponseError
        except ImportError:
            raise JournalError(
                "a Redis journal needs the redis package: pip install aioubiwebhooks[redis]"
            ) from None
        client = redis.from_url(self._url, socket_timeout=10, socket_connect_timeout=5)
        try:
            try:
                await client.xgroup_create(self._stream, self._group, id="0", mkstream=True)
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
        except Exception as error:
            await client.aclose()
            raise JournalError(f"cannot open the journal {self.describe()}: {error}") from None
        self._client = client
        self._store = client.register_script(_STORE)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def commit(
        self, events: Sequence[WebhookEvent], handled: Sequence[str]
    ) -> list[str | Stored]:
        client = self._connected()
        try:
            async with client.pipeline(transaction=False) as pipe:
                if handled:
                    pipe.xack(self._stream, self._group, *handled)
                    pipe.xdel(self._stream, *handled)
                for event in events:
                    name, request = dedupe_key(event)
                    await self._store(
                        keys=[self._stream, f"{self._stream}:seen:{name}:{request}"],
                        args=[
                            self._max_pending,
                            self._dedupe_seconds,
                            event.raw,
                            encode_headers(event),
                            event.received_at.isoformat(),
                        ],
                        client=pipe,
                    )
                answers = await pipe.execute()
        except Exception as error:
            raise JournalError(f"cannot write the journal {self.describe()}: {error}") from None
        results: list[str | Stored] = []
        for answer in answers[2 if handled else 0 :]:
            text = answer.decode() if isinstance(answer, bytes) else str(answer)
            if text == "duplicate":
                results.append(Stored.DUPLICATE)
            elif text == "full":
                results.append(Stored.FULL)
            else:
                results.append(text)
        return results

    async def take(self, limit: int, wait: float) -> list[Entry]:
        client = self._connected()
        try:
            if not self._own_checked:  # what this consumer name held before a restart
                self._own_checked = True
                entries = await self._read(client, "0", limit, None)
                if entries:
                    return entries
            if time.monotonic() >= self._next_claim:
                self._next_claim = time.monotonic() + self._claim_after / 2
                claimed = await self._claim(client, limit)
                if claimed:
                    return claimed
            return await self._read(client, ">", limit, max(1, int(wait * 1000)))
        except JournalError:
            raise
        except Exception as error:
            raise JournalError(f"cannot read the journal {self.describe()}: {error}") from None

    async def _read(self, client: Any, start: str, limit: int, block: int | None) -> list[Entry]:
        answer = await client.xreadgroup(
            self._group, self._consumer, {self._stream: start}, count=limit, block=block
        )
        entries: list[Entry] = []
        for _stream, messages in answer or ():
            entries.extend(await self._entries(client, messages))
        return entries

    async def _claim(self, client: Any, limit: int) -> list[Entry]:
        answer = await client.xautoclaim(
            self._stream,
            self._group,
            self._consumer,
            min_idle_time=int(self._claim_after * 1000),
            start_id="0-0",
            count=limit,
        )
        return await self._entries(client, answer[1])

    async def _entries(self, client: Any, messages: Any) -> list[Entry]:
        entries: list[Entry] = []
        gone: list[str] = []
        for message_id, fields in messages:
            entry_id = message_id.decode() if isinstance(message_id, bytes) else str(message_id)
            if not fields:  # deleted meanwhile (handled elsewhere): nothing to do
                gone.append(entry_id)
                continue
            entries.append(
                Entry(
                    entry_id,
                    decode_event(fields[b"b"], fields[b"h"].decode(), fields[b"t"].decode()),
                )
            )
        if gone:
            await client.xack(self._stream, self._group, *gone)
        return entries

    async def pending(self) -> list[Entry]:
        client = self._connected()
        try:
            messages = await client.xrange(self._stream, "-", "+", count=self._max_pending)
        except Exception as error:
            raise JournalError(f"cannot read the journal {self.describe()}: {error}") from None
        return await self._entries(client, messages)

    def _connected(self) -> Any:
        if self._client is None:
            raise JournalError(f"the journal {self.describe()} is not open")
        return self._client
