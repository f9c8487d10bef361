"""One rate-limit budget per session, fed by the server's ``x-ratelimit-*`` headers.

The UbiOps API counts requests in fixed windows (300 a minute for webhooks) and
answers 429 past the limit. Firing many requests at once therefore only collects
429s; what finishes a bulk job soonest is to keep requests in flight while the
window has room and to wait for the reset when it has none.

:class:`BudgetState` makes every decision as a pure function of the clock and the
headers seen, so it is tested without sockets. :class:`Pacer` is the thin async
layer that waits when the state says so.

How the window end is estimated: each answer says "``remaining`` requests left,
window resets in ``reset`` whole seconds". Taking the earliest ``received_at +
reset`` over a window gives an estimate that tightens with every answer and never
falls before the real reset when the server rounds up. Answers arriving after the
client has already moved on to the next window are recognised as late (their
reset lies within ``LATE_TOLERANCE`` of the previous window's end) and ignored.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Literal

import attrs

__all__ = ["BudgetState", "Pacer", "Pacing", "RateLimitHeaders", "parse_rate_limit_headers"]

logger = logging.getLogger("aioubiwebhooks")

Pacing = Literal["auto", "off"] | float
"""``"auto"``: follow the server's headers; ``"off"``: only honour 429s; a number: at
most that many requests per second, whatever the headers say (429s still honoured)."""

LATE_TOLERANCE = 1.25
"""Seconds around a window's end within which an answer still belongs to that window."""

MIN_429_WAIT = 0.1
"""The shortest wait after a 429, so a reset of 0 never turns into a busy loop."""


@attrs.frozen
class RateLimitHeaders:
    """What one answer said about the budget."""

    limit: int
    remaining: int
    reset: float
    retry_after: float | None = None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitHeaders | None:
    """The budget an answer reports, or None when it reports none (or nonsense)."""
    if "x-ratelimit-limit" not in headers and "retry-after" not in headers:
        return None  # the common case without a limit: no parsing at all
    limit = _number(headers.get("x-ratelimit-limit"))
    remaining = _number(headers.get("x-ratelimit-remaining"))
    reset = _number(headers.get("x-ratelimit-reset"))
    retry_after = _number(headers.get("retry-after"))
    if limit is None or remaining is None or reset is None:
        if retry_after is not None:
            return RateLimitHeaders(
                limit=0, remaining=0, reset=retry_after, retry_after=retry_after
            )
        return None
    return RateLimitHeaders(int(limit), int(remaining), reset, retry_after)


