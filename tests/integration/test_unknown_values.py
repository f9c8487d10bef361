"""Answers carrying values this library does not know, from a loopback server that sends them.

The real API may grow: the docs already mention webhooks on experiments, and a test
status may one day be more than pending, completed or failed. The server below answers
like the API, but with such values, and the session, the waits and the command line
must read them rather than fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from aioubiwebhooks import (
    EventType,
    ObjectType,
    TestStatus,
    ValidationError,
    WebhooksSession,
)
from aioubiwebhooks.cli import main

pytestmark = pytest.mark.timeout(60)

TOKEN = "unknown-values-token"


def hook(name: str, object_type: str, event: str) -> dict[str, Any]:
    return {
        "id": f"id-{name}",
        "name": name,
        "url": "https://example.org/hook",
        "headers": [],
        "object_type": object_type,
        "object_name": "obj",
        "version": None,
        "description": None,
        "labels": {},
        "event": event,
        "timeout": 10,
        "enabled": True,
        "retry": False,
        "include_result": False,
    }


HOOKS = [
    hook("known", "deployment", "deployment_request_failed"),
    hook("on-experiment", "experiment", "experiment_request_completed"),
]


class NewerApi:
    """The webhooks routes of one project, answering with values unknown to the library."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.url = ""
        self.test_status = "queued"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v2.1/projects/p/webhooks", self._list)
        app.router.add_get("/v2.1/projects/p/webhooks/{name}", self._get)
        app.router.add_get("/v2.1/projects/p/webhooks-tests/{id}", self._test)
        return app

    async def _list(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        return web.json_response(HOOKS)

    async def _get(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        found = [h for h in HOOKS if h["name"] == request.match_info["name"]]
        if not found:
            return web.json_response({"error": "Webhook not found"}, status=404)
        return web.json_response(found[0])

    async def _test(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        body = {"id": request.match_info["id"], "status": self.test_status, "error_message": None}
        return web.json_response(body)


@pytest.fixture
async def api() -> AsyncIterator[NewerApi]:
    server = NewerApi()
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}/v2.1"
    yield server
    await runner.cleanup()


@pytest.fixture
async def session(api: NewerApi) -> AsyncIterator[WebhooksSession]:
    async with WebhooksSession(TOKEN, api.url) as s:
        yield s


async def test_list_and_get_read_unknown_object_types_and_events(
    session: WebhooksSession,
) -> None:
    known, other = await session.webhooks_list("p")
    assert (known.object_type, known.event) == (
        ObjectType.DEPLOYMENT,
        EventType.DEPLOYMENT_REQUEST_FAILED,
    )
    assert (other.object_type, other.event) == ("experiment", "experiment_request_completed")
    assert await session.webhooks_get("p", "on-experiment") == other


async def test_an_unknown_test_status_ends_the_wait_at_once(
    api: NewerApi, session: WebhooksSession
) -> None:
    done = await session.await_test("p", "t-1", timeout=30)
    assert done.status == "queued"
    assert done.is_final
    assert api.requests == ["/v2.1/projects/p/webhooks-tests/t-1"]  # one poll, then done
    seen = [d.status async for d in session.watch_test("p", "t-2", timeout=30)]
    assert seen == ["queued"]
    api.test_status = "completed"
    assert (await session.await_test("p", "t-3", timeout=30)).status is TestStatus.COMPLETED


async def test_list_filters_still_refuse_unknown_values_before_sending(
    api: NewerApi, session: WebhooksSession
) -> None:
    with pytest.raises(ValidationError, match="event: must be one of"):
        await session.webhooks_list("p", event="experiment_request_completed")
    with pytest.raises(ValidationError, match="object_type: must be one of"):
        await session.webhooks_list("p", object_type="experiment")
    assert api.requests == []


async def test_the_command_line_shows_unknown_values(
    api: NewerApi, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = ["--host", api.url, "--token", TOKEN]
    assert await asyncio.to_thread(main, ["list", "p", *connection]) == 0
    listed = capsys.readouterr().out
    assert "experiment/obj" in listed
    assert "experiment_request_completed" in listed
    assert await asyncio.to_thread(main, ["get", "p", "on-experiment", *connection]) == 0
    shown = capsys.readouterr().out
    assert "experiment obj" in shown
    assert await asyncio.to_thread(main, ["get", "p", "on-experiment", "--json", *connection]) == 0
    assert '"event": "experiment_request_completed"' in capsys.readouterr().out
