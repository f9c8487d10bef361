"""The receiver's store when a journal keeps the events: group commits and acknowledgements.

Deliveries that arrive while a commit runs wait together for the next one, so
under load one commit stores many events, and each sender hears ``200`` only once
its event's commit returned. An acknowledgement (the event was handled) goes into
a commit too, and :meth:`JournalInbox.ack` returns once it is durable: after a crash,
only the event in hand at that moment can come back.
"""

from __future__ import annotations

import asyncio
import collections
import logging

import anyio
import attrs

from .._delivery_check import dedupe_key
from .._inbox import BaseInbox, InboxClosed, Key, Verdict
from ..events import WebhookEvent
from ._base import Entry, Journal, JournalError, Stored

__all__ = ["JournalInbox"]

_log = logging.getLogger("aioubiwebhooks.receiver")
_TAKE = 64
"""Events taken from the journal at once for this process's consumers."""
_TAKE_WAIT = 0.5
"""Seconds one read of the journal waits for new events (then looks again)."""
_FLUSH_TIMEOUT = 15.0
"""Seconds closing waits for the last commit (a Redis command times out after 10 s)."""


@attrs.define(eq=False)
class _Cycle:
    """What the next commit stores and forgets; everyone in it waits for ``done``."""

    events: list[WebhookEvent] = attrs.field(factory=list)
    handled: list[str] = attrs.field(factory=list)
    done: anyio.Event = attrs.field(factory=anyio.Event)
    results: list[str | Stored] = attrs.field(factory=list)
    error: JournalError | None = None


class JournalInbox(BaseInbox):
    """Accepted events in a :class:`Journal`; the history and ``wait_for`` stay in memory."""

    def __init__(self, journal: Journal, *, max_history: int, max_dedupe: int) -> None:
        super().__init__(max_history=max_history, max_dedupe=max_dedupe)
        self._journal = journal
        self._cycle: _Cycle | None = None  # the next commit, filling up
        self._committing: _Cycle | None = None  # the commit under way
        self._wake = anyio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._ready: collections.deque[Entry] = collections.deque()
        self._most_ready = 0
        self._ids_in_hand: dict[Key, str] = {}
        # ids of events this process stored lately, so that wait_for can mark them handled
        self._stored: collections.OrderedDict[Key, str] = collections.OrderedDict()
        self._skip: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._first_copies: dict[Key, _Cycle] = {}

    @property
    def journal(self) -> Journal:
        return self._journal

    @property
    def queued(self) -> int:
        return len(self._ready)

    @property
    def max_queued(self) -> int:
        return self._most_ready

    @property
    def held_back(self) -> int:
        return 0

    async def start(self) -> None:
        await self._journal.open()
        self._writer = asyncio.ensure_future(self._write())

    # --- storing ----------------------------------------------------------------------------

    def _join(self) -> _Cycle:
        if self._cycle is None:
            self._cycle = _Cycle()
            self._wake.set()
        return self._cycle

    async def _write(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            cycle, self._cycle = self._cycle, None
            if cycle is None:
                continue
            self._committing = cycle
            try:
                cycle.results = await self._journal.commit(cycle.events, cycle.handled)
            except JournalError as error:
                _log.warning("journal %s: %s", self._journal.describe(), error)
                cycle.error = error
            except BaseException as error:  # cancelled while committing: nothing is certain
                cycle.error = JournalError(f"commit interrupted: {error!r}")
                cycle.done.set()
                raise
            cycle.done.set()
            self._committing = None

    async def offer(self, event: WebhookEvent) -> Verdict:
        if self._closed:
            return self._count(Verdict.CLOSED)
        key = dedupe_key(event)
        first = self._first_copies.get(key)
        if first is not None:  # the same event is in the coming commit: wait for its fate
            await first.done.wait()
            verdict = Verdict.DUPLICATE if first.error is None else Verdict.FAILED
            return self._count(verdict)
        cycle = self._join()
        index = len(cycle.events)
        cycle.events.append(event)
        self._first_copies[key] = cycle
        try:
            await cycle.done.wait()
        finally:
            del self._first_copies[key]
        if cycle.error is not None:
            return self._count(Verdict.FAILED)
        result = cycle.results[index]
        if result is Stored.DUPLICATE:
            return self._count(Verdict.DUPLICATE)
        if result is Stored.FULL:
            return self._count(Verdict.BUSY)
        assert isinstance(result, str)
        self._accepted += 1
        self._remember(key, result)
        if self._history.claim(event):  # a waiting wait_for handled it
            await self._handled_by_wait_for(result)
        return Verdict.ACCEPTED

    def _remember(self, key: Key, entry_id: str) -> None:
        self._stored[key] = entry_id
        if len(self._stored) > self._max_dedupe:
            self._stored.popitem(last=False)

    # --- handing out and acknowledging --------------------------------------------------------

    async def get(self) -> WebhookEvent:
        while True:
            while self._ready:
                entry = self._ready.popleft()
                if entry.id in self._skip:  # wait_for handled it already
                    del self._skip[entry.id]
                    continue
                self._ids_in_hand[dedupe_key(entry.event)] = entry.id
                return entry.event
            if self._closed:
                raise InboxClosed
            try:
                batch = await self._journal.take(_TAKE, _TAKE_WAIT)
            except JournalError as error:
                if self._closed:
                    raise InboxClosed from None
                _log.warning(
                    "journal %s: %s; reading again in 1 s", self._journal.describe(), error
                )
                await anyio.sleep(1)
                continue
            self._ready.extend(batch)
            self._most_ready = max(self._most_ready, len(self._ready))

    async def ack(self, event: WebhookEvent) -> None:
        entry_id = self._ids_in_hand.pop(dedupe_key(event), None)
        if entry_id is not None:
            await self._forget(entry_id)

    async def _forget(self, entry_id: str) -> None:
        cycle = self._join()
        cycle.handled.append(entry_id)
        await cycle.done.wait()
        if cycle.error is not None:
            raise cycle.error

    async def _handled_by_wait_for(self, entry_id: str) -> None:
        self._skip[entry_id] = None
        if len(self._skip) > self._max_dedupe:
            self._skip.popitem(last=False)
        for queued in self._ready:
            if queued.id == entry_id:
                self._ready.remove(queued)
                self._skip.pop(entry_id, None)
                break
        await self._forget(entry_id)

    async def _consume(self, event: WebhookEvent) -> None:
        key = dedupe_key(event)
        entry_id = self._stored.get(key)
        if entry_id is None or key in self._ids_in_hand:
            return  # not stored here, or a consumer holds it: that consumer acknowledges it
        del self._stored[key]
        await self._handled_by_wait_for(entry_id)

    async def pending(self) -> list[WebhookEvent]:
        return [entry.event for entry in await self._journal.pending()]

    # --- closing --------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Finish the commit under way, then close the journal; events stay stored."""
        self.close()
        writer, self._writer = self._writer, None
        if writer is not None:
            with anyio.move_on_after(_FLUSH_TIMEOUT):
                for cycle in (self._committing, self._cycle):
                    if cycle is not None:
                        await cycle.done.wait()
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        self._ready.clear()
        await self._journal.close()
