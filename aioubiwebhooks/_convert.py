"""The one cattrs converter: models to JSON-ready dicts and back.

Rules it encodes, in one place:
- datetimes are ISO-8601 strings on the wire (a trailing ``Z`` is read as UTC);
- response models tolerate unknown fields (the API will grow), request models
  built from dicts refuse them (a typo would otherwise be silently dropped);
- an update sends only the fields the caller set; a protected header's ``None``
  value is sent as an explicit null ("keep the stored value");
- create requests leave out optional fields that are ``None``;
- primitives are checked, not coerced: ``"10"`` is not a timeout.

Decoding runs on a fast converter; only when it fails is the body decoded again
with cattrs' detailed validation, to say exactly which field was wrong.
"""

from __future__ import annotations

import enum
import gc
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .models import (
    DEFAULT_TIMEOUT,
    UNSET,
    EventType,
    ObjectType,
    TestStatus,
    WebhookCreate,
    WebhookDetail,
    WebhookHeader,
    WebhookTestCreate,
    WebhookUpdate,
)

__all__ = [
    "DecodeError",
    "decode_json",
    "decode_list",
    "structure",
    "structure_list",
    "to_json",
    "unstructure",
]

_T = TypeVar("_T")
_MAX_PROBLEMS_SHOWN = 5


class DecodeError(ValueError):
    """A body did not match the expected model; the message names the field."""


def _parse_datetime(value: object, _: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO-8601 string, got {type(value).__name__}")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _strict(kind: type) -> Callable[[object, object], Any]:
    def check(value: object, _: object) -> Any:
        if type(value) is kind:  # exact type: bool is not an int, int is not a str
            return value
        if kind is float and type(value) is int:
            return float(value)
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__} {value!r:.40}")

    return check


def _enum_hook(kind: type[enum.Enum]) -> Callable[[object, object], Any]:
    def check(value: object, _: object) -> Any:
        if type(value) is not str:
            raise TypeError(f"expected a {kind.__name__} string, got {type(value).__name__}")
        return kind(value)

    return check


