"""``Outcome``: what happened to one item of a many-item call, success or failure."""

from __future__ import annotations

import contextvars
from typing import Generic, TypeVar

import attrs

from .errors import UbiOpsError

__all__ = ["Outcome", "attempt_counter", "count_attempts"]

_I = TypeVar("_I")
_V = TypeVar("_V")


@attrs.frozen
class Outcome(Generic[_I, _V]):
    """One item's result: ``value`` when it succeeded, ``error`` (typed) when it failed.

    ``attempts`` counts the calls made for it; ``skipped`` marks an item left alone
    on purpose (for example a create that found the webhook already there).
    ``secrets_not_applied`` names the protected headers whose values the item carried
    but which were not sent (a skipped create): the stored values may differ, since the
    API never shows them.
    """

    item: _I
    value: _V | None = None
    error: UbiOpsError | None = None
    attempts: int = 1
    skipped: bool = False
    secrets_not_applied: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the item succeeded (``error`` is None)."""
        return self.error is None

    def unwrap(self) -> _V:
        """The value, or raise the error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


_attempts: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "aioubiwebhooks_attempts", default=None
)


def count_attempts() -> list[int]:
    """Count, from now on in this task, every request attempt sent; read ``counter[0]``.

    Lets a many-item call report how many requests each item took (its
    :attr:`Outcome.attempts`), across retries, 429 waits and follow-up calls, without
    threading a counter through every layer. The transport adds to it.
    """
    counter = [0]
    _attempts.set(counter)
    return counter


def attempt_counter() -> list[int] | None:
    """The counter :func:`count_attempts` set in this task, or None when nobody counts."""
    return _attempts.get()
