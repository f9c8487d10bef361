"""The bulk runner: many calls with bounded concurrency, one Outcome per item, in order.

It does not pace by itself: every call goes through the session, whose shared budget
holds requests back when the server's rate limit is spent. It stops starting new items
early in two cases, and reports every item never started as NotAttemptedError with the
reason: after the first failure (``fail_fast``), and as soon as an answer shows that
every item would fail the same way (``fails_all``), so a job with a wrong token costs a
request or two instead of one per item. A :class:`~aioubiwebhooks.bulk.BulkStop` ends a
call early on request, with every Outcome still returned.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, TypeVar

import anyio
import attrs

from ._brief import clip
from ._outcome import Outcome, count_attempts
from ._stop import BulkStop
from .errors import ApiConnectionError, NotAttemptedError, UbiOpsError, ValidationError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BulkProgress",
    "FailsAll",
    "ProgressHook",
    "SkipItem",
    "not_attempted",
    "run_bulk",
]

_I = TypeVar("_I")
_V = TypeVar("_V")

DEFAULT_CONCURRENCY: Final = 32


class SkipItem(Exception):
    """Raised by a bulk call to say "left alone on purpose", with the value to report;
    ``secrets_not_applied`` names protected headers of the item whose values were not
    sent (see :attr:`Outcome.secrets_not_applied`)."""

    def __init__(self, value: Any = None, *, secrets_not_applied: tuple[str, ...] = ()):
        super().__init__("skipped")
        self.value = value
        self.secrets_not_applied = secrets_not_applied


@attrs.frozen
class BulkProgress:
    """Where a bulk call stands: items finished, of which failed, out of total."""

    done: int
    total: int
    failed: int


ProgressHook = Callable[[BulkProgress], None]
"""Called with a :class:`BulkProgress` after every finished item."""

FailsAll = Callable[[UbiOpsError], Awaitable[bool]]
"""Told an item's error, says whether every other item would fail the same way."""


_DOOMED: Final = "an earlier answer showed that every item would fail the same way"
_POLL: Final = 0.05
"""Seconds between looks at the calls in flight while a stop's grace period runs."""


def _cut_short() -> ApiConnectionError:
    return ApiConnectionError(
        "stopped before the answer came: the request may or may not have been carried out"
    )


def _not_run(reason: str, cause: UbiOpsError | None) -> NotAttemptedError:
    shown = f": {type(cause).__name__}: {clip(str(cause))}" if cause else ""
    return NotAttemptedError(f"not started: {reason}{shown}", cause=cause)


def not_attempted(items: Sequence[_I], cause: UbiOpsError) -> list[Outcome[_I, Any]]:
    """Outcomes for a job an answer given before any item (``cause``) showed hopeless: the
    first item fails with that answer, as it would have, and the others were never started."""
    error = _not_run(_DOOMED, cause)
    return [
        Outcome(item, error=cause) if index == 0 else Outcome(item, error=error, attempts=0)
        for index, item in enumerate(items)
    ]


async def run_bulk(
    items: Sequence[_I],
    call: Callable[[_I], Awaitable[_V]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
    fails_all: FailsAll | None = None,
    stop: BulkStop | None = None,
) -> list[Outcome[_I, _V]]:
    """Run ``call`` on every item with up to ``concurrency`` in flight; outcomes in input order.

    A failing item (any UbiOpsError) becomes its Outcome and never stops the others,
    unless ``fail_fast``: then no new item starts after the first failure. With
    ``fails_all``, the first item runs alone, and no new item starts once ``fails_all``
    says of a failure that every item would fail the same way. Either way calls in
    flight finish, and items never started get NotAttemptedError carrying the cause.
    Once ``stop`` is requested no new item starts either, and calls in flight get its
    grace period before they are cancelled (reported as ApiConnectionError). Cancelling
    the bulk call itself cancels the calls in flight and returns nothing. ``progress``
    hears about every finished item.
    """
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValidationError("concurrency", "must be a whole number of at least 1", concurrency)
    total = len(items)
    outcomes: list[Outcome[_I, _V] | None] = [None] * total
    counts = {"done": 0, "failed": 0}
    stopped: list[NotAttemptedError] = []  # why no new item starts, once one says so
    next_index = iter(range(total))
    first_answer = anyio.Event()

    in_flight: dict[int, anyio.CancelScope] = {}

    async def call_stoppable(item: _I, index: int) -> _V:
        """``call``, in a scope a stop's deadline can cancel (only with ``stop``)."""
        scope = in_flight[index] = anyio.CancelScope()
        try:
            with scope:
                return await call(item)
            raise _cut_short()  # the grace ran out
        finally:
            del in_flight[index]

    async def end_the_grace_period() -> None:
        """Once a stop is requested, cancel what is still in flight at its deadline."""
        assert stop is not None
        requested = anyio.Event()
        unlisten = stop.listen(requested.set)
        try:
            if not stop.requested:
                await requested.wait()
            while in_flight:
                assert stop.deadline is not None
                left = stop.deadline - time.monotonic()
                if left <= 0:
                    for scope in list(in_flight.values()):
                        scope.cancel()
                    return
                await anyio.sleep(min(left, _POLL))
        finally:
            unlisten()

    async def judge(error: UbiOpsError) -> None:
        if stopped:
            return
        if fails_all is not None and await fails_all(error):
            stopped.append(_not_run(_DOOMED, error))
        elif fail_fast:
            stopped.append(_not_run("the bulk call stopped after an earlier failure", error))

    async def worker(probe: bool) -> None:
        if not probe:
            await first_answer.wait()  # the first item alone tells whether the job can work
        # One attempt counter per worker, zeroed for each item (its calls run in this
        # task): the context variable is set once per worker, not once per item.
        counter = count_attempts()
        for index in next_index:
            if stop is not None and stop.requested and not stopped:
                stopped.append(_not_run("the bulk call was asked to stop", None))
            if stopped:
                break
            item = items[index]
            counter[0] = 0
            outcome: Outcome[_I, _V]
            # The item's call is awaited right here, not in a coroutine of its own: one
            # object fewer per item, and the same Outcome.
            try:
                value = await (call(item) if stop is None else call_stoppable(item, index))
            except UbiOpsError as error:
                outcome = Outcome(item, error=error, attempts=counter[0])
            except SkipItem as skip:
                outcome = Outcome(
                    item,
                    value=skip.value,
                    attempts=counter[0],
                    skipped=True,
                    secrets_not_applied=skip.secrets_not_applied,
                )
            else:
                outcome = Outcome(item, value=value, attempts=counter[0])
            outcomes[index] = outcome
            counts["done"] += 1
            if outcome.error is not None:
                counts["failed"] += 1
                await judge(outcome.error)
            first_answer.set()
            if progress is not None:
                progress(BulkProgress(counts["done"], total, counts["failed"]))
        first_answer.set()

    async with anyio.create_task_group() as outer:
        if stop is not None:
            outer.start_soon(end_the_grace_period)
        async with anyio.create_task_group() as group:
            for number in range(min(concurrency, total)):
                group.start_soon(worker, number == 0 or fails_all is None)
        outer.cancel_scope.cancel()  # the grace period has nothing left to watch

    fallback = _not_run("the bulk call stopped early", None)
    return [
        outcome
        if outcome is not None
        else Outcome(items[index], error=(stopped or [fallback])[0], attempts=0)
        for index, outcome in enumerate(outcomes)
    ]