def _none_as(empty: Any, inner: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Servers send null for an empty list or mapping; read it as empty."""

    def hook(value: Any, kind: Any) -> Any:
        return empty if value is None else inner(value, kind)

    return hook


def _make_converter(*, detailed: bool) -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    for kind in (str, int, bool, float):
        conv.register_structure_hook(kind, _strict(kind))
    for enum_kind in (ObjectType, EventType, TestStatus):  # after str: they subclass it
        conv.register_structure_hook(enum_kind, _enum_hook(enum_kind))
        conv.register_unstructure_hook(enum_kind, lambda member: member.value)
    conv.register_structure_hook(datetime, _parse_datetime)
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())

    headers_hook = conv.get_structure_hook(tuple[WebhookHeader, ...])
    labels_hook = conv.get_structure_hook(dict[str, str])
    conv.register_structure_hook(
        WebhookDetail,
        make_dict_structure_fn(
            WebhookDetail,
            conv,
            headers=override(struct_hook=_none_as((), headers_hook)),
            labels=override(struct_hook=_none_as({}, labels_hook)),
        ),
    )

    conv.register_structure_hook(WebhookHeader, _structure_header)
    # Request models: keep their own constructor checks, refuse unknown keys.
    for request_model in (WebhookCreate, WebhookUpdate, WebhookTestCreate):
        conv.register_structure_hook(request_model, lambda data, kind: kind.from_dict(data))

    test_unstructure = make_dict_unstructure_fn(WebhookTestCreate, conv)
    conv.register_unstructure_hook(WebhookCreate, _create_body)
    conv.register_unstructure_hook(WebhookTestCreate, _drop_none(test_unstructure))
    conv.register_unstructure_hook(WebhookUpdate, _unstructure_update(conv))
    conv.register_unstructure_hook(
        WebhookHeader, lambda h: {"key": h.key, "value": h.value, "protected": h.protected}
    )
    return conv


def _structure_header(data: object, _: object) -> WebhookHeader:
    """A header as read from an answer: extra keys tolerated, missing flag means False."""
    if not isinstance(data, dict):
        raise TypeError(f"expected a header object, got {type(data).__name__}")
    return WebhookHeader(data["key"], data.get("value"), data.get("protected", False))


_OBJECT_TYPES = {member.value: member for member in ObjectType}
_EVENTS = {member.value: member for member in EventType}


def _text(data: dict[str, Any], field: str) -> str:
    value = data[field]
    if type(value) is not str:
        raise TypeError(f"{field}: expected str, got {type(value).__name__}")
    return value


def _optional_text(data: dict[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is not None and type(value) is not str:
        raise TypeError(f"{field}: expected str or null, got {type(value).__name__}")
    return value


def _exact(data: dict[str, Any], field: str, kind: type, default: Any) -> Any:
    value = data.get(field, default)
    if type(value) is not kind:
        raise TypeError(f"{field}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _labels(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise TypeError(f"labels: expected an object, got {type(value).__name__}")
    for key, item in value.items():
        if type(key) is not str or type(item) is not str:
            raise TypeError("labels: expected strings")
    return dict(value)


def _structure_detail(data: Any, _: object = None) -> WebhookDetail:
    """The hot path of every read, written out: one plain function instead of a hook per
    field. It raises on anything unexpected; the detailed converter then says what."""
    if type(data) is not dict:
        raise TypeError(f"expected an object, got {type(data).__name__}")
    headers = data.get("headers")
    created, updated = data.get("creation_date"), data.get("last_updated")
    return WebhookDetail(
        id=_text(data, "id"),
        name=_text(data, "name"),
        url=_text(data, "url"),
        object_type=_OBJECT_TYPES[data["object_type"]],
        object_name=_text(data, "object_name"),
        event=_EVENTS[data["event"]],
        version=_optional_text(data, "version"),
        headers=() if headers is None else tuple([_structure_header(h, None) for h in headers]),
        description=_optional_text(data, "description"),
        labels=_labels(data.get("labels")),
        timeout=_exact(data, "timeout", int, DEFAULT_TIMEOUT),
        enabled=_exact(data, "enabled", bool, True),
        retry=_exact(data, "retry", bool, False),
        include_result=_exact(data, "include_result", bool, False),
        creation_date=None if created is None else _parse_datetime(created, None),
        last_updated=None if updated is None else _parse_datetime(updated, None),
    )


def _create_body(model: WebhookCreate) -> dict[str, Any]:
    """A create request's body, field by field (optional fields left out when None)."""
    body: dict[str, Any] = {
        "name": model.name,
        "url": model.url,
        "object_type": model.object_type.value,
        "object_name": model.object_name,
        "event": model.event.value,
        "headers": [
            {"key": h.key, "value": h.value, "protected": h.protected} for h in model.headers
        ],
        "labels": dict(model.labels),
        "timeout": model.timeout,
        "enabled": model.enabled,
        "retry": model.retry,
        "include_result": model.include_result,
    }
    if model.description is not None:
        body["description"] = model.description
    if model.version is not None:
        body["version"] = model.version
    return body


def _drop_none(inner: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def unstructure(model: Any) -> dict[str, Any]:
        return {k: v for k, v in inner(model).items() if v is not None}

    return unstructure


def _unstructure_update(conv: cattrs.Converter) -> Callable[[WebhookUpdate], dict[str, Any]]:
    names = [a.name for a in attrs.fields(WebhookUpdate)]

    def unstructure(update: WebhookUpdate) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name in names:
            value = getattr(update, name)
            if value is not UNSET:
                body[name] = conv.unstructure(value)
        return body

    return unstructure


_fast = _make_converter(detailed=False)
_fast.register_structure_hook(WebhookDetail, _structure_detail)
_detailed = _make_converter(detailed=True)


def unstructure(model: object) -> Any:
    """A model as JSON-ready data."""
    return _fast.unstructure(model)


def to_json(model: object) -> bytes:
    """A model as a compact JSON body."""
    return json.dumps(_fast.unstructure(model), separators=(",", ":")).encode()


def structure(data: Any, kind: type[_T]) -> _T:
    """Typed model from decoded JSON; raises DecodeError naming the offending field."""
    try:
        return _fast.structure(data, kind)
    except Exception as fast_error:
        raise DecodeError(_explain(data, kind, fast_error)) from None


def structure_list(data: Any, kind: type[_T]) -> list[_T]:
    """A JSON list of models; raises DecodeError naming the offending item and field."""
    if not isinstance(data, list):
        raise DecodeError(f"expected a JSON list, got {type(data).__name__}")
    return structure(data, list[kind])  # type: ignore[valid-type]


def _explain(data: Any, kind: Any, fast_error: Exception) -> str:
    try:
        _detailed.structure(data, kind)
    except cattrs.BaseValidationError as error:
        problems = cattrs.transform_error(error, path="$")
        shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
        more = len(problems) - _MAX_PROBLEMS_SHOWN
        return f"{shown}; and {more} more" if more > 0 else shown
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return f"{type(fast_error).__name__}: {fast_error}"


_GC_PAUSE_ABOVE = 256 * 1024


def decode_list(body: bytes, kind: type[_T]) -> list[_T]:
    """A JSON list body as typed models, with the cycle collector paused for large bodies.

    Decoding tens of thousands of objects allocates millions of containers, and the
    collector would otherwise rescan them again and again (about half the time at
    50,000 webhooks); none of them form cycles, so pausing it is safe.
    """
    pause = len(body) > _GC_PAUSE_ABOVE and gc.isenabled()
    if pause:
        gc.disable()
    try:
        return structure_list(decode_json(body), kind)
    finally:
        if pause:
            gc.enable()


def decode_json(body: bytes) -> Any:
    """Decoded JSON, or DecodeError saying why it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        preview = body[:60].decode("utf-8", "replace")
        raise DecodeError(f"body is not JSON ({error.__class__.__name__}): {preview!r}") from None
