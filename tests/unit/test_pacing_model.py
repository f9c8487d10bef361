"""Pacing against a model of the server, in simulated time: many windows in milliseconds.

A fixed-window limiter (the emulator's rule: a window opens with the first request
after the last one ended) answers clients that each keep a :class:`BudgetState` and
64 requests waiting, over a loopback-like latency. Nothing here measures speed: time
is simulated, so the figures are exact and the same on every machine. The real thing
is measured in ``benchmarks/`` (``paced.py``, ``shared_budget.py``).
"""

from __future__ import annotations

import collections
import heapq
import math
import random
from collections.abc import Callable
from typing import Literal

import attrs
import pytest

from aioubiwebhooks._ratelimit import BudgetState, parse_rate_limit_headers

Rounding = Literal["up", "down", "fractions"]


class Limiter:
    """``limit`` per ``window`` seconds; counts the 429s per client and window."""

    def __init__(self, limit: int, window: float, rounding: Rounding) -> None:
        self.limit, self.window, self.rounding = limit, window, rounding
        self.ends = -math.inf
        self.used = 0
        self.index = -1
        self.refused: collections.Counter[tuple[int, int]] = collections.Counter()

    def hit(self, now: float, client: int) -> tuple[int, dict[str, str]]:
        if now >= self.ends:
            self.ends, self.used, self.index = now + self.window, 0, self.index + 1
        left = round(self.ends - now, 6)
        if self.rounding == "up":
            reset: float = max(1, math.ceil(left))
        elif self.rounding == "down":
            reset = math.floor(left)
        else:
            reset = left
        headers = {"x-ratelimit-limit": str(self.limit), "x-ratelimit-reset": str(reset)}
        if self.used >= self.limit:
            self.refused[client, self.index] += 1
            return 429, {**headers, "x-ratelimit-remaining": "0"}
        self.used += 1
        return 200, {**headers, "x-ratelimit-remaining": str(self.limit - self.used)}


@attrs.frozen
class Result:
    elapsed: float  # simulated seconds until the last answer
    ratio: float  # elapsed over the minimum: the time until the last window opens
    worst: int  # the most 429s one client met in one window
    refused: int


def simulate(
    clients: int,
    each: int,
    limit: int,
    window: float,
    rounding: Rounding,
    *,
    seed: int = 1,
    concurrency: int = 64,
    pacing: Literal["auto", "off"] = "auto",
    one_way: tuple[float, float] = (0.0003, 0.002),
    skew: float = 0.0,
    turns: float = 0.0,
) -> Result:
    rng = random.Random(seed)
    server = Limiter(limit, window, rounding)
    events: list[tuple[float, int, Callable[[float], None]]] = []
    order = iter(range(10**9))
    states = [BudgetState(mode=pacing) for _ in range(clients)]
    waiting: list[list[Callable[[float], None]]] = [[] for _ in range(clients)]
    left = [each] * clients
    finished = [0.0] * clients

    def at(when: float, step: Callable[[float], None]) -> None:
        heapq.heappush(events, (when, next(order), step))

    def latency() -> float:
        return rng.uniform(*one_way)

    # Processes sharing a few cores run in turns: with ``turns``, each client reads its
    # answers only at its own ticks, that many seconds apart, all that came meanwhile.
    phases = [rng.uniform(0, turns) for _ in range(clients)]

    def turn(client: int, now: float) -> float:
        if not turns:
            return now
        phase = phases[client]
        return phase + math.ceil((now - phase) / turns) * turns

    def wake(client: int, now: float) -> None:
        steps, waiting[client] = waiting[client], []
        for step in steps:
            at(now, step)

    def worker(client: int) -> Callable[[float], None]:
        state = states[client]

        def next_item(now: float) -> None:
            if left[client]:
                left[client] -= 1
                attempt(now)

        def attempt(now: float) -> None:
            wait = state.try_acquire(now)
            if wait is None:
                ticket = state.ticket
                at(now + latency(), lambda t: arrive(t, ticket))
                return
            done = [False]

            def once(t: float) -> None:
                if not done[0]:
                    done[0] = True
                    attempt(t)

            waiting[client].append(once)  # woken by any answer, like the pacer
            if not math.isinf(wait):
                at(now + wait, once)

        def arrive(now: float, ticket: int) -> None:
            status, headers = server.hit(now, client)
            at(turn(client, now + latency()), lambda t: answered(t, ticket, status, headers))

        def answered(now: float, ticket: int, status: int, headers: dict[str, str]) -> None:
            limits = parse_rate_limit_headers(headers, max_wait=300)
            if status == 429:
                state.rate_limited(now, ticket, limits, rng)
                wake(client, now)
                attempt(now)
            else:
                state.release(now, ticket, limits, answered=True)
                wake(client, now)
                finished[client] = now
                next_item(now)

        return next_item

    for client in range(clients):
        for _ in range(concurrency):
            at(client * skew + rng.uniform(0, 0.001), worker(client))
    steps = 0
    while events and steps < 2_000_000:
        now, _, step = heapq.heappop(events)
        step(now)
        steps += 1
    assert not events, "the simulation did not finish"
    minimum = (math.ceil(clients * each / limit) - 1) * window
    return Result(
        elapsed=max(finished),
        ratio=max(finished) / minimum if minimum else 1.0,
        worst=max(server.refused.values(), default=0),
        refused=sum(server.refused.values()),
    )


