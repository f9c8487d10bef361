"""Typed events: what one webhook delivery said, as received by :mod:`aioubiwebhooks.receiver`.

A delivery is about a deployment or a pipeline request; :class:`DeploymentEvent` and
:class:`PipelineEvent` share the base :class:`WebhookEvent`, whose neutral field names
(``object_name``, ``version_id``, ...) let code handle both without branching. The
payload's own names (``deployment_name``, ``pipeline_version_id``, ...) are properties
of the variants.

The service grows: an event this version does not know (say, about experiments)
arrives as a plain :class:`WebhookEvent` whose ``event`` and ``object_type`` are the
strings the delivery carried, and any key may be missing except ``event`` itself.

Request headers are kept because a webhook's configured headers travel with the
delivery, but those may be protected (secret) values: the repr never shows a header
value, and :func:`event_to_json` never includes headers at all.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar, Final

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._redact import HIDDEN
from .models import EventType, ObjectType

__all__ = [
    "HIDDEN",
    "DeploymentEvent",
    "PipelineEvent",
    "WebhookEvent",
    "event_to_json",
    "object_type_of",
]


_RESULT_REPR_MAX: Final = 80


def _empty_headers() -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict())


def _headers_repr(headers: CIMultiDictProxy[str]) -> str:
    return f"<{len(headers)} headers>"


def _raw_repr(raw: bytes) -> str:
    return f"<{len(raw)} bytes>"


def _result_repr(result: Any) -> str:
    text = repr(result)
    if len(text) <= _RESULT_REPR_MAX:
        return text
    return f"{text[:_RESULT_REPR_MAX]}... ({len(text)} characters)"


def object_type_of(event: EventType | str) -> ObjectType | str:
    """The object type an event names: its prefix (``experiment`` for ``experiment_...``)."""
    if isinstance(event, EventType):
        return event.object_type
    prefix = event.partition("_")[0]
    return _OBJECT_TYPES.get(prefix, prefix)


_OBJECT_TYPES: Final = {member.value: member for member in ObjectType}


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """One acknowledged delivery: which request of which object, and what happened to it.

    ``event`` is an :class:`EventType`, or the plain string of an event this version
    does not know (the delivery is kept, never refused). Only ``event`` is required of
    a delivery: a key it lacks reads ``None`` here. ``status`` is the request's status
    as sent; a ``*_finished`` event reports ``completed``, ``failed`` or ``cancelled``.
    ``result`` is the request's result when the webhook sends it (``include_result``);
    ``has_result`` tells a missing ``result`` key apart from a JSON ``null`` result.
    ``raw`` is the body exactly as received (:meth:`payload` decodes it, unknown keys
    included, and :attr:`extra` holds just the keys not typed here), ``headers`` the
    request headers (the receiver's secret header shows :data:`HIDDEN`),
    ``received_at`` an aware UTC time.
    """

    expected_object_type: ClassVar[ObjectType | None] = None

    event: EventType | str
    object_id: str | None = None
    object_name: str | None = None
    version_id: str | None = None
    version_name: str | None = None
    request_id: str | None = None
    status: str | None = None
    text: str | None = None
    received_at: datetime
    result: Any = attrs.field(default=None, repr=_result_repr, hash=False)
    has_result: bool = False
    raw: bytes = attrs.field(default=b"", repr=_raw_repr)
    headers: CIMultiDictProxy[str] = attrs.field(
        factory=_empty_headers, repr=_headers_repr, hash=False
    )

    def __attrs_post_init__(self) -> None:
        expected = type(self).expected_object_type
        if expected is not None and object_type_of(self.event) is not expected:
            raise ValueError(f"{type(self).__name__} cannot carry a {self.event} event")

    @property
    def object_type(self) -> ObjectType | str:
        """Deployment or pipeline as named by the event; the prefix of an unknown event."""
        return object_type_of(self.event)

    @property
    def event_name(self) -> str:
        """The event as a plain string, known or not (``deployment_request_completed``)."""
        return self.event.value if isinstance(self.event, EventType) else self.event

    def payload(self) -> dict[str, Any]:
        """The whole decoded body, unknown keys included (the API may send more than we type)."""
        data: dict[str, Any] = json.loads(self.raw)
        return data

    @property
    def extra(self) -> dict[str, Any]:
        """The keys of the body that no field here types (empty for today's payloads)."""
        typed = _typed_keys(self.object_type)
        return {key: value for key, value in self.payload().items() if key not in typed}


def _typed_keys(object_type: ObjectType | str) -> frozenset[str]:
    prefix = str(object_type)
    object_keys = (f"{prefix}_{name}" for name in ("id", "name", "version_id", "version_name"))
    return frozenset(("event", "request_id", "status", "text", "result", *object_keys))


@attrs.frozen(kw_only=True)
class DeploymentEvent(WebhookEvent):
    """A delivery about a deployment request (``deployment_request_*`` events)."""

    expected_object_type: ClassVar[ObjectType | None] = ObjectType.DEPLOYMENT

    @property
    def deployment_id(self) -> str | None:
        return self.object_id

    @property
    def deployment_name(self) -> str | None:
        return self.object_name

    @property
    def deployment_version_id(self) -> str | None:
        return self.version_id

    @property
    def deployment_version_name(self) -> str | None:
        return self.version_name


@attrs.frozen(kw_only=True)
class PipelineEvent(WebhookEvent):
    """A delivery about a pipeline request (``pipeline_request_*`` events)."""

    expected_object_type: ClassVar[ObjectType | None] = ObjectType.PIPELINE

    @property
    def pipeline_id(self) -> str | None:
        return self.object_id

    @property
    def pipeline_name(self) -> str | None:
        return self.object_name

    @property
    def pipeline_version_id(self) -> str | None:
        return self.version_id

    @property
    def pipeline_version_name(self) -> str | None:
        return self.version_name


def event_to_json(event: WebhookEvent) -> str:
    """The event as one compact JSON line (no newline), for logs and ``listen`` output.

    Keys: event, object_type, object_name, version, request_id, status, text (``null``
    when the delivery lacked them), result (only when the delivery carried one),
    received_at (ISO 8601). Headers
    are never included, so no secret can leak through this line. The output is
    ASCII (other characters escaped), so it stays one line for every line reader.
    """
    line: dict[str, Any] = {
        "event": event.event_name,
        "object_type": str(event.object_type),
        "object_name": event.object_name,
        "version": event.version_name,
        "request_id": event.request_id,
        "status": event.status,
        "text": event.text,
    }
    if event.has_result:
        line["result"] = event.result
    line["received_at"] = event.received_at.isoformat()
    return json.dumps(line, separators=(",", ":"))
