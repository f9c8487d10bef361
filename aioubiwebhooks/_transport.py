"""HTTP for the session: aiohttp, timeouts, retries, pacing, error mapping, logging.

Knows nothing of webhooks: it sends a method, a path and a body, and returns the
status and body of a successful answer, or raises the typed error that says
what went wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
from yarl import URL

from ._outcome import attempt_counter
from ._ratelimit import Pacer, parse_rate_limit_headers
from ._retry import RETRYABLE_STATUSES, RetryOn, RetryPolicy
from .errors import (
    ApiConnectionError,
    ApiTimeoutError,
    RateLimitError,
    api_error_for_status,
)

__all__ = ["Response", "Transport", "error_message_from_body"]

logger = logging.getLogger("aioubiwebhooks")

_JSON_HEADERS = {"Content-Type": "application/json"}

_MAX_MESSAGE = 500


@attrs.frozen
class Response:
    """A successful answer: its status, body and how many attempts it took."""

    status: int
    body: bytes
    attempts: int


def error_message_from_body(body: bytes, reason: str) -> str:
    """The server's own words from ``{"error": ...}`` or ``{"error_message": ...}``."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        text = body[:_MAX_MESSAGE].decode("utf-8", "replace").strip()
        return text or reason
    if isinstance(data, dict):
        for key in ("error", "error_message", "detail", "message"):
            if key in data and data[key] not in (None, ""):
                message = data[key]
                text = message if isinstance(message, str) else json.dumps(message)
                return text[:_MAX_MESSAGE]
        if data:  # validation errors keyed by field
            return json.dumps(data)[:_MAX_MESSAGE]
    return reason


class Transport:
    """One connection pool, one rate-limit budget, and the retry loop around every request."""

    def __init__(
        self,
        base_url: str,
        authorization: str,
        *,
        timeout: aiohttp.ClientTimeout,
        retry: RetryPolicy,
        pacer: Pacer,
        client_session: aiohttp.ClientSession | None = None,
        connection_limit: int = 100,
        user_agent: str = "aioubiwebhooks",
        ssl: Any = True,
    ):
        self._base = base_url.rstrip("/")
        self._authorization = authorization
        self._timeout = timeout
        self._retry = retry
        self.pacer = pacer
        self._owns_session = client_session is None
        self._session = client_session
        self._connection_limit = connection_limit
        self._headers = {"Authorization": authorization, "User-Agent": user_agent}
        self._json_headers = _JSON_HEADERS | self._headers
        self._ssl = ssl

    def __repr__(self) -> str:
        return f"Transport(base_url={self._base!r}, authorization=<hidden>)"

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owns_session and self._session.closed):
            connector = aiohttp.TCPConnector(limit=self._connection_limit, ssl=self._ssl)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
            self._owns_session = True
            # aiohttp quietly re-sends an idempotent request once when a pooled connection
            # drops; the retry loop here must see every attempt (to count it, and so that a
            # DELETE that acted before the drop is recognised when it meets 404).
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def close(self) -> None:
        """Close the connection pool, unless it belongs to the caller."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        retry_on: RetryOn = RetryOn.TRANSIENT,
    ) -> Response:
        """Send, retrying as ``retry_on`` allows; return a 2xx answer or raise a typed error."""
        url = URL(self._base + path, encoded=True)
        if params:
            url = url.with_query(params)
        headers = self._json_headers if body is not None else self._headers
        session = self._client()
        pacer = self.pacer
        attempt = 0
        rate_limit_waited = 0.0
        retries = 0
        counter = attempt_counter()
        while True:
            attempt += 1
            if counter is not None:
                counter[0] += 1
            await pacer.acquire()
            started = time.monotonic()
            limits = None
            answered = False
            failure: ApiConnectionError | None = None
            cause: BaseException | None = None
            try:
                async with session.request(
                    method, url, data=body, headers=headers, ssl=self._ssl
                ) as answer:
                    status = answer.status
                    limits = parse_rate_limit_headers(answer.headers)
                    reason = answer.reason or ""
                    data = await answer.read()
                answered = True
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                failure, cause = _transport_error(error, method, path), error
            finally:
                pacer.release(limits, answered=answered)  # also when cancelled
            if failure is not None:
                self._log(method, path, type(failure).__name__, started, attempt)
                if retries < self._retry.max_retries and _may_retry(cause, failure, retry_on):
                    retries += 1
                    await asyncio.sleep(self._retry.backoff(retries))
                    continue
                if isinstance(cause, aiohttp.ClientResponseError):
                    # Its request_info holds the request headers, Authorization included:
                    # raised outside the except block, so not even __context__ keeps it.
                    raise failure
                raise failure from cause
            self._log(method, path, status, started, attempt)
            if status < 400:
                return Response(status, data, attempt)
            if status == 429:
                wait = pacer.rate_limited(limits)
                if rate_limit_waited + wait <= self._retry.max_rate_limit_wait:
                    rate_limit_waited += wait
                    continue  # the pacer holds the next attempt until the reset
            error_class = api_error_for_status(status)
            if (
                retry_on is RetryOn.TRANSIENT
                and status in RETRYABLE_STATUSES
                and status != 429
                and retries < self._retry.max_retries
            ):
                retries += 1
                await asyncio.sleep(self._retry.backoff(retries))
                continue
            raise error_class(
                status,
                error_message_from_body(data, reason),
                body=data[:2000].decode("utf-8", "replace"),
                method=method,
                path=path,
                attempts=attempt,
                retry_after=limits.reset if limits and error_class is RateLimitError else None,
            )

    @staticmethod
    def _log(method: str, path: str, outcome: object, started: float, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = (time.monotonic() - started) * 1000
            logger.debug(
                "%s %s -> %s in %.1f ms (attempt %d)", method, path, outcome, elapsed, attempt
            )


def _transport_error(error: BaseException, method: str, path: str) -> ApiConnectionError:
    """The typed error for a request that got no answer; ``sent`` says if it may have arrived."""
    if isinstance(error, aiohttp.ClientConnectorError):
        try:
            reason = error.os_error.strerror
        except AttributeError:  # a certificate error has no os_error before aiohttp 3.12
            reason = None
        return ApiConnectionError(
            f"cannot connect: {reason or error}",
            method=method,
            path=path,
            sent=False,
        )
    if isinstance(error, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        sent = not isinstance(error, aiohttp.ConnectionTimeoutError)
        return ApiTimeoutError("no answer within the timeout", method=method, path=path, sent=sent)
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return ApiConnectionError(
            "the server closed the connection without answering", method=method, path=path
        )
    return ApiConnectionError(f"{type(error).__name__}: {error}", method=method, path=path)


def _may_retry(cause: BaseException | None, failure: ApiConnectionError, retry_on: RetryOn) -> bool:
    """A request without an answer is repeated unless TLS refused it or it may have acted."""
    if isinstance(cause, aiohttp.ClientSSLError):
        return False  # a certificate problem does not go away by asking again
    return retry_on is RetryOn.TRANSIENT or not failure.sent
