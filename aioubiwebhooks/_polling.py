"""Waiting for webhook tests: ``watch_test``, ``final_status`` and ``await_tests``.

Polling is not retrying: a pending test is not a failure. Polls go through the session,
so they share its rate-limit budget and its transport retries (a transient error while
polling does not end the wait). How often to ask is the :class:`PollSchedule`'s
business (``_schedule.py``); a wait that is given the receiver its test delivers to
also asks as soon as the delivery arrives (``_arrivals.py``), and then needs the
schedule only as a fallback for deliveries that never come (a refused one, say).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Final

import anyio

from ._arrivals import Arrivals, DeliverySource, after_delivery
from ._endpoints import WebhooksAPI
from ._outcome import Outcome
from ._schedule import LEGACY_POLL_SETTINGS, PollSchedule, schedule_from
from .errors import TestFailedError, TestTimeoutError, UbiOpsError, ValidationError
from .events import WebhookEvent
from .models import TestStatus, WebhookTestDetail

__all__ = [
    "LEGACY_POLL_SETTINGS",
    "RECEIVER_FALLBACK",
    "DeliverySource",
    "PollSchedule",
    "await_tests",
    "final_status",
    "schedule_from",
    "watch_test",
]

RECEIVER_FALLBACK: Final = PollSchedule(initial_delay=1.0, max_delay=30.0, factor=2.0)
"""The schedule of a wait that watches a receiver: deliveries say when to poll, so the
schedule only catches what never arrives (polls at about 1, 3, 7, 15 and 31 s)."""


async def watch_test(
    session: WebhooksAPI,
    project_name: str,
    test_id: str,
    *,
    timeout: float = 60.0,
    schedule: PollSchedule | None = None,
    raise_on_failure: bool = False,
    receiver: DeliverySource | None = None,
    matches: Callable[[WebhookEvent], bool] | None = None,
) -> AsyncIterator[WebhookTestDetail]:
    """Yield each status change of a webhook test, ending after the final one.

    Raises TestTimeoutError (with the last status seen) past ``timeout`` seconds,
    and TestFailedError on ``failed`` when ``raise_on_failure`` is set. With a
    ``receiver`` (where the test delivers), a delivery reaching it that ``matches``
    (any, by default) brings the next poll forward; ``schedule`` then defaults to
    :data:`RECEIVER_FALLBACK`.
    """
    if not timeout > 0:
        raise ValidationError("timeout", "must be a positive number of seconds", timeout)
    if schedule is None:
        schedule = PollSchedule() if receiver is None else RECEIVER_FALLBACK
    deadline = time.monotonic() + timeout
    arrivals = watcher = None
    if receiver is not None:
        arrivals = Arrivals(receiver, matches, description=f"a delivery of webhook test {test_id}")
        watcher = asyncio.ensure_future(arrivals.watch(timeout + 1.0))
    fallback = schedule.delays()
    delays: Iterator[float] = fallback
    last: WebhookTestDetail | None = None
    try:
        while True:
            delay = next(delays, None)
            if delay is None:  # the polls after a delivery are done: back to the schedule
                delays = fallback
                delay = next(delays)
            left = deadline - time.monotonic()
            if left <= 0:
                raise _timed_out(test_id, last, timeout)
            if arrivals is None:
                await asyncio.sleep(min(delay, left))
            elif await arrivals.wait(min(delay, left)):
                delays = after_delivery()
                await asyncio.sleep(min(next(delays), max(deadline - time.monotonic(), 0.0)))
            # Not asyncio.wait_for: before Python 3.12 it swallows a cancellation that
            # arrives as the poll completes, and the wait would go on polling.
            with anyio.move_on_after(max(deadline - time.monotonic(), 0.001)) as poll:
                detail = await session.webhook_tests_get(project_name, test_id)
            if poll.cancelled_caught:
                raise _timed_out(test_id, last, timeout)
            if last is None or detail.status != last.status:
                last = detail
                if detail.status == TestStatus.FAILED and raise_on_failure:
                    raise TestFailedError(test_id, detail.error_message, detail)
                yield detail
            if detail.is_final:  # an unknown status is final too: it may never change
                return
            if arrivals is not None and arrivals.take():  # it arrived during the poll
                delays = after_delivery()
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


def _timed_out(test_id: str, last: WebhookTestDetail | None, timeout: float) -> TestTimeoutError:
    return TestTimeoutError(test_id, str(last.status) if last else None, timeout)


async def final_status(watch: AsyncIterator[WebhookTestDetail]) -> WebhookTestDetail:
    """Run a :func:`watch_test` to its end and return the final status it yielded."""
    final: WebhookTestDetail | None = None
    async for final in watch:  # noqa: B007 - the last one yielded is the answer
        pass
    if final is None:  # watch_test always yields a final status or raises
        raise AssertionError("watch_test ended without a status")
    return final


async def await_tests(
    session: WebhooksAPI,
    project_name: str,
    test_ids: Iterable[str],
    *,
    timeout: float = 60.0,
    schedule: PollSchedule | None = None,
    raise_on_failure: bool = False,
) -> AsyncIterator[Outcome[str, WebhookTestDetail]]:
    """Await many tests at once, yielding an Outcome per test as each one finishes.

    All polls share the session's rate-limit budget, so awaiting hundreds of tests
    paces itself instead of collecting 429s. A test that times out or fails (with
    ``raise_on_failure``) yields an Outcome carrying that error; none is dropped.
    Leaving the loop early cancels the remaining waits.
    """

    async def one(test_id: str) -> Outcome[str, WebhookTestDetail]:
        try:
            detail = await final_status(
                watch_test(
                    session,
                    project_name,
                    test_id,
                    timeout=timeout,
                    schedule=schedule,
                    raise_on_failure=raise_on_failure,
                )
            )
        except UbiOpsError as error:
            return Outcome(test_id, error=error)
        return Outcome(test_id, value=detail)

    tasks = [asyncio.ensure_future(one(test_id)) for test_id in test_ids]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