@attrs.define
class BudgetState:
    """The pacing decisions, as plain state and pure methods (no I/O, no clock of its own)."""

    mode: Literal["auto", "off", "fixed"] = "auto"
    rate: float = 0.0
    limit: int | None = None
    used: int = 0
    window_end: float | None = None
    previous_end: float = -math.inf
    in_flight: int = 0
    blocked_until: float = 0.0
    headerless: bool = False
    next_slot: float = 0.0

    def try_acquire(self, now: float) -> float | None:
        """Take a slot and return None, or return how long to wait (``inf``: until an answer)."""
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.mode == "fixed":
            return self._take_fixed_slot(now)
        if self.mode == "off" or self.headerless:
            return self._take()
        if self.window_end is not None and now >= self.window_end:
            self._start_next_window()
        if self.limit is None:
            # Budget unknown: one request at a time until the first answer tells it.
            return self._take() if self.in_flight == 0 else math.inf
        if self.used < self.limit:
            return self._take()
        if self.window_end is None:
            # Spent, and the end of this window is not known yet: an answer will tell.
            # With nothing in flight no answer is coming, so one request asks.
            return self._take() if self.in_flight == 0 else math.inf
        return self.window_end - now

    def release(self, now: float, headers: RateLimitHeaders | None, *, answered: bool) -> None:
        """Return a slot; learn from the answer's headers (``answered``: an HTTP answer came)."""
        self.in_flight -= 1
        if headers is None:
            if answered and self.limit is None:
                self.headerless = True  # the server does not rate limit: nothing to pace
            return
        self.headerless = False
        if headers.limit > 0:
            self._observe_window(now, headers)

    def rate_limited(self, now: float, headers: RateLimitHeaders | None) -> float:
        """A 429 arrived: block new requests until the reset; return the wait in seconds."""
        wait = MIN_429_WAIT
        if headers is not None:
            wait = max(wait, headers.reset, headers.retry_after or 0.0)
        self.blocked_until = max(self.blocked_until, now + wait)
        if self.limit is not None:
            self.used = max(self.used, self.limit)
        return self.blocked_until - now

    def _take(self) -> float | None:
        self.used += 1
        self.in_flight += 1
        return None

    def _take_fixed_slot(self, now: float) -> float | None:
        if now < self.next_slot:
            return self.next_slot - now
        self.next_slot = max(now, self.next_slot) + 1.0 / self.rate
        self.in_flight += 1
        return None

    def _start_next_window(self) -> None:
        self.previous_end = self.window_end if self.window_end is not None else self.previous_end
        self.window_end = None
        # Requests still in flight may land in the new window: count them there.
        self.used = self.in_flight

    def _observe_window(self, now: float, headers: RateLimitHeaders) -> None:
        self.limit = headers.limit
        end = now + headers.reset
        server_used = headers.limit - headers.remaining
        if self.window_end is None:
            if end <= self.previous_end + LATE_TOLERANCE and server_used > self.used:
                # A late answer about the window that has already ended: it reports more
                # use than this window has seen. (With windows of a second or less the
                # reset alone cannot tell the two windows apart.)
                return
            self.window_end = end
        elif end > self.window_end + LATE_TOLERANCE:
            # The server has moved on to a later window than the one tracked here.
            self._start_next_window()
            self.window_end = end
        else:
            self.window_end = min(self.window_end, end)
        self.used = max(self.used, server_used)


class Pacer:
    """Shares one budget between every request of a session; waits instead of collecting 429s."""

    def __init__(self, pacing: Pacing = "auto", *, clock: Callable[[], float] = time.monotonic):
        if pacing == "auto" or pacing == "off":
            self.state = BudgetState(mode=pacing)
        elif isinstance(pacing, (int, float)) and not isinstance(pacing, bool) and pacing > 0:
            self.state = BudgetState(mode="fixed", rate=float(pacing))
        else:
            raise ValueError(f"pacing must be 'auto', 'off' or a positive rate, got {pacing!r}")
        self._clock = clock
        self._waiters: list[asyncio.Future[None]] = []
        self._warned_until = -math.inf

    async def acquire(self) -> float:
        """Wait until a request may be sent and take its slot; return the seconds waited."""
        state = self.state
        started = self._clock()
        now = started
        while True:
            wait = state.try_acquire(now)
            if wait is None:
                return now - started
            self._warn_waiting(now, wait)
            await self._sleep_or_wake(wait)
            now = self._clock()

    def release(self, headers: RateLimitHeaders | None, *, answered: bool) -> None:
        """Give back the slot taken by :meth:`acquire`, with what the answer said."""
        self.state.release(self._clock(), headers, answered=answered)
        self._wake_all()

    def rate_limited(self, headers: RateLimitHeaders | None) -> float:
        """Record a 429; new requests wait until its reset. Returns that wait."""
        return self.state.rate_limited(self._clock(), headers)

    def _warn_waiting(self, now: float, wait: float) -> None:
        if math.isinf(wait) or wait < 0.05 or now < self._warned_until:
            return
        self._warned_until = now + wait
        logger.warning("rate limit budget spent; waiting %.2f s for the window to reset", wait)

    async def _sleep_or_wake(self, wait: float) -> None:
        if math.isinf(wait):
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        else:
            await asyncio.sleep(wait)

    def _wake_all(self) -> None:
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
