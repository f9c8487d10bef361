"""The receiver under load on loopback: a burst from concurrent senders, and a slow consumer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from aioubiwebhooks.receiver import WebhookReceiver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def body(request_id: str) -> bytes:
    return json.dumps(
        {
            "event": "deployment_request_completed",
            "deployment_id": "d",
            "deployment_name": "dep",
            "deployment_version_id": "v",
            "deployment_version_name": "v1",
            "request_id": request_id,
            "status": "completed",
            "text": f"request {request_id} finished",
        }
    ).encode()


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``condition`` until true; a deadline, not a timing assertion."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still not {what} after {timeout} s")
        await asyncio.sleep(0.005)


def client(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        timeout=aiohttp.ClientTimeout(total=60),
        headers={"Content-Type": "application/json"},
    )


async def test_burst_of_10000_from_50_senders_arrives_complete_and_once() -> None:
    total, senders = 10_000, 50
    request_ids = [f"req-{n}" for n in range(total)]
    received: list[str] = []
    statuses: dict[int, int] = {}

    async with WebhookReceiver(secret="Token burst", max_queue=500) as receiver:

        async def consume() -> None:
            async for event in receiver:
                received.append(event.request_id)
                if len(received) == total:
                    return

        async def send(http: aiohttp.ClientSession, share: list[str]) -> None:
            for request_id in share:
                async with http.post(
                    receiver.url, data=body(request_id), headers={"Authorization": "Token burst"}
                ) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1

        consumer = asyncio.create_task(consume())
        async with client(senders) as http:
            await asyncio.gather(*(send(http, request_ids[n::senders]) for n in range(senders)))
        await asyncio.wait_for(consumer, 30)
        stats = receiver.stats

    assert statuses == {200: total}
    assert len(received) == total
    assert set(received) == set(request_ids)
    assert stats.accepted == total
    assert stats.duplicates == 0
    assert stats.total_rejected == 0
    assert stats.max_queued <= 500
    assert [event.request_id async for event in receiver] == []  # nothing left over


async def test_redelivery_burst_is_deduplicated() -> None:
    unique, copies = 200, 5
    received: list[str] = []
    async with WebhookReceiver(max_queue=50) as receiver, client(25) as http:

        async def consume() -> None:
            async for event in receiver:
                received.append(event.request_id)

        consumer = asyncio.create_task(consume())

        async def send(request_id: str) -> int:
            async with http.post(receiver.url, data=body(request_id)) as response:
                return response.status

        sends: list[Awaitable[int]] = [send(f"r{n}") for _ in range(copies) for n in range(unique)]
        assert set(await asyncio.gather(*sends)) == {200}
        await eventually(lambda: len(received) == unique, "all yielded")
        stats = receiver.stats
    await asyncio.wait_for(consumer, 5)
    assert sorted(received) == sorted(f"r{n}" for n in range(unique))
    assert (stats.accepted, stats.duplicates) == (unique, unique * (copies - 1))


async def test_slow_consumer_gets_back_pressure_and_loses_nothing() -> None:
    total, max_queue = 40, 4
    async with WebhookReceiver(max_queue=max_queue) as receiver, client(total) as http:

        async def send(request_id: str) -> tuple[int, Any]:
            async with http.post(receiver.url, data=body(request_id)) as response:
                return response.status, await response.json()

        sends = [asyncio.create_task(send(f"s{n}")) for n in range(total)]
        # Nobody consumes yet: the queue fills, every other delivery is held back.
        await eventually(
            lambda: receiver.stats.held_back == total - max_queue, "all surplus held back"
        )
        stats = receiver.stats
        assert stats.queued == max_queue
        assert stats.accepted == max_queue
        # Held deliveries are not acknowledged: at most the queued ones have an answer.
        assert sum(task.done() for task in sends) <= max_queue

        received: list[str] = []
        async for event in receiver:
            assert receiver.stats.queued <= max_queue
            received.append(event.request_id)
            await asyncio.sleep(0.001)  # a slow consumer
            if len(received) == total:
                break
        answers = await asyncio.gather(*sends)
        final = receiver.stats

    assert all(answer == (200, {"status": "accepted"}) for answer in answers)
    assert sorted(received) == sorted(f"s{n}" for n in range(total))
    assert final.max_queued == max_queue
    assert (final.accepted, final.held_back, final.total_rejected) == (total, 0, 0)
