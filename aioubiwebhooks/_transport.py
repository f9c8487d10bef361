"""The HTTP interface under the session: send one request attempt, return its answer.

A :class:`Transport` knows nothing of webhooks, retries, pacing or error statuses. It
sends one :class:`HttpRequest` and returns the :class:`HttpResponse` whatever its
status, or raises :class:`~aioubiwebhooks.ApiConnectionError` (saying whether the
request may have been sent) when no answer came. Retries, the rate-limit budget and
the mapping of statuses to errors live above it, in the session, so they work the
same over every transport:

- the aiohttp transport the session builds by default (``_aiohttp_transport``);
- :class:`MockTransport`, a function from request to response, for tests that need
  answers no real server gives on demand (in the manner of httpx's ``MockTransport``).
"""

from __future__ import annotations

import abc
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "Handler",
    "HttpRequest",
    "HttpResponse",
    "MockTransport",
    "Transport",
]

DEFAULT_MAX_RESPONSE_SIZE: Final = 64 * 1024 * 1024
"""The largest answer body (decompressed) a session reads: 64 MiB. A list of 10,000
webhooks takes about 10 MB."""


@attrs.frozen(repr=False)
class HttpRequest:
    """One request attempt as the transport sends it.

    ``url`` is absolute with its query string; ``path`` is the part below the API's
    base URL (``/projects/demo/webhooks``), which error messages name. ``headers`` hold
    the token, so the repr leaves them (and the body, which may hold protected values)
    out. A transport stops reading an answer body once it is longer than
    ``max_response_size`` bytes.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    path: str = attrs.field(default="", kw_only=True)
    max_response_size: int = attrs.field(default=DEFAULT_MAX_RESPONSE_SIZE, kw_only=True)

    def json(self) -> Any:
        """The body read as JSON (None without a body)."""
        return None if self.body is None else json.loads(self.body)

    def __repr__(self) -> str:
        size = "no body" if self.body is None else f"{len(self.body)} bytes"
        return f"HttpRequest({self.method} {self.url}, {size})"


@attrs.frozen(repr=False)
class HttpResponse:
    """One answer: status, headers (looked up without regard to case), body, reason.

    ``oversized`` says that the body grew past the request's ``max_response_size``
    and the transport stopped reading it (``body`` then holds at most that much).
    """

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    reason: str = ""
    oversized: bool = False

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """An answer carrying ``data`` as JSON, for a :class:`MockTransport` handler."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        return cls(status, all_headers, json.dumps(data).encode())

    def __repr__(self) -> str:
        return f"HttpResponse({self.status}, {len(self.body)} bytes)"


class Transport(abc.ABC):
    """Sends one request attempt and returns the answer, whatever its status.

    ``send`` raises :class:`~aioubiwebhooks.ApiConnectionError` (or its subclasses
    ``ApiTimeoutError`` and ``TlsError``) when no answer came, with ``sent=False`` only
    where the request certainly never reached the server. It follows no redirects
    and repeats nothing: the session decides what happens next.
    """

    @abc.abstractmethod
    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` once and return the answer."""

    async def close(self) -> None:  # noqa: B027 - closing is optional for a transport
        """Release what the transport holds (connections); the default holds nothing."""


Handler = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
"""What :class:`MockTransport` calls for each request: plain or ``async``."""


class MockTransport(Transport):
    """A transport that answers every request with ``handler(request)``, in memory.

    For tests: script statuses, bodies and headers, or raise ``ApiConnectionError``
    to stand for a dropped connection. The session's retries, pacing, size limit
    and error mapping all apply, as over the network::

        def handler(request: HttpRequest) -> HttpResponse:
            return HttpResponse.json({"error": "busy"}, status=503)

        WebhooksSession("token", transport=MockTransport(handler))
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def send(self, request: HttpRequest) -> HttpResponse:
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if not isinstance(answer, HttpResponse):
            raise TypeError(f"the handler must return an HttpResponse, got {answer!r:.80}")
        if not isinstance(answer.headers, (CIMultiDict, CIMultiDictProxy)):
            answer = attrs.evolve(answer, headers=CIMultiDictProxy(CIMultiDict(answer.headers)))
        return answer

    def __repr__(self) -> str:
        return f"MockTransport({getattr(self.handler, '__name__', 'handler')})"
