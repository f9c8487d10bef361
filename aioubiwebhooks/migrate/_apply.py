"""Carrying out a plan with the bulk runner: one Outcome per action."""

from __future__ import annotations

from .._compare import stored_differences
from .._endpoints import WebhooksAPI
from ..bulk import DEFAULT_CONCURRENCY, ProgressHook, SkipItem, run_bulk
from ..errors import ConflictError, NotFoundError, PlanBlockedError
from ..models import WebhookCreate, WebhookDetail
from ._actions import Action, Create, Plan, Replace, Update
from ._results import ApplyResult

__all__ = ["apply"]


async def apply(
    api: WebhooksAPI,
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
            return await api.webhooks_create(project, spec)
        except ConflictError:
            # Created since the plan was made: done already if it is as specified.
            stored, changed = await stored_differences(api, project, spec)
            if changed:
                raise
            raise SkipItem(stored) from None

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
        deleted = await delete(action.name)
        if isinstance(action, Replace):
            return await create(action.spec)
        if not deleted:
            raise SkipItem()
        return None

    outcomes = await run_bulk(plan.actions, carry_out, concurrency=concurrency, progress=progress)
    return ApplyResult(plan, tuple(outcomes))
