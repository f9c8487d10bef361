"""Everything one emulator instance holds, in one object hung off the aiohttp app.

No module-level state: two emulators in one process (or one per test) never share
webhooks, counters, faults or a rate-limit window.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

from ._delivery import DelaySource, Deliverer
from ._faults import FaultInjector
from ._ratelimit import FixedWindow, ResetRounding
from ._seed import DEFAULT_SEED, Seed, load_seed, parse_seed
from ._stats import Stats
from ._store import DEFAULT_MAX_PENDING_TESTS, DEFAULT_MAX_TESTS, Store

__all__ = ["EmulatorState", "SeedSource", "resolve_seed"]

SeedSource: TypeAlias = Seed | Mapping[str, Any] | str | Path | None
"""A seed, its JSON shape, the path of a seed file, or None for the default demo seed."""


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
    ) -> None:
        if token is not None and not token.strip():
            raise ValueError("token must not be empty (leave it out to accept any token)")
        self.token = token
        self.seed = resolve_seed(seed)
        self.stats = Stats()
        self.faults = FaultInjector(fired=self.stats.faults)
        self.store = Store(max_tests=max_tests, max_pending=max_pending_tests)
        self.store.apply_seed(self.seed)
        self.limiter: FixedWindow | None = None
        self.reset_rounding: ResetRounding = reset_rounding
        self.rate_limit = rate_limit
        self.deliverer = Deliverer(
            on_finish=self.store.finish_test,
            stats=self.stats,
            delay=test_delay,
            concurrency=delivery_concurrency,
            attempts=delivery_attempts,
            retry_pause=retry_pause,
        )

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
    def test_delay(self) -> DelaySource:
        return self.deliverer.delay

    @test_delay.setter
    def test_delay(self, value: DelaySource) -> None:
        self.deliverer.delay = value

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
