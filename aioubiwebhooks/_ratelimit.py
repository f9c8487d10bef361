"""One rate-limit budget per session, fed by the server's ``x-ratelimit-*`` headers.

The UbiOps API counts requests per source IP in fixed windows (300 a minute for
webhooks) and answers 429 past the limit. Firing many requests at once therefore only
collects 429s; what finishes a bulk job soonest is to keep requests in flight while
the window has room and to wait for the reset when it has none.

:class:`BudgetState` makes every decision as a pure function of the clock and the
headers seen, so it is tested without sockets. :class:`Pacer` is the thin async layer
that waits when the state says so.

How a window is followed:

- **Its end.** Each answer says "``remaining`` left, the window resets in ``reset``
  seconds". The earliest ``received_at + reset`` over a window never falls before
  the real end when the server rounds up (or sends fractions), and tightens with every
  answer. A server that rounds whole seconds down (a Redis TTL does) makes that
  estimate up to a second early: the first time a request sent at the estimated end
  meets a 429 that still describes the old window, a second is added to every whole
  ``reset`` from then on.
- **Its opening.** At the estimated end one request goes alone; the rest follow its
  answer, so an estimate that was early costs one 429, not a burst of them.
- **Others on the same budget.** The limit is per source IP: other processes on the
  machine draw on it too, and their use shows only as ``remaining`` falling faster
  than this session's own requests explain. Each window, a session measures how many
  requests the server counted per request of its own (``contention``; a window shared
  with others counts as used up) and sends that share (``limit / contention``) at once
  when the next window opens. In a first window it sends one request at a time,
  doubling with each round of answers while nobody else shows; once others show, it
  counts how many take turns with it and stops at an equal part. Others can hide
  behind this session's own requests in flight (the server's count grows by both), so
  however it ramps up it keeps no more in flight than half its part of what is left
  (its part: the fraction of the window's count its own answers make up). What the
  others leave of their shares becomes anyone's after a grace of 0.5 s (another session's
  estimate of the window's start may be a little later), or at once when the others,
  well ahead of this session last window, are absent now; it is taken one request at
  a time while others are drawing too, so each session meets at most one 429 in a
  window.
- **Answers that cannot be used.** A ``reset`` longer than the caller lets a call
  wait (``max_rate_limit_wait``), or longer than a day (an epoch time, say), is not
  waited for: a 429 carrying one fails its call at once, and no other call is held.
  A 429 without a usable reset or ``Retry-After`` backs off exponentially.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Literal

import anyio
import attrs

__all__ = [
    "MAX_PLAUSIBLE_RESET",
    "BudgetState",
    "Pacer",
    "Pacing",
    "RateLimitHeaders",
    "parse_rate_limit_headers",
    "rate_limit_backoff",
]

logger = logging.getLogger("aioubiwebhooks")

Pacing = Literal["auto", "off"] | float
"""``"auto"``: follow the server's headers; ``"off"``: only honour 429s; a number: at
most that many requests per second, whatever the headers say (429s still honoured)."""

LATE_TOLERANCE = 1.25
"""Seconds around a window's end within which an answer still belongs to that window."""

MIN_429_WAIT = 0.1
"""The shortest wait after a 429, so a reset of 0 never turns into a busy loop."""

MAX_PLAUSIBLE_RESET = 86_400.0
"""A ``reset`` above a day is no rate-limit window (it reads as an epoch time): unusable."""

MIN_SAMPLES = 12
"""Own answers in a first window before its share is judged from them."""

LEFTOVER_GRACE = 0.5
"""Seconds into a window (at most half of it) during which each session keeps to its share.

Sessions started together estimate a window's start within milliseconds of each other
(measured: 1.05x the minimum with four processes); one whose estimate is later than
this may find part of its share taken, and meets one 429 for it."""

ROUND_DOWN_MARGIN = 1.0
"""Added to a whole-second ``reset`` once the server is seen to round it down."""

BACKOFF_429_FIRST = 1.0
BACKOFF_429_MAX = 60.0
"""The backoff after a 429 without a usable reset: 1 s, doubling, at most 60 s (the
official client waits 60 s when the header is missing)."""


def rate_limit_backoff(streak: int, rng: random.Random | None = None) -> float:
    """Seconds to hold the budget after the ``streak``-th 429 in a row without a reset.

    Between half and all of ``1 s * 2**(streak-1)`` (at most 60 s): never zero, and
    the lower bound doubles, so the wait grows with every such 429.
    """
    cap = min(BACKOFF_429_MAX, BACKOFF_429_FIRST * 2.0 ** (max(streak, 1) - 1))
    return cap * (0.5 + 0.5 * (rng or random).random())


