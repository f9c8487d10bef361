"""The poll schedule at its edges: each setting's limit, the jitter's exact spread, the
budget's formula and the words of the deprecated arguments' warnings and errors."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from aioubiwebhooks import PollSchedule, ValidationError, set_testing
from aioubiwebhooks._schedule import schedule_from


class Edge(random.Random):
    """``uniform`` always gives its low end (``high=False``) or its high end."""

    def __init__(self, high: bool) -> None:
        super().__init__()
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


@pytest.fixture(autouse=True)
def _real_delays() -> Iterator[None]:
    with set_testing(False):
        yield


@pytest.mark.parametrize(
    ("settings", "field", "rule", "value"),
    [
        ({"initial_delay": 0.0}, "initial_delay", "must be positive", 0.0),
        ({"initial_delay": -1.0}, "initial_delay", "must be positive", -1.0),
        ({"max_delay": 0.05}, "max_delay", "must be at least initial_delay", 0.05),
        ({"factor": 0.99}, "factor", "must be at least 1", 0.99),
        ({"polls_per_doubling": 0.0}, "polls_per_doubling", "must be positive, or None", 0.0),
    ],
)
def test_each_setting_out_of_range_is_named_with_its_rule_and_value(
    settings: dict[str, Any], field: str, rule: str, value: float
) -> None:
    with pytest.raises(ValidationError) as info:
        PollSchedule(**settings)
    assert (info.value.field, info.value.rule, info.value.value) == (field, rule, value)


def test_each_setting_at_its_limit_is_allowed() -> None:
    flat = PollSchedule(initial_delay=0.3, max_delay=0.3, factor=1.0, jitter=False)
    delays = flat.delays()
    assert [next(delays) for _ in range(3)] == pytest.approx([0.3, 0.3, 0.3])
    assert PollSchedule(initial_delay=1e-9, polls_per_doubling=1e-9).initial_delay == 1e-9


def test_jitter_spreads_each_delay_by_ten_percent_either_way() -> None:
    schedule = PollSchedule(initial_delay=1.0, max_delay=1.0, polls_per_doubling=None)
    low, high = schedule.delays(Edge(high=False)), schedule.delays(Edge(high=True))
    assert [next(low) for _ in range(3)] == pytest.approx([0.9, 0.9, 0.9])
    assert [next(high) for _ in range(3)] == pytest.approx([1.1, 1.1, 1.1])


def test_the_budget_gives_the_earliest_moment_of_each_poll() -> None:
    schedule = PollSchedule(initial_delay=0.1, polls_per_doubling=1.5)
    assert schedule.earliest(2) == pytest.approx(0.1)
    assert schedule.earliest(5) == pytest.approx(0.4)  # three more polls: two doublings
    assert schedule.earliest(1) == pytest.approx(0.1 * 2 ** (-1 / 1.5))
    assert PollSchedule(polls_per_doubling=None).earliest(50) == 0.0


def test_a_jittered_delay_never_comes_before_the_budget_allows() -> None:
    schedule = PollSchedule(initial_delay=0.1, max_delay=0.1, factor=1.0, polls_per_doubling=1)
    delays = schedule.delays(Edge(high=False))
    moments = []
    moment = 0.0
    for _ in range(6):
        moment += next(delays)
        moments.append(moment)
    # 0.09 s apart while the budget allows it, then poll k no earlier than 0.1 * 2 ** (k - 2)
    assert moments == pytest.approx([0.09, 0.18, 0.27, 0.4, 0.8, 1.6])


def test_the_deprecated_arguments_are_named_in_the_warning() -> None:
    with pytest.warns(DeprecationWarning, match="deprecated") as caught:
        schedule_from(None, {"jitter": False, "factor": 2.0}, caller="await_tests")
    assert str(caught[0].message) == (
        "await_tests(factor=..., jitter=...) is deprecated; "
        "pass schedule=PollSchedule(factor=..., jitter=...) instead"
    )


def test_unknown_and_doubled_arguments_are_named() -> None:
    with pytest.raises(TypeError) as unknown:
        schedule_from(None, {"zzz": 1.0, "timout": 5.0}, caller="watch_test")
    assert str(unknown.value) == "watch_test() got an unexpected keyword argument 'timout'"
    with pytest.raises(TypeError) as doubled:
        schedule_from(PollSchedule(), {"max_delay": 2.0, "factor": 2.0}, caller="await_test")
    assert str(doubled.value) == "await_test(): give schedule= or factor, max_delay, not both"
