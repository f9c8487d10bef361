"""The end-to-end demo: many webhooks, a test for each, and proof that every delivery arrived.

Everything runs in this process on loopback, with no account: an
:class:`~aioubiwebhooks.emulator.Emulator` stands in for the UbiOps API (with its
rate limit on, scaled down so the demo takes seconds) and a
:class:`~aioubiwebhooks.receiver.WebhookReceiver` stands in for the application
the webhooks call. The job is the one the library is for:

1. bulk-create ``count`` webhooks pointing at the receiver, each with a protected
   ``Authorization`` header (the receiver refuses deliveries without it) and a plain
   ``X-Demo-Webhook`` header naming the webhook;
2. run a webhook test for each and await them all;
3. check that the receiver got every delivery: the request id the server sent
   for each completed test arrived, carrying that test's webhook name.

:func:`run_demo` returns a :class:`DemoSummary`; ``aioubiwebhooks demo`` prints it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, Final

import attrs

from .bulk import BulkProgress
from .emulator import Emulator
from .errors import UbiOpsError
from .models import TestStatus, WebhookCreate, WebhookHeader, WebhookTestCreate
from .receiver import WebhookReceiver
from .session import WebhooksSession, webhook_test_spec

__all__ = ["DEFAULT_COUNT", "DEFAULT_RATE_LIMIT", "DemoSummary", "run_demo"]

DEFAULT_COUNT: Final = 50
DEFAULT_RATE_LIMIT: Final = (60, 2.0)
"""60 requests per 2 s: the real API's 300 a minute, sped up so the demo takes seconds,
yet low enough that the client must pace itself through several windows (the demo
sends about three requests per webhook)."""

PROJECT: Final = "demo"
DEPLOYMENT: Final = "demo-deployment"
NAME_HEADER: Final = "X-Demo-Webhook"

DemoProgress = Callable[[str, BulkProgress], None]
"""Told the phase (``"create"`` or ``"test"``) and where it stands."""


@attrs.frozen
class DemoSummary:
    """What the demo did and whether everything checked out (``ok``, else ``problems``)."""

    webhooks: int
    created: int
    tested: int
    completed: int
    failed: int
    deliveries_received: int
    deliveries_matched: int
    deliveries_rejected: int
    requests_sent: int
    rate_limited: int
    elapsed: float
    rate_limit: tuple[int, float] | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with fixed keys."""
        limit = self.rate_limit
        return {
            "ok": self.ok,
            "webhooks": self.webhooks,
            "created": self.created,
            "tested": self.tested,
            "completed": self.completed,
            "failed": self.failed,
            "deliveries_received": self.deliveries_received,
            "deliveries_matched": self.deliveries_matched,
            "deliveries_rejected": self.deliveries_rejected,
            "requests_sent": self.requests_sent,
            "rate_limited": self.rate_limited,
            "rate_limit": None if limit is None else {"limit": limit[0], "window": limit[1]},
            "elapsed_seconds": round(self.elapsed, 3),
            "problems": list(self.problems),
        }


def _first_errors(errors: list[UbiOpsError], what: str) -> str:
    shown = "; ".join(f"{type(e).__name__}: {e}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"{len(errors)} {what}: {shown}{more}"


async def run_demo(
    *,
    count: int = DEFAULT_COUNT,
    rate_limit: tuple[int, float] | None = DEFAULT_RATE_LIMIT,
    concurrency: int = 32,
    timeout: float = 60.0,
    progress: DemoProgress | None = None,
) -> DemoSummary:
    """Run the demo against a fresh in-process emulator and receiver; never raises on a
    failed item, which is reported in the summary's ``problems`` instead."""
    if not 1 <= count <= 1000:
        raise ValueError(f"count must be between 1 and 1000, got {count}")
    secret = f"Bearer {secrets.token_urlsafe(24)}"
    started = time.monotonic()

    def hook(phase: str) -> Callable[[BulkProgress], None] | None:
        return None if progress is None else (lambda p: progress(phase, p))

    async with (
        Emulator(token=secrets.token_urlsafe(16), rate_limit=rate_limit) as emulator,
        WebhookReceiver(secret=secret) as receiver,
        WebhooksSession(emulator.token, emulator.url) as session,
    ):
        specs = [
            WebhookCreate(
                name=f"demo-hook-{index:04d}",
                url=receiver.url,
                object_type="deployment",
                object_name=DEPLOYMENT,
                event="deployment_request_completed",
                headers=(
                    WebhookHeader("Authorization", secret, protected=True),
                    WebhookHeader(NAME_HEADER, f"demo-hook-{index:04d}"),
                ),
                labels={"purpose": "demo"},
            )
            for index in range(count)
        ]
        problems: list[str] = []
        created = await session.bulk_create(
            PROJECT, specs, concurrency=concurrency, progress=hook("create")
        )
        create_errors = [o.error for o in created if o.error is not None]
        if create_errors:
            problems.append(_first_errors(create_errors, "webhooks not created"))

        tests = [webhook_test_spec(o.item, {}) for o in created if o.ok]
        outcomes = await session.bulk_test(
            PROJECT, tests, timeout=timeout, concurrency=concurrency, progress=hook("test")
        )
        test_errors = [o.error for o in outcomes if o.error is not None]
        if test_errors:
            problems.append(_first_errors(test_errors, "tests did not finish"))
        details = [o.value for o in outcomes if o.value is not None]
        completed = {
            o.value.id: o.item
            for o in outcomes
            if o.value is not None and o.value.status is TestStatus.COMPLETED
        }
        failed = [d for d in details if d.status is TestStatus.FAILED]
        if failed:
            reasons = sorted({d.error_message or "no reason given" for d in failed})
            problems.append(f"{len(failed)} tests failed: {'; '.join(reasons)}")

        matched = _matched(emulator, receiver, completed, problems)
        received = receiver.stats.accepted
        rejected = receiver.stats.total_rejected
        if rejected:
            problems.append(f"the receiver refused {rejected} deliveries")
        stats = emulator.stats
        return DemoSummary(
            webhooks=count,
            created=sum(1 for o in created if o.ok),
            tested=len(tests),
            completed=len(completed),
            failed=len(failed),
            deliveries_received=received,
            deliveries_matched=matched,
            deliveries_rejected=rejected,
            requests_sent=stats.total_requests,
            rate_limited=stats.rate_limited,
            elapsed=time.monotonic() - started,
            rate_limit=rate_limit,
            problems=tuple(problems),
        )


def _matched(
    emulator: Emulator,
    receiver: WebhookReceiver,
    completed: dict[str, WebhookTestCreate],
    problems: list[str],
) -> int:
    """How many completed tests' deliveries arrived intact; what did not goes to ``problems``.

    The server's record says which request id it sent for each test; the receiver's
    events say which arrived, and the ``X-Demo-Webhook`` header says for which webhook.
    """
    sent: dict[str, str] = {}
    for record in emulator.deliveries:
        if record.test_id in completed and record.error is None:
            sent[record.test_id] = str(record.payload["request_id"])
    arrived = {event.request_id: event for event in receiver.events}
    matched = 0
    for test_id, spec in completed.items():
        event = arrived.get(sent.get(test_id, ""))
        wanted = next(h.value for h in spec.headers if h.key == NAME_HEADER)
        if event is not None and event.headers.get(NAME_HEADER) == wanted:
            matched += 1
    if matched < len(completed):
        problems.append(f"{len(completed) - matched} completed tests have no matching delivery")
    unexpected = set(arrived) - set(sent.values())
    if unexpected:
        problems.append(f"{len(unexpected)} deliveries match no test")
    return matched
