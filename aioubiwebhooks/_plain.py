"""Request models from plain dicts in one pass, for the common case where all is well.

``from_dict`` of a plain dict runs each field through its converter, builds the
headers as models of their own with checks of their own, then checks every field
again after construction. For a dict that is already valid (the common case, and the
hot path of a bulk create) one look at each value is enough, and the model can be
filled in directly. A :class:`PlainReader` does that, and gives up (returns None) at
the first value that is not plainly valid under every rule, or at an unknown key:
the general path then builds the model, or raises the error that says what is
wrong. A value valid under every rule is valid under relaxed ones too, so the reader
never needs to know which rules are enforced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, TypeVar

__all__ = ["BAD", "Check", "PlainReader"]

BAD: Final = object()
"""What a check returns for a value that is not plainly valid."""

Check = Callable[[Any], Any]
"""A field's check: the value as the model holds it, or :data:`BAD`."""

_M = TypeVar("_M")
_new = object.__new__
_set = object.__setattr__


class PlainReader(Generic[_M]):
    """Reads plain dicts into ``cls``, field by field with ``checks``.

    ``defaults`` gives each optional field a function returning its default;
    ``agree`` checks what depends on several fields (an event against its object
    type, given the model filled in). ``checks`` must name every field.
    """

    def __init__(
        self,
        cls: type[_M],
        checks: Mapping[str, Check],
        defaults: Mapping[str, Callable[[], Any]],
        agree: Callable[[Any], bool] | None = None,
    ) -> None:
        self._cls = cls
        self._checks = dict(checks)
        self._keys = frozenset(checks)
        self._required = tuple(name for name in checks if name not in defaults)
        self._defaults = tuple(defaults.items())
        self._agree = agree

    @property
    def model(self) -> type[_M]:
        """The class it reads."""
        return self._cls

    def read(self, data: dict[str, Any]) -> _M | None:
        """The model, or None when the general path must judge ``data``."""
        if not data.keys() <= self._keys:
            return None
        for name in self._required:
            if name not in data:
                return None
        model = _new(self._cls)
        checks = self._checks
        for key, value in data.items():
            checked = checks[key](value)
            if checked is BAD:
                return None
            _set(model, key, checked)
        if len(data) < len(checks):
            for name, default in self._defaults:
                if name not in data:
                    _set(model, name, default())
        if self._agree is not None and not self._agree(model):
            return None
        return model
