"""Does a stored webhook match a spec? Shared by create retries and migration plans.

Whatever a read returns for a protected header's value (null, a mask, or the value
itself) cannot be told apart, so it is never compared: a protected header matches when
its key and flag match, whatever either side holds as its value.
"""

from __future__ import annotations

from typing import Any

from ._endpoints import WebhooksAPI
from .models import WebhookCreate, WebhookDetail, WebhookHeader

__all__ = ["IMMUTABLE_FIELDS", "differences", "header_shape", "stored_differences"]

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
    """Headers as comparable tuples; a protected value counts as unknown (None) on either side."""
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


async def stored_differences(
    api: WebhooksAPI, project_name: str, spec: WebhookCreate
) -> tuple[WebhookDetail, dict[str, tuple[Any, Any]]]:
    """A create met 409: the webhook stored under ``spec.name``, and how it differs.

    The one way every caller (a retried create, a bulk create, a migration) finds out
    whether the name is taken by the webhook it meant to make or by another one.
    """
    stored = await api.webhooks_get(project_name, spec.name)
    return stored, differences(spec, stored)
