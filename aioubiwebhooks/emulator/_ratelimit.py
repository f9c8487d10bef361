"""A fixed-window rate limiter, as the UbiOps API applies per endpoint group.

The window starts at the first request after the previous window has ended (not at
aligned clock boundaries) and lasts ``window`` seconds; within it at most ``limit``
requests are let through. Refused requests (answered 429) do not use up budget.
``x-ratelimit-reset`` is a whole number of seconds (the official client sleeps
``int(reset) + 1`` and cannot parse ``1.99``). By default it is rounded up and at least
1 while the window lasts, which never tells a client to come back too early; with
``rounding="down"`` it is rounded down (0 in the last second), as a limiter reporting
a Redis TTL does, and a client that trusts it comes back up to a second early.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Literal, TypeAlias

import attrs

__all__ = ["FixedWindow", "RateDecision", "ResetRounding", "parse_rate_limit"]

ResetRounding: TypeAlias = Literal["up", "down"]
"""How the seconds left in a window become the whole number ``x-ratelimit-reset`` shows."""


@attrs.frozen
class RateDecision:
    """Whether one request may pass, and the headers that say where the window stands."""

    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        headers = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


class FixedWindow:
    """``limit`` requests per ``window`` seconds; :meth:`hit` decides and counts one request.

    ``rounding`` says how the seconds left become ``x-ratelimit-reset``: ``"up"`` (the
    default) or ``"down"``.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        rounding: ResetRounding = "up",
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"rate limit must be a whole number >= 1, got {limit!r}")
        if not window > 0:
            raise ValueError(f"rate limit window must be > 0 seconds, got {window!r}")
        if rounding not in ("up", "down"):
            raise ValueError(f"reset rounding must be 'up' or 'down', got {rounding!r}")
        self.rounding: ResetRounding = rounding
        self.limit = limit
        self.window = float(window)
        self._clock = clock
        self._ends_at: float | None = None
        self._used = 0

    def hit(self) -> RateDecision:
        now = self._clock()
        if self._ends_at is None or now >= self._ends_at:
            self._ends_at = now + self.window
            self._used = 0
        # To the microsecond first: (now + window) - now may exceed window by a rounding error.
        left = round(self._ends_at - now, 6)
        reset = max(1, math.ceil(left)) if self.rounding == "up" else math.floor(left)
        if self._used >= self.limit:
            return RateDecision(allowed=False, limit=self.limit, remaining=0, reset=reset)
        self._used += 1
        return RateDecision(
            allowed=True, limit=self.limit, remaining=self.limit - self._used, reset=reset
        )

    def reset(self) -> None:
        """Start afresh: the next request opens a new window."""
        self._ends_at = None
        self._used = 0

    def peek(self) -> RateDecision:
        """Where the window stands, without counting a request: the headers of an answer
        that uses no budget (a wrong token, an injected fault)."""
        ends_at, used = self._ends_at, self._used
        counted = self.hit()
        self._ends_at, self._used = ends_at, used
        remaining = counted.remaining + 1 if counted.allowed else 0
        return RateDecision(
            allowed=True, limit=self.limit, remaining=remaining, reset=counted.reset
        )


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``"300/60"`` -> ``(300, 60.0)``: requests per window of seconds."""
    limit_text, sep, window_text = text.partition("/")
    try:
        limit = int(limit_text)
        window = float(window_text) if sep else 60.0
    except ValueError:
        raise ValueError(
            f"rate limit must look like LIMIT/SECONDS, e.g. 300/60 (got {text!r})"
        ) from None
    if limit < 1 or not (window > 0 and math.isfinite(window)):
        raise ValueError(f"rate limit needs LIMIT >= 1 and SECONDS > 0 (got {text!r})")
    return limit, window
