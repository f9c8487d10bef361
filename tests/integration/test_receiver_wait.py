"""Waiting with a receiver: a delivery reaching it brings the next poll forward.

The emulator delivers each webhook test to a real WebhookReceiver on loopback; the
wait watches that receiver through its public wait_for, without taking events from it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from conftest import delivery_spec

from aioubiwebhooks import TestStatus, WebhookReceiver, WebhooksSession, set_testing
from aioubiwebhooks._arrivals import Arrivals
from aioubiwebhooks._polling import RECEIVER_FALLBACK
from aioubiwebhooks.emulator import Emulator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def real_poll_delays() -> Iterator[None]:
    """Testing mode off: what is tested here is when the polls come."""
    with set_testing(False):
        yield


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as rx:
        yield rx


def polls(emu: Emulator) -> int:
    return emu.stats.requests["webhook_tests_get"]


async def test_a_delivery_brings_the_poll_forward(
    emulator: Emulator, session: WebhooksSession, receiver: WebhookReceiver
) -> None:
    pending = 3.5  # the fallback polls at about 1, 3 and 7 s: alone it would notice at 7 s
    assert RECEIVER_FALLBACK.times(pending)[-1] > pending + 3
    emulator.test_delay = pending
    test = await session.webhook_tests_create("demo", delivery_spec(receiver.url))
    started = time.monotonic()
    done = await session.await_test("demo", test.id, timeout=30, receiver=receiver)
    waited = time.monotonic() - started
    assert done.status is TestStatus.COMPLETED
    assert pending <= waited < pending + 2.5  # well before the fallback's poll at 7 s
    assert polls(emulator) <= 3 + 2  # two fallback polls, the one after the delivery, slack


async def test_the_receivers_readers_still_get_the_delivery(
    emulator: Emulator, session: WebhooksSession, receiver: WebhookReceiver
) -> None:
    emulator.test_delay = 0.3
    test = await session.webhook_tests_create("demo", delivery_spec(receiver.url))
    done = await session.await_test("demo", test.id, timeout=30, receiver=receiver)
    assert done.status is TestStatus.COMPLETED
    streamed = await asyncio.wait_for(anext(receiver), timeout=10)
    assert streamed.object_name == "demo-deployment"
    assert await receiver.wait_for(timeout=10) is streamed


async def test_a_refused_delivery_is_still_noticed_by_the_fallback(
    emulator: Emulator, session: WebhooksSession
) -> None:
    async with WebhookReceiver(secret="Token needed") as guarded:  # the test sends none
        test = await session.webhook_tests_create("demo", delivery_spec(guarded.url))
        done = await session.await_test("demo", test.id, timeout=30, receiver=guarded)
    assert done.status is TestStatus.FAILED
    assert guarded.events == ()


async def test_check_webhook_with_its_receiver(
    emulator: Emulator, session: WebhooksSession, receiver: WebhookReceiver
) -> None:
    emulator.test_delay = 3.5
    spec = delivery_spec(receiver.url)
    started = time.monotonic()
    done = await session.check_webhook("demo", spec, timeout=30, receiver=receiver)
    assert done.status is TestStatus.COMPLETED
    assert time.monotonic() - started < 3.5 + 2.5


def delivery(event: str = "deployment_request_completed", name: str = "obj") -> bytes:
    kind = event.split("_", 1)[0]
    body: dict[str, Any] = {
        "event": event,
        f"{kind}_id": "id-1",
        f"{kind}_name": name,
        f"{kind}_version_id": "vid-1",
        f"{kind}_version_name": "v1",
        "request_id": f"req-{time.monotonic_ns()}",
        "status": "completed",
        "text": "finished",
    }
    return json.dumps(body).encode()


async def send(url: str, body: bytes) -> None:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.post(url, data=body) as answer,
    ):
        assert answer.status == 200, await answer.text()


async def test_arrivals_note_only_new_matching_deliveries(receiver: WebhookReceiver) -> None:
    await send(receiver.url, delivery(name="before"))
    await receiver.wait_for(timeout=10)
    arrivals = Arrivals(receiver, lambda event: event.object_name == "wanted")
    watching = asyncio.ensure_future(arrivals.watch(30))
    try:
        assert not await arrivals.wait(0.3)  # the one from before does not count
        await send(receiver.url, delivery(name="other"))
        assert not await arrivals.wait(0.3)  # nor does one that does not match
        await send(receiver.url, delivery(name="wanted"))
        assert await arrivals.wait(30)
        assert not arrivals.take()  # noted once
    finally:
        watching.cancel()
    assert [e.object_name for e in receiver.events] == ["before", "other", "wanted"]
