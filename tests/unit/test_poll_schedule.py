"""PollSchedule as the one object for poll settings, and the deprecated loose arguments."""

from __future__ import annotations

import random

import pytest

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
