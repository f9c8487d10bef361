"""Reading webhook spec files for ``create --file``: JSON or YAML, one spec or a list.

The shape is the one ``export`` writes and ``apply`` reads, so a protected header
value may be a ``${VAR}`` reference, filled in from the environment (an unset
variable is a usage error naming it). Every spec is turned into a checked
:class:`~aioubiwebhooks.models.WebhookCreate` before anything is sent; a bad one
is a ValidationError whose field names the file and the item
(``hooks.yaml[3].timeout``), so the fix is easy to find.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .._specs import substitute
from ..errors import ValidationError
from ..models import WebhookCreate
from .output import UsageError

__all__ = ["read_create_specs", "read_document"]


def read_document(path: Path) -> Any:
    """The parsed content of a JSON (``.json``) or YAML file; UsageError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"cannot read {path}: {reason}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise UsageError(f"{path} is not valid {kind}: {error}") from None


def read_create_specs(path: Path) -> list[WebhookCreate]:
    """The create specs in ``path``: a mapping, a list of them, or ``{"webhooks": [...]}``."""
    data = read_document(path)
    if isinstance(data, dict) and isinstance(data.get("webhooks"), list):
        data = data["webhooks"]
    items = data if isinstance(data, list) else [data]
    specs = []
    for index, item in enumerate(items):
        where = f"{path.name}[{index}]"
        try:
            specs.append(WebhookCreate.from_dict(_resolved(item, where, os.environ)))
        except ValidationError as error:
            raise error.nested(where) from None
    if not specs:
        raise UsageError(f"{path} holds no webhook specs")
    return specs


def _resolved(item: object, where: str, environ: Mapping[str, str]) -> object:
    """``item`` with ``${VAR}`` references in protected header values filled in."""
    if not isinstance(item, Mapping) or not isinstance(item.get("headers"), list):
        return item
    headers: list[object] = []
    for position, header in enumerate(item["headers"]):
        value = header.get("value") if isinstance(header, Mapping) else None
        if (
            isinstance(header, Mapping)
            and header.get("protected") is True
            and isinstance(value, str)
        ):
            filled, missing = substitute(value, environ)
            if filled is None:
                raise UsageError(
                    f"{where}.headers[{position}].value: environment variable "
                    f"{', '.join(missing)} is not set"
                )
            header = {**header, "value": filled}
        headers.append(header)
    return {**item, "headers": headers}
