"""The pacing decisions, checked without sockets on a hand-driven clock."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioubiwebhooks._ratelimit import (
    LEFTOVER_GRACE,
    BudgetState,
    Pacer,
    RateLimitHeaders,
    _seconds,
    parse_rate_limit_headers,
    rate_limit_backoff,
)


def answer(limit: int, remaining: int, reset: float | None, **more: object) -> RateLimitHeaders:
    whole = reset is None or float(reset).is_integer()
    return RateLimitHeaders(limit, remaining, reset, whole=whole, **more)  # type: ignore[arg-type]


def take(state: BudgetState, now: float) -> int:
    """Take a slot that must be free now; return its ticket."""
    assert state.try_acquire(now) is None
    return state.ticket


# --- what the headers say ----------------------------------------------------------------------


def test_headers_are_parsed_and_nonsense_ignored() -> None:
    parsed = parse_rate_limit_headers(
        {"x-ratelimit-limit": "300", "x-ratelimit-remaining": "12", "x-ratelimit-reset": "7"}
    )
    assert parsed == RateLimitHeaders(300, 12, 7.0)
    assert parse_rate_limit_headers({}) is None
    assert parse_rate_limit_headers({"x-ratelimit-limit": "lots"}) is None
    only_retry_after = parse_rate_limit_headers({"retry-after": "3"})
    assert only_retry_after is not None
    assert only_retry_after.retry_after == 3.0
    fraction = parse_rate_limit_headers(
        {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "1", "x-ratelimit-reset": "1.25"}
    )
    assert fraction is not None
    assert not fraction.whole


@pytest.mark.parametrize("reset", ["-1", "abc", "inf", "nan", "", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_reset_that_is_no_number_of_seconds_is_unusable(reset: str) -> None:
    parsed = parse_rate_limit_headers(
        {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    )
    assert parsed is not None
    assert parsed.reset is None
    assert parsed.refused is None


@pytest.mark.parametrize("reset", ["1700000000", "1e9", "86401", "301"])
def test_a_reset_longer_than_the_caller_waits_or_a_day_is_refused(reset: str) -> None:
    parsed = parse_rate_limit_headers(
        {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
        max_wait=300,
    )
    assert parsed is not None
    assert parsed.reset is None
    assert parsed.refused == float(reset)


def test_retry_after_as_an_http_date_is_a_wait_until_then() -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    when = format_datetime(now + timedelta(seconds=42), usegmt=True)
    parsed = parse_rate_limit_headers({"retry-after": when}, wall_clock=now.timestamp)
    assert parsed is not None
    assert parsed.retry_after == pytest.approx(42)
    past = format_datetime(now - timedelta(seconds=5), usegmt=True)
    parsed = parse_rate_limit_headers({"retry-after": past}, wall_clock=now.timestamp)
    assert parsed is not None
    assert parsed.retry_after == 0


# --- one session ----------------------------------------------------------------------------------


def test_unknown_budget_sends_one_probe_at_a_time() -> None:
    state = BudgetState()
    probe = take(state, 0.0)
    assert state.try_acquire(0.0) == math.inf  # wait for the probe's answer
    state.release(0.1, probe, answer(10, 9, 5), answered=True)
    assert state.limit == 10
    assert take(state, 0.2) is not None  # alone so far: the number in flight grows


def test_server_without_headers_is_not_paced() -> None:
    state = BudgetState()
    state.release(0.1, take(state, 0.0), None, answered=True)
    assert all(state.try_acquire(0.1) is None for _ in range(1000))


def test_a_failed_probe_lets_the_next_probe_go() -> None:
    state = BudgetState()
    state.release(0.1, take(state, 0.0), None, answered=False)  # no answer: nothing learned
    assert not state.headerless
    assert state.try_acquire(0.1) is None


def test_a_spent_window_waits_for_its_estimated_end() -> None:
    state = BudgetState(contention=1.0)
    state.release(0.0, take(state, 0.0), answer(3, 2, 2), answered=True)
    tickets = [take(state, 0.1), take(state, 0.1)]
    assert state.try_acquire(0.1) == pytest.approx(1.9)
    for ticket in tickets:
        state.release(0.2, ticket, answer(3, 0, 2), answered=True)
    assert state.window_end == pytest.approx(2.0)


def test_window_end_estimate_tightens_to_the_earliest_reset() -> None:
    state = BudgetState()
    state.release(0.3, take(state, 0.0), answer(10, 9, 5), answered=True)  # ends by 5.3
    state.release(0.9, take(state, 0.3), answer(10, 8, 4), answered=True)  # ends by 4.9
    assert state.window_end == pytest.approx(4.9)


def test_a_new_window_opens_with_one_request_counting_those_still_in_flight() -> None:
    state = BudgetState(contention=1.0)
    state.release(0.0, take(state, 0.0), answer(3, 2, 2), answered=True)
    late = take(state, 1.9)
    probe = take(state, 2.0)  # the window's end: one request goes alone
    assert state.generation == 1
    assert state.used == 2  # the one still in flight may count in the new window
    assert state.try_acquire(2.0) == math.inf
    state.release(2.05, late, answer(3, 0, 1), answered=True)  # about the old window
    assert not state.open
    state.release(2.1, probe, answer(3, 1, 2), answered=True)  # the new window: ends by 4.1
    assert state.open
    assert state.window_end == pytest.approx(4.1)


def test_server_window_moving_on_early_is_followed() -> None:
    state = BudgetState(contention=1.0)
    state.release(0.0, take(state, 0.0), answer(5, 4, 10), answered=True)
    state.release(3.0, take(state, 0.5), answer(5, 4, 10), answered=True)  # a later window
    assert state.window_end == pytest.approx(13.0)
    assert state.generation == 1


def test_a_429_blocks_everyone_until_its_reset_but_never_for_zero() -> None:
    state = BudgetState()
    ticket = take(state, 0.0)
    assert state.rate_limited(0.0, ticket, answer(5, 0, 3)) == pytest.approx(3.0)
    assert state.try_acquire(1.0) == pytest.approx(2.0)
    ticket = take(state, 3.0)
    assert state.rate_limited(3.0, ticket, answer(5, 0, 0)) > 0
    ticket = take(state, 5.0)
    with_retry_after = answer(5, 0, 1, retry_after=4.0)
    assert state.rate_limited(5.0, ticket, with_retry_after) == pytest.approx(4.0)


def test_a_429_without_a_usable_reset_backs_off_longer_each_time() -> None:
    state = BudgetState()
    waits = []
    now = 0.0
    for _ in range(6):  # 1 s doubling: below the 60 s ceiling
        ticket = take(state, now)
        wait = state.rate_limited(now, ticket, RateLimitHeaders(5, 0, None))
        assert state.try_acquire(now) == pytest.approx(wait)  # the whole budget waits
        waits.append(wait)
        now += wait
    assert waits[0] >= 0.5
    assert all(later >= earlier * 0.999 for earlier, later in itertools.pairwise(waits))
    assert max(waits) <= 60
    # an answer that is not a 429 ends the streak
    state.release(now, take(state, now), answer(5, 4, 5), answered=True)
    assert state.backoff_streak == 0


def test_the_backoff_after_a_429_without_reset_is_never_zero_and_grows() -> None:
    class Lowest:
        def random(self) -> float:
            return 0.0

    lows = [rate_limit_backoff(n, Lowest()) for n in range(1, 10)]  # type: ignore[arg-type]
    assert lows[0] == 0.5
    assert lows == sorted(lows)
    assert lows[-1] == 30.0


def test_a_429_asking_for_too_long_holds_nobody_else() -> None:
    state = BudgetState()
    ticket = take(state, 0.0)
    refused = RateLimitHeaders(5, 0, None, refused=1.7e9)
    assert state.rate_limited(0.0, ticket, refused) == 0
    assert state.try_acquire(0.0) is None  # the next call asks again at once


def test_a_200_with_an_epoch_reset_holds_nobody() -> None:
    state = BudgetState()
    epoch = parse_rate_limit_headers(
        {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000"},
        max_wait=300,
    )
    state.release(0.0, take(state, 0.0), epoch, answered=True)
    assert state.window_end is None
    assert state.try_acquire(0.1) is None  # spent, no end known: one request asks
    assert state.try_acquire(0.1) == math.inf


def test_off_mode_ignores_budget_but_honours_429() -> None:
    state = BudgetState(mode="off")
    state.release(0.0, take(state, 0.0), answer(1, 0, 60), answered=True)
    assert state.try_acquire(0.0) is None
    ticket = take(state, 0.0)
    state.rate_limited(0.0, ticket, answer(1, 0, 2))
    assert state.try_acquire(1.0) == pytest.approx(1.0)
    # Answers of a later window do not make the 429s of requests sent before it count
    # for less: with pacing off, every 429 holds every request until its reset.
    late = take(state, 2.0)
    state.release(2.1, take(state, 2.0), answer(1, 0, 2), answered=True)
    assert not state.open
    assert state.rate_limited(2.1, late, answer(1, 0, 2)) == pytest.approx(2.0)


def test_fixed_rate_spaces_requests() -> None:
    state = BudgetState(mode="fixed", rate=10.0)
    assert state.try_acquire(0.0) is None
    assert state.try_acquire(0.0) == pytest.approx(0.1)
    assert state.try_acquire(0.1) is None


# --- the rounding of reset ------------------------------------------------------------------


def spend_a_window(state: BudgetState, now: float, limit: int, reset: float) -> None:
    while state.try_acquire(now) is None:
        state.release(now, state.ticket, answer(limit, 0, reset), answered=True)


def test_a_server_rounding_down_costs_one_429_then_a_second_more_each_window() -> None:
    state = BudgetState(contention=1.0)
    # A 5 s window opened at 0.0; rounded down, its first answer says 4 s are left.
    state.release(0.01, take(state, 0.0), answer(10, 9, 4), answered=True)
    spend_a_window(state, 0.02, 10, 4)
    assert state.window_end == pytest.approx(4.01)
    probe = take(state, 4.01)  # the estimated end, but the window lasts until 5.0
    wait = state.rate_limited(4.02, probe, answer(10, 0, 0))
    assert state.margin == 1.0  # learned: whole seconds are rounded down
    assert 4.02 + wait >= 5.0
    # The next window opened at 5.02: its answers say 4, and now mean up to 5.
    state.release(5.03, take(state, 5.02), answer(10, 9, 4), answered=True)
    assert state.window_end == pytest.approx(10.03)


def test_a_server_rounding_up_or_sending_fractions_learns_no_margin() -> None:
    for reset in (5.0, 4.99):
        state = BudgetState(contention=1.0)
        state.release(0.01, take(state, 0.0), answer(10, 9, reset), answered=True)
        spend_a_window(state, 0.02, 10, reset)
        state.release(5.02, take(state, state.window_end or 0.0), answer(10, 9, 5), answered=True)
        assert state.margin == 0.0


def test_a_429_mid_window_keeps_the_earlier_estimate_of_the_end() -> None:
    state = BudgetState(contention=1.0)
    state.release(0.01, take(state, 0.0), answer(10, 9, 5), answered=True)  # ends by 5.01
    ticket = take(state, 1.5)
    wait = state.rate_limited(1.5, ticket, answer(10, 0, 4))  # ceil(3.5): says by 5.5
    assert 1.5 + wait == pytest.approx(5.01)


# --- several sessions on one budget --------------------------------------------------------------


def test_a_session_keeps_to_its_share_of_what_it_drew_last_window() -> None:
    state = BudgetState(contention=2.0)
    state.release(0.0, take(state, 0.0), answer(10, 8, 5), answered=True)
    taken = 1 + sum(state.try_acquire(0.01) is None for _ in range(10))
    assert taken == 5  # half of 10, the probe included
    # The others' half stays theirs for a moment: they may begin the window later.
    wait = state.try_acquire(0.02)
    assert wait == pytest.approx(LEFTOVER_GRACE - 0.02, abs=0.01)


def test_after_the_grace_what_the_others_left_is_taken_one_at_a_time_while_they_draw() -> None:
    state = BudgetState(contention=2.0)
    state.release(0.0, take(state, 0.0), answer(10, 9, 5), answered=True)
    for _ in range(4):
        state.release(0.01, take(state, 0.01), answer(10, 9, 5), answered=True)
    late = LEFTOVER_GRACE + 0.1
    extra = take(state, late)
    assert state.try_acquire(late) == math.inf  # one beyond the share in flight at a time
    state.release(late, extra, answer(10, 3, 4), answered=True)  # others drew meanwhile
    assert state.crowded
    assert take(state, late) is not None
    assert state.try_acquire(late) == math.inf


def test_in_a_first_window_shared_with_others_each_takes_an_equal_part() -> None:
    state = BudgetState()
    now = 0.0
    server_used = 0
    for _ in range(20):  # three sessions take turns, one request each
        ticket = take(state, now)
        server_used += 3
        state.release(now, ticket, answer(60, 60 - server_used, 5), answered=True)
        now += 0.01
        if state.turn_share is not None:
            break
    assert state.crowded
    assert state.turn_share == 20
    # ... reached one request at a time (the first window is not worth a burst) ...
    take(state, now)
    assert state.try_acquire(now) == math.inf
    # ... and what it drew, in a window used up by others too, is its share next time.
    state.release(now, state.ticket, answer(60, 0, 5), answered=True)
    own = state.own_answers
    assert state.try_acquire(6.0) is None  # the next window: one request opens it
    assert state.contention == pytest.approx(60 / own)


def test_a_window_shared_with_others_counts_as_used_up() -> None:
    """The last answer a session saw may be from before the others took the rest."""
    state = BudgetState(contention=4.0)
    state.release(0.0, take(state, 0.0), answer(60, 50, 5), answered=True)  # 10 used
    for remaining in range(45, 31, -1):
        state.release(0.01, take(state, 0.01), answer(60, remaining, 5), answered=True)
    assert state.crowded
    assert state.server_used == 60 - 32  # all this session saw of the window
    take(state, 5.0)  # the next window
    assert state.contention == pytest.approx(60 / 15)  # not 28 / 15


def test_with_the_others_gone_what_they_leave_is_free_at_once() -> None:
    state = BudgetState(contention=2.0)
    # Others were well ahead when this session opened the last window ...
    state.release(0.0, take(state, 0.0), answer(60, 29, 5), answered=True)
    assert state.behind
    state.release(0.01, take(state, 0.01), answer(60, 0, 5), answered=True)
    # ... and nobody is ahead now: they are done, not late. No grace.
    state.release(5.01, take(state, 5.0), answer(60, 59, 5), answered=True)
    for _ in range(29):
        state.release(5.02, take(state, 5.02), answer(60, 30, 5), answered=True)
    assert state.leftover_from == pytest.approx(5.01)
    assert state.try_acquire(5.03) is None  # past its share at once


async def test_pacer_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="pacing"):
        Pacer("fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pacing"):
        Pacer(0)


async def test_pacer_wakes_waiters_when_an_answer_arrives() -> None:
    pacer = Pacer()
    probe = await pacer.acquire()
    second = asyncio.ensure_future(pacer.acquire())
    await asyncio.sleep(0.01)
    assert not second.done()
    pacer.release(probe, RateLimitHeaders(10, 9, 60), answered=True)
    await asyncio.wait_for(second, 1.0)


async def test_pacer_wakes_timed_waiters_when_the_window_end_moves_earlier() -> None:
    clock = [0.0]
    pacer = Pacer(clock=lambda: clock[0])
    pacer.state.contention = 1.0
    first = await pacer.acquire()
    pacer.release(first, RateLimitHeaders(2, 1, 60), answered=True)  # ends by 60
    second = await pacer.acquire()
    waiting = asyncio.ensure_future(pacer.acquire())  # spent: waits 60 s
    await asyncio.sleep(0.01)
    assert not waiting.done()
    clock[0] = 1.0
    pacer.release(second, RateLimitHeaders(2, 0, 0), answered=True)  # ends by 1.0: now
    await asyncio.wait_for(waiting, 1.0)


async def test_a_long_wait_is_logged_once_however_many_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pacer = Pacer()
    ticket = await pacer.acquire()
    pacer.rate_limited(ticket, RateLimitHeaders(5, 0, 0.3))
    with caplog.at_level(logging.WARNING, logger="aioubiwebhooks"):
        await asyncio.gather(*(pacer.acquire() for _ in range(1)))
        waiters = [asyncio.ensure_future(pacer.acquire()) for _ in range(20)]
        await asyncio.sleep(0.05)
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    assert len([r for r in caplog.records if "waiting" in r.getMessage()]) == 1


def test_one_session_with_many_in_flight_is_not_taken_for_several() -> None:
    """Between two answers the server counts whatever of this session's own requests in
    flight it reached first: that is not others drawing on the budget."""
    state = BudgetState()
    big = 10**9
    state.release(0.0, take(state, 0.0), answer(big, big - 1, 60), answered=True)
    counted = 1
    for _ in range(8):  # rounds: send what is allowed, then the answers come back
        tickets = []
        while state.try_acquire(0.01) is None:
            tickets.append(state.ticket)
        counted += len(tickets)  # the server counts them all before the first answer
        for ticket in tickets[::-1]:
            state.release(0.02, ticket, answer(big, big - counted, 60), answered=True)
    assert not state.crowded
    assert state.ramp >= 64  # doubling with each round while alone


def test_a_window_this_session_had_alone_gives_a_contention_of_one() -> None:
    """Not crowded: the server counted only this session's requests, however few of the
    window's budget they were."""
    state = BudgetState()
    for used in range(1, 4):
        state.release(
            0.01 * used, take(state, 0.01 * used), answer(10, 10 - used, 5), answered=True
        )
    assert not state.crowded
    take(state, 6.0)  # the next window
    assert state.contention == 1.0


