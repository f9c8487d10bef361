"""Where accepted events go: dedupe, the bounded queue, the history and the waiters.

Nothing here knows HTTP; the receiver hands in decoded events and answers the
sender according to the :class:`Verdict`. :class:`BaseInbox` holds what every
store shares (statistics, the history for ``wait_for``, who is handling what);
:class:`Inbox` keeps the events in memory, and the journals of
:mod:`aioubiwebhooks.journal` keep them on disk or in Redis. Every structure is
bounded:

- the queue holds at most ``max_queue`` events; a delivery waits for room
  (back-pressure) at most ``hold_timeout`` seconds and is acknowledged only once
  queued, else refused as busy (the sender may retry);
- the history keeps the last ``max_history`` accepted events, so ``wait_for``
  finds an event that arrived before it was called;
- an event ``wait_for`` returns is handled: it leaves the queue, so a receiver
  whose events are only awaited never fills up;
- the dedupe window remembers the last ``max_dedupe`` (event, request id) keys; a
  redelivery of an older one is accepted again.
"""

from __future__ import annotations

import enum
import logging
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType

import anyio
import attrs

from ._delivery_check import Reason, dedupe_key
from ._event_queue import ClosableQueue, QueueClosed
from ._history import History, Predicate
from .errors import EventTimeoutError, ReceiverClosedError
from .events import WebhookEvent

__all__ = [
    "BaseInbox",
    "EventTimeoutError",
    "Inbox",
    "InboxClosed",
    "ReceiverClosedError",
    "ReceiverStats",
    "Verdict",
]

_log = logging.getLogger("aioubiwebhooks.receiver")

Key = tuple[str, str]


class Verdict(enum.Enum):
    """What became of an offered event, which decides the answer to the sender."""

    ACCEPTED = "accepted"  # stored: acknowledge
    DUPLICATE = "duplicate"  # the same event was stored before: acknowledge, yield nothing
    CLOSED = "closed"  # the inbox closed first: not acknowledged, the sender should retry
    BUSY = "busy"  # no room in time: not acknowledged, the sender should retry
    FAILED = "failed"  # the journal could not store it: not acknowledged, retry


REFUSALS: Mapping[Verdict, Reason] = {
    Verdict.CLOSED: Reason.CLOSING,
    Verdict.BUSY: Reason.BUSY,
    Verdict.FAILED: Reason.STORE_FAILED,
}
"""The reason each refusing verdict is counted and answered under."""


class InboxClosed(Exception):
    """The inbox is closed and every queued event has been taken."""


@attrs.frozen
class ReceiverStats:
    """A snapshot of what the receiver has done so far.

    ``rejected`` counts refused deliveries per reason (every reason present, zeros
    included); ``queued`` is the number of events waiting for ``async for`` now,
    ``max_queued`` the most it ever held, ``held_back`` how many deliveries are
    waiting for room right now.
    """

    accepted: int
    duplicates: int
    rejected: Mapping[str, int] = attrs.field(hash=False, repr=lambda counts: repr(dict(counts)))
    queued: int
    max_queued: int
    held_back: int

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())


@attrs.define(eq=False)
class _Fate:
    """The first copy of an event while it waits to be stored; redeliveries wait on it."""

    decided: anyio.Event = attrs.field(factory=anyio.Event)
    verdict: Verdict = Verdict.CLOSED


class BaseInbox:
    """Statistics, history and ``wait_for``, for every kind of store."""

    def __init__(self, *, max_history: int, max_dedupe: int) -> None:
        if max_dedupe < 1:
            raise ValueError(f"max_dedupe must be at least 1, got {max_dedupe}")
        self._history = History(max_history)
        self._max_dedupe = max_dedupe
        self._accepted = 0
        self._duplicates = 0
        self._rejected = dict.fromkeys((reason.value for reason in Reason), 0)
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def events(self) -> tuple[WebhookEvent, ...]:
        return self._history.events

    @property
    def stats(self) -> ReceiverStats:
        return ReceiverStats(
            accepted=self._accepted,
            duplicates=self._duplicates,
            rejected=MappingProxyType(dict(self._rejected)),
            queued=self.queued,
            max_queued=self.max_queued,
            held_back=self.held_back,
        )

    @property
    def queued(self) -> int:
        raise NotImplementedError

    @property
    def max_queued(self) -> int:
        raise NotImplementedError

    @property
    def held_back(self) -> int:
        raise NotImplementedError

    def crowded(self, max_waiting: int, in_flight: int) -> bool:
        """True when a new delivery would be one too many waiting for room.

        ``in_flight``: deliveries whose body is being read or whose event waits to be
        stored; refusing before the body is read keeps those bodies out of memory.
        """
        return False

    def reject(self, reason: Reason) -> None:
        """Count a delivery refused before it became an event."""
        self._rejected[reason.value] += 1

    def _count(self, verdict: Verdict) -> Verdict:
        if verdict is Verdict.DUPLICATE:
            self._duplicates += 1
        elif verdict is not Verdict.ACCEPTED:
            self.reject(REFUSALS[verdict])
        return verdict

    async def offer(self, event: WebhookEvent) -> Verdict:
        raise NotImplementedError

    async def get(self) -> WebhookEvent:
        """The next event for ``async for``; it stays in hand until :meth:`ack`."""
        raise NotImplementedError

    async def ack(self, event: WebhookEvent) -> None:
        """``event`` is handled; it will not be yielded again."""
        raise NotImplementedError

    async def pending(self) -> list[WebhookEvent]:
        """Accepted and not yet handled, oldest first."""
        raise NotImplementedError

    async def _consume(self, event: WebhookEvent) -> None:
        """``wait_for`` returned ``event``: it counts as handled."""
        raise NotImplementedError

    async def wait_for(
        self, predicate: Predicate, *, timeout: float, description: str
    ) -> WebhookEvent:
        """The oldest event in the history that matches, else the next one to arrive.

        The event returned is handled: it is not yielded by ``async for`` afterwards.
        """
        found, seen = self._history.find(predicate)
        if found is None:
            found = await self._history.wait(
                predicate, timeout=timeout, description=description, seen=seen
            )
        await self._consume(found)
        return found

    def close(self) -> None:
        """Accept nothing more; waiting ``wait_for`` calls fail."""
        self._closed = True
        self._history.close()

    async def aclose(self) -> None:
        """Close, then release what the store holds (files, connections)."""
        self.close()


