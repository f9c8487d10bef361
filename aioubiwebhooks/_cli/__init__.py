"""The pieces of the ``aioubiwebhooks`` command; :mod:`aioubiwebhooks.cli` puts them together."""

from __future__ import annotations

__all__: list[str] = []