def test_each_window_moves_the_generation_on_and_starts_its_count_afresh() -> None:
    state = BudgetState()
    state.release(0.0, take(state, 0.0), answer(10, 9, 2), answered=True)
    first = take(state, 2.0)  # the second window
    state.release(2.0, first, answer(10, 9, 2), answered=True)
    second = take(state, 4.0)  # the third
    assert state.generation == 2
    # Its first answer shows one request besides this one: someone else draws on it.
    state.release(4.0, second, answer(10, 8, 2), answered=True)
    assert state.crowded


def test_within_its_share_a_session_keeps_no_more_in_flight_than_the_server_has_left() -> None:
    """Its share is the whole window (it was alone last time), but others already took
    seven of ten: three may go, not ten."""
    state = BudgetState(contention=1.0)
    state.release(0.0, take(state, 0.0), answer(10, 3, 5), answered=True)
    in_flight = 0
    while state.try_acquire(0.01) is None:
        in_flight += 1
    assert in_flight == 3


def test_a_session_ramps_up_to_half_of_its_part_of_what_is_left() -> None:
    """Its first answer finds 60 of 100 drawn on (an earlier run's): those are no one's
    now. Alone since, its part is everything, so it doubles each round of answers until
    half of what is left stops it (24 left: 12)."""
    state = BudgetState()
    state.release(0.0, take(state, 0.0), answer(100, 39, 60), answered=True)
    counted, rounds = 61, []
    for _ in range(5):
        tickets = []
        while state.try_acquire(0.01) is None:
            tickets.append(state.ticket)
        rounds.append(len(tickets))
        for ticket in tickets:
            counted += 1
            state.release(0.02, ticket, answer(100, 100 - counted, 60), answered=True)
    assert rounds == [1, 2, 4, 8, 12]
    assert not state.crowded


