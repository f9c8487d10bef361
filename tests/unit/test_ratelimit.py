"""The pacing decisions, checked without sockets on a hand-driven clock."""

from __future__ import annotations

import asyncio
import math

import pytest

from aioubiwebhooks._ratelimit import (
    BudgetState,
    Pacer,
    RateLimitHeaders,
    parse_rate_limit_headers,
)


def answer(limit: int, remaining: int, reset: float) -> RateLimitHeaders:
    return RateLimitHeaders(limit=limit, remaining=remaining, reset=reset)


def test_headers_are_parsed_and_nonsense_ignored() -> None:
    parsed = parse_rate_limit_headers(
        {"x-ratelimit-limit": "300", "x-ratelimit-remaining": "12", "x-ratelimit-reset": "7"}
    )
    assert parsed == RateLimitHeaders(300, 12, 7.0)
    assert parse_rate_limit_headers({}) is None
    assert parse_rate_limit_headers({"x-ratelimit-limit": "lots"}) is None
    only_retry_after = parse_rate_limit_headers({"retry-after": "3"})
    assert only_retry_after is not None
    assert only_retry_after.reset == 3.0


def test_unknown_budget_sends_one_probe_at_a_time() -> None:
    state = BudgetState()
    assert state.try_acquire(0.0) is None
    assert state.try_acquire(0.0) == math.inf  # wait for the probe's answer
    state.release(0.1, answer(10, 9, 5), answered=True)
    assert state.limit == 10
    for _ in range(9):
        assert state.try_acquire(0.2) is None
    wait = state.try_acquire(0.2)
    assert wait == pytest.approx(4.9)


def test_server_without_headers_is_not_paced() -> None:
    state = BudgetState()
    assert state.try_acquire(0.0) is None
    state.release(0.1, None, answered=True)
    assert all(state.try_acquire(0.1) is None for _ in range(1000))


def test_a_failed_probe_lets_the_next_probe_go() -> None:
    state = BudgetState()
    assert state.try_acquire(0.0) is None
    state.release(0.1, None, answered=False)  # no answer: nothing learned
    assert not state.headerless
    assert state.try_acquire(0.1) is None


def test_window_end_estimate_tightens_to_the_earliest_reset() -> None:
    state = BudgetState()
    state.try_acquire(0.0)
    state.release(0.3, answer(10, 9, 5), answered=True)  # ends by 5.3
    state.try_acquire(0.3)
    state.release(0.9, answer(10, 8, 4), answered=True)  # ends by 4.9
    assert state.window_end == pytest.approx(4.9)


def test_new_window_starts_at_the_estimated_reset_counting_requests_in_flight() -> None:
    state = BudgetState()
    state.try_acquire(0.0)
    state.release(0.0, answer(3, 2, 2), answered=True)
    assert state.try_acquire(0.1) is None
    assert state.try_acquire(0.1) is None
    assert state.try_acquire(0.1) == pytest.approx(1.9)
    # At the reset two requests are still in flight: they may count in the new window.
    assert state.try_acquire(2.0) is None
    assert state.used == 3
    assert state.try_acquire(2.0) == math.inf


def test_late_answers_from_the_previous_window_are_ignored() -> None:
    state = BudgetState()
    state.try_acquire(0.0)
    state.release(0.0, answer(3, 2, 2), answered=True)
    state.try_acquire(1.9)
    assert state.try_acquire(2.0) is None  # next window begins
    state.release(2.05, answer(3, 0, 1), answered=True)  # about the old window
    assert state.window_end is None
    state.release(2.1, answer(3, 1, 2), answered=True)  # the new window: ends by 4.1
    assert state.window_end == pytest.approx(4.1)
    assert state.used >= 2


def test_server_window_moving_on_early_is_followed() -> None:
    state = BudgetState()
    state.try_acquire(0.0)
    state.release(0.0, answer(5, 4, 10), answered=True)
    state.try_acquire(0.5)
    state.release(3.0, answer(5, 4, 10), answered=True)  # ends by 13: a later window
    assert state.window_end == pytest.approx(13.0)
    assert state.used == 1


def test_a_429_blocks_everyone_until_its_reset_but_never_for_zero() -> None:
    state = BudgetState()
    state.try_acquire(0.0)
    state.release(0.0, answer(5, 0, 3), answered=True)
    assert state.rate_limited(0.0, answer(5, 0, 3)) == pytest.approx(3.0)
    assert state.try_acquire(1.0) == pytest.approx(2.0)
    assert state.rate_limited(5.0, answer(5, 0, 0)) > 0
    with_retry_after = RateLimitHeaders(5, 0, 1, retry_after=4)
    assert state.rate_limited(10.0, with_retry_after) == pytest.approx(4.0)


def test_off_mode_ignores_budget_but_honours_429() -> None:
    state = BudgetState(mode="off")
    state.release(0.0, answer(1, 0, 60), answered=True)
    assert state.try_acquire(0.0) is None
    assert state.try_acquire(0.0) is None
    state.rate_limited(0.0, answer(1, 0, 2))
    assert state.try_acquire(1.0) == pytest.approx(1.0)


def test_fixed_rate_spaces_requests() -> None:
    state = BudgetState(mode="fixed", rate=10.0)
    assert state.try_acquire(0.0) is None
    assert state.try_acquire(0.0) == pytest.approx(0.1)
    assert state.try_acquire(0.1) is None


def test_pacer_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="pacing"):
        Pacer("fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pacing"):
        Pacer(0)


async def test_pacer_wakes_waiters_when_an_answer_arrives() -> None:
    pacer = Pacer()
    await pacer.acquire()  # the probe
    second = asyncio.ensure_future(pacer.acquire())
    await asyncio.sleep(0.01)
    assert not second.done()
    pacer.release(RateLimitHeaders(10, 9, 60), answered=True)
    waited = await asyncio.wait_for(second, 1.0)
    assert waited >= 0
