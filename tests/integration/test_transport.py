"""The HTTP layer: error mapping, retries and logging over the in-memory transport, and
what only a real connection shows (timeouts, connection limits, the User-Agent) over
servers on loopback.

Scripted answers go through :class:`MockTransport`, so the session's own retry loop,
pacing and error mapping run exactly as over the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import delivery_spec

from aioubiwebhooks import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    HttpRequest,
    HttpResponse,
    MockTransport,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    WebhooksSession,
)
from aioubiwebhooks.bulk import run_bulk

TOKEN = "tok-9f8e7d6c5b4a"
HOST = "https://api.example.test/v2.1"

DETAIL: dict[str, Any] = {
    "id": "1",
    "name": "h",
    "url": "https://example.org/x",
    "object_type": "deployment",
    "object_name": "d",
    "event": "deployment_request_failed",
    "headers": [],
}
CREATE = {k: DETAIL[k] for k in ("name", "url", "object_type", "object_name", "event")}
TEST_SPEC = {k: CREATE[k] for k in ("url", "object_type", "object_name", "event")}

Answer = HttpResponse | Exception


class Script:
    """A MockTransport handler: answers in order (the last one repeats), requests recorded."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def sent(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]


def error(status: int, message: str = "nope", **headers: str) -> HttpResponse:
    return HttpResponse.json({"error": message}, status=status, headers=headers)


@contextlib.asynccontextmanager
async def scripted(
    *answers: Answer, **options: Any
) -> AsyncIterator[tuple[WebhooksSession, Script]]:
    script = Script(*answers)
    if "retry" not in options:
        options.setdefault("max_retries", 3)
    async with WebhooksSession(TOKEN, HOST, transport=MockTransport(script), **options) as session:
        yield session, script


# --- error mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (500, ServerError),
        (418, ApiError),
    ],
)
async def test_each_status_has_its_error_class(status: int, kind: type[ApiError]) -> None:
    async with scripted(error(status, f"nope {status}")) as (session, _):
        with pytest.raises(kind) as caught:
            await session.webhooks_get("p", "h")
    assert type(caught.value) is kind
    assert caught.value.status == status
    assert caught.value.message == f"nope {status}"
    assert caught.value.method == "GET"
    assert caught.value.path == "/projects/p/webhooks/h"
    assert f"-> {status}: nope {status}" in str(caught.value)


async def test_message_is_read_from_error_message_too() -> None:
    answer = HttpResponse.json({"error_message": "bad labels"}, status=400)
    async with scripted(answer) as (session, _):
        with pytest.raises(BadRequestError, match="bad labels"):
            await session.webhooks_get("p", "h")


async def test_non_json_error_body_still_gives_a_message() -> None:
    async with scripted(HttpResponse(502, {}, b"<html>Bad gateway</html>")) as (session, script):
        with pytest.raises(ServerError, match="Bad gateway") as caught:
            await session.webhooks_get("p", "h")
    assert caught.value.attempts == 4  # first try and three retries
    assert len(script.requests) == 4


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"not json", "not JSON"),
        (b'{"id": "1", "name": 3}', "$.name"),
        (b'{"id": "1"', "not JSON"),
        (b"[]", "expected"),
    ],
)
async def test_malformed_answers_are_typed_errors(body: bytes, needle: str) -> None:
    async with scripted(HttpResponse(200, {}, body)) as (session, _):
        with pytest.raises(ResponseDecodeError) as caught:
            await session.webhooks_get("p", "h")
    assert needle in str(caught.value)


# --- what is retried ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 502, 503, 504])
async def test_transient_statuses_are_retried_then_succeed(status: int) -> None:
    async with scripted(error(status), error(status), HttpResponse.json(DETAIL)) as (
        session,
        script,
    ):
        assert (await session.webhooks_get("p", "h")).name == "h"
    assert len(script.requests) == 3


async def test_500_is_not_retried() -> None:
    async with scripted(error(500, "boom"), HttpResponse.json(DETAIL)) as (session, script):
        with pytest.raises(ServerError) as caught:
            await session.webhooks_get("p", "h")
    assert caught.value.attempts == 1
    assert len(script.requests) == 1


async def test_connection_errors_are_retried_for_reads() -> None:
    dropped = ApiConnectionError("the server closed the connection", sent=True)
    async with scripted(dropped, dropped, HttpResponse.json(DETAIL)) as (session, script):
        assert (await session.webhooks_get("p", "h")).id == "1"
    assert len(script.requests) == 3


async def test_retries_give_up_with_the_last_connection_error() -> None:
    dropped = ApiConnectionError("the server closed the connection", sent=True)
    async with scripted(dropped) as (session, script):
        with pytest.raises(ApiConnectionError, match="closed the connection"):
            await session.webhooks_get("p", "h")
    assert len(script.requests) == 4


