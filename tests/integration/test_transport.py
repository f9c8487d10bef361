"""Error mapping, retries and logging, with answers a real server cannot give on demand."""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from aioubiwebhooks import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    WebhooksSession,
)

HOST = "https://api.example.test/v2.1"
TOKEN = "tok-9f8e7d6c5b4a"
HOOKS = re.compile(r"^https://api\.example\.test/v2\.1/projects/p/webhooks.*$")
TESTS = re.compile(r"^https://api\.example\.test/v2\.1/projects/p/webhooks-tests.*$")

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


@pytest.fixture
def mocked() -> Any:
    with aioresponses() as mock:
        yield mock


@pytest.fixture
async def session() -> Any:
    async with WebhooksSession(TOKEN, HOST, max_retries=3) as s:
        yield s


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
async def test_each_status_has_its_error_class(
    mocked: Any, session: WebhooksSession, status: int, kind: type[ApiError]
) -> None:
    mocked.get(HOOKS, status=status, payload={"error": f"nope {status}"})
    with pytest.raises(kind) as caught:
        await session.webhooks_get("p", "h")
    error = caught.value
    assert type(error) is kind
    assert error.status == status
    assert error.message == f"nope {status}"
    assert error.method == "GET"
    assert error.path == "/projects/p/webhooks/h"
    assert f"-> {status}: nope {status}" in str(error)


async def test_message_is_read_from_error_message_too(
    mocked: Any, session: WebhooksSession
) -> None:
    mocked.get(HOOKS, status=400, payload={"error_message": "bad labels"})
    with pytest.raises(BadRequestError, match="bad labels"):
        await session.webhooks_get("p", "h")


async def test_non_json_error_body_still_gives_a_message(
    mocked: Any, session: WebhooksSession
) -> None:
    mocked.get(HOOKS, status=502, body="<html>Bad gateway</html>", repeat=True)
    with pytest.raises(ServerError, match="Bad gateway") as caught:
        await session.webhooks_get("p", "h")
    assert caught.value.attempts == 4  # first try and three retries


async def test_transient_statuses_are_retried_then_succeed(
    mocked: Any, session: WebhooksSession
) -> None:
    for status in (503, 502, 504):
        mocked.get(HOOKS, status=status, payload={"error": "busy"})
    mocked.get(HOOKS, status=200, payload=DETAIL)
    detail = await session.webhooks_get("p", "h")
    assert detail.name == "h"


async def test_500_is_not_retried(mocked: Any, session: WebhooksSession) -> None:
    mocked.get(HOOKS, status=500, payload={"error": "boom"})
    mocked.get(HOOKS, status=200, payload=DETAIL)
    with pytest.raises(ServerError) as caught:
        await session.webhooks_get("p", "h")
    assert caught.value.attempts == 1


async def test_connection_errors_are_retried_for_reads(
    mocked: Any, session: WebhooksSession
) -> None:
    mocked.get(HOOKS, exception=aiohttp.ServerDisconnectedError())
    mocked.get(HOOKS, exception=aiohttp.ClientOSError(104, "reset"))
    mocked.get(HOOKS, status=200, payload=DETAIL)
    assert (await session.webhooks_get("p", "h")).id == "1"


async def test_timeouts_become_api_timeout_error(mocked: Any, session: WebhooksSession) -> None:
    mocked.get(HOOKS, exception=TimeoutError(), repeat=True)
    with pytest.raises(ApiTimeoutError, match="timeout"):
        await session.webhooks_get("p", "h")


async def test_retries_give_up_with_a_connection_error(
    mocked: Any, session: WebhooksSession
) -> None:
    mocked.get(HOOKS, exception=aiohttp.ServerDisconnectedError(), repeat=True)
    with pytest.raises(ApiConnectionError, match="closed the connection"):
        await session.webhooks_get("p", "h")


async def test_test_create_is_not_repeated_when_the_server_may_have_acted(
    mocked: Any, session: WebhooksSession
) -> None:
    spec = {k: CREATE[k] for k in ("url", "object_type", "object_name", "event")}
    mocked.post(TESTS, status=503, payload={"error": "busy"})
    with pytest.raises(ServerError):
        await session.webhook_tests_create("p", spec)
    mocked.post(TESTS, exception=aiohttp.ServerDisconnectedError())
    with pytest.raises(ApiConnectionError) as caught:
        await session.webhook_tests_create("p", spec)
    assert caught.value.sent
    sent = [call for calls in mocked.requests.values() for call in calls]
    assert len(sent) == 2


