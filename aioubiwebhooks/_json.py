"""JSON bytes in and out: orjson when it is installed, the standard library otherwise.

Encoding a request body and decoding an answer are most of the client's own CPU per
request; orjson (``pip install aioubiwebhooks[speedups]``) does both about ten times
faster than ``json``. It is stricter than ``json`` in a few corners (no ``NaN``, no lone
surrogates, UTF-8 only, no integers beyond 64 bits when writing), so whatever it refuses
is handed to ``json``, and the result, or the error, is the one ``json`` gives. One
difference remains: orjson reads an integer beyond 64 bits as a float where ``json``
reads an int. Looking for one first would cost more than orjson's whole reading, and
the answers read here hold one whole number only, a webhook's ``timeout``, whose reader
refuses a float: such an answer is refused instead of read with a timeout of 10**20 s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any, Final

__all__ = ["BACKEND", "dumps", "loads", "orjson_loads", "stdlib_dumps", "stdlib_loads"]

_orjson: ModuleType | None
try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on what is installed
    _orjson = None

BACKEND: Final = "orjson" if _orjson is not None else "json"
"""Which library encodes and decodes: ``"orjson"`` or ``"json"``."""


def stdlib_dumps(data: object) -> bytes:
    """Compact JSON bytes, with ``json``."""
    return json.dumps(data, separators=(",", ":")).encode()


def stdlib_loads(body: bytes) -> Any:
    """The JSON in ``body``, with ``json`` (its errors propagate)."""
    return json.loads(body)


orjson_loads: Callable[[bytes], Any] | None = None if _orjson is None else _orjson.loads
"""orjson's own reader, for a caller that handles what it refuses itself (None without it)."""

if _orjson is not None:
    _dumps = _orjson.dumps
    _loads = _orjson.loads
    _EncodeError = _orjson.JSONEncodeError
    _DecodeError = _orjson.JSONDecodeError

    def dumps(data: object) -> bytes:
        """Compact JSON bytes."""
        try:
            body: bytes = _dumps(data)
        except _EncodeError:  # a lone surrogate, a huge integer, ...: as json would
            return stdlib_dumps(data)
        return body

    def loads(body: bytes) -> Any:
        """The JSON in ``body``; an error is the one ``json`` raises for it."""
        try:
            return _loads(body)
        except _DecodeError:  # NaN, a huge integer, UTF-16, broken JSON: as json would
            return stdlib_loads(body)

else:  # pragma: no cover - depends on what is installed
    dumps = stdlib_dumps
    loads = stdlib_loads
