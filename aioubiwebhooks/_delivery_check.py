"""Decisions about one incoming delivery, as pure functions (no sockets, no clock).

The receiver's HTTP layer asks these, in order: right route and method, not too
many headers, the secret, the declared size, the size actually read, then the body
itself. Each check returns quietly or raises :class:`Rejected`, which carries the
HTTP status, a stable reason (the key under which the receiver counts it) and a
message safe to send back: it never echoes a header value.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._json import orjson_loads
from ._redact import HIDDEN
from .events import DeploymentEvent, PipelineEvent, WebhookEvent, object_type_of
from .models import EventType, ObjectType

__all__ = [
    "Reason",
    "Rejected",
    "check_body_size",
    "check_content_length",
    "check_header_count",
    "check_route",
    "check_secret",
    "dedupe_key",
    "parse_delivery",
    "redact_headers",
]


class Reason(str, enum.Enum):
    """Why a delivery was refused; the value is its key in the receiver's statistics."""

    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_MANY_HEADERS = "too_many_headers"
    UNAUTHORIZED = "unauthorized"
    TOO_LARGE = "too_large"
    BODY_TIMEOUT = "body_timeout"
    NOT_JSON = "not_json"
    BAD_PAYLOAD = "bad_payload"
    CLOSING = "closing"
    BUSY = "busy"
    STORE_FAILED = "store_failed"

    def __str__(self) -> str:
        return self.value


_STATUS: Final[Mapping[Reason, int]] = {
    Reason.NOT_FOUND: 404,
    Reason.METHOD_NOT_ALLOWED: 405,
    Reason.TOO_MANY_HEADERS: 431,
    Reason.UNAUTHORIZED: 401,
    Reason.TOO_LARGE: 413,
    Reason.BODY_TIMEOUT: 408,
    Reason.NOT_JSON: 400,
    Reason.BAD_PAYLOAD: 400,
    Reason.CLOSING: 503,
    Reason.BUSY: 503,
    Reason.STORE_FAILED: 503,
}


class Rejected(Exception):
    """A delivery is refused: ``status`` to answer, ``reason``, and ``field`` if one is at fault."""

    def __init__(self, reason: Reason, message: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.status = _STATUS[reason]
        self.message = message
        self.field = field
        super().__init__(f"{self.status} {reason.value}: {message}")

    def body(self) -> dict[str, str]:
        """The JSON error body: always ``error``, plus ``reason`` and the ``field`` at fault."""
        body = {"error": self.message, "reason": self.reason.value}
        if self.field is not None:
            body["field"] = self.field
        return body


# --- the request, before the body is read -------------------------------------------------


def check_route(path: str, method: str, expected_path: str) -> None:
    """Deliveries are POSTs to the one configured path."""
    if path != expected_path:
        raise Rejected(
            Reason.NOT_FOUND, f"no receiver at this path; deliveries go to {expected_path}"
        )
    if method != "POST":
        raise Rejected(Reason.METHOD_NOT_ALLOWED, f"{method} not allowed; deliveries are POSTs")


def check_header_count(count: int, max_headers: int) -> None:
    """Refuse header floods before doing any other work for them."""
    if count > max_headers:
        raise Rejected(
            Reason.TOO_MANY_HEADERS, f"too many headers: {count} (at most {max_headers})"
        )


def check_secret(given: str | None, expected: bytes | None, header: str) -> None:
    """The delivery must carry the shared secret in ``header``; compared in constant time.

    ``given`` is the header's value as the server decoded it (UTF-8 with surrogate
    escapes, so every byte received takes part in the comparison).
    """
    if expected is None:
        return
    if given is None:
        raise Rejected(Reason.UNAUTHORIZED, f"missing {header} header")
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected):
        raise Rejected(Reason.UNAUTHORIZED, f"wrong {header} header")


def check_content_length(length: int | None, max_body: int) -> None:
    """A declared size over the limit is refused before a single body byte is read."""
    if length is not None and length > max_body:
        raise Rejected(Reason.TOO_LARGE, f"body of {length} bytes exceeds {max_body} bytes")


def check_body_size(size: int, max_body: int) -> None:
    """The limit also holds while reading, for bodies sent without a Content-Length."""
    if size > max_body:
        raise Rejected(Reason.TOO_LARGE, f"body exceeds {max_body} bytes")


def redact_headers(headers: Mapping[str, str], secret_header: str | None) -> CIMultiDictProxy[str]:
    """A read-only copy of the headers, the secret header's value replaced by ``HIDDEN``.

    The secret header keeps its place, under the name ``secret_header`` is spelled
    with, and appears once however often it was sent.
    """
    copy = CIMultiDict(headers)  # copied in C
    if secret_header is not None and secret_header in copy:
        copy[secret_header] = HIDDEN  # in place of the first, the others dropped
    return CIMultiDictProxy(copy)


# --- the body -----------------------------------------------------------------------------


_DECODER: Final = json.JSONDecoder()
_WHITESPACE: Final = " \t\n\r"


_EXACT_RESULTS: Final = (str, int, bool, type(None))
"""Results orjson reads exactly as ``json`` does (it reads an integer past 64 bits as a
float, so an ``int`` here fits 64 bits)."""


