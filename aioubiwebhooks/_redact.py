"""Keeping secrets out of what people and programs see.

The API token and protected header values must never reach a repr, a log line, an
exception message or a file. :data:`HIDDEN` is the one stand-in shown wherever a
secret would otherwise appear.
"""

from __future__ import annotations

from typing import Final

__all__ = ["HIDDEN"]

HIDDEN: Final = "<hidden>"
"""Shown in place of a secret: a protected header's value, a receiver's secret header."""
