"""Short, bounded reprs for error messages, whatever the value.

A plain ``repr`` of a deeply shared or nested structure (a YAML alias bomb expands to
billions of items) can take minutes and gigabytes before it is ever cut short. A
:class:`reprlib.Repr` stops at a few levels and a few items, so the work is bounded
before the text is.
"""

from __future__ import annotations

import reprlib
from typing import Final

__all__ = ["brief", "clip"]

_REPR: Final = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxtuple = _REPR.maxlist = _REPR.maxarray = _REPR.maxdict = 4
_REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = 4
_REPR.maxstring = 80
_REPR.maxlong = 40
_REPR.maxother = 80


def brief(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to about ``limit`` characters, in bounded time and memory."""
    text = _REPR.repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}..."


def clip(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters, marked with ``...`` when cut."""
    return text if len(text) <= limit else f"{text[:limit]}..."
