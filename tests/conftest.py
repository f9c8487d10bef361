"""Shared fixtures: backoff sleeps off (retries still happen), a fresh emulator per test.

The suite is laid out by what a test needs:

- ``tests/unit/``: pure logic, no sockets (a guard below refuses to open one), seconds;
- ``tests/integration/``: real servers on loopback (the emulator, the receiver, ...);
- ``tests/slow/``: soaks, floods and builds that take tens of seconds.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import aioubiwebhooks
from aioubiwebhooks.emulator import Emulator

_UNIT = Path(__file__).parent / "unit"


class SocketInUnitTest(AssertionError):
    """A unit test tried to reach the network; it belongs in tests/integration/."""


@pytest.fixture(autouse=True)
def _no_sockets_in_unit_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if _UNIT not in Path(str(request.node.path)).parents:
        return

    def refuse(self: socket.socket, *args: object) -> None:
        raise SocketInUnitTest(f"unit tests open no connections (tried {args!r:.80})")

    for name in ("bind", "connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)


@pytest.fixture(autouse=True)
def _no_backoff_sleeps() -> Iterator[None]:
    with aioubiwebhooks.set_testing(True):
        yield


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A fresh emulator (project ``demo``, rate limit off) on a free loopback port."""
    async with Emulator() as emu:
        yield emu


@pytest.fixture
async def session(emulator: Emulator) -> AsyncIterator[aioubiwebhooks.WebhooksSession]:
    async with aioubiwebhooks.WebhooksSession(emulator.token, emulator.url) as s:
        yield s


def webhook_spec(name: str, **changes: Any) -> dict[str, Any]:
    """A valid create spec for the emulator's seeded ``demo`` project."""
    spec: dict[str, Any] = {
        "name": name,
        "url": "http://127.0.0.1:9/unused",
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
    }
    spec.update(changes)
    return spec


class Sink:
    """A bare HTTP endpoint for deliveries: ``/ok`` answers 200, ``/fail`` answers 500."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.url = ""

    async def _ok(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.json_response({"ok": True})

    async def _fail(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"error": "receiver is broken"}, status=500)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    endpoint = Sink()
    app = web.Application()
    app.router.add_post("/ok", endpoint._ok)
    app.router.add_post("/fail", endpoint._fail)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint.url = f"http://127.0.0.1:{port}"
    yield endpoint
    await runner.cleanup()


def delivery_spec(url: str, **changes: Any) -> dict[str, Any]:
    """A valid webhook test spec for the seeded ``demo`` project."""
    spec = webhook_spec("unused", url=url, **changes)
    del spec["name"]
    return spec
