"""The client against servers that misbehave on purpose, each on loopback and bounded.

Each server is written for its test: rate-limit headers that would freeze a session,
429s without a usable reset, redirects to another origin, bodies without end or that
inflate a thousandfold, error messages that repeat the token. Every test bounds what it
checks in time, memory and requests sent, and none waits longer than a few seconds.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

from aioubiwebhooks import (
    AuthenticationError,
    ConflictError,
    RateLimitError,
    RedirectError,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryPolicy,
    UbiOpsError,
    WebhooksSession,
)

pytestmark = pytest.mark.timeout(60)

TOKEN = "hostile-9d8c7b6a5f4e"
SECRET = "protected-value-31415"
MiB = 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    """One aiohttp app on a free loopback port; ``hits`` counts what reached it."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.hits = 0
        self.bodies: list[bytes] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _count(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        self.bodies.append(await request.read())
        return await self.handler(request)

    async def __aenter__(self) -> Server:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._count)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[Server]]]:
    servers: list[Server] = []

    async def start(handler: Handler) -> Server:
        server = await Server(handler).__aenter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.__aexit__()


def session_for(server: Server, **options: Any) -> WebhooksSession:
    return WebhooksSession(TOKEN, f"{server.url}/v2.1", **options)


def limits(remaining: int, reset: str, limit: int = 5) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": reset,
    }


# --- 1. a rate-limit header that would freeze the session ----------------------------------------


@pytest.mark.parametrize("reset", ["1700000000", "1e12"])
async def test_a_spent_budget_with_an_epoch_reset_holds_no_later_call(
    serve: Callable[[Handler], Awaitable[Server]], reset: str
) -> None:
    async def spent(request: web.Request) -> web.Response:
        return web.json_response([], headers=limits(0, reset))

    server = await serve(spent)
    async with session_for(server) as session:
        for _ in range(3):  # each would otherwise wait 1.7e9 s for the window
            assert await asyncio.wait_for(session.webhooks_list("demo"), 5) == []
    assert server.hits == 3


@pytest.mark.parametrize("reset", ["1e9", "1700000000", "400"])
async def test_a_429_asking_for_too_long_fails_at_once_and_blocks_nobody(
    serve: Callable[[Handler], Awaitable[Server]], reset: str
) -> None:
    answers = iter([429, 200])

    async def refuse_once(request: web.Request) -> web.Response:
        if next(answers, 200) == 429:
            body = {"error": "rate limited"}
            return web.json_response(body, status=429, headers=limits(0, reset))
        return web.json_response([])

    server = await serve(refuse_once)
    async with session_for(server, retry=RetryPolicy(max_rate_limit_wait=300)) as session:
        with pytest.raises(RateLimitError) as caught:
            await asyncio.wait_for(session.webhooks_list("demo"), 5)
        assert caught.value.retry_after == float(reset)  # the server's own value
        assert await asyncio.wait_for(session.webhooks_list("demo"), 5) == []
    assert server.hits == 2


