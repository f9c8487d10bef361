"""The backoff between retries, value by value: between half and all of a cap that
doubles from ``initial_delay`` up to ``max_delay``; the same shape after a 429 that
gives no usable reset (1 s doubling to 60 s)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from aioubiwebhooks import RetryPolicy, set_testing
from aioubiwebhooks._ratelimit import rate_limit_backoff


class Fixed(random.Random):
    """A generator whose every draw is ``value``: the two ends of the jitter."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.fixture(autouse=True)
def _real_backoff() -> Iterator[None]:
    with set_testing(False):
        yield


def test_retry_backoff_is_half_to_all_of_a_doubling_cap() -> None:
    policy = RetryPolicy(initial_delay=0.2, max_delay=5.0)
    shortest = [policy.backoff(n, Fixed(0.0)) for n in range(1, 8)]
    longest = [policy.backoff(n, Fixed(1.0)) for n in range(1, 8)]
    assert shortest == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.5, 2.5])
    assert longest == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    assert policy.backoff(2, Fixed(0.5)) == pytest.approx(0.3)


def test_the_default_policy() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.max_delay) == (4, 0.2, 10.0)
    assert policy.max_rate_limit_wait == 300.0


def test_backoff_after_a_429_without_a_reset_doubles_from_one_second_to_a_minute() -> None:
    shortest = [rate_limit_backoff(n, Fixed(0.0)) for n in range(0, 9)]
    longest = [rate_limit_backoff(n, Fixed(1.0)) for n in range(0, 9)]
    assert shortest == pytest.approx([0.5, 0.5, 1, 2, 4, 8, 16, 30, 30])
    assert longest == pytest.approx([1, 1, 2, 4, 8, 16, 32, 60, 60])
