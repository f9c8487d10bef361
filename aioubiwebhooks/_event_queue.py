"""A bounded FIFO queue that can be closed: the receiver's back-pressure point.

``put`` waits (at most ``timeout`` seconds) while the queue is full, so a delivery
is only acknowledged once it is really in the queue, and a slow consumer slows the
senders down instead of losing events. ``close`` refuses new items at once (waiting
``put`` calls raise :class:`QueueClosed`) but lets ``get`` drain what is already
queued before it, too, raises :class:`QueueClosed`. ``remove`` takes one item out of
the middle (an event ``wait_for`` consumed), which frees its room.

Room is an :class:`anyio.Semaphore` (first come, first served, and a cancelled
waiter hands its turn on). New items are signalled by an :class:`asyncio.Event`: the
queue serves the receiver, which runs on aiohttp and so only on asyncio, and a
consumer that keeps up waits once per delivery; making an ``anyio.Event`` costs
about seven times as much (it looks up the running backend each time).
An anyio memory object stream would not do: it cannot give up an item in the
middle, and a sender waiting on a closed stream still delivers its item. Neither
the fast path of ``put`` nor of ``get`` awaits anything when it need not wait.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

import anyio

__all__ = ["ClosableQueue", "QueueClosed"]

_T = TypeVar("_T")


class QueueClosed(Exception):
    """The queue is closed: nothing more goes in, and nothing is left to take out."""


class ClosableQueue(Generic[_T]):
    """Bounded FIFO with waiting ``put``/``get``, ``remove``, a high-water mark and ``close``."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self._maxsize = maxsize
        self._items: deque[_T] = deque()
        self._room = anyio.Semaphore(maxsize)
        self._arrived: asyncio.Event | None = None  # created by the first getter that waits
        self._held: set[anyio.CancelScope] = set()  # putters waiting for room
        self._closed = False
        self._high_water = 0

    @property
    def maxsize(self) -> int:
        return self._maxsize

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def full(self) -> bool:
        return len(self._items) >= self._maxsize or bool(self._held)

    @property
    def high_water(self) -> int:
        """The most items ever queued at once: never more than ``maxsize``."""
        return self._high_water

    @property
    def waiting_putters(self) -> int:
        """How many ``put`` calls are held back, waiting for room."""
        return len(self._held)

    def qsize(self) -> int:
        return len(self._items)

    def items(self) -> tuple[_T, ...]:
        """The queued items, oldest first."""
        return tuple(self._items)

    def put_nowait(self, item: _T) -> None:
        """Queue ``item`` now; :class:`anyio.WouldBlock` when full, QueueClosed when closed."""
        if self._closed:
            raise QueueClosed("queue is closed")
        self._room.acquire_nowait()
        self._append(item)

    async def put(self, item: _T, timeout: float = float("inf")) -> bool:
        """Queue ``item``, waiting up to ``timeout`` s for room: False if there was none.

        Raises :class:`QueueClosed` when the queue is closed before the item is in.
        """
        if self._closed:
            raise QueueClosed("queue is closed")
        try:
            self._room.acquire_nowait()
        except anyio.WouldBlock:
            if not await self._wait_for_room(timeout):
                return False
        self._append(item)
        return True

    def _append(self, item: _T) -> None:
        self._items.append(item)
        if len(self._items) > self._high_water:
            self._high_water = len(self._items)
        arrived = self._arrived
        if arrived is not None:
            self._arrived = None
            arrived.set()

    async def _wait_for_room(self, timeout: float) -> bool:
        with anyio.move_on_after(timeout) as scope:
            self._held.add(scope)
            try:
                await self._room.acquire()
            finally:
                self._held.discard(scope)
        if self._closed:
            if not scope.cancelled_caught:
                self._room.release()  # acquired just before the close: give it back
            raise QueueClosed("queue is closed")
        return not scope.cancelled_caught

    async def get(self) -> _T:
        """The oldest item, waiting for one; raises :class:`QueueClosed` when closed and empty."""
        while not self._items:
            if self._closed:
                raise QueueClosed("queue is closed and drained")
            if self._arrived is None:
                self._arrived = asyncio.Event()
            await self._arrived.wait()
        item = self._items.popleft()
        self._room.release()
        return item

    def remove(self, item: _T) -> bool:
        """Take ``item`` (compared by identity) out of the queue; False if it is not queued."""
        for index, queued in enumerate(self._items):
            if queued is item:
                del self._items[index]
                self._room.release()
                return True
        return False

    def close(self) -> None:
        """Refuse new items and wake every waiter; queued items can still be taken."""
        self._closed = True
        for scope in tuple(self._held):
            scope.cancel()
        arrived, self._arrived = self._arrived, None
        if arrived is not None:
            arrived.set()