def test_a_share_is_the_limit_over_the_contention_rounded_down_and_at_least_one() -> None:
    assert BudgetState(contention=3.0)._share(10) == 3
    assert BudgetState(contention=3.0)._share(3) == 1
    assert BudgetState(contention=8.0)._share(3) == 1
    # In a first window: an equal part for each session seen taking turns.
    alone = BudgetState(turns=[1] * 12)
    assert alone._share(10) == 10
    three = BudgetState(turns=[3] * 12)
    assert three._share(10) == 3
    assert type(three.turn_share) is int
    crowd = BudgetState(turns=[3] * 12)
    assert crowd._share(3) == 1
    assert BudgetState(turns=[3] * 11)._share(10) is None  # too few turns to judge


def test_an_answer_with_only_some_of_the_headers_is_still_read() -> None:
    assert parse_rate_limit_headers(
        {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "3"}
    ) == RateLimitHeaders(5, 3, None)
    assert parse_rate_limit_headers({"x-ratelimit-reset": "90"}, max_wait=60.0) == (
        RateLimitHeaders(0, 0, None, refused=90.0)
    )
    assert parse_rate_limit_headers({"retry-after": "90"}, max_wait=60.0) == (
        RateLimitHeaders(0, 0, None, refused=90.0)
    )


def test_a_wait_as_long_as_the_caller_allows_is_usable() -> None:
    said = {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "60"}
    assert parse_rate_limit_headers(said, max_wait=60.0) == RateLimitHeaders(5, 0, 60.0)
    only_retry_after = parse_rate_limit_headers({"retry-after": "60"}, max_wait=60.0)
    assert only_retry_after == RateLimitHeaders(0, 0, None, retry_after=60.0)