async def test_a_503_on_a_test_create_is_not_retried() -> None:
    created = HttpResponse.json({"id": "t", "status": "pending"}, status=201)
    async with scripted(error(503, "busy"), created) as (session, script):
        with pytest.raises(ServerError) as caught:
            await session.webhook_tests_create("p", TEST_SPEC)
    assert caught.value.status == 503
    assert script.sent == ["POST /projects/p/webhooks-tests"]


async def test_a_test_create_that_may_have_arrived_is_not_retried() -> None:
    dropped = ApiConnectionError("the server closed the connection", sent=True)
    async with scripted(dropped, HttpResponse.json({"id": "t"}, status=201)) as (
        session,
        script,
    ):
        with pytest.raises(ApiConnectionError) as caught:
            await session.webhook_tests_create("p", TEST_SPEC)
    assert caught.value.sent
    assert len(script.requests) == 1


async def test_a_test_create_that_never_left_is_retried() -> None:
    refused = ApiConnectionError("cannot connect", sent=False)
    created = HttpResponse.json({"id": "t", "status": "pending"}, status=201)
    async with scripted(refused, created) as (session, script):
        assert (await session.webhook_tests_create("p", TEST_SPEC)).id == "t"
    assert len(script.requests) == 2


async def test_create_retried_into_409_returns_the_matching_webhook() -> None:
    dropped = ApiConnectionError("the server closed the connection", sent=True)
    async with scripted(dropped, error(409, "exists"), HttpResponse.json(DETAIL)) as (
        session,
        script,
    ):
        assert (await session.webhooks_create("p", CREATE)).id == "1"
    assert script.sent == [
        "POST /projects/p/webhooks",
        "POST /projects/p/webhooks",
        "GET /projects/p/webhooks/h",
    ]


async def test_a_409_on_a_retried_create_for_a_different_webhook_raises() -> None:
    other = HttpResponse.json({**DETAIL, "url": "https://elsewhere.org/"})
    async with scripted(error(503, "busy"), error(409, "exists"), other) as (session, script):
        with pytest.raises(ConflictError) as caught:
            await session.webhooks_create("p", CREATE)
    assert caught.value.attempts == 2
    assert script.sent[-1] == "GET /projects/p/webhooks/h"


async def test_a_first_try_409_is_a_conflict_without_a_lookup() -> None:
    async with scripted(error(409, "exists")) as (session, script):
        with pytest.raises(ConflictError, match="exists"):
            await session.webhooks_create("p", CREATE)
    assert len(script.requests) == 1


async def test_a_delete_retried_into_404_counts_as_done() -> None:
    async with scripted(error(502), error(404, "gone")) as (session, _):
        assert await session.webhooks_delete("p", "h") is None
    async with scripted(error(404, "gone")) as (session, _):
        with pytest.raises(NotFoundError):
            await session.webhooks_delete("p", "h")


async def test_every_attempt_is_counted_for_outcomes() -> None:
    async with scripted(error(503), error(503), HttpResponse.json(DETAIL)) as (session, _):
        outcomes = await run_bulk(["h"], lambda name: session.webhooks_get("p", name))
    assert outcomes[0].attempts == 3


# --- 429 ----------------------------------------------------------------------------------


