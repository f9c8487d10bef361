"""Waiting for webhook tests: how often to poll, and the waits built on it.

Polling is not retrying: a pending test is not a failure, and its schedule is
chosen to notice the end soon after it happens while asking few times. Polls
go through the session, so they share its rate-limit budget and its transport
retries (a transient error while polling does not end the wait).

Why a factor of 1.6 by default: poll times are running sums of delays that grow by
``factor``. A smaller factor notices the end sooner but polls more often; a larger one
polls less but later. With 1.6 a test that ends at a random moment is noticed, in
the median, about 30 % of its pending time late (pending times spread over 50 ms to
5 s), and it takes at most ``log2(pending / initial_delay) + 3`` polls for pending
times up to about 11 s. Factor 1.5 notices within about 25 % but needs one poll more
than that bound from about 5 s on. ``benchmarks/RESULTS.md`` has the measurements.
"""

from __future__ import annotations

import asyncio
import random
import time
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping

import anyio
import attrs

from ._endpoints import WebhooksAPI
from ._outcome import Outcome
from ._retry import is_testing
from .errors import TestFailedError, TestTimeoutError, UbiOpsError, ValidationError
from .models import TestStatus, WebhookTestDetail

__all__ = [
    "LEGACY_POLL_SETTINGS",
    "PollSchedule",
    "await_test",
    "await_tests",
    "schedule_from",
    "watch_test",
]


@attrs.frozen
class PollSchedule:
    """Delays between polls: ``initial_delay``, growing by ``factor`` up to ``max_delay``.

    With ``jitter`` each delay is spread by +-10 %, so many waits started together
    do not poll in lock step. In testing mode (:func:`~aioubiwebhooks.set_testing`)
    every delay is zero.
    """

    initial_delay: float = 0.1
    max_delay: float = 5.0
    factor: float = 1.6
    jitter: bool = True

    def __attrs_post_init__(self) -> None:
        if not self.initial_delay > 0:
            raise ValidationError("initial_delay", "must be positive", self.initial_delay)
        if not self.max_delay >= self.initial_delay:
            raise ValidationError("max_delay", "must be at least initial_delay", self.max_delay)
        if not self.factor >= 1:
            raise ValidationError("factor", "must be at least 1", self.factor)

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The delays, one per poll, forever (zero while testing mode is on)."""
        draw = rng or random
        delay = self.initial_delay
        while True:
            if is_testing():
                yield 0.0
            else:
                yield delay * draw.uniform(0.9, 1.1) if self.jitter else delay
            delay = min(self.max_delay, delay * self.factor)


LEGACY_POLL_SETTINGS = frozenset(a.name for a in attrs.fields(PollSchedule))
"""The keyword arguments the waits took before ``schedule=`` (deprecated)."""


def schedule_from(
    schedule: PollSchedule | None,
    legacy: Mapping[str, float],
    *,
    caller: str,
    stacklevel: int = 3,
) -> PollSchedule | None:
    """The schedule a wait uses, accepting the deprecated loose keyword arguments.

    ``legacy`` holds the keyword arguments a wrapper collected besides its own;
    the old poll settings among them build a schedule (with a DeprecationWarning),
    anything else is a TypeError, as for any unknown keyword argument.
    """
    if not legacy:
        return schedule
    unknown = sorted(set(legacy) - LEGACY_POLL_SETTINGS)
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
    if schedule is not None:
        raise TypeError(f"{caller}(): give schedule= or {', '.join(sorted(legacy))}, not both")
    given = ", ".join(f"{name}=..." for name in sorted(legacy))
    warnings.warn(
        f"{caller}({given}) is deprecated; pass schedule=PollSchedule({given}) instead",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return PollSchedule(**legacy)  # type: ignore[arg-type]


async def watch_test(
    session: WebhooksAPI,
    project_name: str,
    test_id: str,
    *,
    timeout: float = 60.0,
    schedule: PollSchedule | None = None,
    raise_on_failure: bool = False,
) -> AsyncIterator[WebhookTestDetail]:
    """Yield each status change of a webhook test, ending after the final one.

    Raises TestTimeoutError (with the last status seen) past ``timeout`` seconds,
    and TestFailedError on ``failed`` when ``raise_on_failure`` is set.
    """
    if not timeout > 0:
        raise ValidationError("timeout", "must be a positive number of seconds", timeout)
    delays = (schedule or PollSchedule()).delays()
    deadline = time.monotonic() + timeout
    last: WebhookTestDetail | None = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _timed_out(test_id, last, timeout)
        await asyncio.sleep(min(next(delays), left))
        # Not asyncio.wait_for: before Python 3.12 it swallows a cancellation that arrives
        # as the poll completes, and the wait would go on polling after being cancelled.
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


def _timed_out(test_id: str, last: WebhookTestDetail | None, timeout: float) -> TestTimeoutError:
    return TestTimeoutError(test_id, str(last.status) if last else None, timeout)


async def await_test(
    session: WebhooksAPI,
    project_name: str,
    test_id: str,
    *,
    timeout: float = 60.0,
    schedule: PollSchedule | None = None,
    raise_on_failure: bool = False,
) -> WebhookTestDetail:
    """Poll a webhook test with backoff until it is ``completed`` or ``failed``; return it."""
    final: WebhookTestDetail | None = None
    async for final in watch_test(  # noqa: B007 - the last one yielded is the answer
        session,
        project_name,
        test_id,
        timeout=timeout,
        schedule=schedule,
        raise_on_failure=raise_on_failure,
    ):
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
            detail = await await_test(
                session,
                project_name,
                test_id,
                timeout=timeout,
                schedule=schedule,
                raise_on_failure=raise_on_failure,
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
