"""The receiver with a journal (a real SQLite file, a real redis-server): what is stored,
acknowledged, yielded again, deduplicated and shown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _journal_helpers import redis_server

from aioubiwebhooks.cli import main
from aioubiwebhooks.receiver import WebhookReceiver

pytestmark = pytest.mark.timeout(60)


def payload(request_id: str) -> dict[str, Any]:
    return {"event": "pipeline_request_failed", "request_id": request_id, "status": "failed"}


@pytest.fixture(params=["sqlite", "redis"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "events.db")
    else:
        with redis_server(tmp_path) as url:
            yield url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def deliver(http: aiohttp.ClientSession, url: str, request_id: str) -> str:
    async with http.post(url, json=payload(request_id)) as response:
        assert response.status == 200
        return str((await response.json())["status"])


async def take(rx: WebhookReceiver, count: int) -> list[str]:
    """The next events, asked for in this task (as ``async for`` would)."""
    taken = []
    for _ in range(count):
        with anyio.fail_after(5):
            taken.append(str((await rx.__anext__()).request_id))
    return taken


async def test_unhandled_events_come_back_after_a_restart_in_order(
    journal: str, http: aiohttp.ClientSession
) -> None:
    async with WebhookReceiver(journal=journal) as rx:
        for n in range(5):
            assert await deliver(http, rx.url, f"r{n}") == "accepted"
        assert await take(rx, 2) == ["r0", "r1"]  # r0 handled (r1 asked for after it)
    async with WebhookReceiver(journal=journal) as rx:
        assert [e.request_id for e in await rx.pending()] == ["r1", "r2", "r3", "r4"]
        # a redelivery of a stored event is recognised across the restart
        assert await deliver(http, rx.url, "r0") == "duplicate"
        assert await deliver(http, rx.url, "r3") == "duplicate"
        assert await take(rx, 4) == ["r1", "r2", "r3", "r4"]
        await rx.ack((await rx.pending())[0])  # the one in hand
        assert await rx.pending() == []


async def test_without_auto_ack_only_ack_marks_an_event_handled(
    journal: str, http: aiohttp.ClientSession
) -> None:
    async with WebhookReceiver(journal=journal, auto_ack=False) as rx:
        for n in range(3):
            await deliver(http, rx.url, f"r{n}")
        with anyio.fail_after(5):
            events = [await rx.__anext__() for _ in range(3)]
        await rx.ack(events[1])
        await rx.ack(events[1])  # twice does nothing more
        assert [e.request_id for e in await rx.pending()] == ["r0", "r2"]


async def test_wait_for_handles_what_it_returns(journal: str, http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver(journal=journal) as rx:
        for n in range(3):
            await deliver(http, rx.url, f"r{n}")
        found = await rx.wait_for(lambda e: e.request_id == "r1", timeout=5)
        assert found.request_id == "r1"
        assert await take(rx, 2) == ["r0", "r2"]
        assert [e.request_id for e in await rx.pending()] == ["r2"]


async def test_a_full_journal_answers_503(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver(journal=tmp_path / "small.db", max_pending=2) as rx:
        await deliver(http, rx.url, "a")
        await deliver(http, rx.url, "b")
        async with http.post(rx.url, json=payload("c")) as response:
            assert response.status == 503
            assert response.headers["Retry-After"] == "1"
        assert rx.stats.rejected["busy"] == 1


async def test_a_journal_that_cannot_be_opened_stops_the_start(tmp_path: Path) -> None:
    rx = WebhookReceiver(journal=tmp_path / "missing-folder" / "events.db")
    with pytest.raises(Exception, match="cannot open the journal"):
        await rx.start()


def test_journal_show_and_replay_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "events.db")

    async def fill() -> None:
        async with (
            WebhookReceiver(journal=path) as rx,
            aiohttp.ClientSession() as session,
        ):
            for n in range(3):
                await deliver(session, rx.url, f"r{n}")

    asyncio.run(fill())
    assert main(["journal", "show", path]) == 0
    shown = capsys.readouterr()
    assert [json.loads(line)["request_id"] for line in shown.out.splitlines()] == [
        "r0",
        "r1",
        "r2",
    ]
    assert "3 events not yet handled" in shown.err
    assert main(["journal", "replay", path]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["journal", "show", path]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.webhook_receiver(journal=True, max_pending=10)
async def test_the_fixture_takes_a_journal(
    webhook_receiver: WebhookReceiver, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    await deliver(http, webhook_receiver.url, "x")
    assert [e.request_id for e in await webhook_receiver.pending()] == ["x"]
    assert (tmp_path / "webhook-events.db").exists()
