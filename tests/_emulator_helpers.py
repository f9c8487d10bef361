"""Shared pieces of the emulator tests: a recording webhook target and request bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web

__all__ = ["Received", "Recorder", "hook_test_body", "webhook_body"]


def webhook_body(**changes: Any) -> dict[str, Any]:
    """A valid create body for the demo project, with ``changes`` applied."""
    body: dict[str, Any] = {
        "name": "hook-1",
        "url": "https://example.org/hook",
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
    }
    body.update(changes)
    return body


def hook_test_body(url: str, **changes: Any) -> dict[str, Any]:
    """A valid webhook-test body for the demo project aimed at ``url``."""
    body: dict[str, Any] = {
        "url": url,
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
    }
    body.update(changes)
    return body


@attrs.frozen
class Received:
    path: str
    headers: dict[str, str]
    json: Any


class Recorder:
    """A loopback HTTP server recording every POST; ``answer`` decides each response.

    ``answer(n)`` gets the 1-based number of the request and returns a status, or
    an awaitable one (to stall, e.g. for timeouts).
    """

    def __init__(self, answer: Callable[[int], int | Awaitable[int]] = lambda n: 200) -> None:
        self.answer = answer
        self.received: list[Received] = []
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(
            Received(request.path, dict(request.headers), json.loads(await request.read()))
        )
        async with self._arrived:
            self._arrived.notify_all()
        status = self.answer(len(self.received))
        if not isinstance(status, int):
            status = await status
        return web.Response(status=status)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` requests have arrived (event-based, bounded)."""

        async def arrived() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.received) >= count)

        await asyncio.wait_for(arrived(), timeout)
        return self.received

    async def __aenter__(self) -> Recorder:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
