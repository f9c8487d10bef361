"""Stored objects to the JSON the API answers with.

The one place where protected header values are hidden: every read shows them as
JSON ``null`` (never ``""``, which the official client refuses to read).
Datetimes are ISO-8601 in UTC with a ``Z``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import WebhookDetail, WebhookHeader, WebhookTestDetail

__all__ = ["iso", "render_header", "render_test", "render_webhook"]


def iso(moment: datetime | None) -> str | None:
    """``2024-05-01T12:00:00.123456Z`` style, or None."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def render_header(header: WebhookHeader) -> dict[str, Any]:
    value = None if header.protected else header.value
    return {"key": header.key, "value": value, "protected": header.protected}


def render_webhook(webhook: WebhookDetail) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "name": webhook.name,
        "url": webhook.url,
        "headers": [render_header(h) for h in webhook.headers],
        "object_type": webhook.object_type.value,
        "object_name": webhook.object_name,
        "version": webhook.version,
        "description": webhook.description,
        "labels": dict(webhook.labels),
        "event": webhook.event.value,
        "timeout": webhook.timeout,
        "enabled": webhook.enabled,
        "retry": webhook.retry,
        "include_result": webhook.include_result,
        "creation_date": iso(webhook.creation_date),
        "last_updated": iso(webhook.last_updated),
    }


def render_test(test: WebhookTestDetail) -> dict[str, Any]:
    return {"id": test.id, "status": test.status.value, "error_message": test.error_message}
