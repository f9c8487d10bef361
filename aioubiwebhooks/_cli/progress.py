"""The progress bar of many-item commands: done, failed, rate, time left, rate-limit waits.

Drawn on standard error only when it is a terminal. Against the real API a bulk job
spends most of its time waiting for rate-limit windows (a minute each), during which no
item finishes; so the bar is also redrawn on a clock, and shows the wait the session's
pacer is in, counting down, next to the rate so far and the time left at that rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from typing import Final, TextIO

from .._lifecycle import AsyncStarting
from .._ratelimit import BudgetState, Pacer
from ..bulk import BulkProgress

__all__ = ["ProgressBar", "budget_wait", "duration"]

TICK: Final = 0.5
"""Seconds between redraws while nothing finishes."""


def budget_wait(state: BudgetState, now: float) -> float | None:
    """Seconds until the rate-limit budget has room again, as the pacer's state tells;
    None when it is not holding requests back."""
    waits = []
    if state.blocked_until > now:
        waits.append(state.blocked_until - now)
    limit = state.limit
    spent = limit is not None and max(state.used, state.server_used) >= limit
    if spent and state.window_end is not None and state.window_end > now:
        waits.append(state.window_end - now)
    return max(waits) if waits else None


def duration(seconds: float) -> str:
    """``42s``, ``6m05s``, ``2h03m``: a time span to read at a glance."""
    whole = max(0, math.ceil(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class ProgressBar(AsyncStarting):
    """A one-line bar on a terminal, redrawn at most every ``interval`` seconds; else silent.

    Pass it as the ``progress`` hook of a bulk call; :meth:`finish` ends the line. Used
    as ``async with``, it is also redrawn every half second, so a rate-limit wait read
    from ``pacer`` counts down while no item finishes, and leaving the block ends the line.
    """

    def __init__(
        self,
        stream: TextIO,
        label: str,
        *,
        enabled: bool,
        width: int = 28,
        interval: float = 0.05,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        self._enabled = enabled
        self._width = width
        self._interval = interval
        self._pacer = pacer
        self._clock = clock
        self._started = clock()
        self._last_draw = -math.inf
        self._last: BulkProgress | None = None
        self._drawn = False
        self._ticker: asyncio.Task[None] | None = None

    def __call__(self, progress: BulkProgress) -> None:
        self._last = progress
        if not self._enabled:
            return
        now = self._clock()
        if progress.done < progress.total and now - self._last_draw < self._interval:
            return
        self._draw(progress, now)

    def line(self, progress: BulkProgress, now: float) -> str:
        """The bar as drawn at ``now``: counts, and while running the rate, the time left
        and any rate-limit wait."""
        total = max(progress.total, 1)
        filled = round(self._width * progress.done / total)
        bar = "#" * filled + "-" * (self._width - filled)
        text = f"{self._label} [{bar}] {progress.done}/{progress.total}"
        if progress.failed:
            text += f"  {progress.failed} failed"
        if progress.done >= progress.total:
            return text
        elapsed = now - self._started
        if progress.done and elapsed > 0:
            rate = progress.done / elapsed
            text += (
                f"  {rate:.1f}/s  about {duration((progress.total - progress.done) / rate)} left"
            )
        wait = budget_wait(self._pacer.state, now) if self._pacer is not None else None
        if wait is not None:
            text += f"  rate limit: next window in {duration(wait)}"
        return text

    def _draw(self, progress: BulkProgress, now: float) -> None:
        self._last_draw = now
        self._stream.write(f"\r\x1b[K{self.line(progress, now)}")
        self._stream.flush()
        self._drawn = True

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            if self._last is not None:
                self._draw(self._last, self._clock())

    async def start(self) -> None:
        """Start the redraws on the clock (on a terminal only)."""
        if self._enabled:
            self._ticker = asyncio.ensure_future(self._tick())

    async def close(self) -> None:
        """Stop the redraws on the clock, then :meth:`finish`."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        self.finish()

    def finish(self) -> None:
        """Draw the final state and end the line (nothing at all when disabled)."""
        if self._enabled and self._last is not None:
            self._draw(self._last, self._clock())
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
