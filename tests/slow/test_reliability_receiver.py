"""The receiver under a flood of deliveries from many senders, with slow consumers.

Back-pressure must hold: the queue never holds more than ``max_queue`` events (the
samples and the high-water mark say so), senders are held back instead, memory
stays far below what was offered, and every delivery that was acknowledged
(answered 200) reaches a consumer exactly once, even when the receiver closes in
the middle of the flood.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from aioubiwebhooks.receiver import WebhookReceiver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

SECRET = "Token flood-secret"
SENDERS = 48
PER_SENDER = 20
MAX_QUEUE = 16
PADDING = 8 * 1024


def delivery(request_id: str) -> bytes:
    body: dict[str, Any] = {
        "event": "deployment_request_completed",
        "deployment_id": "dep-id",
        "deployment_name": "dep",
        "deployment_version_id": "ver-id",
        "deployment_version_name": "v1",
        "request_id": request_id,
        "status": "completed",
        "text": "finished",
        "result": {"padding": "p" * PADDING},
    }
    return json.dumps(body).encode()


class Flood:
    """Senders posting deliveries (some twice, as a retrying sender would) and their answers."""

    def __init__(self, url: str, milestone: int = 0) -> None:
        self.url = url
        self.milestone = milestone
        self.reached = asyncio.Event()
        self.acknowledged: Counter[str] = Counter()
        self.refused: Counter[int] = Counter()
        self.failed = 0
        self.offered_bytes = 0

    async def sender(self, http: aiohttp.ClientSession, number: int) -> None:
        for item in range(PER_SENDER):
            request_id = f"s{number:02d}-{item:02d}"
            copies = 2 if item % 5 == 0 else 1  # a redelivery of the same event
            for _ in range(copies):
                await self.post(http, request_id)

    async def post(self, http: aiohttp.ClientSession, request_id: str) -> None:
        body = delivery(request_id)
        self.offered_bytes += len(body)
        headers = {"Authorization": SECRET, "Content-Type": "application/json"}
        try:
            async with http.post(self.url, data=body, headers=headers) as answer:
                data = await answer.json()
                if answer.status == 200:
                    assert data["status"] in ("accepted", "duplicate")
                    self.acknowledged[request_id] += 1
                    if sum(self.acknowledged.values()) >= self.milestone:
                        self.reached.set()
                else:
                    assert "error" in data
                    self.refused[answer.status] += 1
        except aiohttp.ClientError:
            self.failed += 1


async def run_flood(
    receiver: WebhookReceiver,
    consumers: int,
    consumer_delay: float,
    while_flooding: Callable[[Flood], Awaitable[None]] | None = None,
    milestone: int = 0,
) -> tuple[Flood, list[str], list[int], list[int]]:
    flood = Flood(receiver.url, milestone)
    consumed: list[str] = []
    queued_samples: list[int] = []
    held_samples: list[int] = []

    async def consume() -> None:
        async for event in receiver:
            consumed.append(event.request_id)
            await asyncio.sleep(consumer_delay)

    async def sample() -> None:
        while True:
            stats = receiver.stats
            queued_samples.append(stats.queued)
            held_samples.append(stats.held_back)
            await asyncio.sleep(0.002)

    connector = aiohttp.TCPConnector(limit=SENDERS)
    timeout = aiohttp.ClientTimeout(total=60)
    consumer_tasks = [asyncio.create_task(consume()) for _ in range(consumers)]
    sampler = asyncio.create_task(sample())
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        senders = [asyncio.create_task(flood.sender(http, n)) for n in range(SENDERS)]
        if while_flooding is not None:
            await while_flooding(flood)
        await asyncio.gather(*senders)
    # closing refuses new deliveries; the consumers still drain every queued event
    await receiver.close()
    await asyncio.wait_for(asyncio.gather(*consumer_tasks), 30)
    sampler.cancel()
    await asyncio.gather(sampler, return_exceptions=True)
    return flood, consumed, queued_samples, held_samples


async def test_a_flood_with_slow_consumers_is_held_back_and_nothing_is_lost() -> None:
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        receiver = WebhookReceiver(secret=SECRET, max_queue=MAX_QUEUE, max_history=MAX_QUEUE)
        await receiver.start()
        flood, consumed, queued, held = await run_flood(receiver, consumers=2, consumer_delay=0.004)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    total = SENDERS * PER_SENDER
    assert flood.failed == 0
    assert not flood.refused
    assert set(flood.acknowledged) == {
        f"s{n:02d}-{i:02d}" for n in range(SENDERS) for i in range(PER_SENDER)
    }
    # every acknowledged event reached a consumer, and exactly once
    assert sorted(consumed) == sorted(flood.acknowledged)
    stats = receiver.stats
    assert stats.accepted == total
    assert stats.duplicates == sum(flood.acknowledged.values()) - total
    # back-pressure: the queue stayed within its bound while senders waited for room
    assert max(queued) <= MAX_QUEUE
    assert stats.max_queued == MAX_QUEUE
    assert max(held) > 0
    # memory: bounded by the senders held back, not by what was offered (piled-up events
    # would hold each raw body and its decoded copy: about twice the offered bytes)
    assert flood.offered_bytes > 5_000_000
    assert peak < flood.offered_bytes * 0.6, (peak, flood.offered_bytes)
    print(f"offered {flood.offered_bytes} bytes, traced peak {peak} bytes")


async def test_closing_in_the_middle_of_a_flood_loses_nothing_acknowledged() -> None:
    receiver = WebhookReceiver(secret=SECRET, max_queue=MAX_QUEUE, max_history=MAX_QUEUE)
    await receiver.start()

    async def close_midway(flood: Flood) -> None:
        await asyncio.wait_for(flood.reached.wait(), 30)
        await receiver.close()

    flood, consumed, queued, _ = await run_flood(
        receiver,
        consumers=1,
        consumer_delay=0.004,
        while_flooding=close_midway,
        milestone=SENDERS * PER_SENDER // 3,
    )
    acknowledged = set(flood.acknowledged)
    assert acknowledged
    assert len(acknowledged) < SENDERS * PER_SENDER
    # the rest were refused (503: deliver again later) or found the port closed
    assert set(flood.refused) <= {503}
    assert flood.refused[503] + flood.failed > 0
    assert acknowledged <= set(consumed)
    assert len(consumed) == len(set(consumed))
    assert max(queued) <= MAX_QUEUE
