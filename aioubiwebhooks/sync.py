"""Deprecated: the migration tools moved to :mod:`aioubiwebhooks.migrate`.

In an asynchronous library "sync" reads as "synchronous"; the module keeps working for
one release and then goes away. Import from ``aioubiwebhooks.migrate`` instead.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import migrate

__all__ = list(migrate.__all__)

warnings.warn(
    "aioubiwebhooks.sync is deprecated and will be removed in the next release; "
    "import from aioubiwebhooks.migrate instead",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    """Every name of :mod:`aioubiwebhooks.migrate`, looked up there."""
    if name in migrate.__all__:
        return getattr(migrate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
