"""Many calls at once: bounded concurrency, one Outcome per item, nothing lost.

The runner keeps up to ``concurrency`` calls in flight. It does not pace by
itself: every call goes through the session, whose shared budget holds requests
back when the server's rate limit is spent, so a large job finishes in about the
minimum time the limit allows instead of collecting 429s.

Input is checked before anything is sent: an invalid item, or two items with the
same name, raise ValidationError naming the item, and no request is made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import anyio
import attrs

from ._compare import IMMUTABLE_FIELDS, differences, stored_differences
from ._endpoints import WebhooksAPI
from ._outcome import Outcome, count_attempts
from ._polling import await_tests
from .errors import ConflictError, NotAttemptedError, NotFoundError, UbiOpsError, ValidationError
from .models import (
    WebhookCreate,
    WebhookDetail,
    WebhookTestCreate,
    WebhookTestDetail,
    WebhookUpdate,
)

__all__ = [
    "BulkProgress",
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
]

_I = TypeVar("_I")
_V = TypeVar("_V")
_M = TypeVar("_M", WebhookCreate, WebhookUpdate, WebhookTestCreate)

OnConflict = Literal["error", "skip", "update"]
DEFAULT_CONCURRENCY = 32


class SkipItem(Exception):
    """Raised by a bulk call to say "left alone on purpose", with the value to report;
    ``secrets_not_applied`` names protected headers of the item whose values were not
    sent (see :attr:`Outcome.secrets_not_applied`)."""

    def __init__(self, value: Any = None, *, secrets_not_applied: tuple[str, ...] = ()):
        super().__init__("skipped")
        self.value = value
        self.secrets_not_applied = secrets_not_applied


@attrs.frozen
class BulkProgress:
    """Where a bulk call stands: items finished, of which failed, out of total."""

    done: int
    total: int
    failed: int


ProgressHook = Callable[[BulkProgress], None]


async def run_bulk(
    items: Sequence[_I],
    call: Callable[[_I], Awaitable[_V]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
) -> list[Outcome[_I, _V]]:
    """Run ``call`` on every item with up to ``concurrency`` in flight; outcomes in input order.

    A failing item (any UbiOpsError) becomes its Outcome and never stops the others,
    unless ``fail_fast``: then no new item starts after the first failure, calls in
    flight finish, and items never started get NotAttemptedError. Cancelling the
    bulk call cancels the calls in flight. ``progress`` hears about every finished item.
    """
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValidationError("concurrency", "must be a whole number of at least 1", concurrency)
    total = len(items)
    outcomes: list[Outcome[_I, _V] | None] = [None] * total
    counts = {"done": 0, "failed": 0}
    stop = False
    next_index = iter(range(total))

    async def run_one(index: int) -> Outcome[_I, _V]:
        counter = count_attempts()
        item = items[index]
        try:
            value = await call(item)
        except UbiOpsError as error:
            return Outcome(item, error=error, attempts=counter[0])
        except SkipItem as skip:
            return Outcome(
                item,
                value=skip.value,
                attempts=counter[0],
                skipped=True,
                secrets_not_applied=skip.secrets_not_applied,
            )
        return Outcome(item, value=value, attempts=counter[0])

    async def worker() -> None:
        nonlocal stop
        for index in next_index:
            if stop:
                break
            outcome = await run_one(index)
            outcomes[index] = outcome
            counts["done"] += 1
            if not outcome.ok:
                counts["failed"] += 1
                stop = stop or fail_fast
            if progress is not None:
                progress(BulkProgress(counts["done"], total, counts["failed"]))

    async with anyio.create_task_group() as group:
        for _ in range(min(concurrency, total)):
            group.start_soon(worker)

    not_run = NotAttemptedError("not started: the bulk call stopped after an earlier failure")
    return [
        outcome if outcome is not None else Outcome(items[index], error=not_run, attempts=0)
        for index, outcome in enumerate(outcomes)
    ]


def _checked(items: Iterable[object], kind: type[_M], field: str = "items") -> list[_M]:
    """Every item as a model, or ValidationError naming the item, before any request."""
    models = []
    for index, item in enumerate(items):
        try:
            models.append(item if isinstance(item, kind) else kind.from_dict(item))
        except ValidationError as error:
            raise error.nested(f"{field}[{index}]") from None
    return models


def _unique_names(names: Iterable[str], field: str) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise ValidationError(
                f"{field}[{index}].name", f"repeats the name of {field}[{seen[name]}]", name
            )
        seen[name] = index


async def bulk_create(
    session: WebhooksAPI,
    project_name: str,
    items: Iterable[WebhookCreate | Mapping[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_conflict: OnConflict = "error",
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
) -> list[Outcome[WebhookCreate, WebhookDetail]]:
    """Create many webhooks. ``on_conflict`` decides what an existing name means:

    ``"error"`` (a ConflictError outcome), ``"skip"`` (a skipped outcome with the stored
    webhook; protected values of the spec are not sent, and the outcome's
    ``secrets_not_applied`` names them) or ``"update"`` (bring the stored webhook in line
    with the spec; a spec with protected values always sends them, since the stored
    ones cannot be compared; a webhook whose object_type, object_name or version differ
    cannot be updated and fails).
    """
    if on_conflict not in ("error", "skip", "update"):
        raise ValidationError("on_conflict", "must be 'error', 'skip' or 'update'", on_conflict)
    specs = _checked(items, WebhookCreate)
    _unique_names((spec.name for spec in specs), "items")

    async def create(spec: WebhookCreate) -> WebhookDetail:
        try:
            return await session.webhooks_create(project_name, spec)
        except ConflictError:
            if on_conflict == "error":
                raise
        stored, _ = await stored_differences(session, project_name, spec)
        if on_conflict == "skip":
            raise SkipItem(stored, secrets_not_applied=secret_keys(spec))
        update = update_for(spec, stored)
        if not update.changed_fields():
            raise SkipItem(stored)
        return await session.webhooks_update(project_name, spec.name, update)

    return await run_bulk(
        specs, create, concurrency=concurrency, fail_fast=fail_fast, progress=progress
    )


def secret_keys(spec: WebhookCreate) -> tuple[str, ...]:
    """The keys of the protected headers whose values ``spec`` carries."""
    return tuple(h.key for h in spec.headers if h.protected and h.value is not None)


def update_for(spec: WebhookCreate, stored: WebhookDetail) -> WebhookUpdate:
    """The update that makes ``stored`` match ``spec``; ValidationError if it cannot.

    Headers are sent whole when any differ, and whenever ``spec`` carries a protected
    value: the API never shows the stored one, so it cannot be known to be equal.
    """
    changed = differences(spec, stored)
    if secret_keys(spec):
        changed.setdefault("headers", (stored.headers, spec.headers))
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


async def bulk_update(
    session: WebhooksAPI,
    project_name: str,
    updates: Mapping[str, WebhookUpdate | Mapping[str, Any]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
) -> list[Outcome[str, WebhookDetail]]:
    """Apply an update per webhook name; outcomes are keyed by name, in the mapping's order."""
    names = list(updates)
    models = _checked((updates[name] for name in names), WebhookUpdate, "updates")
    by_name = dict(zip(names, models, strict=True))

    async def update(name: str) -> WebhookDetail:
        return await session.webhooks_update(project_name, name, by_name[name])

    return await run_bulk(
        names, update, concurrency=concurrency, fail_fast=fail_fast, progress=progress
    )