def test_a_pacer_takes_each_mode_and_refuses_a_rate_of_zero() -> None:
    assert Pacer("auto").state.mode == "auto"
    assert Pacer("off").state.mode == "off"
    assert Pacer(2.5).state.mode == "fixed"
    assert Pacer(0.5).state.rate == 0.5  # one request every two seconds
    with pytest.raises(ValueError, match="positive rate"):
        Pacer(0)


async def test_a_refused_429_in_an_open_window_holds_nobody() -> None:
    pacer = Pacer(clock=lambda: 0.0)
    pacer.release(await pacer.acquire(), answer(10, 9, 2), answered=True)
    assert pacer.state.window_end == 2.0
    ticket = await pacer.acquire()
    assert pacer.rate_limited(ticket, answer(10, 0, None, refused=1.7e9)) == 0
    assert pacer.state.window_end is None


def test_what_makes_a_budget_and_what_does_not() -> None:
    def read(**said: str) -> RateLimitHeaders | None:
        return parse_rate_limit_headers({f"x-ratelimit-{k}": v for k, v in said.items()})

    assert read(limit="1", remaining="0", reset="3") == RateLimitHeaders(1, 0, 3.0)
    assert read(limit="5", reset="3") is None  # no remaining: no budget to follow
    both = {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "retry-after": "3"}
    assert parse_rate_limit_headers(both) == RateLimitHeaders(5, 0, None, retry_after=3.0)
    short = parse_rate_limit_headers({"retry-after": "0.8"}, max_wait=0.5)
    assert short == RateLimitHeaders(0, 0, None, refused=0.8)


