"""Recent events and the ``wait_for`` calls waiting for one, without sockets.

The history keeps the last ``max_history`` accepted events, so ``wait_for`` finds
an event that arrived before it was called. A waiter is an :class:`anyio.Event`
plus the event that matched; :func:`anyio.fail_after` bounds the wait. Whoever
feeds the history asks :meth:`History.claim` first: an event that a waiting
``wait_for`` matches is handled by that call and need not be queued at all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import anyio
import attrs

from .errors import EventTimeoutError, ReceiverClosedError
from .events import WebhookEvent

__all__ = ["History", "Predicate"]

Predicate = Callable[[WebhookEvent], bool]


@attrs.define(eq=False)
class _Waiter:
    predicate: Predicate
    description: str
    seen: int
    done: anyio.Event = attrs.field(factory=anyio.Event)
    event: WebhookEvent | None = None
    error: BaseException | None = None


class History:
    """The last ``max_history`` events, oldest first, and the waiters that look for one."""

    def __init__(self, max_history: int) -> None:
        if max_history < 1:
            raise ValueError(f"max_history must be at least 1, got {max_history}")
        self._events: deque[WebhookEvent] = deque(maxlen=max_history)
        self._waiters: list[_Waiter] = []
        self._closed = False

    @property
    def events(self) -> tuple[WebhookEvent, ...]:
        return tuple(self._events)

    def claim(self, event: WebhookEvent) -> bool:
        """Record ``event``; True when a waiting ``wait_for`` matched it (it is handled)."""
        self._events.append(event)
        if not self._waiters:
            return False
        claimed = False
        for waiter in self._waiters:
            if waiter.done.is_set():
                continue
            waiter.seen += 1
            try:
                matched = waiter.predicate(event)
            except Exception as error:
                waiter.error = error
                waiter.done.set()
                continue
            if matched:
                waiter.event = event
                waiter.done.set()
                claimed = True
        return claimed

    def find(self, predicate: Predicate) -> tuple[WebhookEvent | None, int]:
        """The oldest recorded event that matches, and how many were looked at."""
        seen = 0
        for event in tuple(self._events):
            seen += 1
            if predicate(event):
                return event, seen
        return None, seen

    async def wait(
        self, predicate: Predicate, *, timeout: float, description: str, seen: int
    ) -> WebhookEvent:
        """The next event to arrive that matches; bounded by ``timeout``."""
        if self._closed:
            raise ReceiverClosedError(description, seen)
        waiter = _Waiter(predicate, description, seen)
        self._waiters.append(waiter)
        try:
            with anyio.fail_after(timeout):
                await waiter.done.wait()
        except TimeoutError:
            raise EventTimeoutError(description, timeout, waiter.seen) from None
        finally:
            self._waiters.remove(waiter)
        if waiter.error is not None:
            raise waiter.error
        assert waiter.event is not None
        return waiter.event

    def close(self) -> None:
        """Every waiting ``wait_for`` raises :class:`ReceiverClosedError`."""
        self._closed = True
        for waiter in self._waiters:
            if not waiter.done.is_set():
                waiter.error = ReceiverClosedError(waiter.description, waiter.seen)
                waiter.done.set()
