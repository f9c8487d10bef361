"""PollSchedule as the one object for poll settings, and the deprecated loose arguments."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioubiwebhooks import PollSchedule, ValidationError, set_testing
from aioubiwebhooks._polling import schedule_from


def test_schedule_grows_to_its_cap() -> None:
    with set_testing(False):
        delays = PollSchedule(initial_delay=0.1, max_delay=1.0, factor=2.0, jitter=False).delays()
        assert [round(next(delays), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
        jittered = PollSchedule(jitter=True).delays(random.Random(1))
        assert 0.09 <= next(jittered) <= 0.11


def test_no_loose_arguments_passes_the_schedule_through() -> None:
    schedule = PollSchedule(factor=2.0)
    assert schedule_from(schedule, {}, caller="await_test") is schedule
    assert schedule_from(None, {}, caller="await_test") is None


def test_loose_arguments_build_a_schedule_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"schedule=PollSchedule\(factor=\.\.\., jitter"):
        built = schedule_from(None, {"factor": 2.0, "jitter": False}, caller="await_test")
    assert built == PollSchedule(factor=2.0, jitter=False)


def test_loose_arguments_are_still_checked() -> None:
    with (
        pytest.warns(DeprecationWarning, match="deprecated"),
        pytest.raises(ValidationError, match="factor"),
    ):
        schedule_from(None, {"factor": 0.5}, caller="await_test")


def test_unknown_or_doubled_arguments_are_type_errors() -> None:
    unexpected = r"await_test\(\) got an unexpected keyword argument 'timout'"
    with pytest.raises(TypeError, match=unexpected):
        schedule_from(None, {"timout": 5.0}, caller="await_test")
    with pytest.raises(TypeError, match="not both"):
        schedule_from(PollSchedule(), {"factor": 2.0}, caller="watch_test")


@settings(max_examples=200, deadline=None)
@given(
    initial_delay=st.floats(0.01, 2.0),
    factor=st.floats(1.0, 3.0),
    steady=st.floats(1.0, 20.0),
    polls_per_doubling=st.floats(0.5, 4.0),
    jitter=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_no_schedule_asks_more_often_than_its_budget(
    initial_delay: float,
    factor: float,
    steady: float,
    polls_per_doubling: float,
    jitter: bool,
    seed: int,
) -> None:
    schedule = PollSchedule(
        initial_delay=initial_delay,
        max_delay=initial_delay * steady,
        factor=factor,
        jitter=jitter,
        polls_per_doubling=polls_per_doubling,
    )
    with set_testing(False):
        delays = schedule.delays(random.Random(seed))
        moment = 0.0
        for poll in range(1, 40):
            moment += next(delays)
            # A test ending just after this poll needs one more: the budget must allow it.
            needed = poll + 1
            allowed = polls_per_doubling * math.log2(moment / initial_delay) + 3
            assert needed <= allowed + 1e-9, (poll, moment)


def test_without_a_budget_max_delay_is_a_true_maximum() -> None:
    schedule = PollSchedule(0.1, 0.5, 2.0, jitter=False, polls_per_doubling=None)
    with set_testing(False):
        delays = schedule.delays()
        assert [round(next(delays), 3) for _ in range(8)] == [0.1, 0.2, 0.4] + [0.5] * 5


def test_the_default_ramps_then_keeps_a_steady_pace_then_grows_with_the_budget() -> None:
    times = PollSchedule().times(60)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert times[0] == 0.1
    assert gaps[:3] == pytest.approx([0.15, 0.225, 0.3375])  # the ramp: growing by 1.5
    assert gaps[4:8] == pytest.approx([0.7] * 4)  # the steady pace
    ratios = [b / a for a, b in itertools.pairwise(times[-4:])]
    assert all(abs(r - 2 ** (1 / 1.5)) < 0.01 for r in ratios)  # long waits: the budget


def test_times_are_the_sums_of_the_delays_without_jitter() -> None:
    schedule = PollSchedule(jitter=False)
    with set_testing(False):
        delays = schedule.delays()
        sums = list(itertools.accumulate(next(delays) for _ in range(12)))
    assert sums == pytest.approx(schedule.times(sums[-1]))


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="polls_per_doubling"):
        PollSchedule(polls_per_doubling=0)
