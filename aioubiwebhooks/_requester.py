"""One API call over a :class:`~aioubiwebhooks._transport.Transport`: paced, retried, typed.

Knows nothing of webhooks: it sends a method, a path and a body, and returns the
status and body of a successful answer, or raises the typed error that says what
went wrong. Every attempt takes a slot from the session's rate-limit budget first;
what happens after it is decided by :func:`~aioubiwebhooks._protocol.decide`. So
retries, pacing, the size limit and error mapping are the same over any transport.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

import anyio
import attrs

from ._outcome import attempt_counter
from ._protocol import RETURN, CallState, Raise, Retry, WaitForWindow, decide, excerpt_of
from ._ratelimit import Pacer, RateLimitHeaders
from ._redact import redact, secret_forms
from ._retry import RetryOn, RetryPolicy
from ._transport import DEFAULT_MAX_RESPONSE_SIZE, HttpRequest, HttpResponse, Transport
from .errors import ApiConnectionError

__all__ = ["Requester", "Response"]

logger = logging.getLogger("aioubiwebhooks")


@attrs.define
class Response:
    """A successful answer: its status, body and how many attempts it took (built for
    every call, so a plain attrs class; nothing changes it).

    ``secrets`` are what the call must not show (its token, protected values):
    :meth:`hide` and :meth:`excerpt` keep them out of error messages.
    """

    status: int
    body: bytes
    attempts: int
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)

    def hide(self, text: str) -> str:
        """``text`` with every secret of the call replaced by ``<hidden>``."""
        return redact(text, secret_forms(self.secrets))

    def excerpt(self) -> str:
        """The start of the body as text, for an error, secrets hidden."""
        return excerpt_of(self.body, self.hide)


class Requester:
    """Sends the session's calls: one base URL, one token, one budget, one transport."""

    def __init__(
        self,
        base_url: str,
        authorization: str,
        *,
        transport: Transport,
        retry: RetryPolicy,
        pacer: Pacer,
        user_agent: str,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._authorization = authorization
        self.transport = transport
        self.pacer = pacer
        self._retry = retry
        self._max_response_size = max_response_size
        self._headers = {"Authorization": authorization, "User-Agent": user_agent}
        self._json_headers = {"Content-Type": "application/json", **self._headers}
        self._tokens = (authorization, authorization.split(" ", 1)[-1])

    def __repr__(self) -> str:
        return f"Requester(base_url={self._base!r}, authorization=<hidden>, {self.transport!r})"

    async def close(self) -> None:
        """Close the transport."""
        await self.transport.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        retry_on: RetryOn = RetryOn.TRANSIENT,
        secrets: Iterable[str] = (),
    ) -> Response:
        """Send, retrying as ``retry_on`` allows; return a 2xx answer or raise a typed error.

        ``secrets`` are protected values in ``body``: an error never shows them.
        """
        url = self._base + path
        if params:
            url += "?" + urlencode(params)
        request = HttpRequest(
            method,
            url,
            self._json_headers if body is not None else self._headers,
            body,
            path=path,
            max_response_size=self._max_response_size,
        )
        hidden = (*self._tokens, *secrets) if secrets else self._tokens
        pacer, transport, policy = self.pacer, self.transport, self._retry
        attempts = retries = 0
        waited = 0.0
        counter = attempt_counter()
        while True:
            attempts += 1
            if counter is not None:
                counter[0] += 1
            ticket = await pacer.acquire()
            started = time.monotonic()
            result: HttpResponse | ApiConnectionError
            limits: RateLimitHeaders | None = None
            wait = 0.0
            try:
                result = await transport.send(request)
            except ApiConnectionError as failure:
                pacer.release(ticket, None, answered=False)
                result = failure
            except BaseException:
                pacer.release(ticket, None, answered=False)  # also when cancelled
                raise
            else:
                if len(result.body) > request.max_response_size and not result.oversized:
                    result = attrs.evolve(result, oversized=True)
                limits = pacer.headers(result.headers)
                status = result.status
                if status == 429:
                    wait = pacer.rate_limited(ticket, limits)
                else:
                    pacer.release(ticket, limits, answered=True)
                    if 200 <= status < 300 and not result.oversized:
                        # The common case, as decide() would have it: no decision built.
                        if logger.isEnabledFor(logging.DEBUG):
                            self._log(request, result, started, attempts)
                        return Response(status, result.body, attempts, hidden)
            if logger.isEnabledFor(logging.DEBUG):
                self._log(request, result, started, attempts)
            call = CallState(
                method, path, retry_on, attempts, retries, waited, hidden, request.max_response_size
            )
            decision = decide(
                call,
                result,
                policy,
                limits=limits,
                rate_limit_wait=wait,
            )
            if decision is RETURN:
                assert isinstance(result, HttpResponse)
                return Response(result.status, result.body, attempts, hidden)
            if isinstance(decision, Raise):
                del result  # the error keeps an excerpt; this frame need not keep the body
                raise decision.error
            if isinstance(decision, Retry):
                retries += 1
                await anyio.sleep(decision.delay)
            elif isinstance(decision, WaitForWindow):
                waited += decision.wait  # the pacer holds the next attempt until the window

    @staticmethod
    def _log(
        request: HttpRequest,
        result: HttpResponse | ApiConnectionError,
        started: float,
        attempt: int,
    ) -> None:
        """Log one attempt at DEBUG (the caller checks that DEBUG is on: a call saved)."""
        elapsed = (time.monotonic() - started) * 1000
        outcome = result.status if isinstance(result, HttpResponse) else type(result).__name__
        logger.debug(
            "%s %s -> %s in %.1f ms (attempt %d)",
            request.method,
            request.path,
            outcome,
            elapsed,
            attempt,
        )
