"""Retries over the real wire: what the server saw against what the client reports.

Mocked transports cannot show what aiohttp itself does underneath: these tests
count the requests that really reached a loopback server and compare them with
the attempts the client reports and with what the retry policy promises.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from conftest import delivery_spec, webhook_spec

from aioubiwebhooks import (
    ApiConnectionError,
    ApiTimeoutError,
    ConflictError,
    NotFoundError,
    ServerError,
    WebhooksSession,
)
from aioubiwebhooks.bulk import run_bulk
from aioubiwebhooks.emulator import Emulator

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(test_delay=0.0) as emulator:
        yield emulator


async def test_a_test_create_that_timed_out_is_not_repeated(emu: Emulator) -> None:
    emu.faults.latency(0.6, routes=["webhook_tests_create"])
    async with WebhooksSession(emu.token, emu.url, timeout=0.3, max_retries=3) as session:
        with pytest.raises(ApiTimeoutError) as caught:
            await session.webhook_tests_create("demo", delivery_spec("http://127.0.0.1:9/x"))
    assert caught.value.sent
    assert caught.value.method == "POST"
    await asyncio.sleep(0.6)
    assert emu.stats.requests["webhook_tests_create"] == 1


async def test_a_request_whose_answer_comes_too_late_still_acts(emu: Emulator) -> None:
    """What a real server does, and what the soak's model allows for: the client gave
    up, the server went on. A typed error does not mean "not done"."""
    emu.faults.latency(0.6, routes=["webhook_tests_create"])
    async with WebhooksSession(emu.token, emu.url, timeout=0.3, max_retries=3) as session:
        with pytest.raises(ApiTimeoutError):
            await session.webhook_tests_create("demo", delivery_spec("http://127.0.0.1:9/x"))
    await asyncio.sleep(1.0)
    assert len(emu.tests("demo")) == 1


async def test_a_dropped_test_create_is_sent_once_over_the_wire(emu: Emulator) -> None:
    emu.faults.drop_next(1, routes=["webhook_tests_create"])
    async with WebhooksSession(emu.token, emu.url, max_retries=3) as session:
        with pytest.raises(ApiConnectionError) as caught:
            await session.webhook_tests_create("demo", delivery_spec("http://127.0.0.1:9/x"))
    assert caught.value.sent
    assert emu.stats.requests["webhook_tests_create"] == 1
    assert emu.tests("demo") == []


async def test_a_timed_out_read_is_repeated_and_every_attempt_is_counted(emu: Emulator) -> None:
    emu.faults.latency(0.5, routes=["webhooks_get"])
    async with WebhooksSession(emu.token, emu.url, timeout=0.2, max_retries=2) as session:
        outcomes = await run_bulk(["nope"], lambda name: session.webhooks_get("demo", name))
    error = outcomes[0].error
    assert isinstance(error, ApiTimeoutError)
    assert outcomes[0].attempts == 3
    assert emu.stats.requests["webhooks_get"] == 3


async def test_a_create_whose_answer_came_too_late_is_found_on_retry(emu: Emulator) -> None:
    """The first attempt acts but its answer misses the timeout; the retry meets 409 and
    returns the stored webhook, so exactly one exists."""
    emu.faults.latency(0.4, routes=["webhooks_create"])
    async with WebhooksSession(emu.token, emu.url, timeout=0.25, max_retries=3) as session:
        task = asyncio.create_task(session.webhooks_create("demo", webhook_spec("late")))
        for _ in range(500):
            if emu.stats.requests["webhooks_create"] >= 2:
                break
            await asyncio.sleep(0.01)
        emu.faults.clear()
        created = await task
    assert created.name == "late"
    assert [w.name for w in emu.webhooks("demo")] == ["late"]
    assert emu.stats.statuses[409] >= 1


async def test_500s_are_reported_not_repeated(emu: Emulator) -> None:
    emu.faults.fail_next(1, status=500)
    async with WebhooksSession(emu.token, emu.url, max_retries=3) as session:
        outcomes = await run_bulk(["x"], lambda name: session.webhooks_list("demo"))
    assert isinstance(outcomes[0].error, ServerError)
    assert outcomes[0].attempts == 1
    assert emu.stats.requests["webhooks_list"] == 1


async def test_a_503_on_a_test_create_is_reported_not_repeated(emu: Emulator) -> None:
    """A 503 may come from a proxy after the server acted; a repeat would deliver twice."""
    emu.faults.fail_next(1, status=503, routes=["webhook_tests_create"])
    async with WebhooksSession(emu.token, emu.url, max_retries=3) as session:
        with pytest.raises(ServerError) as caught:
            await session.webhook_tests_create("demo", delivery_spec("http://127.0.0.1:9/x"))
    assert (caught.value.status, caught.value.attempts) == (503, 1)
    assert emu.stats.requests["webhook_tests_create"] == 1


async def test_a_retried_create_that_meets_another_webhook_raises_conflict(emu: Emulator) -> None:
    """The retry's 409 is for a webhook stored under the name before: not the one asked for."""
    async with WebhooksSession(emu.token, emu.url, max_retries=3) as session:
        await session.webhooks_create("demo", webhook_spec("taken", url="http://127.0.0.1:9/a"))
        emu.faults.fail_next(1, status=503, routes=["webhooks_create"])
        with pytest.raises(ConflictError) as caught:
            await session.webhooks_create("demo", webhook_spec("taken", url="http://127.0.0.1:9/b"))
    assert (caught.value.status, caught.value.attempts) == (409, 2)
    assert emu.stats.requests["webhooks_create"] == 3
    assert emu.stats.requests["webhooks_get"] == 1  # the lookup that compared them
    assert emu.webhook("demo", "taken").url == "http://127.0.0.1:9/a"


