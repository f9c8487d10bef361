"""A local HTTP receiver that turns webhook deliveries into a stream of typed events.

::

    async with WebhookReceiver(secret="Token s3cret") as rx:
        hook = WebhookCreate(..., url=rx.url, headers=[WebhookHeader("Authorization",
                             "Token s3cret", protected=True)])
        ...
        event = await rx.wait_for(lambda e: e.request_id == request_id, timeout=30)
        async for event in rx:              # every acknowledged delivery, once
            ...

    async with WebhookReceiver(port=8080, journal="events.db") as rx:   # durable
        async for event in rx:
            await handle(event)             # handled when the loop asks for the next

Each delivery is checked (route, header count, secret, size, JSON shape) by the
pure functions of :mod:`aioubiwebhooks._delivery_check`; a refusal is answered with
a JSON ``{"error": ...}`` body and counted in :attr:`WebhookReceiver.stats`. An
accepted delivery is answered ``200`` only once its event is in the bounded
queue: when consumers fall behind, senders wait (back-pressure) rather than
events being dropped. Redeliveries (same event and request id) are acknowledged
but yielded once. The bounds are documented in :mod:`aioubiwebhooks._inbox`. With
a journal (:mod:`aioubiwebhooks.journal`) the event is stored before the ``200``
and forgotten only once handled, so a restart loses nothing acknowledged.

Closing (leaving ``async with``) stops the server; deliveries still waiting for
room are answered ``503`` (not acknowledged, so a retrying sender tries again),
pending :meth:`~WebhookReceiver.wait_for` calls raise :class:`ReceiverClosedError`,
and ``async for`` first drains the events already queued (all of them were
acknowledged) and then ends; with a journal it ends at once, the events not yet
yielded staying stored for the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import weakref
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Final

from aiohttp import web

from ._connections import ConnectionStats, GuardedServer
from ._delivery_check import (
    Reason,
    Rejected,
    check_body_size,
    check_content_length,
    check_header_count,
    check_route,
    check_secret,
    parse_delivery,
)
from ._header_copies import HeaderCopies
from ._inbox import REFUSALS, BaseInbox, Inbox, InboxClosed, ReceiverStats, Verdict
from ._lifecycle import AsyncStarting
from .errors import EventTimeoutError, ReceiverClosedError
from .events import WebhookEvent
from .journal import (
    DEFAULT_CLAIM_AFTER,
    DEFAULT_DEDUPE_SECONDS,
    DEFAULT_GROUP,
    DEFAULT_MAX_PENDING,
    Journal,
    open_journal,
)
from .journal._inbox import JournalInbox

__all__ = [
    "DEFAULT_AUTH_HEADER",
    "DEFAULT_HEAD_TIMEOUT",
    "DEFAULT_HOLD_TIMEOUT",
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_DEDUPE",
    "DEFAULT_MAX_HEADERS",
    "DEFAULT_MAX_HISTORY",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_MAX_WAITING",
    "ConnectionStats",
    "EventTimeoutError",
    "ReceiverClosedError",
    "ReceiverStats",
    "WebhookReceiver",
]

_log = logging.getLogger("aioubiwebhooks.receiver")

DEFAULT_AUTH_HEADER: Final = "Authorization"
"""The header that carries the shared secret, as UbiOps sends configured headers."""
DEFAULT_MAX_BODY: Final = 256 * 1024
"""Bytes per delivery body; a payload's ``result`` is at most 16 kB, so this leaves room."""
DEFAULT_MAX_QUEUE: Final = 1000
"""Events queued for ``async for`` before senders are held back."""
DEFAULT_MAX_HEADERS: Final = 100
"""Header fields per delivery."""
DEFAULT_MAX_HISTORY: Final = 1000
"""Recent events kept for ``wait_for`` and :attr:`WebhookReceiver.events`."""
DEFAULT_MAX_DEDUPE: Final = 10_000
"""Recent (event, request id) keys remembered to recognise redeliveries."""
DEFAULT_MAX_WAITING: Final = 100
"""Deliveries beyond ``max_queue`` that may be read or wait for room at once; more get 503."""
DEFAULT_HOLD_TIMEOUT: Final = 5.0
"""Seconds a delivery waits for room before a 503: half a webhook's default 10 s timeout."""
DEFAULT_MAX_CONNECTIONS: Final = 256
"""Connections open at once, well below the usual limit of 1024 open files per process."""
DEFAULT_HEAD_TIMEOUT: Final = 10.0
"""Seconds from connecting until the request head must be complete."""
DEFAULT_KEEPALIVE_TIMEOUT: Final = 5.0
"""Seconds an idle kept-alive connection stays open for the next request."""


def _match_any(event: WebhookEvent) -> bool:
    return True