async def bulk_delete(
    session: WebhooksAPI,
    project_name: str,
    names: Iterable[str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    fail_fast: bool = False,
    progress: ProgressHook | None = None,
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
    project_check: list[NotFoundError | None] = []
    check_lock = anyio.Lock()

    async def project_missing() -> NotFoundError | None:
        async with check_lock:
            if not project_check:
                try:  # a label filter keeps the answer small; only the status matters
                    await session.webhooks_list(project_name, labels={"_": "_"})
                except NotFoundError as missing:
                    project_check.append(missing)
                else:
                    project_check.append(None)
        return project_check[0]

    async def delete(name: str) -> None:
        try:
            await session.webhooks_delete(project_name, name)
        except NotFoundError as gone:
            if await project_missing() is not None:
                raise gone from None
            raise SkipItem() from None

    return await run_bulk(
        targets, delete, concurrency=concurrency, fail_fast=fail_fast, progress=progress
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
) -> list[Outcome[WebhookTestCreate, WebhookTestDetail]]:
    """Create a webhook test per spec and, with ``wait``, await them all.

    Each outcome holds the test's final detail (or its pending detail without
    ``wait``); a test that fails or times out is an outcome with its error.
    """
    tests = _checked(specs, WebhookTestCreate, "specs")
    created = await run_bulk(
        tests,
        lambda spec: session.webhook_tests_create(project_name, spec),
        concurrency=concurrency,
        fail_fast=fail_fast,
        progress=None if wait else progress,
    )
    if not wait:
        return created
    # Waiting holds no request slot: every pending test is awaited at once, and the
    # polls share the session's budget.
    pending = {o.value.id: i for i, o in enumerate(created) if o.value is not None}
    finished: list[Outcome[WebhookTestCreate, WebhookTestDetail]] = list(created)
    done = len(created) - len(pending)
    failed = sum(1 for o in created if not o.ok)
    async for result in await_tests(session, project_name, list(pending), timeout=timeout):
        index = pending[result.item]
        finished[index] = attrs.evolve(
            created[index], value=result.value or created[index].value, error=result.error
        )
        done += 1
        failed += 0 if result.ok else 1
        if progress is not None:
            progress(BulkProgress(done, len(created), failed))
    return finished
