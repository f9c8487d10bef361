"""Webhook tests really deliver: payload, headers, outcomes, retries, timeouts and delays."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _emulator_helpers import Recorder, hook_test_body

from aioubiwebhooks.emulator import Emulator
from aioubiwebhooks.emulator._delivery import resolve_delay


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(retry_pause=0.01) as emulator:
        emulator.add_project("p", deployments={"dep": ["v2", "v1"]}, pipelines={"pipe": ["x"]})
        yield emulator


async def start_test(emu: Emulator, body: dict[str, Any], project: str = "demo") -> str:
    async with (
        aiohttp.ClientSession(headers={"Authorization": emu.token}) as http,
        http.post(f"{emu.url}/projects/{project}/webhooks-tests", json=body) as response,
    ):
        assert response.status == 201, await response.text()
        created = await response.json()
        assert created["status"] == "pending"
        return str(created["id"])


async def outcome(emu: Emulator, test_id: str, project: str = "demo") -> dict[str, Any]:
    assert await emu.drain(20)
    async with (
        aiohttp.ClientSession(headers={"Authorization": emu.token}) as http,
        http.get(f"{emu.url}/projects/{project}/webhooks-tests/{test_id}") as response,
    ):
        result: dict[str, Any] = await response.json()
        return result


async def test_completed_delivery_carries_the_documented_payload_and_headers(
    emu: Emulator,
) -> None:
    async with Recorder() as target:
        headers = [
            {"key": "Authorization", "value": "Token 123", "protected": True},
            {"key": "X-Plain", "value": "plain", "protected": False},
        ]
        test_id = await start_test(
            emu, hook_test_body(target.url, object_name="dep", headers=headers), project="p"
        )
        assert await outcome(emu, test_id, "p") == {
            "id": test_id,
            "status": "completed",
            "error_message": None,
        }
        [received] = target.received
    assert received.headers["Authorization"] == "Token 123"  # protected values are real headers
    assert received.headers["X-Plain"] == "plain"
    assert received.headers["Content-Type"] == "application/json"
    payload = received.json
    request_id = payload["request_id"]
    uuid.UUID(request_id)
    assert payload == {
        "event": "deployment_request_completed",
        "deployment_id": emu.object_id("p", "dep"),
        "deployment_name": "dep",
        "deployment_version_id": emu.object_id("p", "dep", version="v2"),
        "deployment_version_name": "v2",  # the default version: the first listed
        "request_id": request_id,
        "status": "completed",
        "text": f"Deployment request {request_id} finished for deployment dep v2 in project p",
    }
    assert emu.stats.tests_completed == 1
    assert emu.deliveries[0].status == 200
    assert "Token 123" not in repr(emu.deliveries)


async def test_pipeline_payload_with_result_and_given_version(emu: Emulator) -> None:
    async with Recorder() as target:
        body = hook_test_body(
            target.url,
            object_type="pipeline",
            object_name="pipe",
            version="x",
            event="pipeline_request_finished",
            include_result=True,
        )
        test_id = await start_test(emu, body, project="p")
        assert (await outcome(emu, test_id, "p"))["status"] == "completed"
        payload = target.received[0].json
    assert payload["pipeline_name"] == "pipe"
    assert payload["pipeline_version_name"] == "x"
    assert payload["pipeline_id"] == emu.object_id("p", "pipe", object_type="pipeline")
    assert "result" in payload
    assert payload["text"].startswith("Pipeline request ")
    assert not any(key.startswith("deployment") for key in payload)


async def test_non_2xx_fails_without_retry(emu: Emulator) -> None:
    async with Recorder(lambda n: 500) as target:
        test_id = await start_test(emu, hook_test_body(target.url))
        result = await outcome(emu, test_id)
        assert len(target.received) == 1
    assert (result["status"], result["error_message"]) == ("failed", "Received status 500")
    assert emu.stats.tests_failed == 1
    assert emu.stats.delivery_failures == 1


async def test_redirect_counts_as_success(emu: Emulator) -> None:
    async with Recorder(lambda n: 302) as target:
        test_id = await start_test(emu, hook_test_body(target.url))
        assert (await outcome(emu, test_id))["status"] == "completed"


async def test_retry_tries_again_until_success(emu: Emulator) -> None:
    async with Recorder(lambda n: 503 if n < 3 else 204) as target:
        test_id = await start_test(emu, hook_test_body(target.url, retry=True))
        assert (await outcome(emu, test_id))["status"] == "completed"
        assert len(target.received) == 3
    request_ids = {r.json["request_id"] for r in target.received}
    assert len(request_ids) == 1  # one request, delivered three times
    assert [d.attempt for d in emu.deliveries] == [1, 2, 3]
    assert (emu.stats.delivery_attempts, emu.stats.delivery_successes) == (3, 1)


async def test_retry_gives_up_after_three_attempts(emu: Emulator) -> None:
    async with Recorder(lambda n: 500) as target:
        test_id = await start_test(emu, hook_test_body(target.url, retry=True))
        result = await outcome(emu, test_id)
        assert len(target.received) == 3
    assert result["error_message"] == "Received status 500"


async def test_connection_error(emu: Emulator) -> None:
    test_id = await start_test(emu, hook_test_body("http://127.0.0.1:9/closed", retry=True))
    result = await outcome(emu, test_id)
    assert (result["status"], result["error_message"]) == ("failed", "Connection error")
    assert emu.stats.delivery_attempts == 3


async def test_timeout_is_honoured(emu: Emulator) -> None:
    release = asyncio.Event()

    async def stall(n: int) -> int:
        await release.wait()
        return 200

    async with Recorder(stall) as target:
        test_id = await start_test(emu, hook_test_body(target.url, timeout=1))
        result = await outcome(emu, test_id)
        release.set()
    assert (result["status"], result["error_message"]) == ("failed", "Timeout after 1 s")


async def test_bad_header_for_the_wire_fails_the_test_cleanly(emu: Emulator) -> None:
    async with Recorder() as target:
        body = hook_test_body(
            target.url, headers=[{"key": "X", "value": "a\r\nb", "protected": False}]
        )
        test_id = await start_test(emu, body)
        result = await outcome(emu, test_id)
        assert target.received == []
    assert result["status"] == "failed"
    assert result["error_message"] == "Invalid request (bad header or URL)"


async def test_delay_keeps_tests_pending_until_delivered(emu: Emulator) -> None:
    emu.test_delay = 30.0
    async with Recorder() as target:
        test_id = await start_test(emu, hook_test_body(target.url))
        await asyncio.sleep(0.05)
        assert [(t.id, t.status.value) for t in emu.tests()] == [(test_id, "pending")]
        assert target.received == []
        assert emu.state.deliverer.in_flight == 1
        emu.reset()  # cancels the waiting delivery
        assert await emu.drain(5)
        assert emu.state.deliverer.in_flight == 0
        assert emu.tests() == []
        assert target.received == []


async def test_delay_function_is_called_per_test(emu: Emulator) -> None:
    delays = itertools.cycle([0.0, 0.05])
    calls = []

    def next_delay() -> float:
        calls.append(1)
        return next(delays)

    emu.test_delay = next_delay
    async with Recorder() as target:
        ids = [await start_test(emu, hook_test_body(target.url)) for _ in range(4)]
        assert await emu.drain(10)
        assert {(await outcome(emu, i))["status"] for i in ids} == {"completed"}
    assert len(calls) == 4


def test_resolve_delay_is_bounded() -> None:
    def broken() -> float:
        raise RuntimeError("no")

    assert resolve_delay(1.5) == 1.5
    assert resolve_delay(-3) == 0.0
    assert resolve_delay(float("nan")) == 0.0
    assert resolve_delay(10**9) == 3600.0
    assert resolve_delay(lambda: 0.25) == 0.25
    assert resolve_delay(broken) == 0.0


async def test_many_tests_all_arrive(emu: Emulator) -> None:
    async with Recorder() as target:
        ids = await asyncio.gather(
            *(start_test(emu, hook_test_body(target.url)) for _ in range(40))
        )
        await target.wait_for(40)
        assert await emu.drain(20)
        assert {t.status.value for t in emu.tests()} == {"completed"}
    assert len({r.json["request_id"] for r in target.received}) == 40
    assert len(set(ids)) == 40


async def test_closing_the_emulator_cancels_running_deliveries() -> None:
    emu = Emulator(test_delay=60)
    await emu.start()
    await start_test(emu, hook_test_body("http://127.0.0.1:9/x"))
    task = next(iter(emu.state.deliverer._tasks))
    await emu.close()
    assert task.cancelled()
    await emu.close()  # twice is fine


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
async def test_a_finished_event_reports_the_chosen_status(status: str) -> None:
    async with Recorder() as target, Emulator(finished_status=status) as emulator:
        for event in ("deployment_request_finished", "deployment_request_failed"):
            await start_test(emulator, hook_test_body(target.url, event=event, include_result=True))
        received = await target.wait_for(2)
    by_event = {r.json["event"]: r.json for r in received}
    finished = by_event["deployment_request_finished"]
    assert finished["status"] == status
    assert finished["result"] == (
        {"message": "Webhook test result"} if status == "completed" else None
    )
    assert by_event["deployment_request_failed"]["status"] == "failed"  # the event decides


async def test_mixed_finished_statuses_are_a_seeded_sequence() -> None:
    async def statuses(seed: int) -> list[str]:
        async with (
            Recorder() as target,
            Emulator(
                finished_status=("completed", "failed", "cancelled"), finished_seed=seed
            ) as emulator,
        ):
            for sent in range(1, 13):  # one at a time: the draws keep their order
                await start_test(
                    emulator,
                    hook_test_body(
                        target.url,
                        event="pipeline_request_finished",
                        object_type="pipeline",
                        object_name="demo-pipeline",
                    ),
                )
                await target.wait_for(sent)
            return [r.json["status"] for r in target.received]

    first = await statuses(7)
    assert first == await statuses(7)
    assert set(first) == {"completed", "failed", "cancelled"}


@pytest.mark.parametrize("bad", ["done", (), ("completed", "processing")])
def test_finished_status_must_be_a_documented_one(bad: Any) -> None:
    with pytest.raises(ValueError, match="finished_status"):
        Emulator(finished_status=bad)
