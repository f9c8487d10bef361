"""Does a stored webhook match a spec? Shared by create retries and migration plans.

The API never returns protected header values, so they cannot be compared: a
protected header matches when its key and flag match.
"""

from __future__ import annotations

from typing import Any

from .models import WebhookCreate, WebhookDetail, WebhookHeader

__all__ = ["IMMUTABLE_FIELDS", "differences", "header_shape"]

IMMUTABLE_FIELDS = ("object_type", "object_name", "version")
"""Fields an update cannot change: a webhook that differs here must be replaced."""

_PLAIN_FIELDS = (
    "url",
    "object_type",
    "object_name",
    "event",
    "labels",
    "timeout",
    "enabled",
    "retry",
    "include_result",
)


def header_shape(headers: tuple[WebhookHeader, ...]) -> tuple[tuple[str, str | None, bool], ...]:
    """Headers as comparable tuples; protected values read as unknown (None)."""
    return tuple((h.key, None if h.protected else h.value, h.protected) for h in headers)


def differences(spec: WebhookCreate, detail: WebhookDetail) -> dict[str, tuple[Any, Any]]:
    """Fields where ``detail`` (what is stored) differs from ``spec``: name -> (stored, wanted)."""
    changed: dict[str, tuple[Any, Any]] = {}
    for field in _PLAIN_FIELDS:
        stored, wanted = getattr(detail, field), getattr(spec, field)
        if stored != wanted:
            changed[field] = (stored, wanted)
    if (detail.description or "") != (spec.description or ""):
        changed["description"] = (detail.description, spec.description)
    if spec.version is not None and detail.version != spec.version:
        changed["version"] = (detail.version, spec.version)
    if header_shape(detail.headers) != header_shape(spec.headers):
        changed["headers"] = (detail.headers, spec.headers)
    return changed
