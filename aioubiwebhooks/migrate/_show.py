"""Field values as people and JSON documents see them: protected values hidden."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._redact import HIDDEN
from .._wire import headers_json
from ..models import WebhookHeader

__all__ = ["render_headers", "render_value", "show"]


def render_headers(headers: Sequence[WebhookHeader]) -> list[dict[str, Any]]:
    """Headers as JSON-ready dicts; a known protected value is shown as ``<hidden>``."""
    return headers_json(headers, mask=HIDDEN)


def render_value(value: Any) -> Any:
    """A field value as JSON-ready data, with protected header values hidden."""
    if isinstance(value, tuple) and all(isinstance(v, WebhookHeader) for v in value):
        return render_headers(value)
    if isinstance(value, Mapping):
        return {key: value[key] for key in sorted(value)}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def show(value: Any) -> str:
    """A field value on one line, as JSON."""
    return json.dumps(render_value(value), ensure_ascii=False, default=str)
