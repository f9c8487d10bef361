"""await_test, watch_test and await_tests against tests the emulator keeps pending."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import Sink, delivery_spec

from aioubiwebhooks import (
    PollSchedule,
    TestFailedError,
    TestStatus,
    TestTimeoutError,
    WebhooksSession,
    set_testing,
)
from aioubiwebhooks.emulator import Emulator


def polls(emu: Emulator) -> int:
    return emu.stats.requests["webhook_tests_get"]


@pytest.fixture
def real_poll_delays() -> Iterator[None]:
    """Testing mode off for a test of the schedule itself (the suite turns it on)."""
    with set_testing(False):
        yield


SLIP = 1.0
"""Seconds the end of a test, and then the poll that notices it, may come late on a busy
machine (the delivery, the event loop): far more than either takes here, so that load
cannot make a test fail, yet far less than one step of the schedule at these times."""


@pytest.mark.usefixtures("real_poll_delays")
@pytest.mark.parametrize("pending", [0.4, 1.2, 2.5])
async def test_pending_test_is_noticed_soon_with_logarithmic_polls(
    emulator: Emulator, session: WebhooksSession, sink: Sink, pending: float
) -> None:
    emulator.test_delay = pending
    schedule = PollSchedule(jitter=False)
    test = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    started = time.monotonic()
    done = await session.await_test("demo", test.id, schedule=schedule, timeout=60)
    waited = time.monotonic() - started
    assert done.status is TestStatus.COMPLETED
    assert waited >= pending
    # Noticed by the first poll after the end, even if the end came SLIP late.
    noticed_by = next(t for t in schedule.times(60) if t >= pending + SLIP)
    assert waited <= noticed_by + SLIP
    # The documented budget, with the test's actual pending time (the end may come late).
    assert polls(emulator) <= 1.5 * math.log2(waited / schedule.initial_delay) + 3


async def test_testing_mode_polls_without_delays(
    emulator: Emulator, session: WebhooksSession, sink: Sink
) -> None:
    emulator.test_delay = 2.0
    test = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    started = time.monotonic()
    done = await session.await_test("demo", test.id, timeout=60)
    waited = time.monotonic() - started
    assert done.status is TestStatus.COMPLETED
    by_schedule = len(PollSchedule().times(waited))
    assert polls(emulator) > 2 * by_schedule  # the schedule's delays were not slept


async def test_loose_poll_settings_still_work_with_a_warning(
    emulator: Emulator, session: WebhooksSession, sink: Sink
) -> None:
    test = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    with pytest.warns(DeprecationWarning, match="schedule=PollSchedule") as caught:
        done = await session.await_test("demo", test.id, initial_delay=0.05, jitter=False)
    assert done.status is TestStatus.COMPLETED
    assert caught[0].filename == __file__  # the warning points at the caller
    with pytest.warns(DeprecationWarning, match=r"watch_test\(factor=\.\.\.\)"):
        statuses = [d.status async for d in session.watch_test("demo", test.id, factor=2.0)]
    assert statuses == [TestStatus.COMPLETED]
    with pytest.warns(DeprecationWarning, match=r"await_tests\(max_delay=\.\.\.\)"):
        results = [r async for r in session.await_tests("demo", [test.id], max_delay=1.0)]
    assert results[0].ok


async def test_failing_receiver_gives_failed_with_the_message(
    session: WebhooksSession, sink: Sink
) -> None:
    test = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/fail"))
    done = await session.await_test("demo", test.id)
    assert done.status is TestStatus.FAILED
    assert done.error_message is not None
    assert "500" in done.error_message
    again = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/fail"))
    with pytest.raises(TestFailedError, match="500") as caught:
        await session.await_test("demo", again.id, raise_on_failure=True)
    assert caught.value.test_id == again.id


async def test_deadline_raises_with_the_last_status(
    emulator: Emulator, session: WebhooksSession, sink: Sink
) -> None:
    emulator.test_delay = 60.0
    test = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    started = time.monotonic()
    with pytest.raises(TestTimeoutError) as caught:
        await session.await_test("demo", test.id, timeout=0.6)
    assert 0.6 <= time.monotonic() - started < 0.6 + 10 * SLIP  # not before, nor long after
    assert caught.value.last_status == "pending"
    assert "pending after 0.6 s" in str(caught.value)


async def until(condition: Callable[[], bool], limit: float = 30.0) -> None:
    """Wait for ``condition``, checking every 10 ms, for at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def polling_stopped(emu: Emulator, *, in_flight: int) -> bool:
    """Whether the polls have stopped: in testing mode a wait still running polls again at
    once, many times a second; besides the requests already on their way (``in_flight``),
    none may reach the emulator within half a second."""
    await asyncio.sleep(0.1)  # a dropped generator is closed by the event loop
    seen = polls(emu)
    await asyncio.sleep(0.5)
    return polls(emu) <= seen + in_flight


