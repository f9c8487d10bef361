"""Request bodies to checked request models: the API's field rules, without HTTP.

The request models in :mod:`aioubiwebhooks.models` already enforce the field rules
and name the field in their :class:`~aioubiwebhooks.errors.ValidationError`; this
module adapts them to what a server must accept rather than what a client may send:

- unknown keys are ignored (at the top level and inside header items), as a typical
  REST backend does, where the models refuse them to catch a caller's typos;
- on create, a null optional field counts as not given (clients drop ``None`` fields);
- an update's header may have a null or missing ``value``: it keeps the stored one;
- a header value is never ``""`` (the official client cannot read such a value back).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import attrs

from ..errors import ValidationError
from ..models import (
    EventType,
    ObjectType,
    WebhookCreate,
    WebhookHeader,
    WebhookTestCreate,
    WebhookUpdate,
)
from ._problems import BadRequest

__all__ = [
    "ListFilter",
    "decode_body",
    "parse_create",
    "parse_list_filter",
    "parse_test_create",
    "parse_update",
]

_M = TypeVar("_M", WebhookCreate, WebhookUpdate, WebhookTestCreate)

_HEADER_KEYS: Final = frozenset(a.name for a in attrs.fields(WebhookHeader))
_CREATE_REQUIRED: Final = frozenset({"name", "url", "object_type", "object_name", "event"})
_TEST_REQUIRED: Final = frozenset({"url", "object_type", "object_name", "event"})


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def decode_body(raw: bytes) -> dict[str, Any]:
    """The JSON object in a request body, or :class:`BadRequest` saying why there is none."""
    if not raw.strip():
        raise BadRequest("Request body must be a JSON object, got an empty body")
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequest("Request body is nested too deeply") from None
    except ValueError as error:  # includes JSONDecodeError and UnicodeDecodeError
        raise BadRequest(f"Request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"Request body must be a JSON object, got {_json_type(data)}")
    return data


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _clean_headers(value: object) -> object:
    """Header items without unknown keys; anything else is left for the model to refuse."""
    if not isinstance(value, list):
        return value
    return [
        {k: v for k, v in item.items() if k in _HEADER_KEYS} if isinstance(item, dict) else item
        for item in value
    ]


def _check_header_values(headers: object) -> None:
    if not isinstance(headers, tuple):
        return
    for index, header in enumerate(headers):
        if isinstance(header, WebhookHeader) and header.value == "":
            raise BadRequest(f"headers[{index}].value: must not be empty (got '')")


def _build(kind: type[_M], body: Mapping[str, Any], *, drop_null: bool) -> _M:
    known = {a.name for a in attrs.fields(kind)}
    data = {k: v for k, v in body.items() if k in known and not (drop_null and v is None)}
    if "headers" in data:
        data["headers"] = _clean_headers(data["headers"])
    try:
        model = kind.from_dict(data)
    except ValidationError as error:
        raise BadRequest(str(error)) from None
    except (TypeError, ValueError) as error:  # a shape the models do not foresee
        raise BadRequest(f"Invalid request body: {error}") from None
    _check_header_values(model.headers)
    return model


def parse_create(body: Mapping[str, Any]) -> WebhookCreate:
    """A create body as a checked :class:`WebhookCreate`."""
    _require(body, _CREATE_REQUIRED)
    return _build(WebhookCreate, body, drop_null=True)


def parse_test_create(body: Mapping[str, Any]) -> WebhookTestCreate:
    """A webhook-test body as a checked :class:`WebhookTestCreate`."""
    _require(body, _TEST_REQUIRED)
    return _build(WebhookTestCreate, body, drop_null=True)


def parse_update(body: Mapping[str, Any]) -> WebhookUpdate:
    """A PATCH body as a :class:`WebhookUpdate`: only the keys present are changed."""
    return _build(WebhookUpdate, body, drop_null=False)


def _require(body: Mapping[str, Any], required: frozenset[str]) -> None:
    for field in sorted(required):
        if body.get(field) is None:
            raise BadRequest(f"{field}: is required (got None)")


@attrs.frozen
class ListFilter:
    """The query filters of the list endpoint; every given filter must match."""

    labels: tuple[tuple[str, str], ...] = ()
    object_type: ObjectType | None = None
    event: EventType | None = None


def parse_list_filter(query: Mapping[str, str]) -> ListFilter:
    """``labels=k:v,k2:v2``, ``object_type`` and ``event`` query parameters, checked."""
    labels: list[tuple[str, str]] = []
    for pair in (query.get("labels") or "").split(","):
        if not pair:
            continue
        key, sep, value = pair.partition(":")
        if not sep or not key:
            raise BadRequest(f"labels: each filter must be given as key:value (got {pair!r:.60})")
        labels.append((key, value))
    object_type = _choice(ObjectType, "object_type", query.get("object_type"))
    event = _choice(EventType, "event", query.get("event"))
    return ListFilter(labels=tuple(labels), object_type=object_type, event=event)


_E = TypeVar("_E", ObjectType, EventType)


def _choice(kind: type[_E], field: str, value: str | None) -> _E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in kind)
        raise BadRequest(f"{field}: must be one of {choices} (got {value!r:.60})") from None