def test_only_an_answer_with_a_limit_teaches_the_budget() -> None:
    state = BudgetState()
    state.release(0.0, take(state, 0.0), RateLimitHeaders(0, 0, None, 1.0), answered=True)
    assert state.limit is None  # a Retry-After alone says nothing of the window
    state.release(0.1, take(state, 0.1), answer(1, 0, 2), answered=True)
    assert state.limit == 1


def test_a_window_drawn_on_before_the_first_request_is_not_a_crowd_by_itself() -> None:
    """An earlier run may have used part of the window: the session starts counting there,
    one request at a time, and ramps up while the count grows only by its own requests."""
    state = BudgetState()
    big = 10**9
    counted = 8000  # used before this session's first request
    counted += 1
    state.release(0.0, take(state, 0.0), answer(big, big - counted, 60), answered=True)
    assert not state.crowded
    assert state.try_acquire(0.01) is None  # one at a time for the next answer ...
    assert state.try_acquire(0.01) == math.inf
    counted += 1
    state.release(0.02, state.ticket, answer(big, big - counted, 60), answered=True)
    assert not state.crowded  # ... which shows nobody else drawing: it ramps up
    assert state.ramp >= 2


def test_others_drawing_after_the_first_answer_still_make_a_crowd() -> None:
    state = BudgetState()
    state.release(0.0, take(state, 0.0), answer(60, 50, 5), answered=True)  # 10 before
    state.release(0.01, take(state, 0.01), answer(60, 47, 5), answered=True)  # 2 others
    assert state.crowded
    assert state.ramp == 1


