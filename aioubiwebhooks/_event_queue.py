"""A bounded FIFO queue that can be closed: the receiver's back-pressure point.

``put`` waits while the queue is full, so a delivery is only acknowledged once it
is really in the queue, and a slow consumer slows the senders down instead of
losing events. ``close`` refuses new items at once (waiting ``put`` calls raise
:class:`QueueClosed`) but lets ``get`` drain what is already queued before it,
too, raises :class:`QueueClosed`. (``asyncio.Queue`` gained ``shutdown`` only in
Python 3.13; this works on 3.10.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Generic, TypeVar

__all__ = ["ClosableQueue", "QueueClosed"]

_T = TypeVar("_T")


class QueueClosed(Exception):
    """The queue is closed: nothing more goes in, and nothing is left to take out."""


class ClosableQueue(Generic[_T]):
    """Bounded FIFO with waiting ``put``/``get``, a high-water mark and ``close``."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self._maxsize = maxsize
        self._items: deque[_T] = deque()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._high_water = 0

    @property
    def maxsize(self) -> int:
        return self._maxsize

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def high_water(self) -> int:
        """The most items ever queued at once: never more than ``maxsize``."""
        return self._high_water

    @property
    def waiting_putters(self) -> int:
        """How many ``put`` calls are held back, waiting for room."""
        return len(self._putters)

    def qsize(self) -> int:
        return len(self._items)

    async def put(self, item: _T) -> None:
        """Append ``item``, waiting for room; raises :class:`QueueClosed` once closed."""
        while not self._closed and len(self._items) >= self._maxsize:
            await self._wait(self._putters)
        if self._closed:
            raise QueueClosed("queue is closed")
        self._items.append(item)
        self._high_water = max(self._high_water, len(self._items))
        self._wake_one(self._getters)

    async def get(self) -> _T:
        """The oldest item, waiting for one; raises :class:`QueueClosed` when closed and empty."""
        while not self._items:
            if self._closed:
                raise QueueClosed("queue is closed and drained")
            await self._wait(self._getters)
        item = self._items.popleft()
        self._wake_one(self._putters)
        return item

    def close(self) -> None:
        """Refuse new items and wake every waiter; queued items can still be taken."""
        self._closed = True
        for waiters in (self._getters, self._putters):
            while waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)

    async def _wait(self, waiters: deque[asyncio.Future[None]]) -> None:
        waiter = asyncio.get_running_loop().create_future()
        waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # Woken, but cancelled before acting on it: hand the wake-up on.
                self._wake_one(waiters)
            else:
                with contextlib.suppress(ValueError):
                    waiters.remove(waiter)
            raise

    @staticmethod
    def _wake_one(waiters: deque[asyncio.Future[None]]) -> None:
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
