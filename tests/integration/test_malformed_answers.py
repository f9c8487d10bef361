"""Malformed server answers become typed errors that say what was wrong, for every method.

A raw loopback server answers each request with exactly the bytes a case asks for
(broken JSON, wrong types, cut-off bodies, wrong shapes, huge bodies), so the
session meets answers no well-behaved server would give. Whatever arrives, a call
raises a subclass of ``UbiOpsError`` (``ResponseDecodeError`` for a 2xx body that
is not the documented model), never a bare ``KeyError``/``TypeError``/...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aioubiwebhooks import (
    ApiConnectionError,
    ApiError,
    NotFoundError,
    ResponseDecodeError,
    ServerError,
    UbiOpsError,
    WebhooksSession,
)

pytestmark = pytest.mark.timeout(60)

HOOK: dict[str, Any] = {
    "id": "3f1c7a52-0000-4000-8000-000000000001",
    "name": "hook",
    "url": "https://example.org/hook",
    "headers": [{"key": "Authorization", "value": None, "protected": True}],
    "object_type": "deployment",
    "object_name": "dep",
    "version": None,
    "description": "",
    "labels": {},
    "event": "deployment_request_completed",
    "timeout": 10,
    "enabled": True,
    "retry": False,
    "include_result": False,
    "creation_date": "2024-05-01T12:00:00Z",
    "last_updated": "2024-05-01T12:00:00Z",
}
TEST: dict[str, Any] = {"id": "t-1", "status": "pending", "error_message": None}
SPEC = {k: HOOK[k] for k in ("name", "url", "object_type", "object_name", "event")}
TEST_SPEC = {k: v for k, v in SPEC.items() if k != "name"}


class RawServer:
    """Answers every request on loopback with ``self.answer`` (raw bytes), then closes."""

    def __init__(self) -> None:
        self.answer = b""
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            self.requests += 1
            writer.write(self.answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def http_answer(
    status: int,
    body: bytes,
    *,
    content_length: int | None = None,
    content_type: str = "application/json",
) -> bytes:
    length = len(body) if content_length is None else content_length
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def as_json(data: Any) -> bytes:
    return json.dumps(data).encode()


@pytest.fixture
async def server() -> AsyncIterator[RawServer]:
    async with RawServer() as raw:
        yield raw


@pytest.fixture
async def session(server: RawServer) -> AsyncIterator[WebhooksSession]:
    host = f"http://127.0.0.1:{server.port}/v2.1"
    async with WebhooksSession("tok", host, max_retries=2, timeout=5) as s:
        yield s


Call = Callable[[WebhooksSession], Awaitable[object]]

# The seven session methods, each with the answer shape its success would carry.
DECODING_CALLS: dict[str, tuple[Call, Any]] = {
    "webhooks_create": (lambda s: s.webhooks_create("p", SPEC), HOOK),
    "webhooks_get": (lambda s: s.webhooks_get("p", "hook"), HOOK),
    "webhooks_list": (lambda s: s.webhooks_list("p"), [HOOK]),
    "webhooks_update": (lambda s: s.webhooks_update("p", "hook", {"timeout": 5}), HOOK),
    "webhook_tests_create": (lambda s: s.webhook_tests_create("p", TEST_SPEC), TEST),
    "webhook_tests_get": (lambda s: s.webhook_tests_get("p", "t-1"), TEST),
}
ALL_CALLS: dict[str, Call] = {
    **{name: call for name, (call, _) in DECODING_CALLS.items()},
    "webhooks_delete": lambda s: s.webhooks_delete("p", "hook"),
}


def _without(data: Any, key: str) -> Any:
    if isinstance(data, list):
        return [_without(data[0], key)]
    return {k: v for k, v in data.items() if k != key}


def _with(data: Any, key: str, value: Any) -> Any:
    if isinstance(data, list):
        return [_with(data[0], key, value)]
    return {**data, key: value}


def _bodies(good: Any) -> dict[str, tuple[bytes, str]]:
    """Broken 200 bodies for an answer shaped like ``good``, and what the message must say."""
    is_list = isinstance(good, list)
    required = "id"
    typed = "timeout" if not is_list and "timeout" in good else "id"
    wrong_shape = good[0] if is_list else [good]
    return {
        "not JSON": (b"<html>Bad gateway</html>", "not JSON"),
        "empty body": (b"", "not JSON"),
        "truncated JSON": (as_json(good)[:25], "not JSON"),
        "invalid UTF-8": (b'{"id": "\xff\xfe"}', "not JSON"),
        "missing field": (as_json(_without(good, required)), required),
        "wrong type": (as_json(_with(good, typed, "ten" if typed == "timeout" else 5)), typed),
        "enum that is not a string": (
            as_json(_with(good, "status" if "status" in str(good) else "event", 5)),
            "status" if "status" in str(good) else "event",
        ),
        "list where object expected" if not is_list else "object where list expected": (
            as_json(wrong_shape),
            "array" if is_list else "",
        ),
        "null": (b"null", ""),
        "number": (b"42", ""),
        "huge string": (as_json("x" * 3_000_000), ""),
    }


DECODE_CASES = [
    pytest.param(method, case, body, says, id=f"{method}-{case}")
    for method, (_, good) in DECODING_CALLS.items()
    for case, (body, says) in _bodies(good).items()
]


@pytest.mark.parametrize(("method", "case", "body", "says"), DECODE_CASES)
async def test_malformed_2xx_body_is_a_response_decode_error(
    server: RawServer, session: WebhooksSession, method: str, case: str, body: bytes, says: str
) -> None:
    call, _ = DECODING_CALLS[method]
    status = 201 if method.endswith("_create") else 200
    server.answer = http_answer(status, body)
    with pytest.raises(ResponseDecodeError) as caught:
        await call(session)
    error = caught.value
    assert error.status == status
    assert error.method in ("GET", "POST", "PATCH")
    assert error.path.startswith("/projects/p/")
    assert "unexpected answer body" in error.message
    assert says in error.message, error.message
    assert len(error.body) <= 2000
    assert len(repr(error)) < 3000
    assert server.requests == 1, "a malformed success must not be sent again"


@pytest.mark.parametrize("method", list(DECODING_CALLS))
async def test_a_204_without_body_where_a_model_is_expected(
    server: RawServer, session: WebhooksSession, method: str
) -> None:
    server.answer = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
    call, _ = DECODING_CALLS[method]
    with pytest.raises(ResponseDecodeError, match="not JSON"):
        await call(session)


@pytest.mark.parametrize("method", list(ALL_CALLS))
async def test_a_body_cut_off_mid_transfer_is_a_connection_error(
    server: RawServer, session: WebhooksSession, method: str
) -> None:
    good = as_json(HOOK)
    server.answer = http_answer(200, good[:40], content_length=len(good))
    with pytest.raises(ApiConnectionError) as caught:
        await ALL_CALLS[method](session)
    assert caught.value.path.startswith("/projects/p/")
    # reads, updates, deletes and webhook creates are repeated; a test create is not
    expected = 1 if method == "webhook_tests_create" else 3
    assert server.requests == expected


@pytest.mark.parametrize("method", list(ALL_CALLS))
async def test_a_garbled_status_line_is_a_connection_error(
    server: RawServer, session: WebhooksSession, method: str
) -> None:
    server.answer = b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}"
    with pytest.raises(ApiConnectionError):
        await ALL_CALLS[method](session)


ERROR_BODIES: list[tuple[str, bytes, str]] = [
    ("json error", as_json({"error": "it broke"}), "it broke"),
    ("error_message", as_json({"error_message": "it broke"}), "it broke"),
    ("not JSON", b"<h1>it broke</h1>", "it broke"),
    ("empty", b"", "X"),
    ("list", as_json(["it broke"]), "X"),
    ("error is a number", as_json({"error": 5}), "5"),
    ("error is null", as_json({"error": None, "detail": "it broke"}), "it broke"),
    ("field errors", as_json({"name": ["too long"]}), "too long"),
    ("invalid UTF-8", b"\xff\xfe it broke", "it broke"),
    ("truncated JSON", b'{"error": "it bro', "it bro"),
    ("huge non-JSON", b"e" * 2_000_000, "eee"),
    ("huge field errors", as_json({"name": ["e" * 2_000_000]}), "eee"),
]


@pytest.mark.parametrize("method", list(ALL_CALLS))
@pytest.mark.parametrize(("case", "body", "says"), ERROR_BODIES, ids=[c[0] for c in ERROR_BODIES])
async def test_malformed_error_bodies_keep_their_typed_error(
    server: RawServer,
    session: WebhooksSession,
    method: str,
    case: str,
    body: bytes,
    says: str,
) -> None:
    status = 404 if method != "webhooks_delete" else 500
    server.answer = http_answer(status, body, content_type="text/html")
    expected: type[ApiError] = NotFoundError if status == 404 else ServerError
    with pytest.raises(expected) as caught:
        await ALL_CALLS[method](session)
    error = caught.value
    assert error.status == status
    assert says in error.message
    assert len(str(error)) < 5000
    assert len(error.body) <= 2000


@pytest.mark.parametrize("method", list(ALL_CALLS))
async def test_a_huge_error_message_is_cut_short(
    server: RawServer, session: WebhooksSession, method: str
) -> None:
    server.answer = http_answer(400, as_json({"error": "e" * 2_000_000}))
    with pytest.raises(ApiError) as caught:
        await ALL_CALLS[method](session)
    assert caught.value.message.startswith("eee")
    assert len(str(caught.value)) < 5000
    assert len(repr(caught.value)) < 5000


NESTED = b"[" * 200_000 + b"]" * 200_000


@pytest.mark.parametrize("method", list(DECODING_CALLS))
async def test_a_deeply_nested_2xx_body_is_a_response_decode_error(
    server: RawServer, session: WebhooksSession, method: str
) -> None:
    server.answer = http_answer(200, NESTED)
    with pytest.raises(ResponseDecodeError):
        await DECODING_CALLS[method][0](session)


@pytest.mark.parametrize("method", list(ALL_CALLS))
async def test_a_deeply_nested_error_body_keeps_its_typed_error(
    server: RawServer, session: WebhooksSession, method: str
) -> None:
    server.answer = http_answer(400, NESTED)
    with pytest.raises(ApiError) as caught:
        await ALL_CALLS[method](session)
    assert caught.value.status == 400


async def test_a_huge_list_of_bad_items_gives_a_bounded_message(
    server: RawServer, session: WebhooksSession
) -> None:
    server.answer = http_answer(200, as_json([{"id": n} for n in range(5000)]))
    with pytest.raises(ResponseDecodeError) as caught:
        await session.webhooks_list("p")
    assert "$[0]" in caught.value.message
    assert len(caught.value.message) < 10_000


async def test_every_failure_is_a_ubiops_error_never_a_bare_one(
    server: RawServer, session: WebhooksSession
) -> None:
    """A sweep over odd answers: whatever comes back, only UbiOpsError subclasses escape."""
    answers = [
        http_answer(200, as_json({"id": None, "status": None})),
        http_answer(200, as_json({"headers": [{"key": None}]})),
        http_answer(200, as_json([{"headers": "x"}])),
        http_answer(200, as_json({**HOOK, "headers": [{"key": "A", "protected": None}]})),
        http_answer(200, as_json({**HOOK, "creation_date": "2024-02-30T00:00:00Z"})),
        http_answer(200, as_json({**HOOK, "labels": [["a", "b"]]})),
        http_answer(200, b"NaN"),
        http_answer(200, b'{"id": 1e999}'),
        http_answer(302, b""),
        http_answer(399, b"{}"),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n{}",
        b"\x00\x01\x02 not http at all\r\n\r\n",
        b"",
    ]
    escaped: list[str] = []
    messages: list[str] = []
    for answer in answers:
        server.answer = answer
        for name, call in ALL_CALLS.items():
            try:
                await call(session)
            except UbiOpsError as error:
                messages.append(str(error))
            except Exception as error:
                escaped.append(f"{name}: {type(error).__name__} for {answer[:60]!r}: {error}")
    assert escaped == []
    assert all(messages)
    assert len(messages) >= len(answers) * len(ALL_CALLS) - 2 * len(answers)
