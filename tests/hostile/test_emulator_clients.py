"""Clients that misbehave, against a real emulator on loopback: each attack is bounded.

An emulator run as a shared server in CI meets callers that are wrong, careless or
hostile. Each test here plays one of them and checks the bound the emulator holds:

- wrong tokens do not use up the rate-limit window of the right one;
- a ``Authorization`` header that is not UTF-8 is a 401, not a 500;
- labels, headers and webhook counts are bounded, and a finished test keeps its
  outcome only, so the emulator's memory does not grow with what it is sent;
- a webhook test does not forward a caller-chosen ``Host`` header or ``user:password@``,
  and delivers only where the target policy allows (checked with a loopback stand-in:
  refused addresses themselves are tested as a pure function in
  ``tests/unit/test_emulator_targets.py``).
"""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _emulator_helpers import Recorder, hook_test_body, webhook_body

from aioubiwebhooks.emulator import Emulator, Limits

pytestmark = pytest.mark.timeout(120)

TOKEN = "right-token"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    body: Any = None,
    token: str = TOKEN,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Token {token}"}
    async with http.request(method, url, json=body, headers=headers) as answer:
        return answer.status, None if answer.status == 204 else await answer.json()


async def _finished(emulator: Emulator, project: str = "demo") -> list[Any]:
    assert await emulator.drain(timeout=30)
    return emulator.tests(project)


# --- 11. wrong tokens and the rate-limit window ---------------------------------------------


async def test_wrong_tokens_use_up_none_of_the_window(http: aiohttp.ClientSession) -> None:
    async with Emulator(token=TOKEN, rate_limit=(6, 60)) as emulator:
        url = f"{emulator.url}/projects/demo/webhooks"
        for _ in range(6):
            status, _ = await _call(http, "GET", url, token="wrong")
            assert status == 401
        statuses = [(await _call(http, "GET", url))[0] for _ in range(7)]
        assert statuses == [200] * 6 + [429]
        assert emulator.stats.rate_limited == 1


# --- 12. an Authorization header that is not UTF-8 ------------------------------------------


@pytest.mark.parametrize(
    ("token", "path"),
    [
        (TOKEN, "/v2.1/projects/demo/webhooks"),
        (None, "/v2.1/projects/demo/webhooks"),  # any token passes, but not this one
        (TOKEN, "/_emulator/stats"),
    ],
    ids=["api", "api-any-token", "admin"],
)
async def test_a_token_that_is_not_utf8_is_401(token: str | None, path: str) -> None:
    async with Emulator(token=token, admin=True) as emulator:
        reader, writer = await asyncio.open_connection("127.0.0.1", emulator.port)
        try:
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode()
                + b"Authorization: Token \xff\xfe\xc3(\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 10)
        finally:
            writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401 "), head
        assert json.loads(body)["error"] == "Invalid token."
        assert emulator.stats.server_errors == 0


# --- 13. bounded state ------------------------------------------------------------------------


async def test_huge_labels_are_refused_and_nothing_is_kept(http: aiohttp.ClientSession) -> None:
    big_value = {"team": "x" * 900_000}
    many_small = {f"k{n}": "v" for n in range(2_000)}
    async with Emulator(token=TOKEN) as emulator:
        url = f"{emulator.url}/projects/demo/webhooks"
        tracemalloc.start()
        try:
            for n in range(60):
                labels = big_value if n % 2 else many_small
                status, answer = await _call(
                    http, "POST", url, webhook_body(name=f"h{n}", labels=labels)
                )
                assert status == 400, answer
                assert answer["error"].startswith("labels: at most 50 labels"), answer
            gc.collect()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert emulator.webhooks("demo") == []
        # 60 requests offered 27 MB of labels; what is held at once is a request or two.
        assert peak < 40_000_000, f"peak {peak:,} bytes"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"headers": [{"key": f"X-{n}", "value": "v", "protected": False} for n in range(51)]},
            "headers",
        ),
        ({"headers": [{"key": "X", "value": "v" * 9_000, "protected": True}]}, "headers"),
        ({"url": "https://example.org/" + "p" * 3_000}, "url"),
    ],
    ids=["51-headers", "9-kB-header", "3-kB-url"],
)
async def test_headers_and_urls_are_bounded(
    http: aiohttp.ClientSession, changes: dict[str, Any], field: str
) -> None:
    async with Emulator(token=TOKEN) as emulator:
        url = f"{emulator.url}/projects/demo/webhooks"
        status, answer = await _call(http, "POST", url, webhook_body(**changes))
        assert status == 400
        assert answer["error"].startswith(f"{field}: "), answer
        assert "the emulator's limit" in answer["error"]
        assert "v" * 100 not in answer["error"]  # a header value is never echoed
        # The same bound holds on update.
        status, _ = await _call(http, "POST", url, webhook_body())
        assert status == 201
        status, answer = await _call(http, "PATCH", f"{url}/hook-1", changes)
        assert status == 400, answer