class DropFirstThen404:
    """Closes the first connection without an answer (as if the server acted and then
    went away), answers 404 afterwards; counts what arrived."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> DropFirstThen404:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            head = await reader.readuntil(b"\r\n\r\n")
            self.methods.append(head.split(b" ", 1)[0].decode())
            if len(self.methods) == 1:
                writer.transport.abort()
                return
            body = b'{"error": "Webhook not found"}'
            writer.write(
                b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        writer.close()


async def test_every_request_that_reached_the_server_is_an_attempt() -> None:
    async with DropFirstThen404() as server:
        host = f"http://127.0.0.1:{server.port}/v2.1"
        async with WebhooksSession("t", host, max_retries=2) as session:
            outcomes = await run_bulk(["h"], lambda name: session.webhooks_get("p", name))
        assert isinstance(outcomes[0].error, NotFoundError)
        assert server.methods == ["GET", "GET"]
        assert outcomes[0].attempts == len(server.methods)


async def test_a_delete_repeated_after_a_dropped_connection_counts_as_done() -> None:
    """``webhooks_delete``: "a retried delete that meets 404 has done its job"."""
    async with DropFirstThen404() as server:
        host = f"http://127.0.0.1:{server.port}/v2.1"
        async with WebhooksSession("t", host, max_retries=2) as session:
            try:
                await session.webhooks_delete("p", "h")
            finally:
                assert server.methods == ["DELETE", "DELETE"]


class DropOnReuse:
    """Answers the first request and keeps its connection open; closes that kept-alive
    connection, unanswered, when the next request arrives on it (as a server that acted
    and then went away would); answers 404 on every new connection."""

    DETAIL = (
        b'{"id": "1", "name": "h", "url": "https://example.org/x", "object_type": "deployment",'
        b' "object_name": "d", "event": "deployment_request_failed", "headers": []}'
    )

    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []  # (connection number, method)
        self.port = 0
        self._connections = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> DropOnReuse:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections += 1
        number = self._connections
        served = 0
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.seen.append((number, head.split(b" ", 1)[0].decode()))
                if not self.seen[:-1]:  # the very first request: answer, keep alive
                    status, body, close = b"200 OK", self.DETAIL, False
                elif served:  # a request on a kept-alive connection: drop it
                    writer.transport.abort()
                    return
                else:
                    status, body, close = b"404 Not Found", b'{"error": "gone"}', True
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                    b"%s\r\n%s"
                    % (status, len(body), b"Connection: close\r\n" if close else b"", body)
                )
                await writer.drain()
                served += 1
                if close:
                    break
        writer.close()


async def test_a_delete_dropped_on_a_pooled_connection_is_retried_by_the_session() -> None:
    """aiohttp would re-send a DELETE itself when its kept-alive connection turns out
    closed; the session turns that off (``see_every_attempt``), so its own retry sends
    the second DELETE, counts it, and takes the 404 it meets as the first one's doing.
    Fails if aiohttp stops honouring the switch: the re-send is then aiohttp's, the 404
    looks like a first answer, and the delete raises NotFoundError."""
    async with DropOnReuse() as server:
        host = f"http://127.0.0.1:{server.port}/v2.1"
        async with WebhooksSession("t", host, max_retries=2) as session:
            await session.webhooks_get("p", "h")  # leaves a kept-alive connection in the pool
            outcomes = await run_bulk(["h"], lambda name: session.webhooks_delete("p", name))
    assert outcomes[0].error is None
    assert outcomes[0].attempts == 2
    assert server.seen == [(1, "GET"), (1, "DELETE"), (2, "DELETE")]
