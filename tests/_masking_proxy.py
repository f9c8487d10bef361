"""A loopback stand-in for an API that reads protected values back as a mask.

No public source says whether UbiOps answers a read with ``null`` for a protected
header's value or with a masked string. This server sits in front of an emulator,
forwards every request to it, and replaces the value of every protected header in its
answers with a mask, so the same tests run against both kinds of answer.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["MASK", "MaskingProxy"]

MASK = "*****"

_FORWARDED_REQUEST = ("Authorization", "Content-Type", "User-Agent")
_FORWARDED_ANSWER = ("Content-Type", "Retry-After")


def masked(data: Any, mask: str) -> Any:
    """``data`` (an answer's JSON) with every protected header's value replaced by ``mask``."""
    if isinstance(data, list):
        return [masked(item, mask) for item in data]
    if isinstance(data, dict) and isinstance(data.get("headers"), list):
        headers = [
            {**h, "value": mask} if isinstance(h, dict) and h.get("protected") is True else h
            for h in data["headers"]
        ]
        return {**data, "headers": headers}
    return data


class MaskingProxy:
    """Forwards to the emulator at ``upstream`` (its root URL); ``url`` is the API base."""

    def __init__(self, upstream: str, mask: str = MASK) -> None:
        self.upstream = upstream.rstrip("/")
        self.mask = mask
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        body = await request.read()
        headers = {k: request.headers[k] for k in _FORWARDED_REQUEST if k in request.headers}
        async with self._client.request(
            request.method, self.upstream + request.path_qs, data=body or None, headers=headers
        ) as answer:
            data = await answer.read()
            kept = {
                key: value
                for key, value in answer.headers.items()
                if key.lower().startswith("x-ratelimit-") or key in _FORWARDED_ANSWER
            }
            if data and answer.content_type == "application/json":
                data = json.dumps(masked(json.loads(data), self.mask)).encode()
            return web.Response(status=answer.status, body=data, headers=kept)

    async def __aenter__(self) -> MaskingProxy:
        self._client = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/v2.1"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()
