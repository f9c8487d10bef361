"""Fault injection: decide, per API request, whether to delay, fail or drop it.

Client code has to survive a flaky server; these faults let its tests produce one on
demand. Nothing is injected until asked for. The decisions are pure (a seeded random
generator, no sockets), and the HTTP layer only carries them out.

Each request is first delayed by the configured latency, if any; then the first
matching rule wins, in this order: a pending ``drop_next``, a pending ``fail_next``
(queued in the order they were asked for), then ``fail_fraction``. A rule can be
limited to some HTTP methods and some operations (the official client's method
names, see :data:`OPERATIONS`).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any, Final

import attrs

__all__ = ["OPERATIONS", "Drop", "Fail", "FaultDecision", "FaultInjector", "Scope"]

OPERATIONS: Final = frozenset(
    {
        "webhooks_create",
        "webhooks_list",
        "webhooks_get",
        "webhooks_update",
        "webhooks_delete",
        "webhook_tests_create",
        "webhook_tests_get",
    }
)


@attrs.frozen
class Scope:
    """Which requests a rule applies to; ``None`` means all."""

    methods: frozenset[str] | None = None
    routes: frozenset[str] | None = None

    @classmethod
    def of(cls, methods: Iterable[str] | None, routes: Iterable[str] | None) -> Scope:
        if isinstance(methods, str) or isinstance(routes, str):
            raise TypeError("methods and routes must be collections of strings, not a string")
        method_set = None if methods is None else frozenset(m.upper() for m in methods)
        route_set = None if routes is None else frozenset(routes)
        unknown = sorted((route_set or frozenset()) - OPERATIONS)
        if unknown:
            raise ValueError(f"unknown route {unknown[0]!r}; expected one of {sorted(OPERATIONS)}")
        return cls(methods=method_set, routes=route_set)

    def matches(self, method: str, route: str) -> bool:
        return (self.methods is None or method in self.methods) and (
            self.routes is None or route in self.routes
        )

    def describe(self) -> dict[str, Any]:
        return {
            "methods": None if self.methods is None else sorted(self.methods),
            "routes": None if self.routes is None else sorted(self.routes),
        }


@attrs.frozen
class Fail:
    """Answer with ``status`` and ``{"error": message}`` instead of handling the request."""

    status: int
    message: str


@attrs.frozen
class Drop:
    """Close the connection without answering."""


@attrs.frozen
class FaultDecision:
    """What to do with one request: wait ``delay`` seconds, then ``action`` (None: handle it)."""

    delay: float = 0.0
    action: Fail | Drop | None = None


@attrs.define
class _Counted:
    kind: str
    remaining: int
    scope: Scope
    fail: Fail | None = None


@attrs.define
class _Latency:
    low: float
    high: float
    scope: Scope


@attrs.define
class _Fraction:
    fraction: float
    statuses: tuple[int, ...]
    scope: Scope


def _check_status(status: int) -> int:
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ValueError(f"an injected status must be an int from 400 to 599, got {status!r}")
    return status


def _message(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"{phrase} (injected fault)"


class FaultInjector:
    """The fault rules in force and the count of faults fired (``fired``, by kind).

    ``fired`` may be shared with :class:`~._stats.Stats` so one reset clears both.
    """

    def __init__(self, fired: Counter[str] | None = None) -> None:
        self._counted: list[_Counted] = []
        self._latency: _Latency | None = None
        self._fraction: _Fraction | None = None
        self._random = random.Random()
        self.fired: Counter[str] = Counter() if fired is None else fired

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        message: str | None = None,
        methods: Iterable[str] | None = None,
        routes: Iterable[str] | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and a JSON error."""
        fail = Fail(_check_status(status), message or _message(status))
        self._counted.append(_Counted("fail", _check_count(count), Scope.of(methods, routes), fail))

    def drop_next(
        self,
        count: int = 1,
        *,
        methods: Iterable[str] | None = None,
        routes: Iterable[str] | None = None,
    ) -> None:
        """Close the connection of the next ``count`` matching requests without an answer."""
        self._counted.append(_Counted("drop", _check_count(count), Scope.of(methods, routes)))

    def latency(
        self,
        seconds: float | tuple[float, float] | None,
        *,
        methods: Iterable[str] | None = None,
        routes: Iterable[str] | None = None,
        seed: int | None = None,
    ) -> None:
        """Delay matching requests by ``seconds`` (or uniformly within ``(low, high)``).

        ``None`` or ``0`` turns latency off. ``seed`` makes ranged delays repeatable.
        """
        if seed is not None:
            self._random.seed(seed)
        if seconds is None:
            self._latency = None
            return
        low, high = (seconds, seconds) if isinstance(seconds, (int, float)) else seconds
        if not 0 <= low <= high <= 3600:
            raise ValueError(f"latency must be 0 <= low <= high <= 3600 seconds, got {seconds!r}")
        self._latency = None if high == 0 else _Latency(low, high, Scope.of(methods, routes))

    def fail_fraction(
        self,
        fraction: float,
        *,
        statuses: Iterable[int] = (500, 502, 503),
        seed: int | None = None,
        methods: Iterable[str] | None = None,
        routes: Iterable[str] | None = None,
    ) -> None:
        """Fail about ``fraction`` of matching requests with a status drawn from ``statuses``.

        ``seed`` makes the sequence of choices repeatable; ``0`` turns it off.
        """
        if not 0 <= fraction <= 1:
            raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
        chosen = tuple(_check_status(s) for s in statuses)
        if not chosen:
            raise ValueError("statuses must not be empty")
        if seed is not None:
            self._random.seed(seed)
        self._fraction = (
            None if fraction == 0 else _Fraction(fraction, chosen, Scope.of(methods, routes))
        )

    def clear(self) -> None:
        """Remove every rule (the counts in ``fired`` stay; see ``Stats``)."""
        self._counted.clear()
        self._latency = None
        self._fraction = None

    @property
    def active(self) -> bool:
        return bool(self._counted or self._latency or self._fraction)

    def decide(self, method: str, route: str) -> FaultDecision:
        """The fault for one request; consumes a counted rule when one applies."""
        if not self.active:
            return FaultDecision()
        delay = 0.0
        if self._latency is not None and self._latency.scope.matches(method, route):
            delay = self._random.uniform(self._latency.low, self._latency.high)
            self.fired["latency"] += 1
        action = self._counted_action(method, route) or self._fraction_action(method, route)
        return FaultDecision(delay=delay, action=action)

    def _counted_action(self, method: str, route: str) -> Fail | Drop | None:
        # Drops first, then fails, each in the order they were asked for.
        for kind in ("drop", "fail"):
            for rule in self._counted:
                if rule.kind == kind and rule.scope.matches(method, route):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._counted.remove(rule)
                    self.fired[kind] += 1
                    return rule.fail or Drop()
        return None

    def _fraction_action(self, method: str, route: str) -> Fail | None:
        rule = self._fraction
        if rule is None or not rule.scope.matches(method, route):
            return None
        if self._random.random() >= rule.fraction:
            return None
        self.fired["fail_fraction"] += 1
        status = self._random.choice(rule.statuses)
        return Fail(status, _message(status))

    def describe(self) -> dict[str, Any]:
        """The rules in force, JSON-ready (for the admin route)."""
        return {
            "counted": [
                {
                    "kind": r.kind,
                    "remaining": r.remaining,
                    "status": r.fail.status if r.fail else None,
                    **r.scope.describe(),
                }
                for r in self._counted
            ],
            "latency": None
            if self._latency is None
            else {
                "low": self._latency.low,
                "high": self._latency.high,
                **self._latency.scope.describe(),
            },
            "fail_fraction": None
            if self._fraction is None
            else {
                "fraction": self._fraction.fraction,
                "statuses": list(self._fraction.statuses),
                **self._fraction.scope.describe(),
            },
            "fired": dict(self.fired),
        }


def _check_count(count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a whole number >= 1, got {count!r}")
    return count