# --- 2. a 429 with no usable reset ---------------------------------------------------------------


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now), True)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        limits(0, "-5"),
        limits(0, "abc"),
        limits(0, "inf"),
        limits(0, "Wed, 21 Oct 2015 07:28:00 GMT"),
    ],
    ids=["missing", "negative", "abc", "inf", "http-date"],
)
async def test_a_429_without_a_usable_reset_backs_off_and_logs_once_per_wait(
    serve: Callable[[Handler], Awaitable[Server]],
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def always_429(request: web.Request) -> web.Response:
        return web.json_response({"error": "slow down"}, status=429, headers=headers)

    server = await serve(always_429)
    policy = RetryPolicy(max_rate_limit_wait=2.5)
    with caplog.at_level(logging.WARNING, logger="aioubiwebhooks"):
        async with session_for(server, retry=policy) as session:
            with pytest.raises(RateLimitError):
                await asyncio.wait_for(session.webhooks_list("demo"), 10)
    # Backing off 0.5-1 s, then 1-2 s, ...: at most three requests within 2.5 s of waits
    # (at a fixed 0.1 s there would be 25).
    assert 2 <= server.hits <= 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert 1 <= len(warnings) <= server.hits


@pytest.mark.parametrize("retry_after", ["2", "date"])
async def test_retry_after_is_honoured_in_seconds_and_as_an_http_date(
    serve: Callable[[Handler], Awaitable[Server]], retry_after: str
) -> None:
    arrivals: list[float] = []

    async def once_then_ok(request: web.Request) -> web.Response:
        arrivals.append(asyncio.get_running_loop().time())
        if len(arrivals) == 1:
            value = retry_after if retry_after != "date" else http_date(2.5)
            return web.json_response({"error": "later"}, status=429, headers={"Retry-After": value})
        return web.json_response([])

    server = await serve(once_then_ok)
    async with session_for(server) as session:
        assert await asyncio.wait_for(session.webhooks_list("demo"), 10) == []
    assert server.hits == 2
    assert arrivals[1] - arrivals[0] >= 1.0  # not before the server said (whole seconds)


# --- 3. redirects --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_not_followed_and_the_body_goes_nowhere_else(
    serve: Callable[[Handler], Awaitable[Server]], status: int
) -> None:
    async def elsewhere(request: web.Request) -> web.Response:
        return web.json_response({"id": "1", "name": "evil"}, status=201)

    other = await serve(elsewhere)

    async def bounce(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": f"{other.url}{request.path}"})

    api = await serve(bounce)
    spec = {
        "name": "h",
        "url": "https://example.org/hook",
        "object_type": "deployment",
        "object_name": "d",
        "event": "deployment_request_failed",
        "headers": [{"key": "Authorization", "value": SECRET, "protected": True}],
    }
    async with session_for(api) as session:
        with pytest.raises(RedirectError) as caught:
            await session.webhooks_create("demo", spec)
        with pytest.raises(RedirectError):
            await session.webhooks_list("demo")
    assert other.hits == 0  # neither the token nor the protected value went there
    assert api.hits == 2  # and nothing was repeated
    assert caught.value.status == status
    assert caught.value.location == f"{other.url}/v2.1/projects/demo/webhooks"
    assert str(status) in str(caught.value)


# --- 4. answers without a size bound -----------------------------------------------------------


async def traced_peak(call: Awaitable[Any]) -> tuple[BaseException | None, int]:
    """Run ``call``; return what it raised and the peak of memory traced meanwhile."""
    gc.collect()
    tracemalloc.start()
    try:
        try:
            await call
        except UbiOpsError as error:
            raised: BaseException | None = error
        else:
            raised = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return raised, peak


def streamed(data: bytes, **headers: str) -> Handler:
    """Sends ``data`` in 64 KiB chunks (chunked transfer unless a length is given)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json", **headers})
        await response.prepare(request)
        view = memoryview(data)
        for start in range(0, len(view), 64 * 1024):
            await response.write(view[start : start + 64 * 1024])
        await response.write_eof()
        return response

    return handler


def gzip_bomb(size: int) -> bytes:
    """``size`` bytes of spaces, gzipped (about a thousandth of that), built piece by piece."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    piece = b" " * MiB
    packed = [packer.compress(piece) for _ in range(size // MiB)]
    return b"".join([*packed, packer.flush()])


def big_json() -> bytes:
    return b"[" + b'"x",' * (2 * MiB) + b'"x"]'  # 8 MiB of valid JSON


@pytest.mark.parametrize("kind", ["chunked", "with a length", "gzip bomb"])
async def test_an_answer_past_the_size_limit_is_a_typed_error_in_bounded_memory(
    serve: Callable[[Handler], Awaitable[Server]], kind: str
) -> None:
    if kind == "gzip bomb":
        handler = streamed(gzip_bomb(256 * MiB), **{"Content-Encoding": "gzip"})
    elif kind == "with a length":
        body = big_json()
        handler = streamed(body, **{"Content-Length": str(len(body))})
    else:
        handler = streamed(big_json())
    server = await serve(handler)
    async with session_for(server, max_response_size=MiB) as session:
        raised, peak = await traced_peak(session.webhooks_list("demo"))
    assert isinstance(raised, ResponseTooLargeError), kind
    assert raised.limit == MiB
    assert server.hits == 1
    # The limit plus reading buffers; holding the body would take 8 MiB, the bomb 256.
    assert peak < 6 * MiB, (kind, peak)


async def test_a_body_that_is_not_json_leaves_no_copy_of_itself_in_the_error(
    serve: Callable[[Handler], Awaitable[Server]],
) -> None:
    broken = b'{"id": "1", "name": "' + b"y" * (MiB // 2)  # unterminated

    async def send(request: web.Request) -> web.Response:
        return web.Response(body=broken, content_type="application/json")

    server = await serve(send)
    async with session_for(server, max_response_size=MiB) as session:
        with pytest.raises(ResponseDecodeError) as caught:
            await session.webhooks_get("demo", "h")
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.__cause__ or error.__context__
    for link in chain:
        sizes = [len(v) for v in vars(link).values() if isinstance(v, (str, bytes))]
        sizes += [len(a) for a in link.args if isinstance(a, (str, bytes))]
        assert max(sizes, default=0) < 4096, (type(link).__name__, sizes)


# --- 5. a server that echoes the token -----------------------------------------------------------


async def echo(request: web.Request) -> web.Response:
    """Repeats everything it was sent in an error: headers, body, escaped and raw."""
    body = (await request.read()).decode()
    message = f"token {request.headers.get('Authorization')} is not valid; you sent {body}"
    status = 401 if request.method == "GET" else 409
    return web.json_response({"error": message, "echo": body}, status=status)


async def test_a_server_echoing_the_token_and_protected_values_is_redacted(
    serve: Callable[[Handler], Awaitable[Server]], caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve(echo)
    spec = {
        "name": "h",
        "url": "https://example.org/hook",
        "object_type": "deployment",
        "object_name": "d",
        "event": "deployment_request_failed",
        "headers": [{"key": "X-Key", "value": f'{SECRET}"quoted"', "protected": True}],
    }
    with caplog.at_level(logging.DEBUG, logger="aioubiwebhooks"):
        async with session_for(server) as session:
            with pytest.raises(AuthenticationError) as denied:
                await session.webhooks_list("demo")
            with pytest.raises(ConflictError) as conflict:
                await session.webhooks_create("demo", spec)
    assert TOKEN in server.bodies[-1].decode() or SECRET in server.bodies[-1].decode()
    for error in (denied.value, conflict.value):
        shown = " ".join([str(error), repr(error), error.body, error.message])
        assert TOKEN not in shown
        assert SECRET not in shown
        assert "<hidden>" in shown
    assert all(TOKEN not in r.getMessage() and SECRET not in r.getMessage() for r in caplog.records)
