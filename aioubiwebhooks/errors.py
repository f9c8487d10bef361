"""Every exception this library raises, in one tree.

::

    UbiOpsError
    ├── ValidationError            bad input, found before any request is sent (also a ValueError)
    ├── ApiError                   the server answered with an error status
    │   ├── BadRequestError        400
    │   ├── AuthenticationError    401
    │   ├── PermissionDeniedError  403
    │   ├── NotFoundError          404
    │   ├── ConflictError          409
    │   ├── RateLimitError         429
    │   ├── ServerError            5xx
    │   ├── RedirectError          3xx: the API does not redirect, so the answer is not followed
    │   ├── ResponseDecodeError    a 2xx answer whose body could not be read as the model
    │   └── ResponseTooLargeError  an answer body longer than the session's max_response_size
    ├── ApiConnectionError         no answer: refused, reset or dropped connection
    │   ├── ApiTimeoutError        no answer within the timeout
    │   └── TlsError               the TLS handshake failed (an untrusted certificate, say)
    ├── NotAttemptedError          an item of a bulk call that was never started (stopped early)
    ├── TestTimeoutError           a webhook test did not finish before the deadline
    ├── TestFailedError            a webhook test finished as failed
    ├── EventTimeoutError          no received delivery matched before the deadline (a TimeoutError)
    ├── ReceiverClosedError        the receiver closed while a wait was still open
    └── PlanBlockedError           a migration needs protected values nobody supplied

Messages name what happened (method, path, status, the server's own message) and
never carry the API token or a protected header value: what a server echoes of them
is replaced by ``<hidden>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ._brief import brief

__all__ = [
    "ApiConnectionError",
    "ApiError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EventTimeoutError",
    "NotAttemptedError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlanBlockedError",
    "RateLimitError",
    "ReceiverClosedError",
    "RedirectError",
    "ResponseDecodeError",
    "ResponseTooLargeError",
    "ServerError",
    "TestFailedError",
    "TestTimeoutError",
    "TlsError",
    "UbiOpsError",
    "ValidationError",
    "api_error_for_status",
]

_MAX_SHOWN_VALUE = 60
_MAX_SHOWN_FIELD = 200
_MAX_BODY_IN_REPR = 200


class UbiOpsError(Exception):
    """Base class of every error raised by aioubiwebhooks."""


def _shorten(value: object) -> str:
    return brief(value, _MAX_SHOWN_VALUE)


class ValidationError(UbiOpsError, ValueError):
    """A value breaks a field rule; raised when the object is built, before any request.

    ``field`` names the field (dotted for nested ones, e.g. ``headers[0].key``),
    ``rule`` states the rule, ``value`` is the offending value unless it is secret, and
    ``webhook`` the name of the webhook it belongs to, when a call takes many.

    A call that checks many items reports every problem at once: ``problems`` holds
    each as a ValidationError of its own (a single problem is its own only one),
    ``summary`` counts them, the message shows the first few, and ``field``, ``rule``
    and ``value`` are those of the first.
    """

    def __init__(
        self,
        field: str,
        rule: str,
        value: object = None,
        *,
        secret: bool = False,
        webhook: str | None = None,
    ):
        self.field = field
        self.rule = rule
        self.value = None if secret else value
        self.secret = secret
        self.webhook = webhook
        self.problems: tuple[ValidationError, ...] = (self,)
        self.summary = "1 problem"
        where = field if len(field) <= _MAX_SHOWN_FIELD else f"{field[:_MAX_SHOWN_FIELD]}..."
        if webhook is not None:
            where += f" (webhook {brief(webhook, 70)})"
        if secret:
            super().__init__(f"{where}: {rule} (got <hidden>)")
        elif value is None:  # a missing value, or a problem with no one value to show
            super().__init__(f"{where}: {rule}")
        else:
            super().__init__(f"{where}: {rule} (got {_shorten(value)})")

    def nested(self, prefix: str, *, webhook: str | None = None) -> ValidationError:
        """The same error with its field placed under ``prefix`` (``headers[0]`` + ``key``),
        and ``webhook`` naming the webhook it belongs to when given."""
        sep = "" if self.field.startswith("[") or not self.field else "."
        return ValidationError(
            f"{prefix}{sep}{self.field}",
            self.rule,
            self.value,
            secret=self.secret,
            webhook=webhook if webhook is not None else self.webhook,
        )

    @classmethod
    def combined(cls, problems: Sequence[ValidationError], summary: str) -> ValidationError:
        """One error for every problem found (``summary`` counts them, as in ``3 of 100
        specs are invalid``); a single problem is raised as it is."""
        if len(problems) == 1:
            return problems[0]
        first = problems[0]
        error = cls(
            first.field, first.rule, first.value, secret=first.secret, webhook=first.webhook
        )
        error.problems = tuple(problems)
        error.summary = summary
        shown = "; ".join(str(p) for p in problems[:MAX_PROBLEMS_IN_MESSAGE])
        more = len(problems) - MAX_PROBLEMS_IN_MESSAGE
        error.args = (f"{summary}: {shown}" + (f"; and {more} more" if more > 0 else ""),)
        return error


MAX_PROBLEMS_IN_MESSAGE = 3
"""Problems a combined ValidationError's message shows; ``problems`` holds them all."""