@given(
    st.integers(0, 10**15 - 1),
    st.integers(0, 10**15 - 1),
    st.integers(0, 10**15 - 1),
    st.sampled_from([math.inf, 60.0, 86_400.0]),
)
def test_whole_numbers_read_as_the_same_numbers_written_with_a_fraction(
    limit: int, remaining: int, reset: int, max_wait: float
) -> None:
    """Plain whole numbers take a shorter way through the reader: it must agree."""
    plain = {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining),
             "x-ratelimit-reset": str(reset)}  # fmt: skip
    written = {key: value + ".0" for key, value in plain.items()}
    assert parse_rate_limit_headers(plain, max_wait=max_wait) == parse_rate_limit_headers(
        written, max_wait=max_wait
    )


@pytest.mark.parametrize("text", ["٣", "²", "1" * 16, "+5", " 5", "-1"])
def test_numbers_outside_the_short_way_are_read_as_before(text: str) -> None:
    headers = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": text, "x-ratelimit-reset": "5"}
    expected = _seconds(text)
    parsed = parse_rate_limit_headers(headers)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert parsed.remaining == min(int(expected), 10)


# --- the details of sharing a window -------------------------------------------------------------


def test_a_lost_probe_of_a_later_window_lets_the_next_probe_go() -> None:
    state = BudgetState(contention=1.0)
    state.release(0.0, take(state, 0.0), answer(3, 2, 2), answered=True)
    probe = take(state, 2.0)  # the second window: one request asks
    assert state.generation == 1
    assert state.try_acquire(2.0) == math.inf
    state.release(2.1, probe, None, answered=False)  # it never got an answer
    assert state.try_acquire(2.1) is None  # so the next one asks instead


