"""The pure diff: desired webhooks against stored ones, to a Plan, without any I/O."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import attrs

from .._compare import IMMUTABLE_FIELDS, differences, header_shape
from ..bulk import update_for
from ..models import WebhookCreate, WebhookDetail
from ._actions import Blocked, Create, Delete, Plan, Replace, Update
from ._spec import DesiredWebhook, WebhookSpec, desired_webhooks

__all__ = ["SpecInput", "decide", "diff"]

SpecInput: TypeAlias = Mapping[str, Any] | WebhookCreate | WebhookSpec
"""A desired spec: a plain dict (as exported or loaded), a WebhookCreate or a WebhookSpec."""


def _field_changes(item: DesiredWebhook, stored: WebhookDetail) -> dict[str, tuple[object, object]]:
    """How ``stored`` differs from ``item``; headers compared by shape (protected values
    cannot be compared: the API never shows them)."""
    changed = differences(item.fields, attrs.evolve(stored, headers=()))
    wanted = item.outbound_headers()
    if header_shape(stored.headers) != header_shape(wanted):
        changed["headers"] = (stored.headers, wanted)
    return changed


def _has_protected(stored: WebhookDetail, key: str) -> bool:
    folded = key.lower()
    return any(h.protected and h.key.lower() == folded for h in stored.headers)


def decide(
    project: str,
    desired: Sequence[DesiredWebhook],
    stored: Iterable[WebhookDetail],
    *,
    prune: bool,
    rotate_secrets: bool,
) -> Plan:
    """The plan that brings ``stored`` to ``desired`` (see :func:`~aioubiwebhooks.migrate.plan`)."""
    wanted = sorted(desired, key=lambda d: d.name)
    current = {detail.name: detail for detail in stored}
    creates: list[Create] = []
    updates: list[Update] = []
    replaces: list[Replace] = []
    unchanged: list[str] = []
    blocked: list[Blocked] = []
    for item in wanted:
        missing = item.unknown
        existing = current.get(item.name)
        if existing is None:
            if missing:
                blocked.append(Blocked(item.name, "create", missing))
            else:
                creates.append(Create(item.name, item.to_create()))
            continue
        changed = _field_changes(item, existing)
        if any(field in changed for field in IMMUTABLE_FIELDS):
            if missing:
                blocked.append(Blocked(item.name, "replace", missing))
            else:
                replaces.append(Replace(item.name, item.to_create(), changed))
            continue
        if rotate_secrets and item.secrets and "headers" not in changed:
            changed["headers"] = (existing.headers, item.outbound_headers())
        if not changed:
            unchanged.append(item.name)
            continue
        update = update_for(item.fields, attrs.evolve(existing, headers=()))
        if "headers" in changed:
            # An unknown value can only be kept: the stored webhook must already have it.
            needed = tuple(v for v in missing if not _has_protected(existing, v.header))
            if needed:
                blocked.append(Blocked(item.name, "update", needed))
                continue
            update = attrs.evolve(update, headers=item.outbound_headers())
        updates.append(Update(item.name, update, changed))
    named = {item.name for item in wanted}
    deletes = [Delete(name) for name in sorted(current) if name not in named] if prune else []
    return Plan(
        project=project,
        creates=tuple(creates),
        updates=tuple(updates),
        replaces=tuple(replaces),
        deletes=tuple(deletes),
        unchanged=tuple(unchanged),
        blocked=tuple(blocked),
    )


def diff(
    project: str,
    desired: Iterable[SpecInput],
    stored: Iterable[WebhookDetail],
    *,
    prune: bool = False,
    environ: Mapping[str, str] | None = None,
    protected_values: Mapping[str, str] | None = None,
    rotate_secrets: bool = False,
) -> Plan:
    """The plan from desired specs and the stored webhooks, without any I/O (see
    :func:`~aioubiwebhooks.migrate.plan`)."""
    wanted = desired_webhooks(desired, os.environ if environ is None else environ, protected_values)
    return decide(project, wanted, stored, prune=prune, rotate_secrets=rotate_secrets)
