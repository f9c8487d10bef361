"""Reading webhook spec files for ``create --file``, with the one spec reader.

The shape is the one ``export`` writes and ``apply`` reads (:mod:`aioubiwebhooks.migrate`),
so a protected header value may be a ``${VAR}`` reference, filled in from the
environment. Every spec is checked before anything is sent; a bad one is a
ValidationError whose field names the file and the item (``hooks.yaml[3].timeout``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ValidationError
from ..migrate import UnknownValue, read_specs
from ..migrate._spec import resolve_spec
from ..models import WebhookCreate
from .output import UsageError

__all__ = ["read_create_specs"]


def read_create_specs(path: Path) -> list[WebhookCreate]:
    """The create specs in ``path``: one spec, a list of them, or ``{"webhooks": [...]}``.

    A protected value must be known: given, or a reference to a variable that is set.
    Every spec lacking one is reported, with the variables to set.
    """
    specs = read_specs(path)
    if not specs:
        raise UsageError(f"{path} holds no webhook specs")
    desired = [resolve_spec(spec, os.environ) for spec in specs]
    problems = [
        ValidationError(
            f"{path.name}[{index}].headers[{position}].value",
            header.value.describe(),
            webhook=item.name,
        )
        for index, item in enumerate(desired)
        for position, header in enumerate(item.headers)
        if isinstance(header.value, UnknownValue)
    ]
    if problems:
        lacking = len({p.field.partition("]")[0] for p in problems})
        raise ValidationError.combined(
            problems, f"{lacking} of {len(specs)} specs in {path.name} lack protected values"
        )
    return [item.to_create() for item in desired]