def test_one_session_far_below_its_limit_keeps_its_requests_in_flight() -> None:
    """A budget it cannot spend (the emulator's open window: a billion a minute) must
    not slow a session down: its own requests in flight are not others drawing."""
    result = simulate(1, 1000, 10**9, 60.0, "up")
    assert result.refused == 0
    assert result.elapsed < 0.2  # 64 at a time; one at a time would take about 1.2 s


@pytest.mark.parametrize("rounding", ["up", "down", "fractions"])
def test_one_session_meets_at_most_one_429_whatever_the_rounding(rounding: Rounding) -> None:
    result = simulate(1, 300, 100, 5.0, rounding)
    assert result.refused <= 1  # a server that rounds down costs one, once
    assert result.ratio < 1.01


@pytest.mark.parametrize("rounding", ["up", "fractions"])
@pytest.mark.parametrize(("clients", "each"), [(2, 90), (4, 60), (4, 150)])
def test_sessions_sharing_a_budget_meet_at_most_one_429_each_per_window(
    clients: int, each: int, rounding: Rounding
) -> None:
    limit = 100 if each == 150 else 60
    for seed in (1, 2, 3):
        result = simulate(clients, each, limit, 5.0, rounding, seed=seed)
        assert result.worst <= 1, (seed, result)
        assert result.ratio <= 1.1, (seed, result)


@pytest.mark.parametrize(("clients", "each", "skew"), [(2, 90, 0.08), (4, 60, 0.03), (4, 60, 0.08)])
def test_sessions_starting_a_little_apart_still_share_the_budget(
    clients: int, each: int, skew: float
) -> None:
    """Processes started together still begin tens of milliseconds apart: the first one
    has part of the first window to itself, and the others must not pay for it later."""
    for seed in (1, 2):
        result = simulate(clients, each, 60, 5.0, "up", seed=seed, skew=skew)
        assert result.worst <= 1, (seed, result)
        assert result.ratio <= 1.1, (seed, result)


@pytest.mark.parametrize("clients", [2, 4])
@pytest.mark.parametrize("skew", [0.01, 0.03, 0.08])
def test_sessions_that_run_in_turns_still_meet_one_429_each_per_window(
    clients: int, skew: float
) -> None:
    """Processes on a busy machine read their answers in bursts. One that ramped up while
    the others' requests hid behind its own in flight must not be caught with several in
    flight when the window runs out (measured before: up to four 429s in one window)."""
    for turns in (0.004, 0.008, 0.016, 0.03):
        for seed in (1, 2, 3, 4):
            result = simulate(
                clients, 240 // clients, 60, 5.0, "up", seed=seed, skew=skew, turns=turns
            )
            assert result.worst <= 1, (turns, seed, result)
            assert result.ratio <= 1.1, (turns, seed, result)


def test_over_a_real_network_each_session_keeps_to_its_share() -> None:
    """40 to 120 ms round trips and the API's own limit (300 a minute): one request at a
    time would leave a window half used; shares are sent at once when it opens."""
    for seed in (1, 2):
        result = simulate(2, 450, 300, 60.0, "up", seed=seed, one_way=(0.02, 0.06))
        assert result.worst <= 1, (seed, result)
        assert result.ratio <= 1.02, (seed, result)
        alone = simulate(1, 900, 300, 60.0, "up", seed=seed, one_way=(0.02, 0.06))
        assert alone.refused == 0
        assert alone.ratio <= 1.01, (seed, alone)


def test_sessions_sharing_a_budget_that_rounds_down_learn_it_once() -> None:
    for seed in (1, 2, 3):
        result = simulate(2, 90, 60, 5.0, "down", seed=seed)
        assert result.worst <= 2, (seed, result)  # in the window where it is learned
        assert result.ratio <= 1.1, (seed, result)


def test_without_pacing_the_same_sessions_collect_429s() -> None:
    """The contrast: sessions that only honour 429s (pacing ``"off"``)."""
    result = simulate(2, 90, 60, 5.0, "up", pacing="off")
    assert result.refused > 30
