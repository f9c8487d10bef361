"""Counters of what the emulator saw and did, for assertions in client tests."""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

__all__ = ["Stats"]


@attrs.define
class Stats:
    """What happened since start or the last reset.

    ``requests`` counts API requests by operation (the official client's method
    names, e.g. ``webhooks_create``; ``unmatched`` for unknown paths), ``methods`` by
    HTTP method, ``statuses`` the statuses answered. ``faults`` counts injected faults
    by kind. A delivery *attempt* is one POST to a webhook URL; a test ends
    ``completed`` or ``failed`` after one or more attempts.
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

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset(self) -> None:
        for counter in (self.requests, self.methods, self.statuses, self.faults):
            counter.clear()
        self.rate_limited = self.server_errors = 0
        self.delivery_attempts = self.delivery_successes = self.delivery_failures = 0
        self.tests_completed = self.tests_failed = 0

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
        }
