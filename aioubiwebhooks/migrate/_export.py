"""Reading a project's webhooks for migration: as stored, and as specs."""

from __future__ import annotations

from typing import Any

import attrs

from .._endpoints import WebhooksAPI
from .._wire import spec_json
from ..models import WebhookDetail

__all__ = ["export", "read_stored"]


def _unknown_secrets(detail: WebhookDetail) -> WebhookDetail:
    """``detail`` with every protected value unknown (None): whatever a read returns for
    one (null, a mask, or the value) cannot be told apart, so none is taken for real."""
    if not any(h.protected and h.value is not None for h in detail.headers):
        return detail
    headers = tuple(attrs.evolve(h, value=None) if h.protected else h for h in detail.headers)
    return attrs.evolve(detail, headers=headers)


async def read_stored(api: WebhooksAPI, project: str) -> list[WebhookDetail]:
    """The project's webhooks, from one list call, their protected values unknown."""
    return [_unknown_secrets(detail) for detail in await api.webhooks_list(project)]


async def export(api: WebhooksAPI, project: str) -> list[dict[str, Any]]:
    """The project's webhooks as specs, sorted by name, every field present.

    Protected header values are exported as ``None`` (unknown), whatever the API read
    them back as; write the result with :func:`~aioubiwebhooks.migrate.dump_specs`.
    """
    stored = await read_stored(api, project)
    return sorted((spec_json(d) for d in stored), key=lambda s: str(s["name"]))
