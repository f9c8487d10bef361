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
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .models import (
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

__all__ = ["DecodeError", "decode_json", "structure", "structure_list", "to_json", "unstructure"]

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

    create_unstructure = make_dict_unstructure_fn(WebhookCreate, conv)
    test_unstructure = make_dict_unstructure_fn(WebhookTestCreate, conv)
    conv.register_unstructure_hook(WebhookCreate, _drop_none(create_unstructure))
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


def decode_json(body: bytes) -> Any:
    """Decoded JSON, or DecodeError saying why it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        preview = body[:60].decode("utf-8", "replace")
        raise DecodeError(f"body is not JSON ({error.__class__.__name__}): {preview!r}") from None