async def test_webhooks_per_project_are_capped(http: aiohttp.ClientSession) -> None:
    async with Emulator(token=TOKEN, limits=Limits(max_webhooks_per_project=5)) as emulator:
        url = f"{emulator.url}/projects/demo/webhooks"
        for n in range(5):
            assert (await _call(http, "POST", url, webhook_body(name=f"h{n}")))[0] == 201
        status, answer = await _call(http, "POST", url, webhook_body(name="h5"))
        assert status == 400
        assert "max_webhooks_per_project" in answer["error"]
        assert (await _call(http, "DELETE", f"{url}/h0"))[0] == 204
        assert (await _call(http, "POST", url, webhook_body(name="h5")))[0] == 201


async def test_a_finished_test_keeps_its_outcome_not_its_headers(
    http: aiohttp.ClientSession,
) -> None:
    secret = [{"key": f"X-Secret-{n}", "value": "s" * 4_000, "protected": True} for n in range(4)]
    limits = Limits(max_headers_size=16_384)
    async with Recorder() as target, Emulator(token=TOKEN, limits=limits) as emulator:
        url = f"{emulator.url}/projects/demo/webhooks-tests"
        # Warm up (connections, caches), then measure what 200 finished tests hold.
        await _call(http, "POST", url, hook_test_body(target.url, headers=secret))
        await _finished(emulator)
        emulator.state.deliverer.records.clear()
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(200):
                status, _ = await _call(
                    http, "POST", url, hook_test_body(target.url, headers=secret)
                )
                assert status == 201
            assert await emulator.drain(timeout=30)
            emulator.state.deliverer.records.clear()  # the bounded log of recent attempts
            target.received.clear()  # what the receiving end kept
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        tests = emulator.tests("demo")
        assert len(tests) == 201
        assert {t.status.value for t in tests} == {"completed"}
        # 200 x 16 kB of header values were sent; a finished test keeps about 1 kB.
        assert held < 600_000, f"{held:,} bytes held by 200 finished tests"


# --- 14. where a webhook test delivers -------------------------------------------------------


async def test_host_header_and_url_credentials_are_not_forwarded(
    http: aiohttp.ClientSession,
) -> None:
    async with Recorder() as target, Emulator(token=TOKEN) as emulator:
        with_credentials = target.url.replace("http://", "http://someone:p4ssw0rd@")
        headers = [
            {"key": "Host", "value": "internal.example", "protected": False},
            {"key": "Content-Length", "value": "5", "protected": False},
            {"key": "X-Kept", "value": "yes", "protected": False},
        ]
        body = hook_test_body(with_credentials, headers=headers)
        status, _ = await _call(http, "POST", f"{emulator.url}/projects/demo/webhooks-tests", body)
        assert status == 201
        (received,) = await target.wait_for(1)
        port = target.url.split(":")[2].split("/")[0]
        assert received.headers["Host"] == f"127.0.0.1:{port}"
        assert "Authorization" not in received.headers
        assert received.headers["X-Kept"] == "yes"
        assert received.json["event"] == "deployment_request_completed"
        assert "p4ssw0rd" not in json.dumps([r.url for r in emulator.deliveries])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["address", "name"])
async def test_a_narrowed_policy_refuses_other_targets_without_sending(
    http: aiohttp.ClientSession, host: str
) -> None:
    async with Recorder() as target, Emulator(token=TOKEN, allow_targets=["127.0.0.2"]) as emulator:
        refused_url = target.url.replace("127.0.0.1", host)
        body = hook_test_body(refused_url, retry=True)
        status, _ = await _call(http, "POST", f"{emulator.url}/projects/demo/webhooks-tests", body)
        assert status == 201
        (test,) = await _finished(emulator)
        assert test.status.value == "failed"
        assert test.error_message is not None
        assert test.error_message.startswith("Refused target: ")
        assert "not among the allowed targets" in test.error_message
        assert target.received == []
        assert emulator.stats.targets_refused == 1  # refused once: retrying cannot help
        assert emulator.stats.delivery_attempts == 0


@pytest.mark.parametrize("allowed", ["127.0.0.1", "127.0.0.0/8", "localhost"])
async def test_an_allowed_target_is_reached(http: aiohttp.ClientSession, allowed: str) -> None:
    async with Recorder() as target, Emulator(token=TOKEN, allow_targets=[allowed]) as emulator:
        url = target.url if allowed != "localhost" else target.url.replace("127.0.0.1", "localhost")
        body = hook_test_body(url)
        status, _ = await _call(http, "POST", f"{emulator.url}/projects/demo/webhooks-tests", body)
        assert status == 201
        (test,) = await _finished(emulator)
        assert (test.status.value, test.error_message) == ("completed", None)
        assert len(target.received) == 1
