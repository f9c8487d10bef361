"""Reading a project's webhooks for migration: as stored, and as specs."""

from __future__ import annotations

from typing import Any

from .._endpoints import WebhooksAPI
from .._wire import spec_json
from ..models import WebhookDetail

__all__ = ["export", "read_stored"]


async def read_stored(api: WebhooksAPI, project: str) -> list[WebhookDetail]:
    """The project's webhooks, from one list call."""
    return await api.webhooks_list(project)


async def export(api: WebhooksAPI, project: str) -> list[dict[str, Any]]:
    """The project's webhooks as specs, sorted by name, every field present.

    Protected header values are unknown to the API and exported as ``None``; write
    the result with :func:`~aioubiwebhooks.migrate.dump_specs`.
    """
    stored = await read_stored(api, project)
    return sorted((spec_json(d) for d in stored), key=lambda s: str(s["name"]))
