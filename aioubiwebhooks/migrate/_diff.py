"""The pure diff: desired webhooks against stored ones, to a Plan, without any I/O."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import attrs

from .._compare import IMMUTABLE_FIELDS, differences, header_shape
from ..bulk import update_for
from ..models import WebhookCreate, WebhookDetail
from ._actions import Blocked, Create, Delete, Plan, Replace, Update
from ._replace import replacement_name
from ._spec import DesiredWebhook, WebhookSpec, desired_webhooks

__all__ = ["SpecInput", "decide", "diff", "warn_rotate_secrets"]

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


def _decide_one(
    item: DesiredWebhook, existing: WebhookDetail | None, leftover: bool
) -> Create | Update | Replace | Blocked | None:
    """What ``item`` needs (None: nothing); ``leftover``: a replacement of it was cut short."""
    missing = item.unknown
    if existing is None:
        if missing:
            return Blocked(item.name, "create", missing)
        if leftover:  # the old webhook is gone and the new one waits under its temporary name
            return Replace(item.name, item.to_create(), {}, resumed=True)
        return Create(item.name, item.to_create())
    changed = _field_changes(item, existing)
    if any(field in changed for field in IMMUTABLE_FIELDS):
        if missing:
            return Blocked(item.name, "replace", missing)
        return Replace(item.name, item.to_create(), changed, resumed=leftover)
    if not changed and not item.secrets:
        return None
    update = update_for(item.fields, attrs.evolve(existing, headers=()))
    if "headers" in changed or item.secrets:
        # An unknown value can only be kept: the stored webhook must already have it.
        needed = tuple(v for v in missing if not _has_protected(existing, v.header))
        if needed:
            return Blocked(item.name, "update", needed)
        update = attrs.evolve(update, headers=item.outbound_headers())
    return Update(item.name, update, changed, item.secrets)


def decide(
    project: str,
    desired: Sequence[DesiredWebhook],
    stored: Iterable[WebhookDetail],
    *,
    prune: bool,
) -> Plan:
    """The plan that brings ``stored`` to ``desired`` (see :func:`~aioubiwebhooks.migrate.plan`).

    A webhook under the temporary name of a desired one is what a replacement cut short
    left behind: the replacement is finished, or the leftover deleted when no longer
    needed, and it is never pruned as a stranger.
    """
    wanted = sorted(desired, key=lambda d: d.name)
    current = {detail.name: detail for detail in stored}
    found: dict[type, list[Any]] = {Create: [], Update: [], Replace: [], Blocked: []}
    unchanged: list[str] = []
    deletes: list[Delete] = []
    ours: set[str] = set()
    for item in wanted:
        temporary = replacement_name(item.name)
        leftover = temporary in current
        decision = _decide_one(item, current.get(item.name), leftover)
        if leftover:
            ours.add(temporary)
            if decision is None or isinstance(decision, Update):
                deletes.append(Delete(temporary))  # not needed any more
        if decision is None:
            unchanged.append(item.name)
        else:
            found[type(decision)].append(decision)
    if prune:
        named = {item.name for item in wanted} | ours
        deletes += [Delete(name) for name in current if name not in named]
    return Plan(
        project=project,
        creates=tuple(found[Create]),
        updates=tuple(found[Update]),
        replaces=tuple(found[Replace]),
        deletes=tuple(sorted(deletes, key=lambda d: d.name)),
        unchanged=tuple(unchanged),
        blocked=tuple(found[Blocked]),
    )


def diff(
    project: str,
    desired: Iterable[SpecInput],
    stored: Iterable[WebhookDetail],
    *,
    prune: bool = False,
    environ: Mapping[str, str] | None = None,
    protected_values: Mapping[str, str] | None = None,
    rotate_secrets: bool | None = None,
) -> Plan:
    """The plan from desired specs and the stored webhooks, without any I/O (see
    :func:`~aioubiwebhooks.migrate.plan`)."""
    warn_rotate_secrets(rotate_secrets)
    wanted = desired_webhooks(desired, os.environ if environ is None else environ, protected_values)
    return decide(project, wanted, stored, prune=prune)


def warn_rotate_secrets(rotate_secrets: bool | None) -> None:
    """``rotate_secrets`` changes nothing now: every known protected value is sent."""
    if rotate_secrets is not None:
        warnings.warn(
            "rotate_secrets is deprecated and changes nothing: a plan always sends known "
            "protected values, since the stored ones cannot be compared",
            DeprecationWarning,
            stacklevel=3,  # pragma: no mutate
        )