@attrs.frozen
class RateLimitHeaders:
    """What one answer said about the budget.

    ``limit`` is 0 when the answer carried only ``Retry-After``. ``reset`` and
    ``retry_after`` are waits in seconds the client may honour (None when missing or
    unusable); ``whole`` says ``reset`` was a whole number (so it may be rounded);
    ``refused`` is the server's value when it asked for a wait too long to honour.
    """

    limit: int
    remaining: int
    reset: float | None
    retry_after: float | None = None
    whole: bool = True
    refused: float | None = None


def _seconds(text: str | None) -> float | None:
    """A finite, non-negative number of seconds, or None."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _retry_after(text: str | None, wall_clock: Callable[[], float]) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date turned into the wait to it."""
    seconds = _seconds(text)
    if seconds is not None or text is None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - wall_clock())


def parse_rate_limit_headers(
    headers: Mapping[str, str],
    *,
    max_wait: float = math.inf,
    wall_clock: Callable[[], float] = time.time,
) -> RateLimitHeaders | None:
    """The budget an answer reports, or None when it reports none (or only nonsense).

    A reset or Retry-After above ``max_wait`` (or above a day) is not usable: it is
    kept in ``refused`` for the error message, and never becomes a wait.
    """
    get = headers.get
    limit_text = get("x-ratelimit-limit")
    reset_text = get("x-ratelimit-reset")
    retry_text = get("retry-after")
    if limit_text is None and reset_text is None and retry_text is None:
        return None  # the common case without a limit: no parsing at all
    ceiling = min(max_wait, MAX_PLAUSIBLE_RESET)
    remaining_text = get("x-ratelimit-remaining")
    if (
        retry_text is None
        and limit_text is not None
        and remaining_text is not None
        and reset_text is not None
        and len(limit_text) < 16
        and len(remaining_text) < 16
        and len(reset_text) < 16
        and limit_text.isdecimal()
        and remaining_text.isdecimal()
        and reset_text.isdecimal()
    ):
        # The common case with a limit: three whole numbers of at most 15 digits (exact
        # as floats), read as the general path below reads them.
        whole_limit, whole_reset = int(limit_text), float(reset_text)
        if whole_limit >= 1 and whole_reset <= ceiling:
            return RateLimitHeaders(whole_limit, min(int(remaining_text), whole_limit), whole_reset)
    refused: float | None = None
    reset = _seconds(reset_text)
    if reset is not None and reset > ceiling:
        refused, reset = reset, None
    retry_after = None if retry_text is None else _retry_after(retry_text, wall_clock)
    if retry_after is not None and retry_after > ceiling:
        refused, retry_after = max(refused or 0.0, retry_after), None
    limit = _seconds(limit_text)
    remaining = _seconds(remaining_text)
    whole = reset is None or reset.is_integer()
    if limit is None or remaining is None or limit < 1:
        if retry_after is None and refused is None:
            return None
        return RateLimitHeaders(0, 0, None, retry_after, whole, refused)
    return RateLimitHeaders(
        int(limit), min(int(remaining), int(limit)), reset, retry_after, whole, refused
    )


