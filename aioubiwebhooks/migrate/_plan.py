"""Planning against a live project: the desired specs, one list call, the pure diff."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from .._endpoints import WebhooksAPI
from ._actions import Plan
from ._diff import SpecInput, decide, warn_rotate_secrets
from ._export import read_stored
from ._spec import desired_webhooks

__all__ = ["plan"]


async def plan(
    api: WebhooksAPI,
    project: str,
    desired: Iterable[SpecInput],
    prune: bool = False,
    *,
    environ: Mapping[str, str] | None = None,
    protected_values: Mapping[str, str] | None = None,
    rotate_secrets: bool | None = None,
) -> Plan:
    """What it takes to bring ``project`` to ``desired`` (dicts or WebhookCreate); changes nothing.

    Specs are checked first (one ValidationError whose ``problems`` name every bad
    ``specs[i].field``, before any request), then the project is read with one list
    call. Webhooks are matched by name; with ``prune``, stored webhooks no spec names
    are deleted. ``${VAR}`` in a protected header value is read from ``environ``
    (default ``os.environ``);
    ``protected_values`` fills protected values a spec leaves unknown, by header key
    or ``"webhook-name/Header-Key"``.

    A known protected value is always sent (an update with ``secrets`` naming it),
    since the API never shows the stored one: a plan never calls a webhook unchanged
    while its secret may differ. An unknown one is kept as stored, or blocks the
    webhook when it cannot be (see the module). ``rotate_secrets`` is deprecated and
    changes nothing.
    """
    warn_rotate_secrets(rotate_secrets)
    wanted = desired_webhooks(desired, os.environ if environ is None else environ, protected_values)
    stored = await read_stored(api, project)
    return decide(project, wanted, stored, prune=prune)
