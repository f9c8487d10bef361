"""Many calls at once: bounded concurrency, one Outcome per item, nothing lost.

The runner (:func:`run_bulk`) keeps up to ``concurrency`` calls in flight. It does not
pace by itself: every call goes through the session, whose shared budget holds requests
back when the server's rate limit is spent, so a large job finishes in about the
minimum time the limit allows instead of collecting 429s.

Input is checked before anything is sent: invalid items and repeated names raise one
ValidationError naming every one, and no request is made. A job that cannot succeed
(a refused token, a project that does not exist) stops after the first answer that
shows it: the other items are NotAttemptedError carrying that answer.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

import anyio
import attrs

from ._checks import check_each
from ._compare import IMMUTABLE_FIELDS, differences, stored_differences
from ._endpoints import WebhooksAPI
from ._outcome import Outcome
from ._polling import await_tests
from ._runner import (
    DEFAULT_CONCURRENCY,
    BulkProgress,
    FailsAll,
    ProgressHook,
    SkipItem,
    not_attempted,
    run_bulk,
)
from ._shared_failure import ProjectCheck
from ._stop import DEFAULT_GRACE, BulkStop
from .errors import ConflictError, NotFoundError, UbiOpsError, ValidationError
from .models import (
    UNSET,
    WebhookCreate,
    WebhookDetail,
    WebhookHeader,
    WebhookTestCreate,
    WebhookTestDetail,
    WebhookUpdate,
)

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_GRACE",
    "BulkProgress",
    "BulkStop",
    "FailsAll",
    "OnConflict",
    "ProgressHook",
    "SkipItem",
    "bulk_create",
    "bulk_delete",
    "bulk_test",
    "bulk_update",
    "run_bulk",
    "secret_keys",
    "update_for",
    "update_sending_secrets",
]

_M = TypeVar("_M", WebhookCreate, WebhookUpdate, WebhookTestCreate)

OnConflict = Literal["error", "skip", "update"]
"""What ``bulk_create`` does with a name that exists: fail, skip or update."""


def _checked(
    items: Iterable[object], kind: type[_M], field: str = "items", *, unique: bool = False
) -> list[_M]:
    """Every item as a model, before any request; one ValidationError naming every bad
    item (and, with ``unique``, every repeated name) otherwise."""

    headers_seen: dict[object, tuple[WebhookHeader, ...]] = {}

    def build(item: object) -> _M:
        if isinstance(item, kind):
            return item
        model = kind.from_dict(item)
        # Equal headers of the models built here are one tuple: a job whose specs share
        # their headers keeps two objects fewer per item for the cycle collector.
        headers = model.headers
        if type(headers) is tuple and headers:
            shared = headers_seen.setdefault(headers, headers)
            if shared is not headers:
                object.__setattr__(model, "headers", shared)
        return model

    def name(model: _M) -> str:
        return str(getattr(model, "name", ""))

    return check_each(items, build, field=field, what=field, unique_name=name if unique else None)


async def bulk_create(
    session: WebhooksAPI,
    project_name: str,
    items: Iterable[WebhookCreate | Mapping[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_conflict: OnConflict = "error",
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
    stop: BulkStop | None = None,
) -> list[Outcome[WebhookCreate, WebhookDetail]]:
    """Create many webhooks. ``on_conflict`` decides what an existing name means:

    ``"error"`` (a ConflictError outcome), ``"skip"`` (a skipped outcome with the stored
    webhook; protected values of the spec are not sent, and the outcome's
    ``secrets_not_applied`` names them) or ``"update"`` (bring the stored webhook in line
    with the spec; a spec with protected values always sends them, since the stored
    ones cannot be compared; a webhook whose object_type, object_name or version differ
    cannot be updated and fails).

    With ``"skip"`` or ``"update"`` the project is listed once first and existing names
    are decided locally, so re-running a job of N webhooks after an interruption costs
    one list call plus the creates and updates actually needed.
    """
    if on_conflict not in ("error", "skip", "update"):
        raise ValidationError("on_conflict", "must be 'error', 'skip' or 'update'", on_conflict)
    specs = _checked(items, WebhookCreate, unique=True)
    check = ProjectCheck(session, project_name)
    stored: dict[str, WebhookDetail] = {}
    if on_conflict != "error" and specs:
        try:
            stored = {hook.name: hook for hook in await session.webhooks_list(project_name)}
        except UbiOpsError as error:
            # A 404 of the list is the project's; a 401 or 403 every item would get too.
            if isinstance(error, NotFoundError) or await check(error):
                return not_attempted(specs, error)
            # else each item finds out for itself (a 409, then a get)

    async def reconcile(spec: WebhookCreate, existing: WebhookDetail) -> WebhookDetail:
        if on_conflict == "skip":
            raise SkipItem(existing, secrets_not_applied=secret_keys(spec))
        update = update_sending_secrets(spec, existing)
        if not update.changed_fields():
            raise SkipItem(existing)
        return await session.webhooks_update(project_name, spec.name, update)

    async def create_or_reconcile(spec: WebhookCreate) -> WebhookDetail:
        existing = stored.get(spec.name)
        if existing is None:
            try:
                return await session.webhooks_create(project_name, spec)
            except ConflictError:
                pass  # looked up below, outside the handler: a new error is not chained
            existing, _ = await stored_differences(session, project_name, spec)
        return await reconcile(spec, existing)

    create: Callable[[WebhookCreate], Awaitable[WebhookDetail]] = create_or_reconcile
    if on_conflict == "error":  # nothing to decide after the call: no coroutine around it
        create = functools.partial(session.webhooks_create, project_name)
    return await run_bulk(
        specs,
        create,
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        fails_all=check,
        stop=stop,
    )


def secret_keys(spec: WebhookCreate) -> tuple[str, ...]:
    """The keys of the protected headers whose values ``spec`` carries."""
    return tuple(h.key for h in spec.headers if h.protected and h.value is not None)


def update_for(spec: WebhookCreate, stored: WebhookDetail) -> WebhookUpdate:
    """The update that makes ``stored`` match ``spec`` in the fields that differ;
    ValidationError if it cannot. Headers are sent whole when any differ."""
    changed = differences(spec, stored)
    frozen = [field for field in IMMUTABLE_FIELDS if field in changed]
    if frozen:
        raise ValidationError(
            frozen[0],
            "cannot be changed by an update; delete and create the webhook instead",
            getattr(spec, frozen[0]),
        )
    fields: dict[str, Any] = {}
    for field in changed:
        fields[field] = getattr(spec, field)
    return WebhookUpdate(**fields)


def update_sending_secrets(spec: WebhookCreate, stored: WebhookDetail) -> WebhookUpdate:
    """:func:`update_for`, with the headers sent as well whenever ``spec`` carries a
    protected value: the API never shows the stored one, so it cannot be known to be
    equal, and a call allowed to change the webhook must not leave an old secret."""
    update = update_for(spec, stored)
    if secret_keys(spec) and update.headers is UNSET:
        update = attrs.evolve(update, headers=spec.headers)
    return update


async def bulk_update(
    session: WebhooksAPI,
    project_name: str,
    updates: Mapping[str, WebhookUpdate | Mapping[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
    stop: BulkStop | None = None,
) -> list[Outcome[str, WebhookDetail]]:
    """Apply an update per webhook name; outcomes are keyed by name, in the mapping's order."""
    names = list(updates)
    models = _checked((updates[name] for name in names), WebhookUpdate, "updates")
    by_name = dict(zip(names, models, strict=True))

    async def update(name: str) -> WebhookDetail:
        return await session.webhooks_update(project_name, name, by_name[name])

    return await run_bulk(
        names,
        update,
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        fails_all=ProjectCheck(session, project_name),
        stop=stop,
    )