@attrs.define
class BudgetState:
    """The pacing decisions, as plain state and pure methods (no I/O, no clock of its own).

    Each request taken gets a *ticket* (:attr:`ticket`), given back with its answer. It
    carries the request's generation, which moves on whenever the client moves on to
    the next window, so that an answer about a window that has ended is recognised;
    and whether the request went beyond this session's share of the window.
    """

    mode: Literal["auto", "off", "fixed"] = "auto"
    rate: float = 0.0
    limit: int | None = None
    generation: int = 0
    ticket: int = 0
    """The ticket of the request :meth:`try_acquire` took last."""
    open: bool = False
    """Whether an answer from the current window has come (until then: one request at a time)."""
    window_end: float | None = None
    previous_end: float | None = None
    used: int = 0
    """Own requests that may count in the current window."""
    server_used: int = 0
    """The most requests the server reported used in the current window (all clients)."""
    in_flight: int = 0
    in_flight_now: int = 0
    """Requests in flight that were sent in the current generation."""
    own_answers: int = 0
    """Answers (not 429) to requests of the current generation."""
    turns: list[int] = attrs.field(factory=list)
    """In a first window shared with others: requests counted between own answers."""
    turn_share: int | None = None
    contention: float | None = None
    """Requests the server counted per own request in the last window (1: this session alone)."""
    ramp: int = 1
    """How many may be in flight beyond the share: grows while nobody else draws."""
    crowded: bool = False
    """Whether the current window has shown others drawing on the budget."""
    leftover_from: float = 0.0
    """When what the others left of the current window becomes anyone's."""
    behind: bool = False
    """Whether others had used a good part of the current window before this session's
    first request in it (their estimate of its start is earlier than this one's)."""
    others_before: int = 0
    """Requests the server had counted in the window before this session's first one."""
    margin: float = 0.0
    blocked_until: float = 0.0
    backoff_streak: int = 0
    headerless: bool = False
    next_slot: float = 0.0

    def try_acquire(self, now: float) -> float | None:
        """Take a slot and return None, or return how long to wait (``inf``: until an answer).

        After a None, :attr:`ticket` is the one to give back to :meth:`release` or
        :meth:`rate_limited`.
        """
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.mode == "fixed":
            return self._take_fixed_slot(now)
        if self.mode == "off" or self.headerless:
            return self._take()
        if self.window_end is not None and now >= self.window_end:
            self._enter_next_window()
        limit = self.limit
        if not self.open or limit is None:
            # A window not yet seen from the inside: one request asks, the rest wait for it.
            return self._take() if self.in_flight_now == 0 else math.inf
        left = limit - max(self.server_used, self.used)
        if left <= 0:
            if self.window_end is not None:
                return self.window_end - now
            # Spent, and the server did not say until when: one request asks.
            return self._take() if self.in_flight == 0 else math.inf
        if self.in_flight >= limit - self.server_used:
            return math.inf  # as many in flight as the server has left
        share = self._share(limit)
        if share is not None and self.used < share:
            if self.contention is not None:
                return self._take()
            # A first window: its share is judged from turns; it is reached turn by turn.
        elif share is not None:
            # Past this session's share: what the others have not used yet stays theirs
            # for a moment (their estimate of the window's start may be a little later).
            others_used = self.server_used - self.own_answers
            if others_used < limit - share and now < self.leftover_from:
                return self.leftover_from - now
        # Beyond the share (or before it is known): a few at a time, growing while the
        # answers show nobody else drawing on the budget, and never more than this
        # session's part of what is left.
        if self.in_flight < self.ramp and self.in_flight < self._part_of(left):
            return self._take(ramped=True)
        return math.inf

    def release(
        self, now: float, ticket: int, headers: RateLimitHeaders | None, *, answered: bool
    ) -> None:
        """Return a slot; learn from an answer that was not a 429 (``answered``: one came)."""
        self._give_back(ticket)
        if headers is None:
            if answered and self.limit is None:
                self.headerless = True  # the server does not rate limit: nothing to pace
            return
        self.headerless = False
        if headers.limit > 0:
            self.backoff_streak = 0
            if self.mode == "auto":  # the other modes only honour 429s
                self._observe(now, ticket, headers)

    def rate_limited(
        self,
        now: float,
        ticket: int,
        headers: RateLimitHeaders | None,
        rng: random.Random | None = None,
    ) -> float:
        """A 429 came (its slot is returned here): hold new requests; return this call's wait.

        0 when the server asked for a wait too long to honour: the call gives up, and
        nobody else waits for it.
        """
        self._give_back(ticket)
        self.headerless = False
        if headers is not None and headers.limit > 0:
            self.limit = headers.limit
        usable = headers is not None and (
            headers.reset is not None or headers.retry_after is not None
        )
        if headers is not None and not usable and headers.refused is not None:
            self._spent(None)  # no end worth waiting for: the next request asks
            return 0.0
        if headers is None or not usable:
            self.backoff_streak += 1
            wait = rate_limit_backoff(self.backoff_streak, rng)
        elif ticket >> 1 != self.generation and self.open:
            return MIN_429_WAIT  # about a window that has already ended
        else:
            wait = self._wait_from(now, ticket >> 1, headers)
            if self.open and self.window_end is not None and self.window_end > now:
                # Both bound the window's end from above: the earlier one is the closer.
                wait = min(wait, max(self.window_end - now, MIN_429_WAIT))
        self.blocked_until = max(self.blocked_until, now + wait)
        self._spent(self.blocked_until)
        return self.blocked_until - now

    # --- inside ---------------------------------------------------------------------------

    def _share(self, limit: int) -> int | None:
        """This session's part of the window, or None while it is not known.

        What it drew in the last window (``limit / contention``, rounded down: the few
        left over go to whoever finds them first). In a first window shared with others,
        once a few answers came one at a time: an equal part for each session seen
        taking turns (the median count of requests between two own answers).
        """
        if self.contention is not None:
            return max(1, math.floor(limit / self.contention))
        if self.turn_share is None and len(self.turns) >= MIN_SAMPLES:
            sessions = max(1, round(statistics.median(self.turns)))
            self.turn_share = max(1, limit // sessions)
        return self.turn_share

    def _part_of(self, left: int) -> int:
        """How many of ``left`` requests this session may have in flight (at least one).

        Half of its part of them: the part is the fraction of the window's count that
        its own answers make up. Others can hide behind this session's requests in
        flight (the server's count grows by both), and a session that arrives late has
        no part yet; the half leaves room for both. However a session ramps up, it thus
        has few in flight when the window runs out, and meets one 429 there, not one
        per request it had in flight.
        """
        counted = max(1, self.server_used - self.others_before)
        return max(1, left * min(self.own_answers, counted) // (2 * counted))

    def _wait_from(self, now: float, generation: int, headers: RateLimitHeaders) -> float:
        reset = headers.reset
        wait = 0.0
        if reset is not None:
            wait = reset + (self.margin if headers.whole else 0.0)
            if (
                headers.whole
                and self.margin == 0.0
                and generation == self.generation
                and not self.open
                and self.previous_end is not None
                and now + reset <= self.previous_end + LATE_TOLERANCE
            ):
                # Sent at the estimated end, refused by the window that estimate said had
                # ended: the server rounds whole seconds down. Count a second more from now on.
                self.margin = ROUND_DOWN_MARGIN
                wait += ROUND_DOWN_MARGIN
        return max(wait, headers.retry_after or 0.0, MIN_429_WAIT)

    def _give_back(self, ticket: int) -> None:
        self.in_flight -= 1
        if ticket >> 1 == self.generation:
            self.in_flight_now -= 1

    def _take(self, *, ramped: bool = False) -> float | None:
        self.ticket = self.generation * 2 + ramped
        self.used += 1
        self.in_flight += 1
        self.in_flight_now += 1
        return None

    def _take_fixed_slot(self, now: float) -> float | None:
        if now < self.next_slot:
            return self.next_slot - now
        self.next_slot = max(now, self.next_slot) + 1.0 / self.rate
        return self._take()

    def _spent(self, until: float | None) -> None:
        """The server refused: nothing is left in this window, which ends at ``until``."""
        if self.limit is not None:
            self.used = max(self.used, self.limit)
            self.server_used = max(self.server_used, self.limit)
        self.window_end = until

    def _enter_next_window(self) -> None:
        if self.own_answers:
            # Shared with others, the window was used up after this session's last answer
            # showed it (what one session leaves, another takes): count it as full.
            used = self.limit if self.crowded and self.limit else self.server_used
            self.contention = max(1.0, used / self.own_answers)
        self.previous_end = self.window_end
        self.generation += 1
        self.open = False
        self.window_end = None
        # Requests still in flight may land in the new window: count them there.
        self.used = self.in_flight
        self.server_used = 0
        self.in_flight_now = 0
        self.own_answers = 0
        self.turns.clear()
        self.turn_share = None
        self.ramp = 1
        self.crowded = False
        self.others_before = 0

    def _observe(self, now: float, ticket: int, headers: RateLimitHeaders) -> None:
        self.limit = headers.limit
        if ticket >> 1 != self.generation:
            return  # sent before the current window began: its figures are the old window's
        server_used = headers.limit - headers.remaining
        end = None
        if headers.reset is not None:
            end = now + headers.reset + (self.margin if headers.whole else 0.0)
        if not self.open:
            self.open = True
            self.window_end = end
            grace = LEFTOVER_GRACE if end is None else min(LEFTOVER_GRACE, (end - now) / 2)
            if self.behind and server_used <= 1:
                # Last window the others were well ahead of this session; now nobody is:
                # they are done, not late. What they leave is free at once.
                grace = 0.0
            self.leftover_from = now + grace
            self.behind = server_used - 1 >= max(2, headers.limit // 4)
            if (
                self.generation == 0
                and self.previous_end is None
                and server_used > self.server_used + 1 + self.in_flight
            ):
                # The session's first answer found the window already drawn on: by others
                # now, or by an earlier run. Counting starts there, one request at a time;
                # others drawing now show as the count growing by the next answer.
                self.server_used = server_used
                self.others_before = server_used - 1
                self.own_answers += 1
                return
        elif end is not None and self.window_end is not None:
            if end > self.window_end + LATE_TOLERANCE:
                # The server has moved on to a later window than the one tracked here.
                self._enter_next_window()
                self.open = True
                self.window_end = end
            else:
                self.window_end = min(self.window_end, end)
        elif end is not None:
            self.window_end = end
        # Since the last answer the server counted this one, and perhaps this session's
        # requests still in flight; more than that, someone else drew on the budget.
        if server_used > self.server_used + 1 + self.in_flight:
            self.crowded = True
            self.ramp = 1
        elif (ticket & 1 or self.contention is None) and not self.crowded:
            self.ramp += 1
        if (
            self.crowded
            and self.contention is None
            and self.in_flight == 0
            and self.own_answers
            and len(self.turns) < MIN_SAMPLES
        ):
            # One request at a time among others: the count since the last own answer is
            # one turn of every session drawing on the budget.
            self.turns.append(max(1, server_used - self.server_used))
        self.server_used = max(self.server_used, server_used)
        self.own_answers += 1


class _Signal:
    """Wakes every task waiting on it when fired; each fire starts a new round."""

    def __init__(self) -> None:
        self._event: anyio.Event | None = None

    async def wait(self, timeout: float = math.inf) -> None:
        """Until the next fire, or at most ``timeout`` seconds."""
        if self._event is None:
            self._event = anyio.Event()
        event = self._event
        if math.isinf(timeout):
            await event.wait()
        else:
            with anyio.move_on_after(timeout):
                await event.wait()

    def fire(self) -> None:
        event, self._event = self._event, None
        if event is not None:
            event.set()


class Pacer:
    """Shares one budget between every request of a session; waits instead of collecting 429s."""

    def __init__(
        self,
        pacing: Pacing = "auto",
        *,
        clock: Callable[[], float] = time.monotonic,
        max_wait: float = math.inf,
    ):
        if pacing == "auto" or pacing == "off":
            self.state = BudgetState(mode=pacing)
        elif isinstance(pacing, (int, float)) and not isinstance(pacing, bool) and pacing > 0:
            self.state = BudgetState(mode="fixed", rate=float(pacing))
        else:
            raise ValueError(f"pacing must be 'auto', 'off' or a positive rate, got {pacing!r}")
        self.max_wait = max_wait
        """The longest reset the session honours (its ``max_rate_limit_wait``)."""
        self._clock = clock
        self._answered = _Signal()  # any answer: for requests waiting on one
        self._sooner = _Signal()  # the window's end moved earlier: for timed waits
        self._warned_until = -math.inf

    def headers(self, headers: Mapping[str, str]) -> RateLimitHeaders | None:
        """What an answer's headers say about the budget, judged by this session's limits."""
        return parse_rate_limit_headers(headers, max_wait=self.max_wait)

    async def acquire(self) -> int:
        """Wait until a request may be sent and take its slot; return the ticket to give
        back to :meth:`release` or :meth:`rate_limited`."""
        state = self.state
        wait = state.try_acquire(self._clock())
        while wait is not None:
            if math.isinf(wait):
                await self._answered.wait()
            else:
                self._warn_waiting(wait)
                await self._sooner.wait(wait)
            wait = state.try_acquire(self._clock())
        return state.ticket

    def release(self, ticket: int, headers: RateLimitHeaders | None, *, answered: bool) -> None:
        """Give back the slot taken by :meth:`acquire`, with what the answer said."""
        end = self.state.window_end
        self.state.release(self._clock(), ticket, headers, answered=answered)
        self._wake(end)

    def rate_limited(self, ticket: int, headers: RateLimitHeaders | None) -> float:
        """Give back the slot of a request answered 429; new requests wait. Returns the wait."""
        end = self.state.window_end
        wait = self.state.rate_limited(self._clock(), ticket, headers)
        if wait > 0 and (headers is None or (headers.reset is None and not headers.retry_after)):
            self._warn(f"rate limited without a usable reset; backing off {wait:.1f} s", wait)
        self._wake(end)
        return wait

    def _wake(self, previous_end: float | None) -> None:
        self._answered.fire()
        end = self.state.window_end
        if end is not None and (previous_end is None or end < previous_end):
            self._sooner.fire()

    def _warn_waiting(self, wait: float) -> None:
        if wait >= 0.05:
            self._warn(f"rate limit budget spent; waiting {wait:.2f} s for the window", wait)

    def _warn(self, message: str, wait: float) -> None:
        """Log a wait once: not again until the wait it announced is over."""
        now = self._clock()
        if now < self._warned_until:
            return
        self._warned_until = now + wait
        logger.warning("%s", message)
