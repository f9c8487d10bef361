"""Carrying out a plan with the bulk runner: one Outcome per action."""

from __future__ import annotations

from .._compare import stored_differences
from .._endpoints import WebhooksAPI
from ..bulk import (
    DEFAULT_CONCURRENCY,
    BulkStop,
    ProgressHook,
    SkipItem,
    run_bulk,
    secret_keys,
    update_sending_secrets,
)
from ..errors import ConflictError, NotFoundError, PlanBlockedError
from ..models import WebhookCreate, WebhookDetail
from ._actions import Action, Create, Plan, Replace, Update
from ._replace import replace
from ._results import ApplyResult

__all__ = ["apply"]


async def apply(
    api: WebhooksAPI,
    plan: Plan,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressHook | None = None,
    stop: BulkStop | None = None,
) -> ApplyResult:
    """Carry out ``plan`` with up to ``concurrency`` calls in flight; one Outcome per action.

    Raises PlanBlockedError, before any request, when the plan has blocked entries.
    A failed action does not stop the others; plan and apply again to finish. Actions
    found already done (the plan went stale) are reported as skipped, not failed.
    ``stop`` (a :class:`~aioubiwebhooks.bulk.BulkStop`) ends it early: actions in flight
    finish within its grace period, the others are NotAttemptedError.
    """
    if plan.blocked:
        raise PlanBlockedError(plan.project, plan.blocked)
    project = plan.project

    async def create(spec: WebhookCreate) -> WebhookDetail:
        try:
            return await api.webhooks_create(project, spec)
        except ConflictError:
            # Created since the plan was made: done already if it is as specified, but a
            # protected value cannot be compared, so one the spec carries is sent.
            stored, changed = await stored_differences(api, project, spec)
            if changed:
                raise
            if not secret_keys(spec):
                raise SkipItem(stored) from None
        return await api.webhooks_update(project, spec.name, update_sending_secrets(spec, stored))

    async def delete(name: str) -> bool:
        try:
            await api.webhooks_delete(project, name)
        except NotFoundError:
            return False
        return True

    async def carry_out(action: Action) -> WebhookDetail | None:
        if isinstance(action, Create):
            return await create(action.spec)
        if isinstance(action, Update):
            return await api.webhooks_update(project, action.name, action.update)
        if isinstance(action, Replace):
            return await replace(api, project, action.spec)
        if not await delete(action.name):
            raise SkipItem()
        return None

    outcomes = await run_bulk(
        plan.actions, carry_out, concurrency=concurrency, progress=progress, stop=stop
    )
    return ApplyResult(plan, tuple(outcomes))
