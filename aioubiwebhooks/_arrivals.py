"""Deliveries as a signal to poll: a wait that knows where a test delivers asks at once.

A webhook test ends when its delivery has been answered, so when the test's URL is a
receiver in this process, the delivery reaching it says "poll now". This module
watches a receiver through its public ``wait_for`` with a predicate that notes
matching arrivals and never accepts one: the receiver's own readers (``async for``,
``wait_for``) still get every event, and nothing here depends on how the receiver
stores them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Final, Protocol

import anyio

from ._retry import is_testing
from .errors import UbiOpsError
from .events import WebhookEvent

__all__ = ["AFTER_DELIVERY", "Arrivals", "DeliverySource", "after_delivery"]

_log = logging.getLogger("aioubiwebhooks")

_NOTED: Final = 256
"""Recent arrivals remembered, in case a receiver offers one to the predicate again."""

AFTER_DELIVERY: Final = (0.02, 0.04, 0.08, 0.16, 0.32)
"""Seconds between a delivery's arrival and the polls that follow it. The server marks
the test finished only once the receiver's answer is back, so the first poll waits a
little; if the test still reads pending, the next ones wait twice as long, then the
wait goes back to its schedule."""


class DeliverySource(Protocol):
    """What a wait needs of a :class:`~aioubiwebhooks.WebhookReceiver`."""

    @property
    def events(self) -> Sequence[WebhookEvent]: ...

    async def wait_for(
        self,
        predicate: Callable[[WebhookEvent], bool] | None = ...,
        *,
        timeout: float = ...,
        description: str | None = ...,
    ) -> WebhookEvent: ...


def after_delivery() -> Iterator[float]:
    """The delays of the polls that follow an arrival (zero in testing mode)."""
    for delay in AFTER_DELIVERY:
        yield 0.0 if is_testing() else delay


class Arrivals:
    """Matching deliveries that reach ``source`` after this object was made.

    ``watch()`` runs for the length of a wait (as a task); ``wait(seconds)`` returns
    early, with True, once a matching delivery has arrived since the last look.
    """

    def __init__(
        self,
        source: DeliverySource,
        matches: Callable[[WebhookEvent], bool] | None = None,
        *,
        description: str = "a delivery",
    ) -> None:
        self._source = source
        self._matches = matches
        self._description = description
        self._before = tuple(source.events)  # held, so that their ids stay theirs
        self._old = {id(event) for event in self._before}
        self._noted: deque[WebhookEvent] = deque(maxlen=_NOTED)
        self._arrived = asyncio.Event()

    def _note(self, event: WebhookEvent) -> bool:
        if id(event) in self._old or any(event is noted for noted in self._noted):
            return False  # there before the wait, or offered again
        self._noted.append(event)
        if self._matches is None or self._matches(event):
            self._arrived.set()
        return False  # never accepted: the receiver's readers still get every event

    async def watch(self, timeout: float) -> None:
        """Note arrivals for up to ``timeout`` seconds, or until the receiver closes."""
        try:
            await self._source.wait_for(self._note, timeout=timeout, description=self._description)
        except UbiOpsError as stopped:  # a timeout or a closed receiver: polls go on
            _log.debug("no longer watching for %s: %s", self._description, stopped)

    def take(self) -> bool:
        """Whether a matching delivery arrived since the last look."""
        arrived = self._arrived.is_set()
        self._arrived.clear()
        return arrived

    async def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``, or less if a matching delivery arrives; True if one did."""
        with anyio.move_on_after(seconds):
            await self._arrived.wait()
        return self.take()
