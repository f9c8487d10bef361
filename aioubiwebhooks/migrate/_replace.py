"""Replacing a webhook without ever losing it: make the new one, then swap it in.

An update cannot change a webhook's object or version, so such a change makes the
webhook anew. Deleting first and creating then would leave the project without it
whenever the create fails (a refused spec, an outage, a rate limit). Instead:

1. the new webhook is created under a temporary name derived from the real one;
2. the old webhook is deleted;
3. the new one is renamed to the real name.

Until step 2 both exist (deliveries may come twice for a moment, never not at all). A
failure at any step leaves something the next plan recognises by the temporary name,
so planning and applying again finishes the swap.
"""

from __future__ import annotations

import contextlib
import hashlib

import attrs

from .._compare import IMMUTABLE_FIELDS, stored_differences
from .._endpoints import WebhooksAPI
from .._rules import NAME_MAX_LENGTH
from ..bulk import update_sending_secrets
from ..errors import ConflictError, NotFoundError
from ..models import WebhookCreate, WebhookDetail, WebhookUpdate

__all__ = ["replace", "replacement_name"]

_MARK = "-replacing-"
_DIGEST = 7


def replacement_name(name: str) -> str:
    """The temporary name a replacement of ``name`` is created under: at most 64
    characters, the same every time, and distinct for every name (a digest of it)."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST]
    keep = NAME_MAX_LENGTH - len(_MARK) - _DIGEST
    return f"{name[:keep]}{_MARK}{digest}"


async def _made_anew(api: WebhooksAPI, project: str, spec: WebhookCreate) -> None:
    """Step 1: the webhook as specified, under its temporary name. One left by an earlier
    try is kept when it matches (its secrets sent again), else made anew."""
    try:
        await api.webhooks_create(project, spec)
        return
    except ConflictError:
        pass
    stored, changed = await stored_differences(api, project, spec)
    if any(field in changed for field in IMMUTABLE_FIELDS):
        await api.webhooks_delete(project, spec.name)
        await api.webhooks_create(project, spec)
        return
    update = update_sending_secrets(spec, stored)
    if update.changed_fields():
        await api.webhooks_update(project, spec.name, update)


async def replace(api: WebhooksAPI, project: str, spec: WebhookCreate) -> WebhookDetail:
    """Make the webhook ``spec`` describes anew and swap it in for the stored one."""
    temporary = replacement_name(spec.name)
    await _made_anew(api, project, attrs.evolve(spec, name=temporary))
    with contextlib.suppress(NotFoundError):  # gone already: an earlier try got this far
        await api.webhooks_delete(project, spec.name)
    return await api.webhooks_update(project, temporary, WebhookUpdate(name=spec.name))
