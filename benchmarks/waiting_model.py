"""A deterministic model of waiting for a webhook test: no network, no clock, no randomness.

A test that stays pending for ``p`` seconds is noticed at the first poll at or
after ``p``. Poll times are running sums of the delays, which start at
``initial_delay`` and grow by ``factor`` up to ``max_delay`` (``PollSchedule``
without jitter; requests take no time here). Two targets:

- delay: the median over pending times uniform in 50 ms .. 5 s of
  ``delay / max(25 % of p, 100 ms)`` is at most 1;
- polls: every pending time needs at most ``log2(p / initial_delay) + 3`` polls.

Why they conflict: a test ending just after poll ``k - 1`` needs ``k`` polls, so
the poll bound holds for every pending time only if poll ``j`` comes no earlier
than ``initial_delay * 2 ** (j - 2)``. The densest such schedule has poll times
doubling, and a test ending at a random point between two polls ``t`` and ``2t``
is noticed a median of ``t / 2`` late when it was pending ``1.5 t``: a third of
its pending time, 1.33 of the 25 % allowance. Any schedule that meets the delay
target must poll more densely than that somewhere, and so breaks the poll bound
for some pending times; the question is only where.

``python -m benchmarks.waiting_model [--factors 1.5 1.52 1.6 2] [--points 200000]``
"""

from __future__ import annotations

import argparse
import bisect
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from ._common import markdown_table

__all__ = [
    "FACTORS",
    "ModelRow",
    "bound_breaks",
    "doubling_times",
    "model_row",
    "poll_times",
    "table",
]

INITIAL_DELAY = 0.1
MAX_DELAY = 5.0
LIBRARY_FACTOR = 1.6
LOW = 0.05
HIGH = 5.0
HORIZON = 60.0
"""Pending times are checked against the poll bound up to ``await_test``'s default timeout."""
FACTORS = (1.5, 1.52, LIBRARY_FACTOR, 2.0)
POINTS = 200_000
MAX_POLLS = 10_000


def poll_times(
    factor: float,
    *,
    initial_delay: float = INITIAL_DELAY,
    max_delay: float = MAX_DELAY,
    until: float = HORIZON,
) -> list[float]:
    """Poll moments after the start, up to the first one at or past ``until``."""
    times: list[float] = []
    moment, delay = 0.0, initial_delay
    for _ in range(MAX_POLLS):
        moment += delay
        times.append(moment)
        if moment >= until:
            return times
        delay = min(max_delay, delay * factor)
    raise ValueError(f"more than {MAX_POLLS} polls before {until} s")


def doubling_times(*, initial_delay: float = INITIAL_DELAY, until: float = HORIZON) -> list[float]:
    """The densest schedule that keeps the poll bound: poll ``k`` at ``initial * 2**(k-2)``."""
    times: list[float] = []
    for k in range(1, MAX_POLLS):
        times.append(initial_delay * 2 ** (k - 2))
        if times[-1] >= until:
            return times
    raise ValueError("unreachable")


def _poll_bound(pending: float, initial_delay: float) -> float:
    return max(1.0, math.log2(pending / initial_delay) + 3)


def bound_breaks(
    times: Sequence[float], *, initial_delay: float = INITIAL_DELAY, until: float = HORIZON
) -> list[tuple[float, float]]:
    """Pending-time ranges (merged, up to ``until``) that need more polls than the bound.

    A test ending in ``(t[k-1], t[k]]`` needs ``k`` polls (1-based); the bound
    allows them from ``initial * 2 ** (k - 3)`` on, so the range below that breaks it.
    """
    ranges: list[tuple[float, float]] = []
    previous = 0.0
    for k, moment in enumerate(times, start=1):
        allowed_from = initial_delay * 2 ** (k - 3) if k > 1 else 0.0
        low, high = previous, min(moment, allowed_from, until)
        if high > low:
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
    median_allowance: float
    """Median of delay / max(25 % of pending, 100 ms) over pending times uniform in LOW..HIGH."""
    median_fraction: float
    """Median of delay / pending over the same pending times."""
    breaks: list[tuple[float, float]]
    long_run: float
    """Median delay / pending between two polls far out, where poll times grow by the factor."""
    first_polls: list[float]
    """Poll times up to the first one at or past HIGH."""


def model_row(name: str, times: Sequence[float], ratio: float, *, points: int = POINTS) -> ModelRow:
    """Evaluate a schedule at ``points`` evenly spaced pending times (midpoints) in LOW..HIGH."""
    step = (HIGH - LOW) / points
    allowance: list[float] = []
    fraction: list[float] = []
    for i in range(points):
        pending = LOW + (i + 0.5) * step
        k = bisect.bisect_left(times, pending)  # first poll at or after the end
        delay = times[k] - pending
        allowance.append(delay / max(0.25 * pending, 0.1))
        fraction.append(delay / pending)
    return ModelRow(
        name,
        statistics.median(allowance),
        statistics.median(fraction),
        bound_breaks(times),
        (ratio - 1) / (ratio + 1),
        list(times[: bisect.bisect_left(times, HIGH) + 1]),
    )


def _ranges(breaks: Sequence[tuple[float, float]]) -> str:
    if not breaks:
        return f"none up to {HORIZON:g} s"
    shown = []
    for low, high in breaks:
        # Past max_delay poll times grow linearly, so a range reaching the horizon goes on.
        shown.append(f"{low:.1f}-{high:.1f} s" if high < HORIZON else f"from {low:.1f} s on")
    return ", ".join(shown)


def rows(factors: Sequence[float] = FACTORS, *, points: int = POINTS) -> list[ModelRow]:
    found = []
    for factor in factors:
        label = f"{factor:g}" + (" (library default)" if factor == LIBRARY_FACTOR else "")
        found.append(model_row(label, poll_times(factor), factor, points=points))
    found.append(
        model_row("doubling poll times 0.1·2^(k-2) s", doubling_times(), 2.0, points=points)
    )
    return found


def table(factors: Sequence[float] = FACTORS, *, points: int = POINTS) -> str:
    """The model's table in Markdown."""
    header = [
        "factor",
        "median delay / allowance (0.05..5 s)",
        "median delay / pending",
        "same, long run: (r-1)/(r+1)",
        "poll times up to 5 s",
        f"pending times over the poll bound (up to {HORIZON:g} s)",
    ]
    body = [
        [
            row.name,
            f"{row.median_allowance:.2f}",
            f"{row.median_fraction * 100:.1f} %",
            f"{row.long_run * 100:.1f} %",
            ", ".join(f"{t:.2f}" for t in row.first_polls),
            _ranges(row.breaks),
        ]
        for row in rows(factors, points=points)
    ]
    return markdown_table(header, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=float, nargs="+", default=list(FACTORS))
    parser.add_argument("--points", type=int, default=POINTS, help="pending times evaluated")
    args = parser.parse_args()
    print(table(args.factors, points=args.points))


if __name__ == "__main__":
    main()