def _decode_object(body: bytes) -> dict[str, Any]:
    """``json.loads`` for a UTF-8 body, in half its time (no encoding sniffing, no regex).

    With orjson installed, it reads first: a body it refuses (NaN, a byte order mark,
    a lone surrogate, broken JSON) or whose ``result`` it might read inexactly (a float,
    a list, an object) is read again as ``json`` reads it, with ``json``'s errors.
    """
    if orjson_loads is not None:
        try:
            data = orjson_loads(body)
        except ValueError:
            pass
        else:
            if type(data) is dict and type(data.get("result")) in _EXACT_RESULTS:
                return data
    try:
        text = body.decode().removeprefix("\ufeff")  # a byte order mark, as json.loads allows
        start = len(text) - len(text.lstrip(_WHITESPACE))
        data, end = _DECODER.raw_decode(text, start)
        if end != len(text) and text[end:].strip(_WHITESPACE):
            raise ValueError(f"Extra data: line 1 column {end + 1} (char {end})")
    except RecursionError:
        raise Rejected(Reason.NOT_JSON, "body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(Reason.NOT_JSON, f"body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise Rejected(Reason.BAD_PAYLOAD, f"body must be a JSON object, got {_json_type(data)}")
    return data


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _required_text(data: Mapping[str, Any], field: str) -> str:
    value = _optional_text(data, field)
    if value is None:
        raise Rejected(Reason.BAD_PAYLOAD, f"{field}: missing", field=field)
    return value


def _optional_text(data: Mapping[str, Any], field: str) -> str | None:
    """A string key that may be absent (``None``); present, it must be a string."""
    value = data.get(field)
    if value is None or type(value) is str:
        return value
    raise Rejected(
        Reason.BAD_PAYLOAD, f"{field}: must be a string, got {_json_type(value)}", field=field
    )


_KNOWN_EVENTS: Final[Mapping[str, EventType]] = {member.value: member for member in EventType}
_VARIANTS: Final[Mapping[ObjectType, type[WebhookEvent]]] = {
    ObjectType.DEPLOYMENT: DeploymentEvent,
    ObjectType.PIPELINE: PipelineEvent,
}
_OBJECT_KEYS: Final[dict[str, tuple[str, str, str, str]]] = {}


def _object_keys(prefix: str) -> tuple[str, str, str, str]:
    """``deployment_id``, ``deployment_name``, ... for a prefix (cached: few prefixes exist)."""
    keys = _OBJECT_KEYS.get(prefix)
    if keys is None:
        keys = (f"{prefix}_id", f"{prefix}_name", f"{prefix}_version_id", f"{prefix}_version_name")
        if len(_OBJECT_KEYS) < 64:  # an unknown prefix per delivery must not grow this
            _OBJECT_KEYS[prefix] = keys
    return keys


def parse_delivery(
    body: bytes, *, headers: CIMultiDictProxy[str], received_at: datetime
) -> WebhookEvent:
    """The typed event a delivery body describes, or :class:`Rejected` naming the bad field.

    Only ``event`` is required. A known event picks the variant (deployment or
    pipeline); an unknown one (the API grows: experiments, ...) is kept as a plain
    :class:`WebhookEvent` carrying the string, never refused. The object keys follow
    the event's prefix (``deployment_id``, ``pipeline_name``, ...); a missing key reads
    ``None``, a present one must be a string. Unknown keys stay in ``raw``.
    """
    data = _decode_object(body)
    name = _required_text(data, "event")
    known = _KNOWN_EVENTS.get(name)
    if known is not None:
        object_type: ObjectType | str = known.object_type
        kind = _VARIANTS[known.object_type]
        prefix = known.object_type.value
    else:
        object_type = object_type_of(name)
        kind = _VARIANTS[object_type] if isinstance(object_type, ObjectType) else WebhookEvent
        prefix = str(object_type)
    id_key, name_key, version_id_key, version_name_key = _object_keys(prefix)
    return _filled(
        kind,
        (
            known if known is not None else name,
            _optional_text(data, id_key),
            _optional_text(data, name_key),
            _optional_text(data, version_id_key),
            _optional_text(data, version_name_key),
            _optional_text(data, "request_id"),
            _optional_text(data, "status"),
            _optional_text(data, "text"),
            received_at,
            data.get("result"),
            "result" in data,
            body,
            headers,
        ),
    )


_FIELDS: Final = (
    "event", "object_id", "object_name", "version_id", "version_name", "request_id",
    "status", "text", "received_at", "result", "has_result", "raw", "headers",
)  # fmt: skip
"""Every field of an event, in the order :func:`_filled` is given their values."""
_KINDS: Final[tuple[type[WebhookEvent], ...]] = (WebhookEvent, *_VARIANTS.values())
if any(tuple(field.name for field in attrs.fields(kind)) != _FIELDS for kind in _KINDS):
    raise TypeError("parse_delivery must fill in every field of WebhookEvent, in order")

_new = object.__new__
_set = object.__setattr__


def _filled(kind: type[WebhookEvent], values: tuple[Any, ...]) -> WebhookEvent:
    """The event with ``values`` filled in directly: every one is checked above, and the
    variant matches the event, so the checks of the frozen constructor (most of the cost
    of a delivery's parsing) have nothing left to find."""
    event = _new(kind)
    for name, value in zip(_FIELDS, values, strict=True):
        _set(event, name, value)
    return event


def dedupe_key(event: WebhookEvent) -> tuple[str, str]:
    """Redeliveries repeat the same event for the same request; that pair identifies one.

    A delivery without a ``request_id`` is identified by a digest of its body instead,
    which a redelivery repeats too.
    """
    if event.request_id is not None:
        return (event.event_name, event.request_id)
    return (event.event_name, "sha256:" + hashlib.sha256(event.raw).hexdigest())
