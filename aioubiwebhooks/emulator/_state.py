"""Everything one emulator instance holds, in one object hung off the aiohttp app:
its store, counters, faults, rate limit and deliveries.

No module-level state: two emulators in one process (or one per test) never share
webhooks, counters, faults or a rate-limit window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypeAlias

import attrs

from ._delivery import AttemptOutcome, DelaySource, Deliverer, FinishedStatus
from ._faults import FaultInjector
from ._ratelimit import FixedWindow, ResetRounding
from ._rules import Limits
from ._seed import DEFAULT_SEED, Seed, load_seed, parse_seed
from ._store import DEFAULT_MAX_PENDING_TESTS, DEFAULT_MAX_TESTS, Store
from ._targets import TargetPolicy

__all__ = ["OPEN_LIMIT", "OPEN_WINDOW", "EmulatorState", "SeedSource", "Stats", "resolve_seed"]

OPEN_LIMIT: Final = 1_000_000_000
"""``x-ratelimit-limit`` while no rate limit is set: headers are always sent, as the
service sends them, with a limit no client reaches."""
OPEN_WINDOW: Final = 60.0

SeedSource: TypeAlias = Seed | Mapping[str, Any] | str | Path | None
"""A seed, its JSON shape, the path of a seed file, or None for the default demo seed."""


@attrs.define
class Stats:
    """What happened since start or the last reset.

    ``requests`` counts API requests by operation (the official client's method
    names, e.g. ``webhooks_create``; ``unmatched`` for unknown paths), ``methods`` by
    HTTP method, ``statuses`` the statuses answered. ``faults`` counts injected faults
    by kind. A delivery *attempt* is one POST to a webhook URL; a test ends
    ``completed`` or ``failed`` after one or more attempts. ``targets_refused`` counts
    deliveries the target policy stopped before anything was sent.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    methods: Counter[str] = attrs.field(factory=Counter)
    statuses: Counter[int] = attrs.field(factory=Counter)
    rate_limited: int = 0
    faults: Counter[str] = attrs.field(factory=Counter)
    server_errors: int = 0
    delivery_attempts: int = 0
    delivery_successes: int = 0
    delivery_failures: int = 0
    tests_completed: int = 0
    tests_failed: int = 0
    targets_refused: int = 0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset(self) -> None:
        for counter in (self.requests, self.methods, self.statuses, self.faults):
            counter.clear()
        self.rate_limited = self.server_errors = 0
        self.delivery_attempts = self.delivery_successes = self.delivery_failures = 0
        self.tests_completed = self.tests_failed = self.targets_refused = 0

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "total_requests": self.total_requests,
            "requests": dict(self.requests),
            "methods": dict(self.methods),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "rate_limited": self.rate_limited,
            "faults": dict(self.faults),
            "server_errors": self.server_errors,
            "delivery_attempts": self.delivery_attempts,
            "delivery_successes": self.delivery_successes,
            "delivery_failures": self.delivery_failures,
            "tests_completed": self.tests_completed,
            "tests_failed": self.tests_failed,
            "targets_refused": self.targets_refused,
        }


def resolve_seed(seed: SeedSource) -> Seed:
    """A checked seed from a :class:`Seed`, its JSON shape, a file path, or None (the demo)."""
    if seed is None:
        return DEFAULT_SEED
    if isinstance(seed, Seed):
        return seed
    if isinstance(seed, (str, Path)):
        return load_seed(seed)
    return parse_seed(dict(seed))


class EmulatorState:
    """The store, counters, faults, rate limit and deliveries of one emulator."""

    def __init__(
        self,
        *,
        token: str | None = None,
        seed: SeedSource = None,
        rate_limit: tuple[int, float] | None = None,
        reset_rounding: ResetRounding = "up",
        test_delay: DelaySource = 0.0,
        delivery_concurrency: int = 32,
        delivery_attempts: int = 3,
        retry_pause: float = 0.25,
        max_tests: int = DEFAULT_MAX_TESTS,
        max_pending_tests: int = DEFAULT_MAX_PENDING_TESTS,
        limits: Limits | None = None,
        allow_targets: Iterable[str] | None = None,
        protected_mask: str | None = None,
        finished_status: str | Sequence[str] = "completed",
        finished_seed: int = 0,
    ) -> None:
        if token is not None and not token.strip():
            raise ValueError("token must not be empty (leave it out to accept any token)")
        if protected_mask is not None and not protected_mask:
            raise ValueError(
                "protected_mask must not be empty: the official client cannot read '' back "
                "(leave it out to read protected values as null)"
            )
        self.token = token
        self.protected_mask = protected_mask
        self.seed = resolve_seed(seed)
        self.stats = Stats()
        self.faults = FaultInjector(fired=self.stats.faults)
        self.store = Store(max_tests=max_tests, max_pending=max_pending_tests, limits=limits)
        self.target_policy = TargetPolicy.of(allow_targets)
        self.store.apply_seed(self.seed)
        self.limiter: FixedWindow | None = None
        self.reset_rounding: ResetRounding = reset_rounding
        self.rate_limit = rate_limit
        self.open_window = FixedWindow(OPEN_LIMIT, OPEN_WINDOW, rounding=reset_rounding)
        self.deliverer = Deliverer(
            on_finish=self._test_finished,
            on_attempt=self._delivery_attempted,
            policy=lambda: self.target_policy,
            delay=test_delay,
            concurrency=delivery_concurrency,
            attempts=delivery_attempts,
            retry_pause=retry_pause,
            finished=FinishedStatus(finished_status, seed=finished_seed),
        )

    def _delivery_attempted(self, outcome: AttemptOutcome) -> None:
        if outcome == "refused":
            self.stats.targets_refused += 1
            return
        self.stats.delivery_attempts += 1
        if outcome == "succeeded":
            self.stats.delivery_successes += 1
        else:
            self.stats.delivery_failures += 1

    def _test_finished(self, test_id: str, error: str | None) -> None:
        if error is None:
            self.stats.tests_completed += 1
        else:
            self.stats.tests_failed += 1
        self.store.finish_test(test_id, error)

    @property
    def rate_limit(self) -> tuple[int, float] | None:
        """``(limit, window_seconds)`` or None (no limit). Setting it starts a new window."""
        return None if self.limiter is None else (self.limiter.limit, self.limiter.window)

    @rate_limit.setter
    def rate_limit(self, value: tuple[int, float] | None) -> None:
        self.limiter = None
        if value is not None:
            self.limiter = FixedWindow(value[0], value[1], rounding=self.reset_rounding)

    @property
    def window(self) -> FixedWindow:
        """The window answers report in their ``x-ratelimit-*`` headers: the rate limit,
        or without one a window of :data:`OPEN_LIMIT` requests that nothing reaches."""
        return self.limiter if self.limiter is not None else self.open_window

    def reset(self, *, restore_seed: bool = False) -> None:
        """Drop webhooks, tests, running deliveries, faults, counters and the rate window.

        Projects stay (with the same ids); with ``restore_seed`` only the start seed's do.
        """
        self.deliverer.cancel_pending()
        self.store.clear(projects=restore_seed)
        if restore_seed:
            self.store.apply_seed(self.seed)
        self.faults.clear()
        self.stats.reset()
        self.deliverer.records.clear()
        if self.limiter is not None:
            self.limiter.reset()
        self.open_window.reset()
