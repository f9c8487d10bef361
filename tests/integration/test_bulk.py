"""Bulk operations against the emulator: order, isolation, conflicts, faults, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import Sink, delivery_spec, webhook_spec

from aioubiwebhooks import (
    ApiConnectionError,
    AuthenticationError,
    BulkProgress,
    ConflictError,
    NotAttemptedError,
    NotFoundError,
    PermissionDeniedError,
    TestStatus,
    ValidationError,
    WebhooksSession,
)
from aioubiwebhooks.bulk import BulkStop, run_bulk
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
    assert isinstance(outcomes[0].error, NotFoundError)
    for outcome in outcomes[1:]:  # never sent: the first answer said the project is missing
        assert isinstance(outcome.error, NotAttemptedError)
        assert outcome.error.cause is outcomes[0].error
    assert emulator.stats.requests == {"webhooks_delete": 1, "webhooks_list": 1}


ITEMS = 200


def doomed_job(session: WebhooksSession, call: str, project: str = "demo") -> Any:
    """One bulk call of ``call``'s kind over ITEMS items."""
    names = [f"hook-{i:03d}" for i in range(ITEMS)]
    if call == "create":
        return session.bulk_create(project, [webhook_spec(n) for n in names])
    if call == "update":
        return session.bulk_update(project, {n: {"timeout": 5} for n in names})
    if call == "delete":
        return session.bulk_delete(project, names)
    return session.bulk_test(project, [delivery_spec("http://127.0.0.1:9/x")] * ITEMS)


def assert_stopped_after_the_first(outcomes: list[Any], kind: type[Exception]) -> None:
    assert len(outcomes) == ITEMS
    first = outcomes[0].error
    assert isinstance(first, kind)
    for outcome in outcomes[1:]:
        assert isinstance(outcome.error, NotAttemptedError)
        assert outcome.error.cause is first
        assert outcome.attempts == 0
    assert kind.__name__ in str(outcomes[-1].error)


@pytest.mark.parametrize("call", ["create", "update", "delete", "test"])
async def test_a_refused_token_stops_a_job_after_the_first_answer(call: str) -> None:
    async with (
        Emulator(token="the-right-token") as emulator,
        WebhooksSession("a-wrong-token", emulator.url) as session,
    ):
        outcomes = await doomed_job(session, call)
        assert_stopped_after_the_first(outcomes, AuthenticationError)
        assert emulator.stats.total_requests == 1


@pytest.mark.parametrize("call", ["create", "update", "delete", "test"])
async def test_a_missing_project_stops_a_job_after_one_check(
    session: WebhooksSession, emulator: Emulator, call: str
) -> None:
    outcomes = await doomed_job(session, call, project="demo-typo")
    assert_stopped_after_the_first(outcomes, NotFoundError)
    assert emulator.stats.total_requests == 2  # the first item, and one list call
    assert emulator.stats.requests["webhooks_list"] == 1


async def test_a_forbidden_answer_stops_a_job(session: WebhooksSession, emulator: Emulator) -> None:
    emulator.faults.fail_next(ITEMS, status=403)
    outcomes = await doomed_job(session, "create")
    assert_stopped_after_the_first(outcomes, PermissionDeniedError)
    assert emulator.stats.total_requests == 1


async def test_a_404_for_one_item_stops_nothing(
    session: WebhooksSession, emulator: Emulator
) -> None:
    specs = [webhook_spec(f"h{i}") for i in range(6)]
    specs[0]["object_name"] = "no-such-deployment"  # a 404 that concerns this item only
    outcomes = await session.bulk_create("demo", specs, concurrency=2)
    assert isinstance(outcomes[0].error, NotFoundError)
    assert all(o.ok for o in outcomes[1:])
    assert emulator.stats.requests["webhooks_list"] == 1  # checked once, not per item


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


def with_secret(value: str, **changes: Any) -> dict[str, Any]:
    headers = [{"key": "Authorization", "value": value, "protected": True}]
    return webhook_spec("rotated", headers=headers, **changes)


async def test_a_changed_secret_is_sent_by_on_conflict_update(
    session: WebhooksSession, emulator: Emulator
) -> None:
    def stored_secret() -> str | None:
        return emulator.webhook("demo", "rotated").headers[0].value

    await session.bulk_create("demo", [with_secret("Token A")], on_conflict="update")
    (same_but_secret,) = await session.bulk_create(
        "demo", [with_secret("Token B")], on_conflict="update"
    )
    assert same_but_secret.ok
    assert not same_but_secret.skipped  # the stored secret cannot be read: it is sent
    assert stored_secret() == "Token B"

    other = "http://127.0.0.1:9/other"
    (moved,) = await session.bulk_create(
        "demo", [with_secret("Token C", url=other)], on_conflict="update"
    )
    assert moved.ok
    assert (emulator.webhook("demo", "rotated").url, stored_secret()) == (other, "Token C")

    # Asked not to change the webhook, the call says the secret was not applied.
    (left,) = await session.bulk_create(
        "demo", [with_secret("Token D", url=other)], on_conflict="skip"
    )
    assert left.skipped
    assert left.secrets_not_applied == ("Authorization",)
    assert stored_secret() == "Token C"

    # Without a protected value an unchanged webhook is still left alone.
    await session.webhooks_create("demo", webhook_spec("plain"))
    (plain,) = await session.bulk_create("demo", [webhook_spec("plain")], on_conflict="update")
    assert plain.skipped
    assert plain.secrets_not_applied == ()


