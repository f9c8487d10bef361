"""Bulk operations against the emulator: order, isolation, conflicts, faults, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import Sink, delivery_spec, webhook_spec

from aioubiwebhooks import (
    BulkProgress,
    ConflictError,
    NotAttemptedError,
    NotFoundError,
    TestStatus,
    ValidationError,
    WebhooksSession,
)
from aioubiwebhooks.bulk import run_bulk
from aioubiwebhooks.emulator import Emulator


async def test_outcomes_follow_input_order_and_one_failure_stops_nothing(
    session: WebhooksSession,
) -> None:
    await session.webhooks_create("demo", webhook_spec("taken"))
    names = ["a", "b", "taken", "c", "d"]
    outcomes = await session.bulk_create("demo", [webhook_spec(n) for n in names], concurrency=3)
    assert [o.item.name for o in outcomes] == names
    assert [o.ok for o in outcomes] == [True, True, False, True, True]
    assert isinstance(outcomes[2].error, ConflictError)
    assert outcomes[0].unwrap().name == "a"
    assert all(o.attempts == 1 for o in outcomes)


async def test_bad_items_are_refused_before_any_request(
    session: WebhooksSession, emulator: Emulator
) -> None:
    with pytest.raises(ValidationError) as caught:
        await session.bulk_create("demo", [webhook_spec("ok"), webhook_spec("bad", timeout=99)])
    assert caught.value.field == "items[1].timeout"
    with pytest.raises(ValidationError, match=r"items\[2\]\.name: repeats the name of items\[0\]"):
        await session.bulk_create("demo", [webhook_spec(n) for n in ("x", "y", "x")])
    assert sum(emulator.stats.requests.values()) == 0


async def test_on_conflict_skip_and_update(session: WebhooksSession) -> None:
    await session.webhooks_create("demo", webhook_spec("same"))
    await session.webhooks_create("demo", webhook_spec("stale", timeout=5))
    specs = [webhook_spec("same"), webhook_spec("stale", timeout=20), webhook_spec("new")]

    skipped = await session.bulk_create("demo", specs, on_conflict="skip")
    assert [o.skipped for o in skipped] == [True, True, False]
    assert skipped[1].unwrap().timeout == 5

    await session.webhooks_delete("demo", "new")
    updated = await session.bulk_create("demo", specs, on_conflict="update")
    assert all(o.ok for o in updated)
    assert [o.skipped for o in updated] == [True, False, False]
    assert updated[1].unwrap().timeout == 20


async def test_on_conflict_update_cannot_move_a_webhook_to_another_object(
    session: WebhooksSession,
) -> None:
    await session.webhooks_create("demo", webhook_spec("moved"))
    other = webhook_spec(
        "moved",
        object_type="pipeline",
        object_name="demo-pipeline",
        event="pipeline_request_completed",
    )
    (outcome,) = await session.bulk_create("demo", [other], on_conflict="update")
    assert isinstance(outcome.error, ValidationError)
    assert outcome.error.field == "object_type"


async def test_delete_is_rerunnable(session: WebhooksSession) -> None:
    await session.bulk_create("demo", [webhook_spec(n) for n in ("a", "b")])
    first = await session.bulk_delete("demo", ["a", "b", "never-there"])
    assert all(o.ok for o in first)
    assert [o.skipped for o in first] == [False, False, True]
    again = await session.bulk_delete("demo", ["a", "b"])
    assert all(o.ok and o.skipped for o in again)
    assert await session.webhooks_list("demo") == []


async def test_delete_in_a_missing_project_fails_every_item(
    session: WebhooksSession, emulator: Emulator
) -> None:
    outcomes = await session.bulk_delete("no-such-project", ["a", "b", "c"])
    assert all(isinstance(o.error, NotFoundError) for o in outcomes)
    assert emulator.stats.requests["webhooks_list"] == 1


async def test_update_many(session: WebhooksSession) -> None:
    await session.bulk_create("demo", [webhook_spec(n) for n in ("a", "b")])
    outcomes = await session.bulk_update(
        "demo", {"a": {"timeout": 3}, "b": {"enabled": False}, "ghost": {"timeout": 4}}
    )
    assert [o.item for o in outcomes] == ["a", "b", "ghost"]
    assert outcomes[0].unwrap().timeout == 3
    assert outcomes[1].unwrap().enabled is False
    assert isinstance(outcomes[2].error, NotFoundError)


async def test_transient_faults_are_retried_and_counted_per_item(
    session: WebhooksSession, emulator: Emulator
) -> None:
    emulator.faults.fail_next(2, status=503)
    (outcome,) = await session.bulk_create("demo", [webhook_spec("retried")])
    assert outcome.ok
    assert outcome.attempts == 3


async def test_fail_fast_reports_items_never_started(session: WebhooksSession) -> None:
    await session.webhooks_create("demo", webhook_spec("h1"))
    specs = [webhook_spec(f"h{i}") for i in range(1, 10)]
    outcomes = await session.bulk_create("demo", specs, concurrency=1, fail_fast=True)
    assert isinstance(outcomes[0].error, ConflictError)
    assert all(isinstance(o.error, NotAttemptedError) for o in outcomes[1:])
    assert all(o.attempts == 0 for o in outcomes[1:])
    assert [h.name for h in await session.webhooks_list("demo")] == ["h1"]


async def test_progress_hears_every_item(session: WebhooksSession) -> None:
    seen: list[BulkProgress] = []
    await session.webhooks_create("demo", webhook_spec("w0"))
    await session.bulk_create(
        "demo", [webhook_spec(f"w{i}") for i in range(6)], progress=seen.append
    )
    assert [p.done for p in seen] == [1, 2, 3, 4, 5, 6]
    assert seen[-1] == BulkProgress(done=6, total=6, failed=1)


async def test_cancelling_a_bulk_call_cancels_its_requests(emulator: Emulator) -> None:
    emulator.faults.latency(0.3)
    # Pacing off: the emulator's answers carry rate-limit headers, and in a first window
    # the pacer starts with one request at a time, which is not what this test is about.
    async with WebhooksSession(emulator.token, emulator.url, pacing="off") as session:
        job = asyncio.ensure_future(
            session.bulk_create("demo", [webhook_spec(f"c{i}") for i in range(40)], concurrency=4)
        )
        await asyncio.sleep(0.45)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
    sent = sum(emulator.stats.requests.values())
    assert 4 <= sent < 40
    await asyncio.sleep(0.5)
    assert sum(emulator.stats.requests.values()) == sent


async def test_runner_rejects_bad_concurrency() -> None:
    async def call(item: Any) -> Any:
        return item

    with pytest.raises(ValidationError, match="concurrency"):
        await run_bulk([1], call, concurrency=0)
    assert [o.value for o in await run_bulk([], call)] == []


async def test_bulk_test_creates_and_awaits_all(
    session: WebhooksSession, emulator: Emulator, sink: Sink
) -> None:
    emulator.test_delay = 0.3
    specs = [delivery_spec(f"{sink.url}/ok")] * 5 + [delivery_spec(f"{sink.url}/fail")]
    outcomes = await session.bulk_test("demo", specs, timeout=20)
    statuses = [o.unwrap().status for o in outcomes]
    assert statuses == [TestStatus.COMPLETED] * 5 + [TestStatus.FAILED]
    assert len(sink.bodies) == 5


async def test_check_webhook_fills_in_protected_values(
    session: WebhooksSession, emulator: Emulator, sink: Sink
) -> None:
    headers = [{"key": "Authorization", "value": "Token real", "protected": True}]
    await session.webhooks_create(
        "demo", webhook_spec("checked", url=f"{sink.url}/ok", headers=headers)
    )
    with pytest.raises(ValidationError, match="Authorization"):
        await session.check_webhook("demo", "checked")
    done = await session.check_webhook(
        "demo", "checked", protected_values={"Authorization": "Token real"}
    )
    assert done.status is TestStatus.COMPLETED
    assert sink.bodies[-1]["event"] == "deployment_request_completed"
