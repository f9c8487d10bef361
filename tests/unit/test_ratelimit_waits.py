"""How long a 429 holds the budget, to the value, and what the pacer says about it.

``tests/unit/test_ratelimit.py`` follows windows through their life; this file pins the
arithmetic of a single 429 (reset, ``Retry-After``, the learned margin of a server
that rounds down, the shortest wait) and the warnings a wait is logged with, each
value written out by hand.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re

import pytest

from aioubiwebhooks._ratelimit import BudgetState, Pacer, RateLimitHeaders


class Fixed(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def take(state: BudgetState, now: float) -> int:
    assert state.try_acquire(now) is None
    return state.ticket


def opened(limit: int = 10, reset: float = 2.0) -> BudgetState:
    """A session whose first answer (at 0 s) opened a window ending at ``reset``."""
    state = BudgetState()
    state.release(0.0, take(state, 0.0), RateLimitHeaders(limit, limit - 1, reset), answered=True)
    return state


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        (RateLimitHeaders(10, 0, 3.0), 3.0),
        (RateLimitHeaders(10, 0, 0.3, whole=False), 0.3),
        (RateLimitHeaders(10, 0, 0.0), 0.1),  # never a busy loop
        (RateLimitHeaders(0, 0, None, retry_after=0.5), 0.5),
        (RateLimitHeaders(0, 0, None, retry_after=0.02), 0.1),
        (RateLimitHeaders(10, 0, 2.0, retry_after=4.0), 4.0),
        (RateLimitHeaders(10, 0, 4.0, retry_after=2.0), 4.0),
    ],
    ids=["reset", "fraction", "zero", "retry-after", "short retry-after", "longer", "shorter"],
)
def test_a_429_in_a_first_window_waits_for_what_the_server_said(
    headers: RateLimitHeaders, wait: float
) -> None:
    state = BudgetState()
    assert state.rate_limited(0.0, take(state, 0.0), headers) == pytest.approx(wait)
    assert state.try_acquire(0.0) == pytest.approx(wait)  # every request waits as long


def test_a_429_without_a_reset_backs_off_with_the_generator_it_is_given() -> None:
    state = BudgetState()
    assert state.rate_limited(0.0, take(state, 0.0), None, rng=Fixed(0.0)) == 0.5
    assert state.rate_limited(0.5, take(state, 0.5), None, rng=Fixed(1.0)) == 2.0


def test_a_429_tells_the_limit_unless_it_carries_retry_after_only() -> None:
    state = BudgetState()
    state.rate_limited(0.0, take(state, 0.0), RateLimitHeaders(0, 0, None, retry_after=1.0))
    assert state.limit is None
    state.rate_limited(1.0, take(state, 1.0), RateLimitHeaders(1, 0, 1.0))
    assert state.limit == 1


def test_an_open_window_ending_sooner_than_the_reset_bounds_the_wait() -> None:
    state = opened(reset=2.0)
    ticket = take(state, 1.0)
    assert state.rate_limited(1.5, ticket, RateLimitHeaders(10, 0, 3.0)) == pytest.approx(0.5)


def test_an_open_window_ending_now_bounds_nothing() -> None:
    state = opened(reset=2.0)
    ticket = take(state, 1.0)
    assert state.rate_limited(2.0, ticket, RateLimitHeaders(10, 0, 3.0)) == pytest.approx(3.0)


def in_the_next_window() -> tuple[BudgetState, int]:
    """A request sent once the window estimated to end at 2.0 s has ended."""
    state = opened(reset=2.0)
    ticket = take(state, 2.0)  # the estimated end: the next window, one request alone
    assert state.generation == 1
    assert state.previous_end == 2.0
    return state, ticket


def test_a_refusal_up_to_late_tolerance_after_the_estimated_end_teaches_a_margin() -> None:
    state, ticket = in_the_next_window()
    # 2.25 + 1 s is exactly the old end plus the 1.25 s tolerance: the old window
    assert state.rate_limited(2.25, ticket, RateLimitHeaders(10, 0, 1.0)) == pytest.approx(2.0)
    assert state.margin == 1.0


def test_a_refusal_describing_a_later_window_teaches_no_margin() -> None:
    state, ticket = in_the_next_window()
    assert state.rate_limited(2.0, ticket, RateLimitHeaders(10, 0, 2.0)) == pytest.approx(2.0)
    assert state.margin == 0.0


def test_a_learned_margin_is_added_to_whole_resets_only() -> None:
    whole, fraction = BudgetState(margin=1.0), BudgetState(margin=1.0)
    assert whole.rate_limited(0.0, take(whole, 0.0), RateLimitHeaders(10, 0, 2.0)) == 3.0
    waited = fraction.rate_limited(
        0.0, take(fraction, 0.0), RateLimitHeaders(10, 0, 2.5, whole=False)
    )
    assert waited == pytest.approx(2.5)


# --- what the pacer logs ----------------------------------------------------------------------


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "aioubiwebhooks"]


async def test_a_backoff_without_a_reset_is_logged_once_until_it_is_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = [0.0]
    pacer = Pacer(clock=lambda: clock[0])
    with caplog.at_level(logging.WARNING, logger="aioubiwebhooks"):
        wait = pacer.rate_limited(await pacer.acquire(), RateLimitHeaders(5, 0, None))
        assert messages(caplog) == [
            f"rate limited without a usable reset; backing off {wait:.1f} s"
        ]
        clock[0] = wait / 2  # still within the first wait: not again
        pacer.state.blocked_until = 0.0  # let the next request go at once
        pacer.rate_limited(await pacer.acquire(), RateLimitHeaders(5, 0, None))
        assert len(messages(caplog)) == 1
        clock[0] = wait  # the first wait is over: the next one is news
        pacer.state.blocked_until = 0.0
        pacer.rate_limited(await pacer.acquire(), None)
        assert len(messages(caplog)) == 2


@pytest.mark.parametrize(
    "headers",
    [
        RateLimitHeaders(5, 0, 2.0),
        RateLimitHeaders(0, 0, None, retry_after=2.0),
        RateLimitHeaders(5, 0, None, refused=1.7e9),
    ],
    ids=["reset", "retry-after", "refused"],
)
async def test_a_429_with_a_wait_to_honour_or_refuse_logs_no_backoff(
    headers: RateLimitHeaders, caplog: pytest.LogCaptureFixture
) -> None:
    pacer = Pacer(clock=lambda: 0.0)
    with caplog.at_level(logging.WARNING, logger="aioubiwebhooks"):
        pacer.rate_limited(await pacer.acquire(), headers)
    assert messages(caplog) == []


async def test_a_wait_for_the_window_is_logged_with_its_length(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pacer = Pacer()
    pacer.rate_limited(await pacer.acquire(), RateLimitHeaders(5, 0, 0.25, whole=False))
    with caplog.at_level(logging.WARNING, logger="aioubiwebhooks"):
        await asyncio.wait_for(pacer.acquire(), 5)
    (message,) = messages(caplog)
    assert re.fullmatch(r"rate limit budget spent; waiting 0\.2[0-5] s for the window", message)


@pytest.mark.parametrize(("rate", "logged"), [(20.0, True), (25.0, False)], ids=["0.05", "0.04"])
async def test_a_wait_is_logged_from_50_ms_on(
    rate: float, logged: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A fixed rate of 20 a second makes the second request wait exactly 50 ms."""
    moments = [0.0, 0.0, 0.0]  # the first request, the second's wait, its warning; then 1 s

    def clock() -> float:
        return moments.pop(0) if moments else 1.0

    pacer = Pacer(rate, clock=clock)
    await pacer.acquire()
    with caplog.at_level(logging.WARNING, logger="aioubiwebhooks"):
        await asyncio.wait_for(pacer.acquire(), 5)
    wait = 1 / rate
    expected = [f"rate limit budget spent; waiting {wait:.2f} s for the window"]
    assert messages(caplog) == (expected if logged else [])


def test_a_pacer_reads_headers_with_the_longest_wait_its_session_honours() -> None:
    said = {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "90"}
    assert Pacer(max_wait=60.0).headers(said) == RateLimitHeaders(5, 0, None, refused=90.0)
    assert Pacer().headers(said) == RateLimitHeaders(5, 0, 90.0)