async def test_resuming_lists_once_and_decides_locally(
    session: WebhooksSession, emulator: Emulator
) -> None:
    specs = [webhook_spec(f"r{i:03d}") for i in range(300)]
    await session.bulk_create("demo", specs[:200])  # an earlier run, interrupted
    emulator.stats.reset()

    resumed = await session.bulk_create("demo", specs, on_conflict="skip")
    assert [o.skipped for o in resumed] == [True] * 200 + [False] * 100
    assert all(o.ok for o in resumed)
    assert resumed[0].value is not None
    assert resumed[0].value.name == "r000"
    assert emulator.stats.requests == {"webhooks_list": 1, "webhooks_create": 100}

    emulator.stats.reset()
    changed = [{**s, "timeout": 20} if i % 30 == 0 else s for i, s in enumerate(specs)]
    updated = await session.bulk_create("demo", changed, on_conflict="update")
    assert sum(1 for o in updated if o.ok and not o.skipped) == 10
    assert emulator.stats.requests == {"webhooks_list": 1, "webhooks_update": 10}
    assert emulator.webhook("demo", "r030").timeout == 20


async def test_resuming_into_a_missing_project_sends_one_request(
    session: WebhooksSession, emulator: Emulator
) -> None:
    outcomes = await session.bulk_create(
        "demo-typo", [webhook_spec(f"r{i}") for i in range(50)], on_conflict="skip"
    )
    assert isinstance(outcomes[0].error, NotFoundError)  # the list's answer, as the first item's
    assert all(isinstance(o.error, NotAttemptedError) for o in outcomes[1:])
    assert all(o.error.cause is outcomes[0].error for o in outcomes[1:])  # type: ignore[union-attr]
    assert emulator.stats.requests == {"webhooks_list": 1}


async def test_when_the_list_fails_each_item_finds_out_for_itself(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.webhooks_create("demo", webhook_spec("there", timeout=3))
    emulator.faults.fail_next(20, status=503, routes=["webhooks_list"])  # beyond every retry
    outcomes = await session.bulk_create(
        "demo", [webhook_spec("there", timeout=7), webhook_spec("new")], on_conflict="update"
    )
    assert all(o.ok for o in outcomes)
    assert emulator.webhook("demo", "there").timeout == 7
    assert emulator.stats.requests["webhooks_get"] == 1  # the 409, then a get
    assert emulator.stats.requests["webhooks_update"] == 1


async def test_a_stop_lets_calls_in_flight_finish_and_returns_every_outcome(
    session: WebhooksSession, emulator: Emulator
) -> None:
    emulator.faults.latency(0.05)
    stop = BulkStop()

    def progress(where: BulkProgress) -> None:
        if where.done == 10:
            stop.request(grace=10)

    specs = [webhook_spec(f"s{i:03d}") for i in range(100)]
    outcomes = await session.bulk_create("demo", specs, concurrency=4, progress=progress, stop=stop)
    assert [o.item.name for o in outcomes] == [s["name"] for s in specs]
    created = [o.item.name for o in outcomes if o.ok]
    never = [o for o in outcomes if not o.ok]
    assert 10 <= len(created) <= 13  # the tenth, and the three in flight with it
    assert all(isinstance(o.error, NotAttemptedError) for o in never)
    assert all(o.attempts == 0 for o in never)
    assert "asked to stop" in str(never[0].error)
    assert never[0].error.cause is None  # type: ignore[union-attr]
    # What the outcomes say is what the server holds.
    assert sorted(w.name for w in emulator.webhooks("demo")) == sorted(created)


async def test_a_stop_whose_grace_runs_out_cancels_what_is_in_flight(
    session: WebhooksSession, emulator: Emulator
) -> None:
    emulator.faults.latency(5.0)
    stop = BulkStop()
    job = asyncio.ensure_future(
        session.bulk_create("demo", [webhook_spec(f"g{i}") for i in range(20)], stop=stop)
    )
    await asyncio.sleep(0.2)  # the first create is waiting for its answer
    stop.request(grace=0.1)
    outcomes = await asyncio.wait_for(job, 5)
    assert isinstance(outcomes[0].error, ApiConnectionError)
    assert "stopped before the answer came" in str(outcomes[0].error)
    assert outcomes[0].attempts == 1
    assert all(isinstance(o.error, NotAttemptedError) for o in outcomes[1:])


async def test_a_stop_requested_before_the_call_starts_nothing(
    session: WebhooksSession, emulator: Emulator
) -> None:
    stop = BulkStop()
    stop.request()
    outcomes = await session.bulk_delete("demo", ["a", "b"], stop=stop)
    assert all(isinstance(o.error, NotAttemptedError) for o in outcomes)
    assert emulator.stats.total_requests == 0


async def test_a_name_taken_by_a_different_webhook_is_a_conflict_with_on_conflict_error(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.webhooks_create("demo", webhook_spec("taken", timeout=5))
    outcomes = await session.bulk_create(
        "demo", [webhook_spec("taken", timeout=20), webhook_spec("free")], on_conflict="error"
    )
    assert isinstance(outcomes[0].error, ConflictError)
    assert outcomes[0].error.status == 409
    assert not outcomes[0].skipped
    assert outcomes[1].ok
    assert emulator.webhook("demo", "taken").timeout == 5  # left as it was
    assert emulator.stats.requests["webhooks_get"] == 0  # no reconciling was asked for
    assert "webhooks_update" not in emulator.stats.requests
