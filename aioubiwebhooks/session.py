"""``WebhooksSession``: one coroutine per endpoint of the UbiOps webhooks API.

Method names and argument order follow the official ``ubiops`` client, so its
users find every call where they expect it; here each is a coroutine, accepts a
model or a plain dict, and returns frozen, typed models. HTTP details stay out of
this module; it only knows the endpoints and their rules.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
import attrs

from . import _polling, _wire, bulk
from ._aiohttp_transport import AiohttpTransport
from ._arrivals import DeliverySource
from ._compare import stored_differences
from ._lifecycle import AsyncClosing
from ._outcome import Outcome
from ._polling import PollSchedule
from ._ratelimit import Pacer, Pacing
from ._requester import Requester, Response
from ._retry import RetryOn, RetryPolicy
from ._rules import rule
from ._transport import DEFAULT_MAX_RESPONSE_SIZE, Transport
from ._version import __version__
from .errors import ConflictError, NotFoundError, ResponseDecodeError, ValidationError
from .events import WebhookEvent
from .models import (
    EventType,
    ObjectType,
    WebhookCreate,
    WebhookDetail,
    WebhookTestCreate,
    WebhookTestDetail,
    WebhookUpdate,
)

__all__ = [
    "DEFAULT_HOST",
    "InsecureTransportWarning",
    "WebhooksSession",
    "labels_query",
    "webhook_test_spec",
]

DEFAULT_HOST = "https://api.ubiops.com/v2.1"
"""The API used when neither ``host`` nor ``UBIOPS_API_HOST`` is given."""
DEFAULT_TIMEOUT = 30.0
_VERSION_SUFFIX = re.compile(r"/v\d+(\.\d+)?$")
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # not allowed in a header value

_M = TypeVar("_M", WebhookCreate, WebhookUpdate, WebhookTestCreate)
_PATH_SEGMENT = rule("path.segment")
_LABELS_FILTER = rule("labels_filter.format")
_OBJECT_TYPE_CHOICE = rule("object_type.choice")
_EVENT_CHOICE = rule("event.choice")
_T = TypeVar("_T")


class InsecureTransportWarning(UserWarning):
    """The token is about to travel over plain http to a host that is not this machine."""


def _normalise_token(token: str | None) -> str:
    token = token if token is not None else os.environ.get("UBIOPS_API_TOKEN")
    if token is None or not token.strip():
        raise ValidationError(
            "token", "is required: pass token=... or set UBIOPS_API_TOKEN", None, secret=True
        )
    token = token.strip()
    if _CONTROL.search(token):
        raise ValidationError("token", "must not contain control characters", None, secret=True)
    if token.lower().startswith("token "):
        return "Token " + token[6:].strip()
    return "Token " + token


def _normalise_host(host: str | None) -> str:
    host = (host or os.environ.get("UBIOPS_API_HOST") or DEFAULT_HOST).strip().rstrip("/")
    if "://" not in host:
        host = "https://" + host
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("host", "must be an http(s) URL such as " + DEFAULT_HOST, host)
    if not _VERSION_SUFFIX.search(parts.path):
        host += "/v2.1"
    return host


def _client_timeout(timeout: float | aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    """Seconds per attempt as aiohttp's timeouts.

    Connecting (waiting for a free pooled connection included) may take half of it, so
    that running out of time there is seen as such: a request never sent is safe to repeat.
    """
    if isinstance(timeout, aiohttp.ClientTimeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValidationError("timeout", "must be a positive number of seconds", timeout)
    return aiohttp.ClientTimeout(total=float(timeout), connect=float(timeout) / 2)


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _segment(field: str, value: object) -> str:
    """A path segment, checked and URL-escaped (a ``/`` in a name cannot change the route)."""
    if type(value) is str and _PLAIN_SEGMENT.fullmatch(value) and value.strip("."):
        return value  # nothing to escape
    if not isinstance(value, str) or not value:
        raise ValidationError(field, _PATH_SEGMENT.text, value)
    if not value.strip("."):
        return value.replace(".", "%2E")  # "." and ".." would walk the path
    return quote(value, safe="")


def _as_model(data: object, kind: type[_M]) -> _M:
    if isinstance(data, kind):
        return data
    return kind.from_dict(data)


def labels_query(labels: Mapping[str, str] | str) -> str:
    """Labels as the API's ``k:v,k2:v2`` filter; a dict's keys and values must fit that form."""
    if isinstance(labels, str):
        return labels
    parts = []
    for key, value in labels.items():
        for part in (key, value):
            broken = not isinstance(part, str) or not part or any(c in part for c in ",:")
            if broken and _LABELS_FILTER.enforced:
                raise ValidationError(f"labels[{key!r}]", _LABELS_FILTER.text, part)
        parts.append(f"{key}:{value}")
    return ",".join(parts)


class WebhooksSession(AsyncClosing):
    """An authenticated connection to the UbiOps webhooks API; use it as ``async with``.

    ``token`` and ``host`` fall back to ``UBIOPS_API_TOKEN`` and ``UBIOPS_API_HOST``
    (default host ``https://api.ubiops.com/v2.1``). A token works with or without its
    ``Token`` prefix. ``timeout`` is seconds per attempt or an ``aiohttp.ClientTimeout``;
    ``max_retries`` or a full ``retry`` policy say how failed calls are repeated;
    ``pacing`` shares the server's rate-limit budget between all calls (``"auto"``),
    turns it off (``"off"``, 429s are still honoured) or sets a fixed rate per second.
    ``client_session`` wraps a caller's own ``aiohttp.ClientSession`` (not closed here).
    ``connection_limit`` caps open connections (100); ``verify_tls`` takes an
    ``ssl.SSLContext`` (for a private CA) or ``False`` to turn certificate checks off;
    ``user_agent`` replaces the default User-Agent.

    ``max_response_size`` caps an answer's body in bytes, after decompression (64 MiB):
    reading stops there, and the call raises ResponseTooLargeError. Redirects are
    never followed (the API does not redirect): a 3xx raises RedirectError.

    ``transport`` replaces the HTTP layer, for example with a
    :class:`~aioubiwebhooks.MockTransport` in tests; ``timeout``, ``connection_limit``
    and ``verify_tls`` belong to the default aiohttp transport and are not used with it
    (nor can ``client_session`` be given). Retries, pacing, the size limit and the
    mapping of errors apply over any transport.
    """

    def __init__(
        self,
        token: str | None = None,
        host: str | None = None,
        *,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        pacing: Pacing = "auto",
        client_session: aiohttp.ClientSession | None = None,
        connection_limit: int = 100,
        verify_tls: bool | ssl.SSLContext = True,
        user_agent: str | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        transport: Transport | None = None,
    ):
        authorization = _normalise_token(token)
        self.host = _normalise_host(host)
        """The API base URL in use, version included."""
        parts = urlsplit(self.host)
        if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
            warnings.warn(
                f"sending the API token over plain http to {parts.hostname}; use https",
                InsecureTransportWarning,
                stacklevel=2,
            )
        if retry is None:
            retry = RetryPolicy() if max_retries is None else RetryPolicy(max_retries=max_retries)
        elif max_retries is not None:
            raise ValueError("give either max_retries or retry, not both")
        if isinstance(max_response_size, bool) or not (
            isinstance(max_response_size, int) and max_response_size > 0
        ):
            raise ValidationError(
                "max_response_size", "must be a positive number of bytes", max_response_size
            )
        if user_agent is not None and _CONTROL.search(user_agent):
            raise ValidationError("user_agent", "must not contain control characters", user_agent)
        if transport is None:
            transport = AiohttpTransport(
                timeout=_client_timeout(timeout),
                connection_limit=connection_limit,
                ssl=verify_tls,
                client_session=client_session,
            )
        elif client_session is not None:
            raise ValueError("give either transport or client_session, not both")
        self.retry = retry
        """The session's retry policy."""
        self._transport = Requester(
            self.host,
            authorization,
            transport=transport,
            retry=retry,
            pacer=Pacer(pacing, max_wait=retry.max_rate_limit_wait),
            user_agent=user_agent or f"aioubiwebhooks/{__version__}",
            max_response_size=max_response_size,
        )
        self._webhooks_read = _wire.SharedHeaders()

    def __repr__(self) -> str:
        return f"WebhooksSession(host={self.host!r}, token=<hidden>)"

    async def close(self) -> None:
        """Close the connection pool (a caller's own ``client_session`` is left open)."""
        await self._transport.close()

    @property
    def pacer(self) -> Pacer:
        """The session's shared rate-limit budget (read it to see what the server reported)."""
        return self._transport.pacer

    # --- webhooks -------------------------------------------------------------------------

    async def webhooks_create(
        self, project_name: str, data: WebhookCreate | Mapping[str, Any]
    ) -> WebhookDetail:
        """Create a webhook.

        Safe to retry: names are unique, so a retry that meets 409 fetches the stored
        webhook and returns it when it matches ``data`` (else ConflictError).
        """
        spec = _as_model(data, WebhookCreate)
        path = f"/projects/{_segment('project_name', project_name)}/webhooks"
        try:
            answer = await self._transport.request(
                "POST",
                path,
                body=_wire.to_body(_wire.create_json(spec)),
                secrets=_protected_values(spec),
            )
        except ConflictError as conflict:
            if conflict.attempts <= 1:
                raise
            existing, changed = await stored_differences(self, project_name, spec)
            if changed:
                raise
            return existing
        return self._decode(answer, self._webhooks_read.webhook, "POST", path)

    async def webhooks_get(self, project_name: str, webhook_name: str) -> WebhookDetail:
        """Get one webhook by name."""
        path = self._webhook_path(project_name, webhook_name)
        answer = await self._transport.request("GET", path)
        return self._decode(answer, self._webhooks_read.webhook, "GET", path)

    async def webhooks_list(
        self,
        project_name: str,
        labels: Mapping[str, str] | str | None = None,
        object_type: ObjectType | str | None = None,
        event: EventType | str | None = None,
    ) -> list[WebhookDetail]:
        """List a project's webhooks; every given filter must match (all labels included)."""
        path = f"/projects/{_segment('project_name', project_name)}/webhooks"
        params: dict[str, str] = {}
        if labels:
            params["labels"] = labels_query(labels)
        if object_type is not None:
            params["object_type"] = _enum_value(ObjectType, "object_type", object_type)
        if event is not None:
            params["event"] = _enum_value(EventType, "event", event)
        answer = await self._transport.request("GET", path, params=params or None)
        try:
            return _wire.decode_webhooks(answer.body)
        except _wire.DecodeError as error:
            raise _decode_error(error, answer, "GET", path) from None

    async def webhooks_update(
        self, project_name: str, webhook_name: str, data: WebhookUpdate | Mapping[str, Any]
    ) -> WebhookDetail:
        """Change the fields set in ``data``; a protected header with value None keeps its value."""
        update = _as_model(data, WebhookUpdate)
        path = self._webhook_path(project_name, webhook_name)
        answer = await self._transport.request(
            "PATCH",
            path,
            body=_wire.to_body(_wire.update_json(update)),
            secrets=_protected_values(update),
        )
        return self._decode(answer, self._webhooks_read.webhook, "PATCH", path)

    async def webhooks_delete(self, project_name: str, webhook_name: str) -> None:
        """Delete a webhook. A retried delete that meets 404 has done its job."""
        path = self._webhook_path(project_name, webhook_name)
        try:
            await self._transport.request("DELETE", path)
        except NotFoundError as missing:
            if missing.attempts <= 1:
                raise

    # --- webhook tests --------------------------------------------------------------------

    async def webhook_tests_create(
        self, project_name: str, data: WebhookTestCreate | Mapping[str, Any]
    ) -> WebhookTestDetail:
        """Start a webhook test: the server sends one delivery to ``data.url``.

        Retried only where the server cannot have acted (no connection, or 429):
        a repeat would send a second delivery.
        """
        spec = _as_model(data, WebhookTestCreate)
        path = f"/projects/{_segment('project_name', project_name)}/webhooks-tests"
        answer = await self._transport.request(
            "POST",
            path,
            body=_wire.to_body(_wire.webhook_test_create_json(spec)),
            retry_on=RetryOn.UNSENT,
            secrets=_protected_values(spec),
        )
        return self._decode(answer, _wire.webhook_test_from_json, "POST", path)

    async def webhook_tests_get(self, project_name: str, test_id: str) -> WebhookTestDetail:
        """Get a webhook test: ``pending``, ``completed`` or ``failed`` (with its error)."""
        path = (
            f"/projects/{_segment('project_name', project_name)}"
            f"/webhooks-tests/{_segment('test_id', test_id)}"
        )
        answer = await self._transport.request("GET", path)
        return self._decode(answer, _wire.webhook_test_from_json, "GET", path)

    # --- waiting for tests ----------------------------------------------------------------

    async def await_test(
        self,
        project_name: str,
        test_id: str,
        *,
        timeout: float = 60.0,
        schedule: PollSchedule | None = None,
        raise_on_failure: bool = False,
        receiver: DeliverySource | None = None,
        matches: Callable[[WebhookEvent], bool] | None = None,
        **deprecated_poll_settings: float,
    ) -> WebhookTestDetail:
        """Poll a webhook test until it is ``completed`` or ``failed``, and return it.

        ``schedule`` says how often to ask (``PollSchedule()`` by default). When the
        test delivers to a :class:`~aioubiwebhooks.WebhookReceiver` of this process,
        pass it as ``receiver``: each delivery reaching it brings the next poll forward
        (to about 20 ms after it), and the schedule becomes a slow fallback for a
        delivery that never comes. Where several tests deliver to one receiver, say
        which delivery is this test's with ``matches`` (a predicate on the
        :class:`~aioubiwebhooks.WebhookEvent`; any delivery counts by default), or each
        delivery sets every wait polling. The receiver's own readers still get every event.
        Raises TestTimeoutError past ``timeout`` seconds (carrying the last status seen)
        and, with ``raise_on_failure``, TestFailedError carrying the server's message.
        The loose ``initial_delay``, ``max_delay``, ``factor`` and ``jitter`` keyword
        arguments still work but are deprecated: they build a ``PollSchedule``.
        """
        return await _polling.final_status(
            _polling.watch_test(
                self,
                project_name,
                test_id,
                timeout=timeout,
                schedule=_polling.schedule_from(
                    schedule, deprecated_poll_settings, caller="await_test"
                ),
                raise_on_failure=raise_on_failure,
                receiver=receiver,
                matches=matches,
            )
        )

    def watch_test(
        self,
        project_name: str,
        test_id: str,
        *,
        timeout: float = 60.0,
        schedule: PollSchedule | None = None,
        raise_on_failure: bool = False,
        receiver: DeliverySource | None = None,
        matches: Callable[[WebhookEvent], bool] | None = None,
        **deprecated_poll_settings: float,
    ) -> AsyncIterator[WebhookTestDetail]:
        """Iterate over a test's status changes (not every poll), ending after the final one.

        Takes the same arguments as :meth:`await_test`.
        """
        return _polling.watch_test(
            self,
            project_name,
            test_id,
            timeout=timeout,
            schedule=_polling.schedule_from(
                schedule, deprecated_poll_settings, caller="watch_test"
            ),
            raise_on_failure=raise_on_failure,
            receiver=receiver,
            matches=matches,
        )

    def await_tests(
        self,
        project_name: str,
        test_ids: Iterable[str],
        *,
        timeout: float = 60.0,
        schedule: PollSchedule | None = None,
        raise_on_failure: bool = False,
        **deprecated_poll_settings: float,
    ) -> AsyncIterator[Outcome[str, WebhookTestDetail]]:
        """Await many tests at once; yield an Outcome per test as each finishes.

        Polls share this session's rate-limit budget, so hundreds of waits pace
        themselves instead of collecting 429s. ``timeout`` bounds each wait;
        the other arguments are those of :meth:`await_test`.
        """
        return _polling.await_tests(
            self,
            project_name,
            test_ids,
            timeout=timeout,
            schedule=_polling.schedule_from(
                schedule, deprecated_poll_settings, caller="await_tests"
            ),
            raise_on_failure=raise_on_failure,
        )

    async def check_webhook(
        self,
        project_name: str,
        webhook: str | WebhookCreate | WebhookTestCreate | WebhookDetail | Mapping[str, Any],
        *,
        protected_values: Mapping[str, str] | None = None,
        url: str | None = None,
        timeout: float = 60.0,
        schedule: PollSchedule | None = None,
        raise_on_failure: bool = False,
        receiver: DeliverySource | None = None,
    ) -> WebhookTestDetail:
        """Run a whole check: create a test for a webhook and await its result.

        ``webhook`` is a stored webhook's name (its settings are read), a webhook read
        before, a create spec, or a test spec (models or dicts: a dict with only a test
        spec's fields is one). The API never returns protected header values, so for a
        stored webhook give them in ``protected_values`` by header key. ``url`` sends the
        test somewhere else than the webhook's own URL. ``receiver``, the receiver the test
        delivers to (give ``url=receiver.url`` unless the webhook's URL reaches it), lets
        the wait poll as soon as a delivery of that event and object, carrying the test's
        unprotected headers, arrives there.
        """
        if isinstance(webhook, str):
            webhook = await self.webhooks_get(project_name, webhook)
        spec = webhook_test_spec(_as_spec(webhook), protected_values or {}, url=url)
        test = await self.webhook_tests_create(project_name, spec)
        return await self.await_test(
            project_name,
            test.id,
            timeout=timeout,
            schedule=schedule,
            raise_on_failure=raise_on_failure,
            receiver=receiver,
            matches=_delivery_of(spec),
        )

    # --- many at once ---------------------------------------------------------------------

    async def bulk_create(
        self,
        project_name: str,
        items: Iterable[WebhookCreate | Mapping[str, Any]],
        *,
        concurrency: int = bulk.DEFAULT_CONCURRENCY,
        on_conflict: bulk.OnConflict = "error",
        fail_fast: bool = False,
        progress: bulk.ProgressHook | None = None,
        stop: bulk.BulkStop | None = None,
    ) -> list[Outcome[WebhookCreate, WebhookDetail]]:
        """Create many webhooks, paced to the rate limit; one Outcome per item, in order.

        ``on_conflict``: ``"error"``, ``"skip"`` or ``"update"`` for names that exist.
        ``stop``: a :class:`~aioubiwebhooks.bulk.BulkStop` that ends the call early, every
        Outcome still returned (as for each bulk call here).
        """
        return await bulk.bulk_create(
            self,
            project_name,
            items,
            concurrency=concurrency,
            on_conflict=on_conflict,
            fail_fast=fail_fast,
            progress=progress,
            stop=stop,
        )

    async def bulk_update(
        self,
        project_name: str,
        updates: Mapping[str, WebhookUpdate | Mapping[str, Any]],
        *,
        concurrency: int = bulk.DEFAULT_CONCURRENCY,
        fail_fast: bool = False,
        progress: bulk.ProgressHook | None = None,
        stop: bulk.BulkStop | None = None,
    ) -> list[Outcome[str, WebhookDetail]]:
        """Update many webhooks (webhook name -> update); one Outcome per name."""
        return await bulk.bulk_update(
            self,
            project_name,
            updates,
            concurrency=concurrency,
            fail_fast=fail_fast,
            progress=progress,
            stop=stop,
        )

    async def bulk_delete(
        self,
        project_name: str,
        names: Iterable[str],
        *,
        concurrency: int = bulk.DEFAULT_CONCURRENCY,
        fail_fast: bool = False,
        progress: bulk.ProgressHook | None = None,
        stop: bulk.BulkStop | None = None,
    ) -> list[Outcome[str, None]]:
        """Delete many webhooks; one already gone counts as done, so re-running is safe."""
        return await bulk.bulk_delete(
            self,
            project_name,
            names,
            concurrency=concurrency,
            fail_fast=fail_fast,
            progress=progress,
            stop=stop,
        )

    async def bulk_test(
        self,
        project_name: str,
        specs: Iterable[WebhookTestCreate | Mapping[str, Any]],
        *,
        wait: bool = True,
        timeout: float = 60.0,
        concurrency: int = bulk.DEFAULT_CONCURRENCY,
        fail_fast: bool = False,
        progress: bulk.ProgressHook | None = None,
        stop: bulk.BulkStop | None = None,
    ) -> list[Outcome[WebhookTestCreate, WebhookTestDetail]]:
        """Create a test per spec and, with ``wait``, await them all; one Outcome per spec."""
        return await bulk.bulk_test(
            self,
            project_name,
            specs,
            wait=wait,
            timeout=timeout,
            concurrency=concurrency,
            fail_fast=fail_fast,
            progress=progress,
            stop=stop,
        )

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _webhook_path(project_name: str, webhook_name: str) -> str:
        return (
            f"/projects/{_segment('project_name', project_name)}"
            f"/webhooks/{_segment('webhook_name', webhook_name)}"
        )

    @staticmethod
    def _decode(answer: Response, read: Callable[[Any], _T], method: str, path: str) -> _T:
        try:
            return read(_wire.decode_json(answer.body))
        except _wire.DecodeError as error:
            raise _decode_error(error, answer, method, path) from None


def webhook_test_spec(
    webhook: WebhookCreate | WebhookDetail | WebhookTestCreate,
    protected_values: Mapping[str, str],
    *,
    url: str | None = None,
) -> WebhookTestCreate:
    """The test request that tries ``webhook``'s settings once (at ``url`` if given).

    For a webhook read from the API, every protected header value comes from
    ``protected_values`` (by key): what the API returned for it is never used, and a
    missing one is a ValidationError naming it. For a spec, whose values are known,
    ``protected_values`` may still replace them by key.
    """
    if isinstance(webhook, WebhookDetail):
        return webhook.to_test(protected_values, url=url)
    if protected_values and any(h.key in protected_values for h in webhook.headers):
        headers = tuple(
            attrs.evolve(h, value=protected_values[h.key]) if h.key in protected_values else h
            for h in webhook.headers
        )
        webhook = attrs.evolve(webhook, headers=headers)
    if isinstance(webhook, WebhookTestCreate):
        return webhook if url is None else attrs.evolve(webhook, url=url)
    return webhook.to_test(url=url)


def _delivery_of(spec: WebhookTestCreate) -> Callable[[WebhookEvent], bool]:
    """Whether a received event can be the delivery of a test made from ``spec``: its
    event, its object and its unprotected headers (a receiver may hide a secret one)."""
    event, object_name = str(spec.event), spec.object_name
    headers = [(h.key, h.value) for h in spec.headers if not h.protected]

    def matches(received: WebhookEvent) -> bool:
        return (
            str(received.event) == event
            and received.object_name == object_name
            and all(received.headers.get(key) == value for key, value in headers)
        )

    return matches


_TEST_FIELDS = frozenset(a.name for a in attrs.fields(WebhookTestCreate))


def _as_spec(
    data: WebhookCreate | WebhookTestCreate | WebhookDetail | Mapping[str, Any],
) -> WebhookCreate | WebhookTestCreate | WebhookDetail:
    """A model as it is; a dict as a test spec when it has only a test spec's fields,
    else as a create spec (whose errors then name what is wrong)."""
    if isinstance(data, (WebhookCreate, WebhookTestCreate, WebhookDetail)):
        return data
    if isinstance(data, Mapping) and _TEST_FIELDS.issuperset(data):
        return WebhookTestCreate.from_dict(data)
    return WebhookCreate.from_dict(data)


def _protected_values(spec: WebhookCreate | WebhookUpdate | WebhookTestCreate) -> list[str]:
    """The protected header values a request body carries: no error may show them."""
    headers = spec.headers if isinstance(spec.headers, tuple) else ()
    return [h.value for h in headers if h.protected and isinstance(h.value, str)]


def _enum_value(kind: type[ObjectType] | type[EventType], field: str, value: object) -> str:
    """A list filter's value: the documented values only (answers may hold others)."""
    try:
        return str(kind(value).value)
    except ValueError:
        choice = _OBJECT_TYPE_CHOICE if kind is ObjectType else _EVENT_CHOICE
        raise ValidationError(field, choice.text, value) from None


def _decode_error(
    error: _wire.DecodeError, answer: Response, method: str, path: str
) -> ResponseDecodeError:
    return ResponseDecodeError(
        answer.status,
        answer.hide(f"unexpected answer body: {error}"),
        body=answer.excerpt(),
        method=method,
        path=path,
        attempts=answer.attempts,
    )
