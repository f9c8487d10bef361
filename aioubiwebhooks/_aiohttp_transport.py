"""The transport the session uses by default: one aiohttp connection pool.

It sends each attempt exactly once (no redirects followed, no silent re-sends), reads
the answer body through :class:`~aioubiwebhooks._body.BoundedBody` so that no answer
can make it hold more than the request's ``max_response_size``, and turns aiohttp's
exceptions into the library's connection errors, saying whether the request may have
reached the server.
"""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
from yarl import URL

from ._body import SUPPORTED_ENCODINGS, BodyDecodeError, BoundedBody
from ._transport import HttpRequest, HttpResponse, Transport
from .errors import ApiConnectionError, ApiTimeoutError, TlsError

__all__ = ["AiohttpTransport", "see_every_attempt"]

_ACCEPT_ENCODING = {"Accept-Encoding": SUPPORTED_ENCODINGS}


def see_every_attempt(session: aiohttp.ClientSession) -> None:
    """Stop aiohttp from re-sending a request by itself when a pooled connection drops.

    aiohttp quietly sends an idempotent request (GET, DELETE, ...) a second time when
    the kept-alive connection it used turns out closed. The session must see every
    attempt: to count it, and to know that a DELETE which acted before the drop and
    then meets 404 has done its job. aiohttp has no public switch for this, so this
    is the one place that sets its private ``_retry_connection``;
    ``tests/integration/test_reliability_retries.py`` fails if aiohttp stops honouring it.
    """
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


class AiohttpTransport(Transport):
    """Requests over one aiohttp ``ClientSession``: the session's own, or the caller's.

    ``timeout`` bounds each attempt; ``connection_limit`` caps open connections;
    ``ssl`` is aiohttp's ``ssl`` argument (True: verify with the system's CAs; an
    ``SSLContext`` for a private CA; False: no checks). A caller's ``client_session``
    is used as it is and never closed here.
    """

    def __init__(
        self,
        *,
        timeout: aiohttp.ClientTimeout,
        connection_limit: int = 100,
        ssl: ssl.SSLContext | bool = True,
        client_session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._timeout = timeout
        self._connection_limit = connection_limit
        self._ssl = ssl
        self._session = client_session
        self._owns_session = client_session is None

    def __repr__(self) -> str:
        return f"AiohttpTransport(connection_limit={self._connection_limit})"

    def _client(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or (self._owns_session and session.closed):
            connector = aiohttp.TCPConnector(limit=self._connection_limit, ssl=self._ssl)
            session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers=_ACCEPT_ENCODING
            )
            see_every_attempt(session)
            self._session = session
            self._owns_session = True
        return session

    async def close(self) -> None:
        """Close the connection pool, unless it belongs to the caller."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(self, request: HttpRequest) -> HttpResponse:
        session = self._client()
        headers = request.headers if self._owns_session else {**request.headers, **_ACCEPT_ENCODING}
        failure: ApiConnectionError
        try:
            async with session.request(
                request.method,
                URL(request.url, encoded=True),
                data=request.body,
                headers=headers,
                ssl=self._ssl,
                allow_redirects=False,
                auto_decompress=False,
            ) as answer:
                body, oversized = await _read_body(answer, request.max_response_size)
                reason = answer.reason or ""
                return HttpResponse(answer.status, answer.headers, body, reason, oversized)
        except aiohttp.ClientResponseError as error:
            # Its request_info holds the request headers, Authorization included: raised
            # outside the except block, so not even __context__ keeps it.
            failure = _connection_error(error, request)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _connection_error(error, request) from error
        except BodyDecodeError as error:
            failure = ApiConnectionError(
                f"the answer body cannot be read: {error}", method=request.method, path=request.path
            )
        raise failure


async def _read_body(answer: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The body, decompressed, and whether it went past ``limit`` (reading stops there)."""
    encoding = answer.headers.get("Content-Encoding")
    length = answer.content_length
    if encoding is None and length is not None:
        if length > limit:
            answer.close()
            return b"", True
        return await answer.read(), False  # the common case: a known, allowed length
    collected = BoundedBody(limit, encoding)
    async for chunk in answer.content.iter_any():
        if not collected.feed(chunk):
            answer.close()  # drop the connection rather than read the rest
            break
    return collected.body(), collected.oversized


def _connection_error(error: BaseException, request: HttpRequest) -> ApiConnectionError:
    """The typed error for an attempt that got no answer; ``sent`` says if it may have arrived."""
    method, path = request.method, request.path
    if isinstance(error, aiohttp.ClientSSLError):
        return TlsError(f"TLS handshake failed: {error}", method=method, path=path)
    if isinstance(error, aiohttp.ClientConnectorError):
        reason = getattr(error.os_error, "strerror", None)
        return ApiConnectionError(
            f"cannot connect: {reason or error}", method=method, path=path, sent=False
        )
    if isinstance(error, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        # aiohttp raises ConnectionTimeoutError when the connect timeout ran out; a bare
        # TimeoutError (the total timeout) may have struck after the request was written.
        sent = not isinstance(error, aiohttp.ConnectionTimeoutError)
        return ApiTimeoutError("no answer within the timeout", method=method, path=path, sent=sent)
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return ApiConnectionError(
            "the server closed the connection without answering", method=method, path=path
        )
    return ApiConnectionError(f"{type(error).__name__}: {error}", method=method, path=path)