class ApiError(UbiOpsError):
    """The server answered with an error status.

    Attributes: ``status`` (the HTTP status), ``message`` (the server's own words,
    from ``error`` or ``error_message`` in the body), ``body`` (the raw body text),
    ``method`` and ``path`` of the request, ``attempts`` (how many times it was sent) and
    ``retry_after`` (429 only: the seconds the server said to wait).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        body: str = "",
        method: str = "",
        path: str = "",
        attempts: int = 1,
        retry_after: float | None = None,
    ):
        self.status = status
        self.message = message
        self.body = body
        self.method = method
        self.path = path
        self.attempts = attempts
        self.retry_after = retry_after
        where = f"{method} {path} " if method else ""
        super().__init__(f"{where}-> {status}: {message}")

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= _MAX_BODY_IN_REPR else self.body[:_MAX_BODY_IN_REPR]
        return (
            f"{type(self).__name__}(status={self.status}, message={self.message!r}, "
            f"method={self.method!r}, path={self.path!r}, body={body!r})"
        )


class BadRequestError(ApiError):
    """400: the server refused the request as invalid."""


class AuthenticationError(ApiError):
    """401: the token is missing or not accepted."""


class PermissionDeniedError(ApiError):
    """403: the token may not do this."""


class NotFoundError(ApiError):
    """404: the project, webhook or test does not exist."""


class ConflictError(ApiError):
    """409: a webhook with this name already exists in the project."""


class RateLimitError(ApiError):
    """429: over the rate limit, and waiting longer was not allowed."""


class ServerError(ApiError):
    """5xx: the server failed."""


class ResponseDecodeError(ApiError):
    """The server answered 2xx, but the body is not what the API documents."""


class RedirectError(ApiError):
    """3xx: the server sent the request elsewhere; ``location`` says where.

    The API answers where it is asked and never redirects, so a redirect is not
    followed: it would re-send the token and the request body to another address,
    and an answer from there would pass for the API's own.
    """

    def __init__(self, status: int, message: str, *, location: str | None = None, **kw: Any):
        self.location = location
        super().__init__(status, message, **kw)


class ResponseTooLargeError(ApiError):
    """The answer's body (decompressed) grew past ``limit`` bytes, the session's
    ``max_response_size``; reading stopped there, so no more than that was held."""

    def __init__(self, status: int, message: str, *, limit: int = 0, **kw: Any):
        self.limit = limit
        super().__init__(status, message, **kw)


class ApiConnectionError(UbiOpsError):
    """No answer came back: the connection was refused, reset or dropped.

    ``sent`` tells whether the request may have reached the server; a request that
    was never sent is always safe to repeat.
    """

    def __init__(self, message: str, *, method: str = "", path: str = "", sent: bool = True):
        self.method = method
        self.path = path
        self.sent = sent
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{message}")


class ApiTimeoutError(ApiConnectionError):
    """No answer came back within the timeout."""


class TlsError(ApiConnectionError):
    """The TLS handshake failed: the certificate is not trusted or not for this host.

    Never retried, since asking again meets the same certificate; never sent.
    """

    def __init__(self, message: str, *, method: str = "", path: str = ""):
        super().__init__(message, method=method, path=path, sent=False)


class NotAttemptedError(UbiOpsError):
    """A bulk item that was never started, because the call stopped early.

    ``cause`` is the error that stopped it, when one did: the first failure under
    fail-fast, or an answer showing that every item would fail the same way (a 401, a
    403, a project that does not exist). None when the call was asked to stop.
    """

    def __init__(self, message: str, *, cause: UbiOpsError | None = None) -> None:
        self.cause = cause
        super().__init__(message)


class TestTimeoutError(UbiOpsError):
    """A webhook test was still unfinished at the deadline; ``last_status`` is what was seen."""

    __test__ = False  # not a pytest test class

    def __init__(self, test_id: str, last_status: str | None, timeout: float):
        self.test_id = test_id
        self.last_status = last_status
        self.timeout = timeout
        super().__init__(
            f"webhook test {test_id} still {last_status or 'unknown'} after {timeout:g} s"
        )


class TestFailedError(UbiOpsError):
    """A webhook test finished as ``failed``; ``error_message`` is the server's reason."""

    __test__ = False

    def __init__(self, test_id: str, error_message: str | None, detail: Any = None):
        self.test_id = test_id
        self.error_message = error_message
        self.detail = detail
        super().__init__(f"webhook test {test_id} failed: {error_message or 'no reason given'}")


