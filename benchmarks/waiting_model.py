"""A deterministic model of waiting for a webhook test: no network, no clock, no randomness.

A test that stays pending for ``p`` seconds is noticed at the first poll at or after
``p`` (requests take no time here); poll times come from ``PollSchedule.times()``, the
library's own schedule without jitter. A wait given the receiver the test delivers to
polls ``AFTER_DELIVERY[0]`` after the delivery arrives (at ``p``), and before that only
on its fallback schedule. Pending times are evenly spaced over 50 ms .. 5 s.

Targets for the default schedule:

- the median of delay / pending at most that of polling every second;
- the 90th percentile of delay / pending at most 60 %;
- every pending time within ``1.5 * log2(p / initial_delay) + 3`` polls (checked up to
  60 s, ``await_test``'s default timeout).

With a receiver: a median detection delay of at most 50 ms (plus one request, which
takes no time here), and at most 3 polls.

Why a geometric schedule cannot meet the first and the third at once: a test ending
just after poll ``k`` needs ``k + 1`` polls, which the bound allows only from
``initial_delay * 2 ** ((k - 2) / 1.5)`` on, so poll times can grow by no less than
``2 ** (1 / 1.5) = 1.59``; between polls ``t`` and ``1.59 t`` a test is noticed a
median of ``(r - 1) / (r + 1) = 23 %`` of its pending time late, more than fixed
one-second polling over these pending times (20 %). The bound limits how many polls
come before each moment, not where: the default schedule spends fewer of them in the
first half second, where few pending times fall, and more at a steady pace over the
seconds where most do.

``python -m benchmarks.waiting_model [--points 200000]``
"""

from __future__ import annotations

import argparse
import bisect
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from aioubiwebhooks import PollSchedule
from aioubiwebhooks._arrivals import AFTER_DELIVERY
from aioubiwebhooks._polling import RECEIVER_FALLBACK

from ._common import markdown_table

__all__ = [
    "DENSEST",
    "FIXED",
    "LIBRARY",
    "PREVIOUS",
    "RECEIVER",
    "ModelRow",
    "bound_breaks",
    "densest_times",
    "model_row",
    "poll_bound",
    "rows",
    "table",
]

LOW = 0.05
HIGH = 5.0
HORIZON = 60.0
"""Pending times are checked against the poll bound up to ``await_test``'s default timeout."""
POINTS = 200_000
POLLS_PER_DOUBLING = 1.5
EXTRA_POLLS = 3

LIBRARY = "await_test (default schedule)"
RECEIVER = "await_test(receiver=rx)"
FIXED = "fixed 1 s polling"
DENSEST = "densest geometric within the bound"
PREVIOUS = "previous default (factor 1.6 up to 5 s, no budget)"
PREVIOUS_SCHEDULE = PollSchedule(
    initial_delay=0.1, max_delay=5.0, factor=1.6, polls_per_doubling=None
)


def poll_bound(pending: float, initial_delay: float) -> float:
    """The most polls a test pending this long may take (at least one)."""
    return max(1.0, POLLS_PER_DOUBLING * math.log2(pending / initial_delay) + EXTRA_POLLS)


def densest_times(*, initial_delay: float = 0.1, until: float = HORIZON) -> list[float]:
    """Poll ``k`` at the earliest moment the bound allows: ``initial * 2 ** ((k-2)/1.5)``."""
    times: list[float] = []
    k = 0
    while not times or times[-1] < until:
        k += 1
        times.append(initial_delay * 2 ** ((k - 2) / POLLS_PER_DOUBLING))
    return times


def bound_breaks(
    times: Sequence[float], *, initial_delay: float, until: float = HORIZON
) -> list[tuple[float, float]]:
    """Pending-time ranges (merged, up to ``until``) that need more polls than the bound.

    A test ending in ``(t[k-1], t[k]]`` needs ``k`` polls (1-based); the bound allows
    them from ``initial_delay * 2 ** ((k - 3) / 1.5)`` on, so the range below that breaks it.
    """
    ranges: list[tuple[float, float]] = []
    previous = 0.0
    for k, moment in enumerate(times, start=1):
        allowed_from = initial_delay * 2 ** ((k - EXTRA_POLLS) / POLLS_PER_DOUBLING)
        low, high = previous, min(moment, allowed_from, until)
        if k > 1 and high > low:
            if ranges and math.isclose(ranges[-1][1], low):
                ranges[-1] = (ranges[-1][0], high)
            else:
                ranges.append((low, high))
        previous = moment
        if previous >= until:
            break
    return ranges


