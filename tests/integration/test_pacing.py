"""Pacing against a rate-limited emulator: a burst of three windows' budget."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

import pytest
from conftest import webhook_spec

from aioubiwebhooks import WebhooksSession
from aioubiwebhooks.emulator import Emulator

LIMIT, WINDOW = 10, 2.0


async def burst(session: WebhooksSession, count: int) -> float:
    started = time.monotonic()
    await asyncio.gather(*(session.webhooks_list("demo") for _ in range(count)))
    return time.monotonic() - started


async def test_burst_of_three_budgets_takes_two_windows_at_least_and_one_429_each_at_most() -> None:
    async with Emulator(rate_limit=(LIMIT, WINDOW)) as emu:
        async with WebhooksSession(emu.token, emu.url) as session:
            elapsed = await burst(session, 3 * LIMIT)
        windows = math.ceil(elapsed / WINDOW)
        # The last third cannot start before the third window: two full windows at least.
        # (How close to that minimum it finishes is measured by benchmarks/paced.py.)
        assert elapsed >= 2 * WINDOW - 0.1
        assert emu.stats.rate_limited <= windows


async def test_without_pacing_the_same_burst_meets_429s_but_still_finishes() -> None:
    async with Emulator(rate_limit=(LIMIT, WINDOW)) as emu:
        async with WebhooksSession(emu.token, emu.url, pacing="off") as session:
            await burst(session, 3 * LIMIT)
        assert emu.stats.rate_limited >= LIMIT  # the contrast that makes pacing worth it


async def test_concurrent_creates_share_one_budget() -> None:
    async with Emulator(rate_limit=(LIMIT, WINDOW)) as emu:
        async with WebhooksSession(emu.token, emu.url) as session:
            outcomes = await session.bulk_create(
                "demo", [webhook_spec(f"h{i}") for i in range(2 * LIMIT)], concurrency=64
            )
        assert all(o.ok for o in outcomes)
        assert emu.stats.rate_limited <= 2
        assert len(emu.webhooks("demo")) == 2 * LIMIT


async def test_fixed_rate_pacing_spaces_requests() -> None:
    async with Emulator() as emu, WebhooksSession(emu.token, emu.url, pacing=20.0) as session:
        elapsed = await burst(session, 11)
    assert elapsed >= 0.45  # ten intervals of 50 ms


async def test_a_cancelled_request_gives_its_slot_back() -> None:
    async with Emulator(rate_limit=(LIMIT, WINDOW)) as emu:
        emu.faults.latency(1.0)
        async with WebhooksSession(emu.token, emu.url) as session:
            probe = asyncio.ensure_future(session.webhooks_list("demo"))
            await asyncio.sleep(0.2)
            probe.cancel()  # the first request, sent while the budget was still unknown
            with contextlib.suppress(asyncio.CancelledError):
                await probe
            assert session.pacer.state.in_flight == 0
            emu.faults.latency(None)
            assert await asyncio.wait_for(session.webhooks_list("demo"), 5) == []


async def test_against_a_server_rounding_reset_down_at_most_one_429_per_window() -> None:
    """The emulator rounds ``x-ratelimit-reset`` down, as a limiter reporting a Redis TTL
    does: trusted as it is, it sends the client back up to a second early. The session
    learns it from the first refusal and meets no other."""
    async with Emulator(rate_limit=(LIMIT, WINDOW), reset_rounding="down") as emu:
        async with WebhooksSession(emu.token, emu.url) as session:
            started = time.monotonic()
            outcomes = await session.bulk_create(
                "demo", [webhook_spec(f"d{i}") for i in range(3 * LIMIT)], concurrency=64
            )
            elapsed = time.monotonic() - started
        assert all(o.ok for o in outcomes)
        windows = math.ceil(elapsed / WINDOW)
        assert emu.stats.rate_limited <= windows
        assert emu.stats.rate_limited <= 1
        assert session.pacer.state.margin == 1.0


def test_the_emulator_can_round_reset_either_way() -> None:
    from aioubiwebhooks.emulator import FixedWindow

    clock = [100.0]
    up = FixedWindow(5, 2.0, clock=lambda: clock[0])
    down = FixedWindow(5, 2.0, clock=lambda: clock[0], rounding="down")
    assert (up.hit().reset, down.hit().reset) == (2, 2)  # the first request opens the window
    clock[0] += 0.1
    assert (up.hit().reset, down.hit().reset) == (2, 1)
    clock[0] += 1.5
    assert (up.hit().reset, down.hit().reset) == (1, 0)
    with pytest.raises(ValueError, match="rounding"):
        FixedWindow(5, 2.0, rounding="sideways")  # type: ignore[arg-type]
