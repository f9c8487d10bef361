"""Reading webhook spec files for ``create --file``, with the one spec reader.

The shape is the one ``export`` writes and ``apply`` reads (:mod:`aioubiwebhooks.migrate`),
so a protected header value may be a ``${VAR}`` reference, filled in from the
environment. Every spec is checked before anything is sent; a bad one is a
ValidationError whose field names the file and the item (``hooks.yaml[3].timeout``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..migrate import read_specs
from ..migrate._spec import resolve_spec
from ..models import WebhookCreate
from .output import UsageError

__all__ = ["read_create_specs"]


def read_create_specs(path: Path) -> list[WebhookCreate]:
    """The create specs in ``path``: one spec, a list of them, or ``{"webhooks": [...]}``.

    A protected value must be known: given, or a reference to a variable that is set.
    """
    specs = read_specs(path)
    if not specs:
        raise UsageError(f"{path} holds no webhook specs")
    creates = []
    for index, spec in enumerate(specs):
        desired = resolve_spec(spec, os.environ)
        for position, value in enumerate(h.value for h in desired.headers):
            if not isinstance(value, str):
                raise UsageError(
                    f"{path.name}[{index}].headers[{position}].value: {value.describe()}"
                )
        creates.append(desired.to_create())
    return creates
