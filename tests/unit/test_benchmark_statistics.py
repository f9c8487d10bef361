"""The interval the benchmarks give for a median ratio: order statistics that enclose the
true median with at least the asked confidence, and no wider than that needs; and what
the report says from where such an interval lies against 1."""

from __future__ import annotations

import math

import pytest

from benchmarks import run_all
from benchmarks._common import CollectorClock, median_interval


def _coverage(n: int, k: int) -> float:
    """Probability that the k-th smallest and k-th largest of n draws enclose the median."""
    return 1 - 2 * sum(math.comb(n, j) for j in range(k)) / 2**n


@pytest.mark.parametrize(
    ("n", "ranks"),
    # the ranks of the usual tables for a 95 % interval of the median
    [(6, (1, 6)), (9, (2, 8)), (15, (4, 12)), (20, (6, 15)), (31, (10, 22))],
)
def test_the_interval_takes_the_ranks_of_the_usual_tables(n: int, ranks: tuple[int, int]) -> None:
    values = [float(v) for v in range(1, n + 1)]
    assert median_interval(list(reversed(values))) == ranks


@pytest.mark.parametrize("n", range(6, 60))
def test_the_interval_is_the_narrowest_that_keeps_the_confidence(n: int) -> None:
    low, _ = median_interval([float(v) for v in range(1, n + 1)])
    k = int(low)
    assert _coverage(n, k) >= 0.95
    assert _coverage(n, k + 1) < 0.95


@pytest.mark.parametrize("n", [1, 2, 5])
def test_too_few_values_give_the_smallest_and_the_largest(n: int) -> None:
    assert median_interval([3.0, 1.0, 2.0, 5.0, 4.0][:n]) == (
        min([3.0, 1.0, 2.0, 5.0, 4.0][:n]),
        max([3.0, 1.0, 2.0, 5.0, 4.0][:n]),
    )


def test_no_values_give_no_interval() -> None:
    low, high = median_interval([])
    assert math.isnan(low)
    assert math.isnan(high)


def test_the_collector_clock_counts_a_collection_and_stops_counting() -> None:
    import gc

    clock = CollectorClock().start()
    gc.collect()
    counted = clock.stop()
    assert counted > 0
    gc.collect()
    assert clock.seconds == counted
    assert clock._tick not in gc.callbacks


@pytest.mark.parametrize(
    ("low", "high", "says"),
    [
        (1.02, 1.20, "That cost CPU in this run"),
        (0.90, 1.05, "no CPU that could be told from the noise"),
        (0.85, 0.98, "the difference is noise"),
    ],
)
def test_the_report_reads_what_keeping_costs_from_the_interval(
    low: float, high: float, says: str
) -> None:
    assert says in run_all._keeping_verdict(low, high)


@pytest.mark.parametrize(
    ("vs_raw", "floor_low", "verdict"),
    [
        (1.15, 1.30, "**met**"),
        (1.20, 1.16, "**missed; the bar proves wrong in this run**"),
        (1.20, 1.15, "**missed**"),
        (1.20, 1.02, "**missed**"),
    ],
)
def test_the_client_cpu_bar_is_called_wrong_only_when_the_typed_floor_is_above_it(
    vs_raw: float, floor_low: float, verdict: str
) -> None:
    said = run_all._client_cpu_verdict(vs_raw, floor_low)
    assert said.startswith(verdict)
    if verdict == "**missed**":
        assert said == verdict