class EventTimeoutError(UbiOpsError, TimeoutError):
    """No received event matched before the deadline; ``seen`` says how many were checked."""

    def __init__(self, description: str, timeout: float, seen: int) -> None:
        self.description = description
        self.timeout = timeout
        self.seen = seen
        super().__init__(f"no event matched {description} within {timeout:g} s ({_seen(seen)})")


def _seen(count: int) -> str:
    """How many events a wait checked, as both of its errors say it."""
    return f"{count} event{'' if count == 1 else 's'} seen"


class ReceiverClosedError(UbiOpsError):
    """The receiver closed while a ``wait_for`` was still waiting for a match."""

    def __init__(self, description: str, seen: int) -> None:
        self.description = description
        self.seen = seen
        super().__init__(f"receiver closed before an event matched {description} ({_seen(seen)})")


class _BlockedWebhook(Protocol):
    """What PlanBlockedError needs of a blocked plan entry (``migrate.Blocked``)."""

    def describe(self) -> str: ...


MAX_BLOCKED_IN_MESSAGE = 5
"""Blocked webhooks a PlanBlockedError's message names; ``blocked`` holds them all."""


class PlanBlockedError(UbiOpsError):
    """A migration plan needs protected values that are unknown; raised before anything
    is changed.

    ``blocked`` lists every webhook concerned with its headers and unset variables; the
    message names the first few, so it stays short for a plan of thousands.
    """

    def __init__(self, project: str, blocked: Sequence[_BlockedWebhook]):
        self.project = project
        self.blocked = tuple(blocked)
        shown = "; ".join(b.describe() for b in self.blocked[:MAX_BLOCKED_IN_MESSAGE])
        more = len(self.blocked) - MAX_BLOCKED_IN_MESSAGE
        if more > 0:
            shown += f"; and {more} more"
        super().__init__(
            f"nothing was changed in project {project!r}: {len(self.blocked)} webhook(s) "
            f"need protected header values that are unknown: {shown}"
        )


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def api_error_for_status(status: int) -> type[ApiError]:
    """The exception class that stands for an HTTP error status."""
    if status >= 500:
        return ServerError
    if 300 <= status < 400:
        return RedirectError
    return _BY_STATUS.get(status, ApiError)