def _describe(predicate: Callable[[WebhookEvent], bool]) -> str:
    if predicate is _match_any:
        return "any event"
    return getattr(predicate, "__qualname__", None) or repr(predicate)


_ACKNOWLEDGEMENTS = {
    verdict: json.dumps({"status": verdict.value}).encode()
    for verdict in (Verdict.ACCEPTED, Verdict.DUPLICATE)
}
"""Ready-made answers for the two outcomes a sender hears most."""

_REFUSAL_MESSAGES = {
    Verdict.CLOSED: "receiver is closing; deliver again later",
    Verdict.BUSY: "receiver is busy: no room for the event in time; deliver again later",
    Verdict.FAILED: "the event could not be stored; deliver again later",
}
RETRY_AFTER: Final = "1"
"""Seconds a refused sender is asked to wait before delivering again (``Retry-After``)."""


class WebhookReceiver(AsyncStarting):
    """An aiohttp server on loopback that yields webhook deliveries as typed events.

    - ``host``/``port``/``path``: where to listen (``port=0``: a free port, see
      :attr:`port` and :attr:`url` once started); only POSTs to ``path`` are deliveries.
    - ``secret``: when given, must arrive as the value of ``secret_header`` (compared
      in constant time, else 401); that header's value is hidden in stored events,
      and the secret appears in no repr or log.
    - ``max_body`` bytes per body (413), ``max_headers`` header fields (431),
      ``body_timeout`` seconds to receive a body (408). aiohttp's own parser cuts
      off requests with more than about twice ``max_headers`` fields (plain-text
      400) before this receiver sees them.
    - ``max_queue`` events wait for ``async for``; beyond that, senders are held
      back until there is room. ``max_history`` recent events serve ``wait_for``
      and :attr:`events`; ``max_dedupe`` recent (event, request id) keys catch
      redeliveries.
    - Deliveries held back wait at most ``hold_timeout`` seconds for room (shorter
      than the 10 s a webhook waits for an answer by default), then are refused
      with ``503`` and ``Retry-After`` (a webhook with ``retry`` sends them again);
      beyond ``max_queue + max_waiting`` deliveries queued, being read or waiting at
      once, a delivery gets the same ``503`` before its body is read, so waiting
      senders cannot grow the memory.
    - Connections: a request head must be complete within ``head_timeout``
      seconds of connecting, and the next request on a kept-alive connection must
      come within ``keepalive_timeout`` seconds, else the connection is closed; at
      most ``max_connections`` are open at once (one more pushes out the oldest one
      not serving a request). Malformed requests are logged as one INFO line.
    - ``shutdown_timeout`` bounds how long closing waits for requests in progress.
    - ``journal``: a SQLite file path or a ``redis://host:port/db`` URL (or a
      :class:`~aioubiwebhooks.journal.Journal`). A delivery is then answered ``200``
      only once stored there, and an event is forgotten only once handled: when
      the ``async for`` body asks for the next event, or on :meth:`ack`
      (``auto_ack=False`` leaves it to :meth:`ack` alone). After a restart, what was
      accepted and not handled is yielded again. A journal holding ``max_pending``
      unhandled events answers ``503``; redeliveries are recognised for
      ``dedupe_seconds``. With Redis: consumer group ``group``, this process's name
      ``consumer`` (host and pid), and events a dead consumer held are claimed
      after ``claim_after`` seconds.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/",
        secret: str | None = None,
        *,
        secret_header: str = DEFAULT_AUTH_HEADER,
        max_body: int = DEFAULT_MAX_BODY,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        max_history: int = DEFAULT_MAX_HISTORY,
        max_dedupe: int = DEFAULT_MAX_DEDUPE,
        body_timeout: float = 10.0,
        shutdown_timeout: float = 2.0,
        max_waiting: int = DEFAULT_MAX_WAITING,
        hold_timeout: float = DEFAULT_HOLD_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        head_timeout: float = DEFAULT_HEAD_TIMEOUT,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
        journal: str | os.PathLike[str] | Journal | None = None,
        auto_ack: bool = True,
        group: str = DEFAULT_GROUP,
        consumer: str | None = None,
        claim_after: float = DEFAULT_CLAIM_AFTER,
        max_pending: int = DEFAULT_MAX_PENDING,
        dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
    ) -> None:
        for name, count in (
            ("max_body", max_body),
            ("max_headers", max_headers),
            ("max_connections", max_connections),
        ):
            if count < 1:
                raise ValueError(f"{name} must be at least 1, got {count}")
        if max_waiting < 0:
            raise ValueError(f"max_waiting must not be negative, got {max_waiting}")
        for name, seconds in (
            ("body_timeout", body_timeout),
            ("head_timeout", head_timeout),
            ("keepalive_timeout", keepalive_timeout),
            ("hold_timeout", hold_timeout),
        ):
            if not seconds > 0:
                raise ValueError(f"{name} must be positive, got {seconds}")
        if shutdown_timeout < 0:
            raise ValueError("shutdown_timeout must not be negative")
        self._max_waiting = max_waiting
        self._in_flight = 0  # deliveries past the checks whose event is not yet stored
        # the events of deliveries with the same head share one copy of their headers
        self._header_copies = HeaderCopies(secret_header if secret is not None else None)
        self._max_connections = max_connections
        self._head_timeout = head_timeout
        self._keepalive_timeout = keepalive_timeout
        self._server: GuardedServer | None = None
        self._host = host
        self._requested_port = port
        self._path = path if path.startswith("/") else f"/{path}"
        self._secret = None if secret is None else secret.encode("utf-8", "surrogateescape")
        self._secret_header = secret_header
        self._max_body = max_body
        self._max_headers = max_headers
        self._body_timeout = body_timeout
        self._shutdown_timeout = shutdown_timeout
        self._auto_ack = auto_ack
        self._inbox: BaseInbox
        if journal is None:
            self._inbox = Inbox(
                max_queue=max_queue,
                max_history=max_history,
                max_dedupe=max_dedupe,
                hold_timeout=hold_timeout,
            )
        else:
            store = open_journal(
                journal,
                group=group,
                consumer=consumer,
                claim_after=claim_after,
                max_pending=max_pending,
                dedupe_seconds=dedupe_seconds,
            )
            self._inbox = JournalInbox(store, max_history=max_history, max_dedupe=max_dedupe)
        self._tracks_hands = journal is not None and auto_ack
        self._runner: web.BaseRunner | None = None
        self._port: int | None = None
        # the event each consuming task holds: handled once the task asks for the next one
        self._in_hand: weakref.WeakKeyDictionary[asyncio.Task[Any], WebhookEvent] = (
            weakref.WeakKeyDictionary()
        )

    # --- lifetime --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving; a receiver starts once."""
        if self._runner is not None or self._inbox.closed:
            raise RuntimeError("a WebhookReceiver can be started only once")
        server = GuardedServer(
            self._handle,
            max_connections=self._max_connections,
            head_timeout=self._head_timeout,
            keepalive_timeout=self._keepalive_timeout,
            access_log=None,
            # aiohttp refuses header floods in its parser, with a plain-text answer; leave
            # it room so that a moderate excess gets this receiver's JSON 431 instead.
            max_headers=2 * self._max_headers + 2,
        )
        if isinstance(self._inbox, JournalInbox):
            await self._inbox.start()
        runner = web.ServerRunner(server, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        self._runner = runner
        self._server = server
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
            self._port = int(runner.addresses[0][1])
        except BaseException:
            await self.close()
            raise
        _log.info("receiving webhook deliveries at %s", self.url)

    async def close(self) -> None:
        """Stop serving. In memory, queued events stay available to ``async for`` until
        drained; with a journal they stay stored for the next start, and ``async for`` ends.
        """
        self._inbox.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self._inbox.aclose()

    # --- where it listens ------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The bound port (the one the system chose when ``port=0``)."""
        if self._port is None:
            raise RuntimeError("the receiver is not started; use 'async with WebhookReceiver()'")
        return self._port

    @property
    def path(self) -> str:
        return self._path

    @property
    def url(self) -> str:
        """The URL to give a webhook, e.g. ``http://127.0.0.1:54321/``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}{self._path}"

    # --- what it received ------------------------------------------------------------------

    def __aiter__(self) -> WebhookReceiver:
        return self

    async def __anext__(self) -> WebhookEvent:
        """The next delivery; each event goes to exactly one of several concurrent loops.

        Asking for the next event marks the one this task got before as handled.
        """
        if not self._tracks_hands:  # in memory, taking an event is all there is to it
            try:
                return await self._inbox.get()
            except InboxClosed:
                raise StopAsyncIteration from None
        task = asyncio.current_task()
        assert task is not None
        previous = self._in_hand.pop(task, None)
        if previous is not None:
            await self._inbox.ack(previous)
        try:
            event = await self._inbox.get()
        except InboxClosed:
            raise StopAsyncIteration from None
        self._in_hand[task] = event
        return event

    async def ack(self, event: WebhookEvent) -> None:
        """Mark ``event`` handled: with a journal, it will not be yielded again after a restart.

        Returns once that is stored. Needed with ``auto_ack=False``, where events are
        handed to other tasks; with the default, asking for the next event does it.
        Acknowledging an event twice, or one not in hand, does nothing.
        """
        await self._inbox.ack(event)

    async def pending(self) -> list[WebhookEvent]:
        """Events accepted and not yet handled, oldest first (with Redis: of every receiver)."""
        return await self._inbox.pending()

    async def wait_for(
        self,
        predicate: Callable[[WebhookEvent], bool] | None = None,
        *,
        timeout: float = 10.0,
        description: str | None = None,
    ) -> WebhookEvent:
        """The first event matching ``predicate``, among those already received or to come.

        Looks at the history first (the last ``max_history`` events), so a delivery
        that arrived before the call is found. The event returned is handled: if
        ``async for`` has not yielded it yet, it never will. Raises
        :class:`EventTimeoutError` (a ``TimeoutError``) naming what it waited for and
        how many events it saw, or :class:`ReceiverClosedError`.
        """
        check = predicate or _match_any
        return await self._inbox.wait_for(
            check, timeout=timeout, description=description or _describe(check)
        )

    @property
    def events(self) -> tuple[WebhookEvent, ...]:
        """The last ``max_history`` accepted events, oldest first (redeliveries not repeated)."""
        return self._inbox.events

    @property
    def stats(self) -> ReceiverStats:
        return self._inbox.stats

    @property
    def connections(self) -> ConnectionStats:
        """Open connections, the most at once, and those closed early (by reason)."""
        if self._server is None:
            return ConnectionStats(0, 0, 0, 0, 0, 0)
        return self._server.stats

    def __repr__(self) -> str:
        where = self.url if self._port is not None else f"{self._host}:{self._requested_port}"
        secret = "set" if self._secret is not None else "none"
        stats = self._inbox.stats
        return (
            f"<WebhookReceiver {where} secret={secret} "
            f"accepted={stats.accepted} queued={stats.queued}>"
        )

    # --- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        server, protocol = self._server, request.protocol
        if server is not None:
            server.request_started(protocol)
        received_at = datetime.now(timezone.utc)
        try:
            check_route(request.path, request.method, self._path)
            check_header_count(len(request.raw_headers), self._max_headers)
            check_secret(
                request.headers.get(self._secret_header), self._secret, self._secret_header
            )
            check_content_length(request.content_length, self._max_body)
            if self._inbox.crowded(self._max_waiting, self._in_flight):
                raise Rejected(Reason.BUSY, _REFUSAL_MESSAGES[Verdict.BUSY])
            self._in_flight += 1  # from here its body may be held in memory
            try:
                event = parse_delivery(
                    await self._read_body(request),
                    headers=self._header_copies.redacted(request.raw_headers, request.headers),
                    received_at=received_at,
                )
                verdict = await self._inbox.offer(event)
            finally:
                self._in_flight -= 1
        except Rejected as rejection:
            return self._refuse(request, rejection)
        finally:
            if server is not None:
                server.request_finished(protocol)
        acknowledgement = _ACKNOWLEDGEMENTS.get(verdict)
        if acknowledgement is None:  # counted by the inbox
            refusal = Rejected(REFUSALS[verdict], _REFUSAL_MESSAGES[verdict])
            _log.debug("refused delivery from %s: %s", request.remote, refusal)
            response = self._answer(refusal.status, refusal.body())
            response.headers["Retry-After"] = RETRY_AFTER
            return response
        return web.Response(body=acknowledgement, content_type="application/json")

    async def _read_body(self, request: web.BaseRequest) -> bytes:
        content = request.content
        if content.is_eof():  # the whole body came with the head: no deadline to set
            body = content.read_nowait()
            check_body_size(len(body), self._max_body)
            return body
        try:
            if sys.version_info >= (3, 11):  # a deadline without a task per delivery
                async with asyncio.timeout(self._body_timeout):
                    return await self._read_limited(request)
            return await asyncio.wait_for(self._read_limited(request), self._body_timeout)
        except asyncio.TimeoutError:
            raise Rejected(
                Reason.BODY_TIMEOUT, f"body not received within {self._body_timeout:g} s"
            ) from None

    async def _read_limited(self, request: web.BaseRequest) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_any():
            size += len(chunk)
            check_body_size(size, self._max_body)
            chunks.append(chunk)
        return b"".join(chunks)

    def _refuse(self, request: web.BaseRequest, rejection: Rejected) -> web.Response:
        self._inbox.reject(rejection.reason)
        _log.debug("refused delivery from %s: %s", request.remote, rejection)
        response = self._answer(rejection.status, rejection.body())
        if rejection.reason is Reason.METHOD_NOT_ALLOWED:
            response.headers["Allow"] = "POST"
        if rejection.reason is Reason.BUSY:
            response.headers["Retry-After"] = RETRY_AFTER
        if rejection.reason in (Reason.TOO_LARGE, Reason.BODY_TIMEOUT, Reason.BUSY):
            response.force_close()  # do not read the rest of an unwanted body
        return response

    @staticmethod
    def _answer(status: int, body: dict[str, str]) -> web.Response:
        return web.json_response(body, status=status)