@pytest.mark.parametrize(
    ("limit", "used_then", "used_now", "grace"),
    [
        (62, 16, 1, 0.0),  # others had a quarter of the window (and one): they are done
        (62, 15, 1, LEFTOVER_GRACE),  # not quite a quarter: not judged ahead
        (8, 3, 1, 0.0),  # a small window: at least two of the others' requests ahead
        (8, 2, 1, LEFTOVER_GRACE),
        (62, 16, 2, LEFTOVER_GRACE),  # somebody drew before this session now: keep the grace
    ],
)
def test_leftovers_are_free_at_once_only_when_others_well_ahead_are_gone(
    limit: int, used_then: int, used_now: int, grace: float
) -> None:
    state = BudgetState()
    # The first answer of the last window: ``used_then`` counted, this session's one included.
    state.release(0.0, take(state, 0.0), answer(limit, limit - used_then, 5), answered=True)
    state.release(5.01, take(state, 5.0), answer(limit, limit - used_now, 5), answered=True)
    assert state.leftover_from == pytest.approx(5.01 + grace)


def test_a_session_alone_last_window_keeps_the_grace_for_others_who_may_start_late() -> None:
    state = BudgetState(contention=2.0)
    state.release(0.0, take(state, 0.0), answer(10, 9, 5), answered=True)  # only its own
    for _ in range(4):
        state.release(0.01, take(state, 0.01), answer(10, 8, 5), answered=True)
    wait = state.try_acquire(0.02)  # its share of 5 taken; the rest stays the others' ...
    assert wait == pytest.approx(LEFTOVER_GRACE - 0.02)


def test_in_a_window_shorter_than_a_second_the_grace_is_half_of_what_is_left() -> None:
    state = BudgetState(contention=2.0)
    state.release(10.0, take(state, 10.0), answer(10, 8, 0.6), answered=True)  # ends by 10.6
    for _ in range(4):
        state.release(10.01, take(state, 10.01), answer(10, 6, 0.59), answered=True)
    assert state.try_acquire(10.05) == pytest.approx(0.25)  # until 10.3, not 10.5


def test_a_session_past_its_share_takes_the_rest_once_the_others_used_their_part() -> None:
    state = BudgetState(contention=2.0)  # a share of 10 of 20
    state.release(0.0, take(state, 0.0), answer(20, 19, 5), answered=True)
    tickets = [take(state, 0.01) for _ in range(9)]
    for ticket in tickets[:2]:  # two never reached the server
        state.release(0.02, ticket, None, answered=False)
    for used, ticket in enumerate(tickets[2:], start=12):  # the others drew 10 meanwhile
        state.release(0.03, ticket, answer(20, 20 - used, 5), answered=True)
    # Within the grace, but the others have had their part: what is left is anyone's.
    assert state.try_acquire(0.04) is None


def test_after_following_the_server_into_a_later_window_that_window_is_open() -> None:
    state = BudgetState(contention=1.0)
    state.release(0.0, take(state, 0.0), answer(5, 4, 10), answered=True)
    state.release(3.0, take(state, 0.5), answer(5, 4, 10), answered=True)  # a later window
    assert state.generation == 1
    # Its figures came with the answer: no probe needed, the share goes at once.
    assert [state.try_acquire(3.0) for _ in range(2)] == [None, None]


def test_the_learned_margin_is_never_added_to_a_fractional_reset() -> None:
    state = BudgetState(contention=1.0, margin=1.0)  # whole seconds are rounded down
    state.release(0.0, take(state, 0.0), answer(10, 9, 2.5), answered=True)
    assert state.window_end == pytest.approx(2.5)
    state.release(0.1, take(state, 0.1), answer(10, 8, 2), answered=True)  # whole: 2 + 1
    assert state.window_end == pytest.approx(2.5)
    state.release(0.2, take(state, 0.2), answer(10, 7, 1), answered=True)
    assert state.window_end == pytest.approx(2.2)


def test_a_window_opened_without_a_reset_learns_its_end_from_a_later_answer() -> None:
    state = BudgetState(contention=1.0)
    state.release(0.0, take(state, 0.0), RateLimitHeaders(3, 2, None), answered=True)
    assert state.window_end is None
    state.release(0.1, take(state, 0.1), answer(3, 1, 2), answered=True)
    assert state.window_end == pytest.approx(2.1)
    take(state, 0.2)
    assert state.try_acquire(0.2) == pytest.approx(1.9)  # spent: until that end


def test_an_answer_without_a_reset_keeps_the_end_already_known() -> None:
    state = BudgetState(contention=1.0)
    state.release(0.0, take(state, 0.0), answer(5, 4, 2), answered=True)
    state.release(0.1, take(state, 0.1), RateLimitHeaders(5, 3, None), answered=True)
    assert state.window_end == pytest.approx(2.0)


