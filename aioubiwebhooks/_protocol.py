"""What to do after one attempt of a call: return, retry, wait for the window, or raise.

A pure function of what the call has been through and what the attempt brought
back (an answer, or the connection error that stands for none), so every rule is
tested as a table without sockets. The requester (``_requester``) runs the loop
around it: pacing, sending through the transport, sleeping.

The rules, in the order they are applied:

- no answer: retried while retries are left, if the request may be repeated (any
  call under ``RetryOn.TRANSIENT``; under ``RetryOn.UNSENT`` only a request that was
  certainly never sent) and TLS did not refuse it;
- a 2xx answer is returned, unless its body went past the size limit;
- a 3xx is never followed (the API does not redirect): :class:`RedirectError`;
- a 429 waits for the window without using a retry, while the call's total wait stays
  within ``max_rate_limit_wait``; a server asking for longer fails the call at once;
- 408, 502, 503 and 504 are retried under ``RetryOn.TRANSIENT``; every other status
  raises its typed error, with the server's message and any secret the call sent hidden.
"""

from __future__ import annotations

import json
import random

import attrs

from ._ratelimit import RateLimitHeaders
from ._redact import redact
from ._retry import RetryOn, RetryPolicy
from ._transport import DEFAULT_MAX_RESPONSE_SIZE, HttpResponse
from .errors import (
    ApiConnectionError,
    ApiError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    TlsError,
    UbiOpsError,
    api_error_for_status,
)

__all__ = [
    "RETRY_STATUSES",
    "RETURN",
    "CallState",
    "Decision",
    "Raise",
    "Retry",
    "Return",
    "WaitForWindow",
    "api_error",
    "decide",
    "error_message_from_body",
]

RETRY_STATUSES = frozenset({408, 502, 503, 504})
"""Error statuses after which the same request may succeed (429 has rules of its own)."""

MAX_MESSAGE = 500
"""The longest server message an error repeats."""

MAX_EXCERPT = 2000
"""The longest excerpt of an answer body an error keeps."""


@attrs.frozen
class CallState:
    """What one call has been through, up to and including the attempt being judged.

    ``secrets`` are the forms of every secret the call sent (see ``_redact.secret_forms``),
    hidden from whatever the server's answer puts into an error.
    """

    method: str
    path: str
    retry_on: RetryOn = RetryOn.TRANSIENT
    attempts: int = 1
    retries: int = 0
    rate_limit_waited: float = 0.0
    secrets: tuple[str, ...] = ()
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE


@attrs.frozen
class Return:
    """The answer is the call's result."""


@attrs.frozen
class Retry:
    """Send again after ``delay`` seconds; uses one of the call's retries."""

    delay: float


@attrs.frozen
class WaitForWindow:
    """A 429: send again once the budget allows (the pacer holds the request ``wait``
    seconds); uses no retry."""

    wait: float


@attrs.frozen
class Raise:
    """The call fails with ``error``."""

    error: UbiOpsError


Decision = Return | Retry | WaitForWindow | Raise

RETURN = Return()


def decide(
    call: CallState,
    result: HttpResponse | ApiConnectionError,
    policy: RetryPolicy,
    *,
    limits: RateLimitHeaders | None = None,
    rate_limit_wait: float = 0.0,
    rng: random.Random | None = None,
) -> Decision:
    """The next step after an attempt; ``rate_limit_wait`` is what the budget imposed
    after a 429 (``Pacer.rate_limited``), ``limits`` what the answer's headers said."""
    if isinstance(result, ApiConnectionError):
        if _may_repeat(result, call.retry_on) and call.retries < policy.max_retries:
            return Retry(policy.backoff(call.retries + 1, rng))
        return Raise(result)
    status = result.status
    if 200 <= status < 300 and not result.oversized:
        return RETURN
    if status == 429 and not result.oversized:
        refused = limits.refused if limits is not None else None
        usable = limits is not None and (limits.reset is not None or limits.retry_after is not None)
        if refused is not None and not usable:
            return Raise(api_error(call, result, retry_after=refused))
        if call.rate_limit_waited + rate_limit_wait > policy.max_rate_limit_wait:
            return Raise(api_error(call, result, retry_after=rate_limit_wait))
        return WaitForWindow(rate_limit_wait)
    if (
        status in RETRY_STATUSES
        and call.retry_on is RetryOn.TRANSIENT
        and call.retries < policy.max_retries
        and not result.oversized
    ):
        return Retry(policy.backoff(call.retries + 1, rng))
    return Raise(api_error(call, result))


def _may_repeat(failure: ApiConnectionError, retry_on: RetryOn) -> bool:
    """A request without an answer is repeated unless TLS refused it or it may have acted."""
    if isinstance(failure, TlsError):
        return False  # a certificate problem does not go away by asking again
    return retry_on is RetryOn.TRANSIENT or not failure.sent


def api_error(
    call: CallState, answer: HttpResponse, *, retry_after: float | None = None
) -> ApiError:
    """The typed error for an answer that is not the call's result, secrets hidden."""
    secrets = call.secrets
    status = answer.status
    excerpt = redact(answer.body[:MAX_EXCERPT].decode("utf-8", "replace"), secrets)
    if answer.oversized:
        return ResponseTooLargeError(
            status,
            f"the answer body is larger than {call.max_response_size:,} bytes "
            "(max_response_size); reading stopped there",
            limit=call.max_response_size,
            body=excerpt,
            method=call.method,
            path=call.path,
            attempts=call.attempts,
        )
    if 300 <= status < 400:
        location = answer.headers.get("location")
        shown = None if location is None else redact(location, secrets)
        return RedirectError(
            status,
            f"redirected to {shown or '(no Location)'}; the API does not redirect, "
            "so it was not followed",
            location=shown,
            body=excerpt,
            method=call.method,
            path=call.path,
            attempts=call.attempts,
        )
    message = redact(error_message_from_body(answer.body, answer.reason), secrets)
    error_class = api_error_for_status(status)
    if error_class is not RateLimitError:
        retry_after = None
    return error_class(
        status,
        message,
        body=excerpt,
        method=call.method,
        path=call.path,
        attempts=call.attempts,
        retry_after=retry_after,
    )


def error_message_from_body(body: bytes, reason: str) -> str:
    """The server's own words from ``{"error": ...}`` or ``{"error_message": ...}``."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        text = body[:MAX_MESSAGE].decode("utf-8", "replace").strip()
        return text or reason
    if isinstance(data, dict):
        for key in ("error", "error_message", "detail", "message"):
            if key in data and data[key] not in (None, ""):
                message = data[key]
                text = message if isinstance(message, str) else json.dumps(message)
                return text[:MAX_MESSAGE]
        if data:  # validation errors keyed by field
            return json.dumps(data)[:MAX_MESSAGE]
    return reason
