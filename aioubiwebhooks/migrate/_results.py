"""What applying a plan did, and what a copy planned and did."""

from __future__ import annotations

import attrs

from .._outcome import Outcome
from ..models import WebhookDetail
from ._actions import Action, Plan

__all__ = ["ApplyResult", "CopyResult"]


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
