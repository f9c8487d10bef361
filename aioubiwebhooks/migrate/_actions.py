"""The plan types: the actions that bring a project to its specs, and what blocks them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

import attrs

from .._wire import spec_json
from ..models import WebhookCreate, WebhookUpdate
from ._show import render_headers, render_value, show
from ._values import UnknownValue

__all__ = ["Action", "Blocked", "Create", "Delete", "Plan", "Replace", "Update"]

Changes: TypeAlias = Mapping[str, tuple[Any, Any]]
"""Field name -> (stored value, wanted value)."""


@attrs.frozen
class Create:
    """Create a webhook the project lacks."""

    name: str
    spec: WebhookCreate

    @property
    def kind(self) -> str:
        return "create"


@attrs.frozen
class Update:
    """Change a stored webhook in place; ``changes`` is field -> (stored, wanted).

    ``secrets`` names the protected headers whose known values are sent: the API never
    shows a stored one, so it may differ, and the webhook cannot be called unchanged.
    """

    name: str
    update: WebhookUpdate
    changes: Changes
    secrets: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "update"


@attrs.frozen
class Replace:
    """Make the webhook anew: a field an update cannot change differs (see ``changes``).

    The new webhook is created under a temporary name first, then the old one is
    deleted and the new one renamed, so the webhook is never missing. ``resumed``: an
    earlier replacement was cut short, and this one finishes it.
    """

    name: str
    spec: WebhookCreate
    changes: Changes
    resumed: bool = False

    @property
    def kind(self) -> str:
        return "replace"


@attrs.frozen
class Delete:
    """Delete a stored webhook that no desired spec names (only with ``prune``)."""

    name: str

    @property
    def kind(self) -> str:
        return "delete"


Action: TypeAlias = Create | Update | Replace | Delete
"""One change a plan makes; ``action.kind`` names it."""


@attrs.frozen
class Blocked:
    """A webhook that cannot be migrated without protected values nobody supplied."""

    name: str
    action: Literal["create", "update", "replace"]
    values: tuple[UnknownValue, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(v.header for v in self.values)

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for v in self.values for name in v.variables))

    def describe(self) -> str:
        return f"{self.name!r} ({self.action}): " + "; ".join(v.describe() for v in self.values)


def _changes_dict(changes: Changes) -> dict[str, Any]:
    return {
        field: {"stored": render_value(stored), "wanted": render_value(wanted)}
        for field, (stored, wanted) in changes.items()
    }


def _changes_text(changes: Changes, secrets: tuple[str, ...] = ()) -> str:
    parts = [f"{f} {show(old)} -> {show(new)}" for f, (old, new) in changes.items()]
    if secrets:
        parts.append(f"protected {', '.join(secrets)} sent (the stored value cannot be read)")
    return "; ".join(parts)


def _replace_text(replace: Replace) -> str:
    how = "made anew under a temporary name, then swapped in"
    if replace.resumed:
        how = "finishing a replacement that was cut short"
    changes = _changes_text(replace.changes)
    return f"{changes} ({how})" if changes else f"({how})"


def _spec_dict(spec: WebhookCreate) -> dict[str, Any]:
    return spec_json(spec, headers=render_headers(spec.headers))


_COUNT_LABELS = (
    ("create", "to create"),
    ("update", "to update"),
    ("replace", "to replace"),
    ("delete", "to delete"),
    ("unchanged", "unchanged"),
    ("blocked", "blocked"),
)


@attrs.frozen
class Plan:
    """What it takes to bring ``project`` to the desired specs; computing it changed nothing.

    Every list is sorted by webhook name. ``blocked`` webhooks need protected values
    nobody supplied; :func:`~aioubiwebhooks.migrate.apply` refuses a plan that has any.
    """

    project: str
    creates: tuple[Create, ...] = ()
    updates: tuple[Update, ...] = ()
    replaces: tuple[Replace, ...] = ()
    deletes: tuple[Delete, ...] = ()
    unchanged: tuple[str, ...] = ()
    blocked: tuple[Blocked, ...] = ()

    @property
    def actions(self) -> tuple[Action, ...]:
        """Every change, in the order apply reports them."""
        return (*self.creates, *self.updates, *self.replaces, *self.deletes)

    @property
    def is_empty(self) -> bool:
        """Nothing to do and nothing blocked: the project is as desired."""
        return not self.actions and not self.blocked

    def counts(self) -> dict[str, int]:
        return {
            "create": len(self.creates),
            "update": len(self.updates),
            "replace": len(self.replaces),
            "delete": len(self.deletes),
            "unchanged": len(self.unchanged),
            "blocked": len(self.blocked),
        }

    def summary(self) -> str:
        """The plan for people: a count line, then one line per change (secrets hidden)."""
        counts = self.counts()
        if self.is_empty:
            return (
                f"Plan for project {self.project!r}: nothing to change "
                f"({counts['unchanged']} unchanged)"
            )
        head = ", ".join(f"{counts[key]} {label}" for key, label in _COUNT_LABELS)
        lines = [f"Plan for project {self.project!r}: {head}"]
        lines += [f"  + create  {c.name}" for c in self.creates]
        lines += [
            f"  ~ update  {u.name}: {_changes_text(u.changes, u.secrets)}" for u in self.updates
        ]
        lines += [f"  ! replace {r.name}: {_replace_text(r)}" for r in self.replaces]
        lines += [f"  - delete  {d.name}" for d in self.deletes]
        lines += [f"  x blocked {b.describe()}" for b in self.blocked]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data; known protected values read ``<hidden>``."""
        return {
            "project": self.project,
            "counts": self.counts(),
            "creates": [_spec_dict(c.spec) for c in self.creates],
            "updates": [
                {"name": u.name, "changes": _changes_dict(u.changes), "secrets": list(u.secrets)}
                for u in self.updates
            ],
            "replaces": [
                {
                    "name": r.name,
                    "changes": _changes_dict(r.changes),
                    "spec": _spec_dict(r.spec),
                    "resumed": r.resumed,
                }
                for r in self.replaces
            ],
            "deletes": [d.name for d in self.deletes],
            "unchanged": list(self.unchanged),
            "blocked": [
                {
                    "name": b.name,
                    "action": b.action,
                    "headers": list(b.headers),
                    "variables": list(b.variables),
                    "reason": b.describe(),
                }
                for b in self.blocked
            ],
        }
