"""set_testing(): what it switches off, that it restores the previous setting, and its fixture."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from aioubiwebhooks import PollSchedule, RetryPolicy, is_testing, set_testing


@pytest.fixture(autouse=True)
def _no_backoff_sleeps() -> Iterator[None]:
    """Overrides the suite's autouse fixture: these tests start with testing mode off."""
    with set_testing(False):
        yield


def first_delays(schedule: PollSchedule, count: int = 5) -> list[float]:
    delays = schedule.delays(random.Random(1))
    return [next(delays) for _ in range(count)]


def test_testing_mode_zeroes_retry_backoff_and_poll_delays() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=8.0)
    schedule = PollSchedule()
    assert all(policy.backoff(n, random.Random(n)) > 0 for n in range(1, 6))
    assert all(delay >= 0.09 for delay in first_delays(schedule))
    with set_testing():
        assert [policy.backoff(n, random.Random(n)) for n in range(1, 6)] == [0.0] * 5
        assert first_delays(schedule) == [0.0] * 5
    assert policy.backoff(1, random.Random(1)) > 0


def test_switch_applies_to_a_wait_already_under_way() -> None:
    delays = PollSchedule(jitter=False).delays()
    assert next(delays) == 0.1
    with set_testing():
        assert next(delays) == 0.0
    assert next(delays) > 0.1  # the schedule kept growing meanwhile


def test_context_manager_restores_the_previous_setting_even_on_error() -> None:
    with set_testing(True):
        assert is_testing()
        with set_testing(False):
            assert not is_testing()
        assert is_testing()  # the outer setting, not a blanket False
        with pytest.raises(RuntimeError), set_testing(False):
            raise RuntimeError("boom")
        assert is_testing()
    assert not is_testing()


def test_plain_calls_still_switch_for_good() -> None:
    set_testing(True)
    assert is_testing()
    set_testing(False)
    assert not is_testing()
    restore = set_testing()  # the default is on
    assert is_testing()
    assert restore.previous is False


@pytest.fixture
def testing_mode_off_afterwards() -> Iterator[None]:
    """Set up before ubiops_testing_mode, so torn down after it: sees what it restored."""
    assert not is_testing()
    yield
    assert not is_testing()


def test_plugin_fixture_turns_testing_mode_on_for_the_test(
    testing_mode_off_afterwards: None, ubiops_testing_mode: None
) -> None:
    assert is_testing()
    assert first_delays(PollSchedule()) == [0.0] * 5
