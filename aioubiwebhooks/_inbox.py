"""Where accepted events go: dedupe, the bounded queue, the history and the waiters.

Nothing here knows HTTP; the receiver hands in decoded events and answers the
sender according to the :class:`Verdict`. Every structure is bounded:

- the queue holds at most ``max_queue`` events; a delivery waits for room
  (back-pressure) and is acknowledged only once queued;
- the history keeps the last ``max_history`` accepted events, so ``wait_for``
  finds an event that arrived before it was called, without taking it from the
  ``async for`` stream;
- the dedupe window remembers the last ``max_dedupe`` (event, request id) keys; a
  redelivery of an older one is accepted again.
"""

from __future__ import annotations

import asyncio
import enum
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from types import MappingProxyType

import attrs

from ._delivery_check import Reason, dedupe_key
from ._event_queue import ClosableQueue, QueueClosed
from .errors import EventTimeoutError, ReceiverClosedError
from .events import WebhookEvent

__all__ = [
    "Inbox",
    "InboxClosed",
    "ReceiverStats",
    "Verdict",
]

Predicate = Callable[[WebhookEvent], bool]


class Verdict(enum.Enum):
    """What became of an offered event, which decides the answer to the sender."""

    ACCEPTED = "accepted"  # queued: acknowledge
    DUPLICATE = "duplicate"  # the same event was queued before: acknowledge, yield nothing
    CLOSED = "closed"  # the inbox closed first: not acknowledged, the sender should retry


class InboxClosed(Exception):
    """The inbox is closed and every queued event has been taken."""


@attrs.frozen
class ReceiverStats:
    """A snapshot of what the receiver has done so far.

    ``rejected`` counts refused deliveries per reason (every reason present, zeros
    included); ``queued`` is the queue length now, ``max_queued`` the most it ever
    held, ``held_back`` how many deliveries are waiting for room right now.
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


@attrs.define
class _Waiter:
    predicate: Predicate
    description: str
    future: asyncio.Future[WebhookEvent]
    seen: int = 0


class Inbox:
    """Accepts events once each, queues them with back-pressure, and answers ``wait_for``."""

    def __init__(self, *, max_queue: int, max_history: int, max_dedupe: int) -> None:
        for name, value in (
            ("max_queue", max_queue),
            ("max_history", max_history),
            ("max_dedupe", max_dedupe),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self._queue: ClosableQueue[WebhookEvent] = ClosableQueue(max_queue)
        self._history: deque[WebhookEvent] = deque(maxlen=max_history)
        self._max_dedupe = max_dedupe
        # key -> future of the first copy's fate while it waits for room, None once queued
        self._seen: OrderedDict[tuple[str, str], asyncio.Future[bool] | None] = OrderedDict()
        self._waiters: list[_Waiter] = []
        self._accepted = 0
        self._duplicates = 0
        self._rejected = dict.fromkeys((reason.value for reason in Reason), 0)

    @property
    def closed(self) -> bool:
        return self._queue.closed

    @property
    def events(self) -> tuple[WebhookEvent, ...]:
        return tuple(self._history)

    @property
    def stats(self) -> ReceiverStats:
        return ReceiverStats(
            accepted=self._accepted,
            duplicates=self._duplicates,
            rejected=MappingProxyType(dict(self._rejected)),
            queued=self._queue.qsize(),
            max_queued=self._queue.high_water,
            held_back=self._queue.waiting_putters,
        )

    def reject(self, reason: Reason) -> None:
        """Count a delivery refused before it became an event."""
        self._rejected[reason.value] += 1

    async def offer(self, event: WebhookEvent) -> Verdict:
        """Queue ``event`` unless it is a redelivery; returns once the sender may be answered.

        A redelivery that arrives while the first copy still waits for room waits
        with it, so neither copy is acknowledged before the event is queued.
        """
        key = dedupe_key(event)
        if key in self._seen:
            self._seen.move_to_end(key)
            first = self._seen[key]
            queued = True if first is None else await asyncio.shield(first)
            if not queued:
                self.reject(Reason.CLOSING)
                return Verdict.CLOSED
            self._duplicates += 1
            return Verdict.DUPLICATE
        fate: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._remember(key, fate)
        try:
            await self._queue.put(event)
        except BaseException as error:
            fate.set_result(False)
            if self._seen.get(key) is fate:
                del self._seen[key]
            if isinstance(error, QueueClosed):
                self.reject(Reason.CLOSING)
                return Verdict.CLOSED
            raise
        fate.set_result(True)
        if self._seen.get(key) is fate:
            self._seen[key] = None
        self._record(event)
        return Verdict.ACCEPTED

    async def get(self) -> WebhookEvent:
        """The next queued event; raises :class:`InboxClosed` once closed and drained."""
        try:
            return await self._queue.get()
        except QueueClosed:
            raise InboxClosed from None

    async def wait_for(
        self, predicate: Predicate, *, timeout: float, description: str
    ) -> WebhookEvent:
        """The oldest event in the history that matches, else the next one to arrive."""
        seen = 0
        for event in tuple(self._history):
            seen += 1
            if predicate(event):
                return event
        if self.closed:
            raise ReceiverClosedError(description, seen)
        waiter = _Waiter(predicate, description, asyncio.get_running_loop().create_future(), seen)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter.future, timeout)
        except asyncio.TimeoutError:
            raise EventTimeoutError(description, timeout, waiter.seen) from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def close(self) -> None:
        """Accept nothing more; queued events stay available to ``get``; waiters fail."""
        self._queue.close()
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(ReceiverClosedError(waiter.description, waiter.seen))

    def _remember(self, key: tuple[str, str], fate: asyncio.Future[bool]) -> None:
        self._seen[key] = fate
        while len(self._seen) > self._max_dedupe:
            self._seen.popitem(last=False)

    def _record(self, event: WebhookEvent) -> None:
        self._accepted += 1
        self._history.append(event)
        if not self._waiters:
            return
        for waiter in list(self._waiters):
            if waiter.future.done():
                continue
            waiter.seen += 1
            try:
                matched = waiter.predicate(event)
            except Exception as error:
                waiter.future.set_exception(error)
                continue
            if matched:
                waiter.future.set_result(event)