def test_alone_in_a_first_window_the_number_in_flight_doubles_each_round() -> None:
    state = BudgetState()
    big = 10**9
    counted = 0
    rounds = []
    for _ in range(5):
        tickets = []
        while state.try_acquire(0.01) is None:
            tickets.append(state.ticket)
        rounds.append(len(tickets))
        counted += len(tickets)
        for ticket in tickets[::-1]:
            state.release(0.02, ticket, answer(big, big - counted, 60), answered=True)
    assert rounds == [1, 2, 4, 8, 16]


def test_the_turns_counted_are_those_after_others_showed() -> None:
    """A caller sending one request at a time, first alone, then among two others."""
    state = BudgetState()
    now = 0.0
    server_used = 0
    for _ in range(10):  # alone
        ticket = take(state, now)
        server_used += 1
        state.release(now, ticket, answer(600, 600 - server_used, 5), answered=True)
        now += 0.01
    assert not state.crowded
    for _ in range(14):  # three sessions take turns, one request each
        ticket = take(state, now)
        server_used += 3
        state.release(now, ticket, answer(600, 600 - server_used, 5), answered=True)
        now += 0.01
        if state.turn_share is not None:
            break
    assert state.turn_share == 200  # an equal part of three


def test_turns_in_which_only_this_session_drew_count_as_one_session() -> None:
    """Somebody drew once, then stopped: the turns show this session alone again."""
    state = BudgetState()
    state.release(0.0, take(state, 0.0), answer(60, 59, 5), answered=True)
    state.release(0.01, take(state, 0.01), answer(60, 56, 5), answered=True)  # 2 others
    assert state.crowded
    server_used = 4
    now = 0.02
    for _ in range(13):
        ticket = take(state, now)
        server_used += 1
        state.release(now, ticket, answer(60, 60 - server_used, 5), answered=True)
        now += 0.01
        if state.turn_share is not None:
            break
    assert state.turn_share == 60  # the whole window: nobody else takes turns


def test_requests_out_before_a_refusing_429_hold_the_next_one_back() -> None:
    """A server that sent no budget at first may refuse with a reset too long to wait for:
    the session knows no window then, and one request asks only once the others are back."""
    state = BudgetState()
    state.release(0.0, take(state, 0.0), None, answered=True)  # no headers: not paced
    tickets = [take(state, 0.1) for _ in range(3)]
    refused = RateLimitHeaders(5, 0, None, refused=90_000.0)
    assert state.rate_limited(0.2, tickets[0], refused) == 0.0
    assert state.try_acquire(0.2) == math.inf  # two still out: wait for their answers
    state.release(0.3, tickets[1], None, answered=False)
    state.release(0.3, tickets[2], None, answered=False)
    assert state.try_acquire(0.3) is None


def test_a_429_with_the_three_headers_keeps_its_retry_after() -> None:
    parsed = parse_rate_limit_headers(
        {
            "x-ratelimit-limit": "300",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": "7",
            "retry-after": "9",
        }
    )
    assert parsed == RateLimitHeaders(300, 0, 7.0, retry_after=9.0)


def test_a_limit_of_one_is_a_budget_also_beside_a_retry_after() -> None:
    parsed = parse_rate_limit_headers(
        {
            "x-ratelimit-limit": "1",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": "4",
            "retry-after": "4",
        }
    )
    assert parsed == RateLimitHeaders(1, 0, 4.0, retry_after=4.0)


def test_a_remaining_count_and_a_reset_without_a_limit_make_no_budget() -> None:
    assert (
        parse_rate_limit_headers({"x-ratelimit-remaining": "5", "x-ratelimit-reset": "3"}) is None
    )


def test_one_request_drawn_before_the_first_answer_is_where_counting_starts() -> None:
    """The least an earlier run (or another client) can have drawn: one request."""
    state = BudgetState()
    state.release(0.0, take(state, 0.0), answer(60, 58, 5), answered=True)
    assert not state.crowded


def test_a_reset_of_exactly_the_callers_bound_is_still_a_wait() -> None:
    parsed = parse_rate_limit_headers(
        {
            "x-ratelimit-limit": "60",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": "30",
            "retry-after": "30",
        },
        max_wait=30,
    )
    assert parsed == RateLimitHeaders(60, 0, 30.0, retry_after=30.0)
