"""The receiver over real HTTP on loopback: rejections, typed events, dedupe, wait_for, close."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from aioubiwebhooks.events import HIDDEN, DeploymentEvent, PipelineEvent, WebhookEvent
from aioubiwebhooks.models import EventType
from aioubiwebhooks.receiver import EventTimeoutError, ReceiverClosedError, WebhookReceiver

pytestmark = pytest.mark.timeout(30)

SECRET = "Token s3cret-value"


def payload(
    object_type: str = "deployment", request_id: Any = "req-1", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": f"{object_type}_request_completed",
        f"{object_type}_id": "id-1",
        f"{object_type}_name": "my-object",
        f"{object_type}_version_id": "vid-1",
        f"{object_type}_version_name": "v1",
        "request_id": request_id,
        "status": "completed",
        "text": "finished",
    }
    body.update(extra)
    return body


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: dict[str, Any] | bytes,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http.post(url, data=data, headers=headers) as response:
        text = await response.text()
        assert response.content_type == "application/json", text
        return response.status, json.loads(text)


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``condition`` until true; a deadline, not a timing assertion."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"still not {what} after {timeout} s")
        await asyncio.sleep(0.005)


async def next_event(receiver: WebhookReceiver) -> WebhookEvent:
    return await asyncio.wait_for(receiver.__anext__(), 5)


# --- where it listens ---------------------------------------------------------------------


async def test_url_host_and_port_on_loopback() -> None:
    receiver = WebhookReceiver(path="hook")
    with pytest.raises(RuntimeError, match="not started"):
        receiver.url  # noqa: B018
    async with receiver:
        assert receiver.host == "127.0.0.1"
        assert receiver.port > 0
        assert receiver.url == f"http://127.0.0.1:{receiver.port}/hook"
        with pytest.raises(RuntimeError, match="once"):
            await receiver.start()


async def test_a_port_in_use_fails_start_and_leaves_nothing_open() -> None:
    async with WebhookReceiver() as first:
        second = WebhookReceiver(port=first.port)
        with pytest.raises(OSError, match=r"(?i)in use"):
            await second.start()
        with pytest.raises(RuntimeError, match="once"):
            await second.start()
        assert [event async for event in second] == []


async def test_repr_never_shows_the_secret() -> None:
    async with WebhookReceiver(secret=SECRET) as receiver:
        assert SECRET not in repr(receiver)
        assert "secret=set" in repr(receiver)


# --- typed events -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("object_type", "kind", "extra"),
    [
        ("deployment", DeploymentEvent, {}),
        ("deployment", DeploymentEvent, {"result": {"answer": 42}}),
        ("pipeline", PipelineEvent, {}),
        ("pipeline", PipelineEvent, {"result": None}),
    ],
)
async def test_deliveries_become_typed_events(
    http: aiohttp.ClientSession, object_type: str, kind: type[WebhookEvent], extra: dict[str, Any]
) -> None:
    async with WebhookReceiver(secret=SECRET) as receiver:
        body = payload(object_type, unknown_future_key=[1], **extra)
        status, answer = await post(
            http, receiver.url, body, {"Authorization": SECRET, "X-Custom": "kept"}
        )
        assert (status, answer) == (200, {"status": "accepted"})
        event = await next_event(receiver)
    assert type(event) is kind
    assert event.event is EventType(f"{object_type}_request_completed")
    assert (event.object_name, event.version_name, event.request_id) == ("my-object", "v1", "req-1")
    assert event.has_result is ("result" in extra)
    assert event.result == extra.get("result")
    assert json.loads(event.raw) == body
    assert event.headers["Authorization"] == HIDDEN
    assert event.headers["X-Custom"] == "kept"
    assert SECRET not in repr(event)


async def test_events_of_deliveries_with_the_same_head_share_their_headers(
    http: aiohttp.ClientSession,
) -> None:
    async with WebhookReceiver(secret=SECRET) as receiver:
        same = {"Authorization": SECRET, "X-Custom": "kept"}
        for request_id in ("r-1", "r-2"):  # same length: the same head, byte for byte
            assert (await post(http, receiver.url, payload(request_id=request_id), same))[0] == 200
        other = {"Authorization": SECRET, "X-Custom": "other"}
        assert (await post(http, receiver.url, payload(request_id="r-3"), other))[0] == 200
        first, second, third = [await next_event(receiver) for _ in range(3)]
    assert second.headers is first.headers
    assert third.headers is not first.headers
    assert (first.headers["X-Custom"], third.headers["X-Custom"]) == ("kept", "other")
    assert first.headers["Authorization"] == third.headers["Authorization"] == HIDDEN


async def test_redeliveries_are_acknowledged_but_yielded_once(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver() as receiver:
        answers = [await post(http, receiver.url, payload(request_id="r")) for _ in range(3)]
        assert answers == [
            (200, {"status": "accepted"}),
            (200, {"status": "duplicate"}),
            (200, {"status": "duplicate"}),
        ]
        other = payload(request_id="r", event="deployment_request_finished")
        assert (await post(http, receiver.url, other))[0] == 200
        first, second = await next_event(receiver), await next_event(receiver)
        assert (first.event, second.event) == (
            EventType.DEPLOYMENT_REQUEST_COMPLETED,
            EventType.DEPLOYMENT_REQUEST_FINISHED,
        )
        assert (receiver.stats.accepted, receiver.stats.duplicates) == (2, 2)
        assert receiver.stats.queued == 0


# --- rejections ---------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Token wrong"}, {"X-Secret": SECRET}])
async def test_missing_or_wrong_secret_is_401(
    http: aiohttp.ClientSession, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioubiwebhooks")
    async with WebhookReceiver(secret=SECRET) as receiver:
        status, answer = await post(http, receiver.url, payload(), headers)
        assert status == 401
        assert "Authorization" in answer["error"]
        assert receiver.stats.rejected["unauthorized"] == 1
        assert receiver.events == ()
    assert SECRET not in caplog.text
    assert "Token wrong" not in caplog.text


async def test_secret_in_a_custom_header(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver(secret="abc", secret_header="X-Hook-Secret") as receiver:
        assert (await post(http, receiver.url, payload(), {"Authorization": "abc"}))[0] == 401
        status, _ = await post(http, receiver.url, payload(), {"x-hook-secret": "abc"})
        assert status == 200
        assert (await next_event(receiver)).headers["X-Hook-Secret"] == HIDDEN


async def test_declared_size_over_the_limit_is_413(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver(max_body=400) as receiver:
        body = payload(text="x" * 500)
        status, answer = await post(http, receiver.url, body)
        assert status == 413
        assert "400 bytes" in answer["error"]
        assert receiver.stats.rejected["too_large"] == 1
        # a body within the limit still gets through afterwards
        assert (await post(http, receiver.url, payload()))[0] == 200


async def test_streamed_size_over_the_limit_is_413(http: aiohttp.ClientSession) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 100

    async with WebhookReceiver(max_body=500) as receiver:
        async with http.post(receiver.url, data=chunks()) as response:
            assert response.headers.get("Content-Length") is None or response.status == 413
            assert response.status == 413
            assert "error" in await response.json()
        assert receiver.stats.rejected["too_large"] == 1


@pytest.mark.parametrize(
    ("body", "reason", "field"),
    [
        (b"this is not json", "not_json", None),
        (b"[1, 2, 3]", "bad_payload", None),
        (json.dumps(payload(request_id=7)).encode(), "bad_payload", "request_id"),
        (
            json.dumps({k: v for k, v in payload().items() if k != "event"}).encode(),
            "bad_payload",
            "event",
        ),
    ],
)
async def test_bad_bodies_are_400_naming_the_problem(
    http: aiohttp.ClientSession, body: bytes, reason: str, field: str | None
) -> None:
    async with WebhookReceiver() as receiver:
        status, answer = await post(http, receiver.url, body)
        assert status == 400
        assert answer["reason"] == reason
        assert answer.get("field") == field
        if field:
            assert field in answer["error"]
        assert receiver.stats.rejected[reason] == 1
        assert receiver.stats.accepted == 0


async def test_too_many_headers_is_431(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver(max_headers=10) as receiver:
        extra = {f"X-Extra-{n}": "1" for n in range(8)}
        status, answer = await post(http, receiver.url, payload(), extra)
        assert status == 431
        assert "too many headers" in answer["error"]
        assert receiver.stats.rejected["too_many_headers"] == 1
        assert (await post(http, receiver.url, payload()))[0] == 200


async def test_header_flood_is_cut_off_by_the_parser(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver(max_headers=10) as receiver:
        flood = {f"X-Extra-{n}": "1" for n in range(100)}
        async with http.post(receiver.url, json=payload(), headers=flood) as response:
            # aiohttp's parser refuses it (400) where it enforces max_headers (3.12 on);
            # older parsers let it through to the receiver's own check (431).
            assert response.status in (400, 431)
        assert receiver.stats.accepted == 0
        assert receiver.events == ()


async def test_other_paths_and_methods_are_refused(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver(path="/hook") as receiver:
        base = receiver.url.removesuffix("/hook")
        assert (await post(http, f"{base}/other", payload()))[0] == 404
        async with http.get(receiver.url) as response:
            assert response.status == 405
            assert response.headers["Allow"] == "POST"
            assert "error" in await response.json()
        assert receiver.stats.rejected["not_found"] == 1
        assert receiver.stats.rejected["method_not_allowed"] == 1


async def test_body_that_never_completes_is_408() -> None:
    async with WebhookReceiver(body_timeout=0.2) as receiver:
        reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
        try:
            writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"{" * 10)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            body = await asyncio.wait_for(reader.readexactly(length), 5)
        finally:
            writer.close()
            await writer.wait_closed()
        assert head.startswith(b"HTTP/1.1 408")
        assert json.loads(body)["reason"] == "body_timeout"
        assert receiver.stats.rejected["body_timeout"] == 1


async def test_close_is_bounded_by_shutdown_timeout_with_a_stalled_sender() -> None:
    receiver = WebhookReceiver(body_timeout=60, shutdown_timeout=0.1)
    await receiver.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
    try:
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        await asyncio.sleep(0.05)  # let the handler start reading the body
        await asyncio.wait_for(receiver.close(), 10)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # the server hung up
    finally:
        writer.close()
        await writer.wait_closed()
    assert receiver.stats.accepted == 0


# --- wait_for -----------------------------------------------------------------------------


async def test_wait_for_an_event_that_already_arrived(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver() as receiver:
        for request_id in ("a", "b"):
            await post(http, receiver.url, payload(request_id=request_id))
        event = await receiver.wait_for(lambda e: e.request_id == "a", timeout=1)
        assert event.request_id == "a"
        assert await receiver.wait_for(timeout=1) == event  # no predicate: the oldest
        # what wait_for returned is handled: the stream yields only the rest
        assert (await next_event(receiver)).request_id == "b"
        assert receiver.stats.queued == 0


async def test_wait_for_an_event_still_to_come(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver() as receiver:
        waiting = asyncio.create_task(
            receiver.wait_for(lambda e: e.request_id == "later", timeout=5)
        )
        await asyncio.sleep(0)
        await post(http, receiver.url, payload(request_id="sooner"))
        await post(http, receiver.url, payload(request_id="later"))
        assert (await waiting).request_id == "later"


async def test_wait_for_times_out_clearly(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver() as receiver:
        await post(http, receiver.url, payload(request_id="a"))
        with pytest.raises(TimeoutError) as info:
            await receiver.wait_for(
                lambda e: e.request_id == "b", timeout=0.1, description="request b"
            )
    assert isinstance(info.value, EventTimeoutError)
    assert str(info.value) == "no event matched request b within 0.1 s (1 event seen)"


async def test_wait_for_fails_when_the_receiver_closes() -> None:
    receiver = WebhookReceiver()
    async with receiver:
        waiting = asyncio.create_task(receiver.wait_for(timeout=10))
        await asyncio.sleep(0)
    with pytest.raises(ReceiverClosedError, match="any event"):
        await waiting


# --- closing ------------------------------------------------------------------------------


async def test_close_drains_queued_events_then_ends_iteration(http: aiohttp.ClientSession) -> None:
    async with WebhookReceiver() as receiver:
        for n in range(3):
            await post(http, receiver.url, payload(request_id=str(n)))
    received = [event.request_id async for event in receiver]
    assert received == ["0", "1", "2"]
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(http, receiver.url, payload(request_id="late"))


async def test_close_ends_a_running_loop(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver()
    seen: list[str] = []

    async def consume() -> None:
        async for event in receiver:
            seen.append(event.request_id)

    async with receiver:
        consumer = asyncio.create_task(consume())
        await post(http, receiver.url, payload(request_id="x"))
        await receiver.wait_for(timeout=5)
    await asyncio.wait_for(consumer, 5)
    assert seen == ["x"]


async def test_close_answers_held_deliveries_503(http: aiohttp.ClientSession) -> None:
    receiver = WebhookReceiver(max_queue=1)
    async with receiver:
        await post(http, receiver.url, payload(request_id="queued"))
        held = asyncio.create_task(post(http, receiver.url, payload(request_id="held")))
        await eventually(lambda: receiver.stats.held_back == 1, "held back")
    status, answer = await held
    assert status == 503
    assert answer["reason"] == "closing"
    assert receiver.stats.rejected["closing"] == 1
    assert [event.request_id async for event in receiver] == ["queued"]


async def test_cancelling_the_owner_leaves_nothing_running(http: aiohttp.ClientSession) -> None:
    before = asyncio.all_tasks()
    started = asyncio.Event()
    receiver = WebhookReceiver()

    async def serve() -> None:
        async with receiver:
            started.set()
            async for _ in receiver:
                pass

    task = asyncio.create_task(serve())
    await asyncio.wait_for(started.wait(), 5)
    await post(http, receiver.url, payload())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(http, receiver.url, payload(request_id="after"))
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()