async def test_test_create_is_repeated_when_the_request_never_left(
    mocked: Any, session: WebhooksSession
) -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("h", 1, True, None, None, None, None),
        ConnectionRefusedError(111, "Connection refused"),
    )
    mocked.post(TESTS, exception=refused)
    mocked.post(TESTS, status=201, payload={"id": "t", "status": "pending"})
    spec = {k: CREATE[k] for k in ("url", "object_type", "object_name", "event")}
    assert (await session.webhook_tests_create("p", spec)).id == "t"


async def test_create_retried_into_409_returns_the_matching_webhook(
    mocked: Any, session: WebhooksSession
) -> None:
    mocked.post(HOOKS, exception=aiohttp.ServerDisconnectedError())
    mocked.post(HOOKS, status=409, payload={"error": "exists"})
    mocked.get(HOOKS, status=200, payload=DETAIL)
    detail = await session.webhooks_create("p", CREATE)
    assert detail.id == "1"


async def test_create_retried_into_409_for_a_different_webhook_raises(
    mocked: Any, session: WebhooksSession
) -> None:
    mocked.post(HOOKS, status=503, payload={"error": "busy"})
    mocked.post(HOOKS, status=409, payload={"error": "exists"})
    mocked.get(HOOKS, status=200, payload={**DETAIL, "url": "https://elsewhere.org/"})
    with pytest.raises(ConflictError):
        await session.webhooks_create("p", CREATE)


async def test_first_try_409_is_a_conflict(mocked: Any, session: WebhooksSession) -> None:
    mocked.post(HOOKS, status=409, payload={"error": "exists"})
    with pytest.raises(ConflictError, match="exists"):
        await session.webhooks_create("p", CREATE)


async def test_delete_retried_into_404_counts_as_done(
    mocked: Any, session: WebhooksSession
) -> None:
    mocked.delete(HOOKS, status=502)
    mocked.delete(HOOKS, status=404, payload={"error": "gone"})
    assert await session.webhooks_delete("p", "h") is None
    mocked.delete(HOOKS, status=404, payload={"error": "gone"})
    with pytest.raises(NotFoundError):
        await session.webhooks_delete("p", "h")


async def test_429_waits_without_using_retries(mocked: Any) -> None:
    limited = {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}
    async with WebhooksSession(TOKEN, HOST, max_retries=0) as session:
        for _ in range(3):
            mocked.get(HOOKS, status=429, payload={"error": "slow down"}, headers=limited)
        mocked.get(HOOKS, status=200, payload=DETAIL)
        assert (await session.webhooks_get("p", "h")).id == "1"


async def test_429_past_the_wait_bound_raises_rate_limit_error(mocked: Any) -> None:
    from aioubiwebhooks import RetryPolicy

    limited = {"x-ratelimit-limit": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "30"}
    policy = RetryPolicy(max_rate_limit_wait=1.0)
    async with WebhooksSession(TOKEN, HOST, retry=policy) as session:
        mocked.get(HOOKS, status=429, payload={"error": "slow down"}, headers=limited)
        with pytest.raises(RateLimitError) as caught:
            await session.webhooks_get("p", "h")
    assert caught.value.retry_after == 30


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"not json", "not JSON"),
        (b'{"id": "1", "name": 3}', "$.name"),
        (b'{"id": "1"', "not JSON"),
        (b"[]", "expected"),
    ],
)
async def test_malformed_answers_are_typed_errors(
    mocked: Any, session: WebhooksSession, body: bytes, needle: str
) -> None:
    mocked.get(HOOKS, status=200, body=body)
    with pytest.raises(ResponseDecodeError) as caught:
        await session.webhooks_get("p", "h")
    assert needle in str(caught.value)


async def test_list_that_is_not_a_list_is_a_typed_error(
    mocked: Any, session: WebhooksSession
) -> None:
    mocked.get(HOOKS, status=200, payload={"results": []})
    with pytest.raises(ResponseDecodeError, match="expected an array"):
        await session.webhooks_list("p")


async def test_debug_log_has_one_line_per_attempt_and_no_token(
    mocked: Any, session: WebhooksSession, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.get(HOOKS, status=503, payload={"error": "busy"})
    mocked.get(HOOKS, status=200, payload=DETAIL)
    with caplog.at_level(logging.DEBUG, logger="aioubiwebhooks"):
        await session.webhooks_get("p", "h")
    lines = [r.getMessage() for r in caplog.records if r.name == "aioubiwebhooks"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /projects/p/webhooks/h -> 503 in ")
    assert lines[1].endswith("(attempt 2)")
    assert all(TOKEN not in line for line in lines)


async def test_token_is_sent_with_its_prefix(mocked: Any, session: WebhooksSession) -> None:
    mocked.get(HOOKS, status=200, payload=DETAIL)
    await session.webhooks_get("p", "h")
    (request,) = [call for calls in mocked.requests.values() for call in calls]
    assert request.kwargs["headers"]["Authorization"] == f"Token {TOKEN}"