async def bulk_delete(
    session: WebhooksAPI,
    project_name: str,
    names: Iterable[str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
    stop: BulkStop | None = None,
) -> list[Outcome[str, None]]:
    """Delete webhooks by name. A webhook already gone counts as done (skipped), so a
    delete job can simply be run again after an interruption.

    A 404 can also mean the project does not exist; the first 404 is checked once
    with a list call, so a mistyped project fails every item instead of "succeeding".
    """
    targets = list(names)
    for index, name in enumerate(targets):
        if not isinstance(name, str) or not name:
            raise ValidationError(f"names[{index}]", "must be a non-empty string", name)
    check = ProjectCheck(session, project_name)

    async def delete(name: str) -> None:
        try:
            await session.webhooks_delete(project_name, name)
        except NotFoundError as gone:
            if await check.project_missing() is not None:
                raise gone from None
            raise SkipItem() from None

    return await run_bulk(
        targets,
        delete,
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=progress,
        fails_all=check,
        stop=stop,
    )


async def bulk_test(
    session: WebhooksAPI,
    project_name: str,
    specs: Iterable[WebhookTestCreate | Mapping[str, Any]],
    *,
    wait: bool = True,
    timeout: float = 60.0,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
    stop: BulkStop | None = None,
) -> list[Outcome[WebhookTestCreate, WebhookTestDetail]]:
    """Create a webhook test per spec and, with ``wait``, await them all.

    Each outcome holds the test's final detail (or its pending detail without
    ``wait``); a test that fails or times out is an outcome with its error. A ``stop``
    also ends the waiting: tests still pending keep their pending detail.
    """
    tests = _checked(specs, WebhookTestCreate, "specs")
    created = await run_bulk(
        tests,
        lambda spec: session.webhook_tests_create(project_name, spec),
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=None if wait else progress,
        fails_all=ProjectCheck(session, project_name),
        stop=stop,
    )
    if not wait:
        return created
    # Waiting holds no request slot: every pending test is awaited at once, and the
    # polls share the session's budget.
    pending = {o.value.id: i for i, o in enumerate(created) if o.value is not None}
    finished: list[Outcome[WebhookTestCreate, WebhookTestDetail]] = list(created)
    done = len(created) - len(pending)
    failed = sum(1 for o in created if not o.ok)
    with anyio.CancelScope() as waiting:
        unlisten = stop.listen(waiting.cancel) if stop is not None else None
        if stop is not None and stop.requested:
            waiting.cancel()
        try:
            async for result in await_tests(session, project_name, list(pending), timeout=timeout):
                index = pending[result.item]
                finished[index] = attrs.evolve(
                    created[index], value=result.value or created[index].value, error=result.error
                )
                done += 1
                failed += 0 if result.ok else 1
                if progress is not None:
                    progress(BulkProgress(done, len(created), failed))
        finally:
            if unlisten is not None:
                unlisten()
    return finished
