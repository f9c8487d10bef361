"""The receiver's guard at the socket level: deadlines and a cap on open connections.

aiohttp waits for a request head without a deadline and keeps any number of
connections open, so senders that open connections and send half a head (or
nothing) hold file descriptors until the process runs out of them. This server
gives every connection a deadline: its request head must be complete within
``head_timeout`` seconds of connecting, and after an answer the next request must
come within ``keepalive_timeout`` seconds; a connection that is not serving a
request by then is closed. At most ``max_connections`` are open at once: one more
pushes out the oldest connection that is not serving a request (a sender stuck in
its head, or idle between requests), and is itself closed only when every open
connection is busy with a request. Requests in progress are never cut off here.

A malformed request (aiohttp's parser refuses it with a 400) is logged as one
line at INFO, without aiohttp's ERROR traceback.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import attrs
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

__all__ = ["ConnectionStats", "GuardedServer"]

_log = logging.getLogger("aioubiwebhooks.receiver")
_SERVING = math.inf


@attrs.frozen
class ConnectionStats:
    """Connections now open, the most open at once, and how many were closed early.

    ``timed_out``: closed because no request head arrived in time (or none came
    after an answer within the keep-alive time); ``pushed_out``: closed to make room
    for a new one at the cap; ``refused``: new ones closed because every open
    connection was serving a request; ``malformed``: requests aiohttp could not parse.
    """

    open: int
    most_open: int
    timed_out: int
    pushed_out: int
    refused: int
    malformed: int


class _QuietRequestHandler(RequestHandler):
    """aiohttp's protocol, logging a malformed request as one INFO line."""

    def log_exception(self, *args: Any, **kw: Any) -> None:
        error = kw.get("exc_info")
        if isinstance(error, HttpProcessingError):
            manager = self._manager
            if isinstance(manager, GuardedServer):
                manager.malformed += 1
            peer = self.transport.get_extra_info("peername") if self.transport else None
            _log.info("refused a malformed request from %s: %s", peer, type(error).__name__)
            return
        super().log_exception(*args, **kw)


class GuardedServer(web.Server):
    """``web.Server`` with a head deadline, a keep-alive deadline and a connection cap."""

    def __init__(
        self,
        handler: Any,
        *,
        max_connections: int,
        head_timeout: float,
        keepalive_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, keepalive_timeout=keepalive_timeout, **kwargs)
        self._max_connections = max_connections
        self._head_timeout = head_timeout
        self._keepalive_timeout = keepalive_timeout
        # open connections, oldest first, each with its deadline (infinite while serving)
        self._open: dict[RequestHandler, float] = {}
        self._served: set[RequestHandler] = set()  # answered a request before
        self._sweep_every = min(1.0, max(0.01, min(head_timeout, keepalive_timeout) / 4))
        self._sweeper: asyncio.TimerHandle | None = None
        self._most_open = 0
        self._timed_out = 0
        self._pushed_out = 0
        self._refused = 0
        self.malformed = 0

    @property
    def stats(self) -> ConnectionStats:
        return ConnectionStats(
            open=len(self._open),
            most_open=self._most_open,
            timed_out=self._timed_out,
            pushed_out=self._pushed_out,
            refused=self._refused,
            malformed=self.malformed,
        )

    def __call__(self) -> RequestHandler:
        return _QuietRequestHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        if len(self._open) >= self._max_connections and not self._make_room():
            self._refused += 1
            handler.force_close()
            return
        self._open[handler] = self._loop.time() + self._head_timeout
        self._most_open = max(self._most_open, len(self._open))
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(self._sweep_every, self._sweep)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self._forget(handler)

    def request_started(self, handler: RequestHandler) -> None:
        """A request head is complete: no deadline while the request is served."""
        if handler in self._open:
            self._open[handler] = _SERVING
            self._served.add(handler)

    def request_finished(self, handler: RequestHandler) -> None:
        """Answered: the next request must come within the keep-alive time."""
        if handler in self._open:
            self._open[handler] = self._loop.time() + self._keepalive_timeout

    def _sweep(self) -> None:
        """Close the connections past their deadline (one timer for all, not one each)."""
        self._sweeper = None
        now = self._loop.time()
        expired = [handler for handler, deadline in self._open.items() if deadline <= now]
        for handler in expired:
            self._timed_out += 1
            self._close(handler)
        if self._open:
            self._sweeper = self._loop.call_later(self._sweep_every, self._sweep)

    def _make_room(self) -> bool:
        idle = None
        for handler, deadline in self._open.items():
            if deadline == _SERVING:
                continue
            if handler not in self._served:
                idle = handler  # never sent a whole head: the first to go
                break
            if idle is None:
                idle = handler
        if idle is None:
            return False
        self._pushed_out += 1
        self._close(idle)
        return True

    def _close(self, handler: RequestHandler) -> None:
        self._forget(handler)
        handler.force_close()

    def _forget(self, handler: RequestHandler) -> None:
        self._open.pop(handler, None)
        self._served.discard(handler)