@dataclass(frozen=True)
class ModelRow:
    name: str
    median_fraction: float
    """Median of delay / pending over pending times evenly spaced in LOW..HIGH."""
    p90_fraction: float
    median_delay: float
    """Median detection delay in seconds."""
    median_polls: float
    max_polls: int
    breaks: list[tuple[float, float]]
    """Pending-time ranges (up to HORIZON) over the poll bound; None where not checked."""
    first_polls: list[float]
    """Poll times up to the first one at or past HIGH (the fallback's, with a receiver)."""


def _pending_times(points: int) -> list[float]:
    step = (HIGH - LOW) / points
    return [LOW + (i + 0.5) * step for i in range(points)]


def model_row(
    name: str,
    times: Sequence[float],
    *,
    initial_delay: float,
    after_delivery: float | None = None,
    points: int = POINTS,
) -> ModelRow:
    """Evaluate a schedule; with ``after_delivery``, a wait that polls that long after the end."""
    delays: list[float] = []
    fractions: list[float] = []
    polls: list[int] = []
    for pending in _pending_times(points):
        k = bisect.bisect_left(times, pending)  # the first poll at or after the end
        if after_delivery is None:
            delay, count = times[k] - pending, k + 1
        else:
            delay, count = min(after_delivery, times[k] - pending), k + 1
        delays.append(delay)
        fractions.append(delay / pending)
        polls.append(count)
    fractions.sort()
    return ModelRow(
        name,
        statistics.median(fractions),
        fractions[int(0.9 * len(fractions))],
        statistics.median(delays),
        statistics.median(polls),
        max(polls),
        bound_breaks(times, initial_delay=initial_delay) if after_delivery is None else [],
        list(times[: bisect.bisect_left(times, HIGH) + 1]),
    )


def rows(*, points: int = POINTS) -> list[ModelRow]:
    library = PollSchedule()
    fixed = [float(second) for second in range(1, int(HORIZON) + 2)]
    return [
        model_row(
            LIBRARY, library.times(HORIZON), initial_delay=library.initial_delay, points=points
        ),
        model_row(
            RECEIVER,
            RECEIVER_FALLBACK.times(HORIZON),
            initial_delay=RECEIVER_FALLBACK.initial_delay,
            after_delivery=AFTER_DELIVERY[0],
            points=points,
        ),
        model_row(FIXED, fixed, initial_delay=library.initial_delay, points=points),
        model_row(DENSEST, densest_times(), initial_delay=library.initial_delay, points=points),
        model_row(
            PREVIOUS,
            PREVIOUS_SCHEDULE.times(HORIZON),
            initial_delay=PREVIOUS_SCHEDULE.initial_delay,
            points=points,
        ),
    ]


def _ranges(row: ModelRow) -> str:
    if row.name == RECEIVER:
        return "(polls follow deliveries)"
    if not row.breaks:
        return f"none up to {HORIZON:g} s"
    shown = []
    for low, high in row.breaks:
        shown.append(f"{low:.1f}-{high:.1f} s" if high < HORIZON else f"from {low:.1f} s on")
    return ", ".join(shown)


def table(*, points: int = POINTS) -> str:
    """The model's table in Markdown."""
    header = [
        "waiter",
        "delay / pending (median)",
        "delay / pending (p90)",
        "detection delay ms (median)",
        "polls (median)",
        "polls (max, up to 5 s)",
        "poll times up to 5 s",
        f"pending times over 1.5·log2(p/initial_delay)+3 polls (up to {HORIZON:g} s)",
    ]
    body = [
        [
            row.name,
            f"{row.median_fraction * 100:.1f} %",
            f"{row.p90_fraction * 100:.1f} %",
            f"{row.median_delay * 1e3:.0f}",
            f"{row.median_polls:g}",
            str(row.max_polls),
            ", ".join(f"{t:.2f}" for t in row.first_polls),
            _ranges(row),
        ]
        for row in rows(points=points)
    ]
    return markdown_table(header, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=POINTS, help="pending times evaluated")
    args = parser.parse_args()
    print(table(points=args.points))


if __name__ == "__main__":
    main()