def limited(reset: str) -> HttpResponse:
    headers = {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    return HttpResponse.json({"error": "slow down"}, status=429, headers=headers)


async def test_429_waits_without_using_retries() -> None:
    answers = [limited("0")] * 3 + [HttpResponse.json(DETAIL)]
    async with scripted(*answers, max_retries=0) as (session, script):
        assert (await session.webhooks_get("p", "h")).id == "1"
    assert len(script.requests) == 4


async def test_429_past_the_wait_bound_raises_rate_limit_error_at_once() -> None:
    policy = RetryPolicy(max_rate_limit_wait=1.0)
    async with scripted(limited("30"), HttpResponse.json(DETAIL), retry=policy) as (
        session,
        script,
    ):
        with pytest.raises(RateLimitError) as caught:
            await session.webhooks_get("p", "h")
    assert caught.value.retry_after == 30
    assert len(script.requests) == 1


# --- what is sent, and logged ------------------------------------------------------------------


async def test_token_is_sent_with_its_prefix_and_json_with_its_type() -> None:
    async with scripted(HttpResponse.json(DETAIL, status=201)) as (session, script):
        await session.webhooks_create("p", CREATE)
    (request,) = script.requests
    assert request.headers["Authorization"] == f"Token {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.url == f"{HOST}/projects/p/webhooks"
    assert request.json()["name"] == "h"
    assert TOKEN not in repr(request)


async def test_list_that_is_not_a_list_is_a_typed_error() -> None:
    async with scripted(HttpResponse.json({"results": []})) as (session, _):
        with pytest.raises(ResponseDecodeError, match="expected an array"):
            await session.webhooks_list("p")


async def test_debug_log_has_one_line_per_attempt_and_no_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with scripted(error(503, "busy"), HttpResponse.json(DETAIL)) as (session, _):
        with caplog.at_level(logging.DEBUG, logger="aioubiwebhooks"):
            await session.webhooks_get("p", "h")
    lines = [r.getMessage() for r in caplog.records if r.name == "aioubiwebhooks"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /projects/p/webhooks/h -> 503 in ")
    assert lines[1].endswith("(attempt 2)")
    assert all(TOKEN not in line for line in lines)


async def test_an_async_handler_works_and_a_wrong_answer_is_a_type_error() -> None:
    async def handler(request: HttpRequest) -> HttpResponse:
        await asyncio.sleep(0)
        return HttpResponse.json([])

    async with WebhooksSession(TOKEN, HOST, transport=MockTransport(handler)) as session:
        assert await session.webhooks_list("p") == []
    wrong = MockTransport(lambda request: "not a response")  # type: ignore[arg-type,return-value]
    async with WebhooksSession(TOKEN, HOST, transport=wrong) as session:
        with pytest.raises(TypeError, match="HttpResponse"):
            await session.webhooks_list("p")


async def test_a_transport_and_a_client_session_cannot_both_be_given() -> None:
    transport = MockTransport(Script(error(500)))
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ValueError, match="transport"):
            WebhooksSession(TOKEN, HOST, transport=transport, client_session=http)


# --- over a real connection ----------------------------------------------------------------------


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A loopback port whose accept queue is full: a new connection is never made.

    The listener accepts nothing and its queue (backlog 0) is filled by connections
    made here first, so the kernel drops further SYNs and ``connect`` hangs.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_a_connect_timeout_counts_as_not_sent_so_a_test_create_is_retried() -> None:
    with full_backlog() as port:
        host = f"http://127.0.0.1:{port}/v2.1"
        async with WebhooksSession(TOKEN, host, timeout=0.4, max_retries=2) as session:
            outcomes = await run_bulk(
                ["t"], lambda _: session.webhook_tests_create("demo", TEST_SPEC)
            )
    failure = outcomes[0].error
    assert isinstance(failure, ApiTimeoutError)
    assert not failure.sent
    assert outcomes[0].attempts == 3  # repeated: it never reached a server


class SilentServer:
    """Reads each request and never answers; counts what arrived."""

    def __init__(self) -> None:
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> SilentServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            await reader.read()  # until the client gives up and closes
        writer.close()


async def test_a_read_timeout_counts_as_sent_so_a_test_create_is_not_retried() -> None:
    async with SilentServer() as server:
        host = f"http://127.0.0.1:{server.port}/v2.1"
        async with WebhooksSession(TOKEN, host, timeout=0.3, max_retries=2) as session:
            with pytest.raises(ApiTimeoutError) as caught:
                await session.webhook_tests_create("demo", delivery_spec("http://127.0.0.1:9/x"))
    assert caught.value.sent
    assert server.requests == 1


class Recording:
    """An aiohttp app answering every list with ``[]`` after a pause, recording what came."""

    def __init__(self) -> None:
        self.user_agents: list[str] = []
        self.active = 0
        self.most_active = 0
        self.peers: set[object] = set()

    async def handle(self, request: web.Request) -> web.Response:
        self.user_agents.append(request.headers.get("User-Agent", ""))
        self.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await asyncio.sleep(0.05)
        finally:
            self.active -= 1
        return web.json_response([])


@pytest.fixture
async def recording() -> AsyncIterator[tuple[Recording, str]]:
    server = Recording()
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield server, f"http://127.0.0.1:{runner.addresses[0][1]}/v2.1"
    finally:
        await runner.cleanup()


async def test_the_user_agent_setting_reaches_the_wire(recording: tuple[Recording, str]) -> None:
    server, host = recording
    async with WebhooksSession(TOKEN, host, user_agent="migrator/2.0") as session:
        await session.webhooks_list("demo")
    async with WebhooksSession(TOKEN, host) as session:
        await session.webhooks_list("demo")
    assert server.user_agents[0] == "migrator/2.0"
    assert server.user_agents[1].startswith("aioubiwebhooks/")


async def test_the_connection_limit_reaches_the_connector(
    recording: tuple[Recording, str],
) -> None:
    server, host = recording
    async with WebhooksSession(TOKEN, host, connection_limit=3) as session:
        await asyncio.gather(*(session.webhooks_list("demo") for _ in range(12)))
    assert len(server.user_agents) == 12
    assert server.most_active == 3
    assert len(server.peers) == 3


@pytest.mark.parametrize("bad", ["agent\r\nX-Injected: 1", "agent\x01"])
def test_a_user_agent_with_control_characters_is_refused_before_sending(bad: str) -> None:
    from aioubiwebhooks import ValidationError

    with pytest.raises(ValidationError, match="user_agent"):
        WebhooksSession(TOKEN, HOST, user_agent=bad)