async def test_cancelling_a_wait_leaves_nothing_polling(
    emulator: Emulator, session: WebhooksSession, sink: Sink
) -> None:
    emulator.test_delay = 60.0
    test = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    waiting = asyncio.ensure_future(session.await_test("demo", test.id, timeout=60))
    await until(lambda: polls(emulator) >= 3)  # testing mode: polls follow each other at once
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await polling_stopped(emulator, in_flight=1)


async def test_watch_yields_each_change_once(
    emulator: Emulator, session: WebhooksSession, sink: Sink
) -> None:
    emulator.test_delay = 1.5
    test = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    statuses = [d.status async for d in session.watch_test("demo", test.id, timeout=60)]
    assert statuses == [TestStatus.PENDING, TestStatus.COMPLETED]
    assert polls(emulator) > 2  # polled more often than it reported


@pytest.mark.usefixtures("real_poll_delays")
async def test_await_tests_paces_hundreds_of_waits_under_a_small_limit(sink: Sink) -> None:
    limit, window = 120, 2.0
    rng = random.Random(7)
    async with Emulator(
        rate_limit=(limit, window), test_delay=lambda: rng.uniform(0.2, 1.5)
    ) as emu:
        async with WebhooksSession(emu.token, emu.url) as session:
            started = time.monotonic()
            created = await session.bulk_test(
                "demo", [delivery_spec(f"{sink.url}/ok")] * 200, wait=False, concurrency=64
            )
            ids = [o.unwrap().id for o in created]
            results = [r async for r in session.await_tests("demo", ids, timeout=120)]
            elapsed = time.monotonic() - started
        assert sorted(r.item for r in results) == sorted(ids)
        assert all(r.ok and r.unwrap().status is TestStatus.COMPLETED for r in results)
        assert emu.stats.rate_limited <= math.ceil(elapsed / window)
    assert len(sink.bodies) == 200


async def test_await_tests_reports_every_test_even_when_some_time_out(
    emulator: Emulator, session: WebhooksSession, sink: Sink
) -> None:
    emulator.test_delay = 0.0
    quick = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    emulator.test_delay = 60.0
    slow = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    ids = [quick.id, slow.id]
    results = {r.item: r async for r in session.await_tests("demo", ids, timeout=5 * SLIP)}
    assert results[quick.id].ok
    assert isinstance(results[slow.id].error, TestTimeoutError)


async def test_leaving_await_tests_early_cancels_the_remaining_waits(
    emulator: Emulator, session: WebhooksSession, sink: Sink
) -> None:
    emulator.test_delay = 0.0
    quick = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    emulator.test_delay = 30.0  # the others would keep their waits busy for 30 s
    slow = [
        (await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))).id
        for _ in range(5)
    ]
    started = time.monotonic()
    async with contextlib.aclosing(session.await_tests("demo", [quick.id, *slow])) as results:
        first = await anext(results)  # then leave the loop
    left = time.monotonic() - started
    assert first.item == quick.id
    assert left < 15.0  # the slow tests' waits (30 s) did not hold the caller
    assert await polling_stopped(emulator, in_flight=len(slow))


async def test_a_plain_break_out_of_await_tests_also_stops_the_waits(
    emulator: Emulator, session: WebhooksSession, sink: Sink
) -> None:
    emulator.test_delay = 0.0
    quick = await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))
    emulator.test_delay = 30.0
    slow = (await session.webhook_tests_create("demo", delivery_spec(f"{sink.url}/ok"))).id
    async for _ in session.await_tests("demo", [quick.id, slow]):
        break  # no aclosing: the generator is closed when it is dropped
    assert await polling_stopped(emulator, in_flight=1)