class Inbox(BaseInbox):
    """The in-memory store: a bounded queue with dedupe, for one process's lifetime."""

    def __init__(
        self,
        *,
        max_queue: int,
        max_history: int,
        max_dedupe: int,
        hold_timeout: float = float("inf"),
    ) -> None:
        for name, value in (("max_queue", max_queue), ("max_history", max_history)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        super().__init__(max_history=max_history, max_dedupe=max_dedupe)
        self._queue: ClosableQueue[WebhookEvent] = ClosableQueue(max_queue)
        self._hold_timeout = hold_timeout
        # key -> the first copy's fate while it waits for room, None once stored
        self._seen: OrderedDict[Key, _Fate | None] = OrderedDict()
        self._iterated = False
        self._warned_full = False

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    @property
    def max_queued(self) -> int:
        return self._queue.high_water

    @property
    def held_back(self) -> int:
        return self._queue.waiting_putters

    def crowded(self, max_waiting: int, in_flight: int) -> bool:
        return self._queue.qsize() + in_flight >= self._queue.maxsize + max_waiting

    async def offer(self, event: WebhookEvent) -> Verdict:
        """Queue ``event`` unless it is a redelivery; returns once the sender may be answered.

        A redelivery that arrives while the first copy still waits for room waits
        with it, so neither copy is acknowledged before the event is queued.
        """
        key = dedupe_key(event)
        seen = self._seen
        if key in seen:
            seen.move_to_end(key)
            first = seen[key]
            if first is None:
                self._duplicates += 1
                return Verdict.DUPLICATE
            await first.decided.wait()
            verdict = first.verdict
            return self._count(Verdict.DUPLICATE if verdict is Verdict.ACCEPTED else verdict)
        if self._closed:
            return self._count(Verdict.CLOSED)
        if not self._queue.full:  # the usual case: no waiting, nothing to remember on the side
            self._remember(key, None)
            self._store(key, event)
            return Verdict.ACCEPTED
        return self._count(await self._offer_when_room(key, event))

    async def _offer_when_room(self, key: Key, event: WebhookEvent) -> Verdict:
        self._warn_if_nobody_reads()
        fate = _Fate()
        self._remember(key, fate)
        try:
            if await self._queue.put(event, self._hold_timeout):
                fate.verdict = Verdict.ACCEPTED
                self._accepted += 1
                if self._history.claim(event):  # a waiting wait_for handled it
                    self._queue.remove(event)
            else:
                fate.verdict = Verdict.BUSY
        except QueueClosed:
            fate.verdict = Verdict.CLOSED
        finally:
            fate.decided.set()
            if self._seen.get(key) is fate:
                if fate.verdict is Verdict.ACCEPTED:
                    self._seen[key] = None
                else:
                    del self._seen[key]  # forgotten: a retry is a new delivery
        return fate.verdict

    def _store(self, key: Key, event: WebhookEvent) -> None:
        """Record ``event`` and queue it, unless a waiting ``wait_for`` handles it at once."""
        self._accepted += 1
        if not self._history.claim(event):
            self._queue.put_nowait(event)

    def _warn_if_nobody_reads(self) -> None:
        if self._iterated or self._warned_full:
            return
        self._warned_full = True
        _log.warning(
            "the receiver's queue is full (max_queue=%d) and no 'async for' reads it: "
            "deliveries wait for room, then are refused with 503. Read the events with "
            "'async for' or wait_for(), or raise max_queue",
            self._queue.maxsize,
        )

    async def get(self) -> WebhookEvent:
        self._iterated = True
        try:
            event = await self._queue.get()
        except QueueClosed:
            raise InboxClosed from None
        return event

    async def ack(self, event: WebhookEvent) -> None:
        """Nothing to do in memory: an event yielded is gone from the queue already."""

    async def pending(self) -> list[WebhookEvent]:
        """The queued events (in memory, those yielded are not tracked)."""
        return list(self._queue.items())

    async def _consume(self, event: WebhookEvent) -> None:
        self._queue.remove(event)

    def close(self) -> None:
        super().close()
        self._queue.close()

    def _remember(self, key: Key, fate: _Fate | None) -> None:
        self._seen[key] = fate
        if len(self._seen) > self._max_dedupe:
            self._seen.popitem(last=False)
