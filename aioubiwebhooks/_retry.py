"""How to retry a failed call: which failures, how many times, how long to back off.

Kept apart from pacing (``_ratelimit``) and from polling a test (``_polling``):
each answers a different question. Backoff is exponential with jitter: a random
delay between half and all of the exponential cap, which spreads the retries of many
concurrent calls instead of bunching them, yet never retries at once (outside
testing mode) and waits longer with every retry.

A general retry library was considered; what this API needs does not fit one:
jitter, a 429 that waits for the server's reset without using up a retry,
a create that may only be repeated where the server cannot have acted, and no
retry machinery at all on the first attempt (the hot path).
"""

from __future__ import annotations

import enum
import random
from types import TracebackType

import attrs

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryOn",
    "RetryPolicy",
    "TestingRestore",
    "is_testing",
    "set_testing",
]

RETRYABLE_STATUSES = frozenset({408, 429, 502, 503, 504})
"""Statuses after which the same request may succeed."""


class RetryOn(enum.Enum):
    """Which failures a request may be repeated after."""

    TRANSIENT = "transient"
    """Connection errors, timeouts and RETRYABLE_STATUSES: for reads, updates, deletes and
    webhook creates (names are unique, so a repeated create cannot make a second webhook)."""

    UNSENT = "unsent"
    """Only where the server cannot have acted (the connection was never made, or 429):
    for webhook test creates, since a repeat would send a second delivery."""


_testing = False


class TestingRestore:
    """What :func:`set_testing` returns: use it as ``with`` to put the previous setting back.

    The switch takes effect when :func:`set_testing` is called, not on entering the
    block; leaving the block (normally or by an exception) restores the setting that
    was in force before the call. Called without ``with``, it changes the setting for
    good, as before.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, previous: bool) -> None:
        self.previous = previous
        """The setting in force before the call, restored on leaving the block."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _testing
        _testing = self.previous


def set_testing(enabled: bool = True) -> TestingRestore:
    """Turn backoff sleeps and poll delays off (or on again) in this process, for test suites.

    In testing mode retries still happen and rate-limit waits are still honoured, but
    the backoff between retries is zero, and so is the delay between two polls of a
    webhook test, so tests of failure paths and of waiting run fast. The result is a
    context manager that restores the previous setting::

        with aioubiwebhooks.set_testing():
            ...  # no backoff here
        # the setting from before the block is back

    The pytest plugin offers the same as the ``ubiops_testing_mode`` fixture.
    """
    global _testing
    previous, _testing = _testing, bool(enabled)
    return TestingRestore(previous)


def is_testing() -> bool:
    """Whether :func:`set_testing` has turned backoff sleeps and poll delays off."""
    return _testing


@attrs.frozen
class RetryPolicy:
    """Retry settings of one session.

    ``max_retries``: repeats after the first attempt (429 waits do not count);
    ``initial_delay`` and ``max_delay``: the backoff cap grows from one to the other
    (both above zero: :func:`set_testing` is the way to retry without waiting);
    ``max_rate_limit_wait``: the most one call waits on 429s before raising
    RateLimitError; a server asking for a longer wait fails the call at once.
    """

    max_retries: int = attrs.field(default=4, validator=attrs.validators.ge(0))
    initial_delay: float = attrs.field(default=0.2, validator=attrs.validators.gt(0))
    max_delay: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    max_rate_limit_wait: float = attrs.field(default=300.0, validator=attrs.validators.ge(0))

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry).

        Between half and all of ``initial_delay * 2**(retry_number-1)`` (at most
        ``max_delay``); zero only in testing mode.
        """
        if _testing:
            return 0.0
        cap = min(self.max_delay, self.initial_delay * 2.0 ** (retry_number - 1))
        return cap * (0.5 + 0.5 * (rng or random).random())
