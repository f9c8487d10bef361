"""A receiver whose events are only awaited with ``wait_for`` never fills up.

1,100 webhook tests against the emulator, each really POSTed to a receiver that no
``async for`` reads, with a queue of 1,000: every test completes and ``wait_for``
finds each delivery, because an event ``wait_for`` returns is handled and leaves
the queue.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator
from aioubiwebhooks.receiver import WebhookReceiver

pytestmark = pytest.mark.timeout(120)

TESTS = 1100
CONCURRENCY = 32


async def test_1100_webhook_tests_awaited_with_wait_for_all_complete(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="aioubiwebhooks")
    async with (
        Emulator(max_pending_tests=TESTS) as emulator,
        WebhookReceiver(max_queue=1000, hold_timeout=2) as rx,
        uw.WebhooksSession(token=emulator.token, host=emulator.url) as session,
    ):
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(n: int) -> str:
            async with gate:
                test = await session.webhook_tests_create(
                    "demo",
                    {
                        "url": rx.url,
                        "object_type": "deployment",
                        "object_name": "demo-deployment",
                        "event": "deployment_request_completed",
                        "headers": [{"key": "X-Test", "value": str(n), "protected": False}],
                    },
                )
                done = await session.await_test("demo", test.id, timeout=30)
                assert done.status is uw.TestStatus.COMPLETED, done
                event = await rx.wait_for(lambda e: e.headers.get("X-Test") == str(n), timeout=10)
                return str(event.request_id)

        request_ids = await asyncio.gather(*(one(n) for n in range(TESTS)))
        assert len(set(request_ids)) == TESTS
        stats = rx.stats
        assert stats.accepted == TESTS
        assert stats.total_rejected == 0
        assert stats.queued == 0  # every event wait_for returned left the queue
        assert stats.max_queued < 1000
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_full_queue_nobody_reads_warns_naming_the_setting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="aioubiwebhooks")
    async with (
        Emulator() as emulator,
        WebhookReceiver(max_queue=2, hold_timeout=0.2) as rx,
        uw.WebhooksSession(token=emulator.token, host=emulator.url) as session,
    ):
        for _ in range(3):
            test = await session.webhook_tests_create(
                "demo",
                {
                    "url": rx.url,
                    "object_type": "deployment",
                    "object_name": "demo-deployment",
                    "event": "deployment_request_completed",
                },
            )
            await session.await_test("demo", test.id, timeout=30)
        assert rx.stats.rejected["busy"] >= 1  # only counted, never read: it filled up
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "max_queue=2" in warnings[0]
