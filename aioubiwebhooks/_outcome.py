"""``Outcome``: what happened to one item of a many-item call, success or failure."""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs

from .errors import UbiOpsError

__all__ = ["Outcome"]

_I = TypeVar("_I")
_V = TypeVar("_V")


@attrs.frozen
class Outcome(Generic[_I, _V]):
    """One item's result: ``value`` when it succeeded, ``error`` (typed) when it failed.

    ``attempts`` counts the calls made for it; ``skipped`` marks an item left alone
    on purpose (for example a create that found the webhook already there).
    """

    item: _I
    value: _V | None = None
    error: UbiOpsError | None = None
    attempts: int = 1
    skipped: bool = False

    @property
    def ok(self) -> bool:
        """True when the item succeeded (``error`` is None)."""
        return self.error is None

    def unwrap(self) -> _V:
        """The value, or raise the error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]
