"""Deprecated: the migration tools moved to :mod:`aioubiwebhooks.migrate`.

In an asynchronous library "sync" reads as "synchronous"; the module keeps working for
one release and then goes away. Import from ``aioubiwebhooks.migrate`` instead.
"""

from __future__ import annotations

import warnings

from .migrate import (
    Action,
    ApplyResult,
    Blocked,
    CopyResult,
    Create,
    Delete,
    Plan,
    PlanBlockedError,
    Renamer,
    Replace,
    SpecFormat,
    SpecInput,
    UnknownValue,
    Update,
    apply,
    copy,
    diff,
    dump_specs,
    export,
    load_specs,
    plan,
)

__all__ = [
    "Action",
    "ApplyResult",
    "Blocked",
    "CopyResult",
    "Create",
    "Delete",
    "Plan",
    "PlanBlockedError",
    "Renamer",
    "Replace",
    "SpecFormat",
    "SpecInput",
    "UnknownValue",
    "Update",
    "apply",
    "copy",
    "diff",
    "dump_specs",
    "export",
    "load_specs",
    "plan",
]

warnings.warn(
    "aioubiwebhooks.sync is deprecated and will be removed in the next release; "
    "import from aioubiwebhooks.migrate instead",
    DeprecationWarning,
    stacklevel=2,
)
