"""Migration: export a project's webhooks, plan the way to a desired state, apply it, copy.

The flow is ``export`` -> edit, rename or rewrite the specs -> ``plan`` -> ``apply``.
A plan is computed from one list call and changes nothing; ``apply`` carries it out
with the bulk runner, one :class:`~aioubiwebhooks.Outcome` per action. Both are
re-runnable: after a complete apply the next plan is empty, and after an
interrupted or partly failed one, planning again finds exactly what is left.

Protected header values cannot be read from the API, so:

- an export writes them as ``null`` (unknown), never inventing a value;
- a spec gives them as ``${VAR}`` references, resolved from ``environ`` (default
  ``os.environ``; only protected values are resolved), or leaves them unknown;
- an unknown value is kept as stored on update (sent as null, which means "keep");
- a webhook that would need an unknown value (a create, a replace, or a protected
  header the stored webhook lacks) is *blocked*: :func:`apply` refuses a plan with
  blocked entries before changing anything (:class:`PlanBlockedError`).

A known protected value cannot be compared with the stored one either, so it never
makes a webhook "changed" on its own; that keeps a second apply a no-op. Rotating a
secret is therefore an explicit update: plan with ``rotate_secrets=True`` (every
webhook with a known protected value gets its headers sent again), or call
``session.webhooks_update`` yourself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import attrs

from ._compare import IMMUTABLE_FIELDS, differences, stored_differences
from ._endpoints import WebhooksAPI
from ._outcome import Outcome
from ._specs import (
    STAND_IN,
    ParsedSpec,
    SpecFormat,
    canonical_from_detail,
    canonical_from_spec,
    dump_specs,
    load_specs,
    parse_specs,
    render_headers,
    render_value,
    substitute,
)
from .bulk import DEFAULT_CONCURRENCY, ProgressHook, SkipItem, run_bulk, update_for
from .errors import ConflictError, NotFoundError, UbiOpsError, ValidationError
from .models import WebhookCreate, WebhookDetail, WebhookHeader, WebhookUpdate

__all__ = [
    "Action",
    "ApplyResult",
    "Blocked",
    "CopyResult",
    "Create",
    "Delete",
    "Plan",
    "PlanBlockedError",
    "Renamer",
    "Replace",
    "SpecFormat",
    "SpecInput",
    "UnknownValue",
    "Update",
    "apply",
    "copy",
    "diff",
    "dump_specs",
    "export",
    "load_specs",
    "plan",
]

Renamer: TypeAlias = Mapping[str, str] | Callable[[str], str]
"""Old name -> new name, as a mapping (names not in it stay) or a function."""

SpecInput: TypeAlias = Mapping[str, Any] | WebhookCreate
"""A desired spec: a plain dict (as exported or loaded) or a WebhookCreate."""


# --- what a plan holds ------------------------------------------------------------------------


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
    """Change a stored webhook in place; ``changes`` is field -> (stored, wanted)."""

    name: str
    update: WebhookUpdate
    changes: Mapping[str, tuple[Any, Any]]

    @property
    def kind(self) -> str:
        return "update"


@attrs.frozen
class Replace:
    """Delete and create again: a field an update cannot change differs (see ``changes``)."""

    name: str
    spec: WebhookCreate
    changes: Mapping[str, tuple[Any, Any]]

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
class UnknownValue:
    """A protected header whose value is needed but unknown; ``variables`` are unset ones."""

    header: str
    variables: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.variables:
            names = ", ".join(self.variables)
            plural = "s" if len(self.variables) > 1 else ""
            return f"header {self.header!r}: variable{plural} {names} not set"
        return f"header {self.header!r}: no value given"


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


class PlanBlockedError(UbiOpsError):
    """A plan needs protected values that are unknown; raised before anything is changed.

    ``blocked`` lists every webhook concerned with its headers and unset variables.
    """

    def __init__(self, project: str, blocked: Sequence[Blocked]):
        self.project = project
        self.blocked = tuple(blocked)
        details = "; ".join(b.describe() for b in self.blocked)
        super().__init__(
            f"nothing was changed in project {project!r}: {len(self.blocked)} webhook(s) "
            f"need protected header values that are unknown: {details}"
        )


def _show(value: Any) -> str:
    return json.dumps(render_value(value), ensure_ascii=False, default=str)


def _changes_dict(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    return {
        field: {"stored": render_value(stored), "wanted": render_value(wanted)}
        for field, (stored, wanted) in changes.items()
    }


def _changes_text(changes: Mapping[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{f} {_show(old)} -> {_show(new)}" for f, (old, new) in changes.items())


def _spec_dict(spec: WebhookCreate) -> dict[str, Any]:
    shown = canonical_from_spec(ParsedSpec(spec))
    shown["headers"] = render_headers(spec.headers)
    return shown


@attrs.frozen
class Plan:
    """What it takes to bring ``project`` to the desired specs; computing it changed nothing.

    Every list is sorted by webhook name. ``blocked`` webhooks need protected values
    nobody supplied; :func:`apply` refuses a plan that has any.
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
        head = ", ".join(
            f"{counts[k]} {label}"
            for k, label in (
                ("create", "to create"),
                ("update", "to update"),
                ("replace", "to replace"),
                ("delete", "to delete"),
                ("unchanged", "unchanged"),
                ("blocked", "blocked"),
            )
        )
        lines = [f"Plan for project {self.project!r}: {head}"]
        lines += [f"  + create  {c.name}" for c in self.creates]
        lines += [f"  ~ update  {u.name}: {_changes_text(u.changes)}" for u in self.updates]
        lines += [
            f"  ! replace {r.name}: {_changes_text(r.changes)} (delete, then create)"
            for r in self.replaces
        ]
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
                {"name": u.name, "changes": _changes_dict(u.changes)} for u in self.updates
            ],
            "replaces": [
                {"name": r.name, "changes": _changes_dict(r.changes), "spec": _spec_dict(r.spec)}
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


@attrs.frozen
class ApplyResult:
    """What apply did: one Outcome per action of ``plan``, in the plan's order.

    A skipped outcome is an action found already done (a create whose webhook is
    there as specified, a delete whose webhook is gone).
    """

    plan: Plan
    outcomes: tuple[Outcome[Action, WebhookDetail | None], ...]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> tuple[Outcome[Action, WebhookDetail | None], ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def succeeded(self) -> tuple[Outcome[Action, WebhookDetail | None], ...]:
        return tuple(o for o in self.outcomes if o.ok)

    def summary(self) -> str:
        skipped = sum(1 for o in self.outcomes if o.skipped)
        lines = [
            f"Applied to project {self.plan.project!r}: {len(self.succeeded)} done "
            f"({skipped} already so), {len(self.failed)} failed"
        ]
        lines += [f"  {o.item.kind} {o.item.name}: {o.error}" for o in self.failed]
        if self.failed:
            lines.append("Plan and apply again to finish the job.")
        return "\n".join(lines)


@attrs.frozen
class CopyResult:
    """A copy's plan, and what applying it did (None for a dry run)."""

    plan: Plan
    result: ApplyResult | None = None

    @property
    def ok(self) -> bool:
        """Nothing blocked, and every action (if any ran) succeeded."""
        return not self.plan.blocked and (self.result is None or self.result.ok)


# --- desired specs: checking, protected values ----------------------------------------------


_ValueIndex: TypeAlias = dict[tuple[str | None, str], str]


def _index_protected(values: Mapping[str, str] | None) -> _ValueIndex:
    """``protected_values`` keyed by (webhook name or None, lower-cased header key)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValidationError("protected_values", "must be a mapping", None, secret=True)
    index: _ValueIndex = {}
    for ref, value in values.items():
        name, sep, key = ref.rpartition("/") if isinstance(ref, str) else ("", "", "")
        if not key or (sep and not name) or not isinstance(value, str) or not value:
            raise ValidationError(
                f"protected_values[{ref!r}]",
                "must map 'Header-Key' or 'webhook-name/Header-Key' to a non-empty string",
                None,
                secret=True,
            )
        index[(name if sep else None, key.lower())] = value
    return index


def _fill(data: Mapping[str, Any], values: _ValueIndex, names: Sequence[str]) -> Mapping[str, Any]:
    """A spec dict with its unknown protected values taken from ``values``, where given."""
    headers = data.get("headers")
    if not values or not isinstance(headers, list):
        return data
    filled: list[object] = []
    changed = False
    for item in headers:
        if (
            isinstance(item, Mapping)
            and item.get("protected") is True
            and item.get("value") is None
            and isinstance(item.get("key"), str)
        ):
            key = item["key"].lower()
            found = next((values[(n, key)] for n in names if (n, key) in values), None)
            found = found if found is not None else values.get((None, key))
            if found is not None:
                item = {**item, "value": found}
                changed = True
        filled.append(item)
    return {**data, "headers": filled} if changed else data


@attrs.frozen
class _Desired:
    """A spec with its protected values resolved; ``unknown`` by header index.

    Unknown values hold the stand-in inside ``spec``; :meth:`outbound_headers` is
    what may be sent (unknown values as None: keep what is stored).
    """

    spec: WebhookCreate
    unknown: Mapping[int, UnknownValue]

    @property
    def name(self) -> str:
        return self.spec.name

    def outbound_headers(self) -> tuple[WebhookHeader, ...]:
        return tuple(
            attrs.evolve(h, value=None) if i in self.unknown else h
            for i, h in enumerate(self.spec.headers)
        )

    def has_known_secret(self) -> bool:
        return any(h.protected and i not in self.unknown for i, h in enumerate(self.spec.headers))


def _resolve(parsed: ParsedSpec, environ: Mapping[str, str]) -> _Desired:
    if not any(h.protected for h in parsed.spec.headers):
        return _Desired(parsed.spec, {})
    headers = list(parsed.spec.headers)
    unknown: dict[int, UnknownValue] = {}
    for index, header in enumerate(headers):
        if not header.protected:
            continue
        given = parsed.header_value(index)
        value, missing = (None, ()) if given is None else substitute(given, environ)
        if value is None:
            unknown[index] = UnknownValue(header.key, missing)
            value = STAND_IN
        headers[index] = attrs.evolve(header, value=value)
    return _Desired(attrs.evolve(parsed.spec, headers=tuple(headers)), unknown)


def _prepare(
    desired: Iterable[object],
    environ: Mapping[str, str] | None,
    protected_values: Mapping[str, str] | None,
) -> list[_Desired]:
    values = _index_protected(protected_values)
    items = [
        _fill(item, values, (str(item.get("name")),)) if isinstance(item, Mapping) else item
        for item in desired
    ]
    env = os.environ if environ is None else environ
    return [_resolve(parsed, env) for parsed in parse_specs(items)]


# --- export, plan, apply ----------------------------------------------------------------------


async def export(session: WebhooksAPI, project: str) -> list[dict[str, Any]]:
    """The project's webhooks as specs, sorted by name, every field present.

    Protected header values are unknown to the API and exported as ``None``; write
    the result with :func:`dump_specs`.
    """
    stored = await session.webhooks_list(project)
    return sorted((canonical_from_detail(d) for d in stored), key=lambda s: str(s["name"]))


def _stored_protected(stored: WebhookDetail, key: str) -> bool:
    folded = key.lower()
    return any(h.protected and h.key.lower() == folded for h in stored.headers)


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
    """The plan from desired specs and the stored webhooks, without any I/O (see :func:`plan`)."""
    wanted = _prepare(desired, environ, protected_values)
    return _decide(project, wanted, stored, prune=prune, rotate_secrets=rotate_secrets)


def _decide(
    project: str,
    desired: Sequence[_Desired],
    stored: Iterable[WebhookDetail],
    *,
    prune: bool,
    rotate_secrets: bool,
) -> Plan:
    wanted = sorted(desired, key=lambda d: d.name)
    current = {detail.name: detail for detail in stored}
    creates: list[Create] = []
    updates: list[Update] = []
    replaces: list[Replace] = []
    unchanged: list[str] = []
    blocked: list[Blocked] = []
    for item in wanted:
        spec, missing = item.spec, tuple(item.unknown.values())
        existing = current.get(item.name)
        if existing is None:
            if missing:
                blocked.append(Blocked(item.name, "create", missing))
            else:
                creates.append(Create(item.name, spec))
            continue
        changed = differences(spec, existing)
        if "headers" in changed:
            changed["headers"] = (existing.headers, item.outbound_headers())
        if any(field in changed for field in IMMUTABLE_FIELDS):
            if missing:
                blocked.append(Blocked(item.name, "replace", missing))
            else:
                replaces.append(Replace(item.name, spec, changed))
            continue
        if rotate_secrets and item.has_known_secret() and "headers" not in changed:
            changed["headers"] = (existing.headers, item.outbound_headers())
        if not changed:
            unchanged.append(item.name)
            continue
        update = update_for(spec, existing)
        if "headers" in changed:
            # An unknown value can only be kept: the stored webhook must already have it.
            needed = tuple(
                value
                for index, value in item.unknown.items()
                if not _stored_protected(existing, spec.headers[index].key)
            )
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


async def plan(
    session: WebhooksAPI,
    project: str,
    desired: Iterable[SpecInput],
    prune: bool = False,
    *,
    environ: Mapping[str, str] | None = None,
    protected_values: Mapping[str, str] | None = None,
    rotate_secrets: bool = False,
) -> Plan:
    """What it takes to bring ``project`` to ``desired`` (dicts or WebhookCreate); changes nothing.

    Specs are checked first (ValidationError naming ``specs[i].field``, before any
    request), then the project is read with one list call. Webhooks are matched by
    name; with ``prune``, stored webhooks no spec names are deleted. ``${VAR}`` in a
    protected header value is read from ``environ`` (default ``os.environ``);
    ``protected_values`` fills protected values a spec leaves unknown, by header key
    or ``"webhook-name/Header-Key"``. ``rotate_secrets`` sends every known protected
    value again, which is the only way a plan changes a secret alone.
    """
    wanted = _prepare(desired, environ, protected_values)
    stored = await session.webhooks_list(project)
    return _decide(project, wanted, stored, prune=prune, rotate_secrets=rotate_secrets)


async def apply(
    session: WebhooksAPI,
    plan: Plan,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressHook | None = None,
) -> ApplyResult:
    """Carry out ``plan`` with up to ``concurrency`` calls in flight; one Outcome per action.

    Raises PlanBlockedError, before any request, when the plan has blocked entries.
    A failed action does not stop the others; plan and apply again to finish. Actions
    found already done (the plan went stale) are reported as skipped, not failed.
    """
    if plan.blocked:
        raise PlanBlockedError(plan.project, plan.blocked)
    project = plan.project

    async def create(spec: WebhookCreate) -> WebhookDetail:
        try:
            return await session.webhooks_create(project, spec)
        except ConflictError:
            # Created since the plan was made: done already if it is as specified.
            stored, changed = await stored_differences(session, project, spec)
            if changed:
                raise
            raise SkipItem(stored) from None

    async def delete(name: str) -> bool:
        try:
            await session.webhooks_delete(project, name)
        except NotFoundError:
            return False
        return True

    async def carry_out(action: Action) -> WebhookDetail | None:
        if isinstance(action, Create):
            return await create(action.spec)
        if isinstance(action, Update):
            return await session.webhooks_update(project, action.name, action.update)
        deleted = await delete(action.name)
        if isinstance(action, Replace):
            return await create(action.spec)
        if not deleted:
            raise SkipItem()
        return None

    outcomes = await run_bulk(plan.actions, carry_out, concurrency=concurrency, progress=progress)
    return ApplyResult(plan, tuple(outcomes))


# --- copy -------------------------------------------------------------------------------------


def _renamer(rename: Renamer | Sequence[Renamer] | None) -> Callable[[str], str]:
    if rename is None:
        steps: list[Renamer] = []
    elif isinstance(rename, Mapping) or callable(rename):
        steps = [rename]
    elif isinstance(rename, (list, tuple)):
        steps = list(rename)
    else:
        raise ValidationError(
            "rename", "must be a mapping of old to new names, a function, or a list of them", rename
        )
    for index, step in enumerate(steps):
        if not (isinstance(step, Mapping) or callable(step)):
            raise ValidationError(f"rename[{index}]", "must be a mapping or a function", step)

    def renamed(name: str) -> str:
        for step in steps:
            name = step.get(name, name) if isinstance(step, Mapping) else step(name)
        return name

    return renamed


def _rewrites(rewrite_urls: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    pairs = list(rewrite_urls.items()) if isinstance(rewrite_urls, Mapping) else list(rewrite_urls)
    for index, pair in enumerate(pairs):
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not all(isinstance(p, str) for p in pair)
            or not pair[0]
        ):
            raise ValidationError(
                f"rewrite_urls[{index}]", "must be a pair of URL prefixes (old, new)", pair
            )
    return pairs


def _rewrite(url: str, pairs: Sequence[tuple[str, str]]) -> str:
    for old, new in pairs:
        if url.startswith(old):
            return new + url[len(old) :]
    return url


async def copy(
    source_session: WebhooksAPI,
    source_project: str,
    target_session: WebhooksAPI,
    target_project: str,
    *,
    rename: Renamer | Sequence[Renamer] | None = None,
    rewrite_urls: Iterable[tuple[str, str]] | Mapping[str, str] = (),
    protected_values: Mapping[str, str] | None = None,
    prune: bool = False,
    dry_run: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressHook | None = None,
    environ: Mapping[str, str] | None = None,
) -> CopyResult:
    """Copy webhooks from one project (and host) to another: export, plan, apply.

    ``rename``: a mapping old -> new, a function, or a list of them applied in turn.
    ``rewrite_urls``: ``(old_prefix, new_prefix)`` pairs; the first match rewrites a
    URL. ``protected_values``: the values the source cannot reveal, by header key
    (every webhook) or ``"webhook-name/Header-Key"`` (source or target name; wins over
    the key alone), usually ``${VAR}`` references resolved from ``environ``.
    Without them, webhooks needing them are blocked and PlanBlockedError is raised
    before the target is changed. ``dry_run`` stops after the plan.
    """
    renamed = _renamer(rename)
    pairs = _rewrites(rewrite_urls)
    values = _index_protected(protected_values)
    desired: list[Mapping[str, Any]] = []
    for spec in await export(source_session, source_project):
        source_name = spec["name"]
        target_name = renamed(source_name)
        moved = {**spec, "name": target_name, "url": _rewrite(spec["url"], pairs)}
        desired.append(_fill(moved, values, (target_name, source_name)))
    the_plan = await plan(target_session, target_project, desired, prune, environ=environ)
    if dry_run:
        return CopyResult(the_plan)
    result = await apply(target_session, the_plan, concurrency=concurrency, progress=progress)
    return CopyResult(the_plan, result)
