"""JSON bytes in and out: orjson when it is installed, the standard library otherwise.

Encoding a request body and decoding an answer are most of the client's own CPU per
request; orjson (``pip install aioubiwebhooks[speedups]``) does both about ten times
faster than ``json``. It is stricter than ``json`` in a few corners (no ``NaN``, no lone
surrogates, UTF-8 only, no integers beyond 64 bits when writing), so whatever it refuses
is handed to ``json``; and it reads an integer beyond 64 bits as a float, so a body with
a run of 20 digits or more is read by ``json`` as well. The result, or the error, is
always the one ``json`` gives.
"""

from __future__ import annotations

import json
import re
from types import ModuleType
from typing import Any, Final

__all__ = ["BACKEND", "dumps", "loads", "stdlib_dumps", "stdlib_loads"]

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

    _LONG_NUMBER: Final = re.compile(rb"[0-9]{20}")
    """Digits enough for an integer beyond 64 bits, which orjson would read as a float."""

    def loads(body: bytes) -> Any:
        """The JSON in ``body``; an error is the one ``json`` raises for it."""
        if _LONG_NUMBER.search(body):
            return stdlib_loads(body)
        try:
            return _loads(body)
        except _DecodeError:  # NaN, a huge integer, UTF-16, broken JSON: as json would
            return stdlib_loads(body)

else:  # pragma: no cover - depends on what is installed
    dumps = stdlib_dumps
    loads = stdlib_loads
