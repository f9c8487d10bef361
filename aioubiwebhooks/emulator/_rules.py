"""The emulator's own field rules: one table of what the API accepts, checked without HTTP.

The table is written from the API reference, not taken from the client's request
models: were the emulator to check bodies with the client's own rules, a wrong rule
in the client would be mirrored here and no test could notice. The test suite
compares the two (``tests/unit/test_emulator_rule_parity.py``), so a rule changed on
one side only fails loudly, naming the rule.

What a server must accept rather than what a client may send:

- unknown keys are ignored (at the top level and inside header items), as a typical
  REST backend does;
- on create and test, a null optional field counts as not given (clients drop ``None``
  fields); on update a null is refused unless the field can be emptied (description);
- an update's header may have a null or missing ``value``: it keeps the stored one;
- a header value is never ``""`` (the official client cannot read such a value back).

A checked body is a plain dict of field -> value (defaults filled in for create and
test, only the given fields for update); header items become :class:`HeaderItem`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple
from urllib.parse import urlsplit

import attrs

from ._problems import BadRequest

__all__ = [
    "CREATE",
    "EVENTS",
    "HEADER_RULES",
    "OBJECT_TYPES",
    "RULES",
    "TEST",
    "UPDATE",
    "FieldRule",
    "HeaderItem",
    "Limits",
    "ListFilter",
    "Operation",
    "check_body",
    "check_fields",
    "decode_body",
    "event_object_type",
    "parse_create",
    "parse_list_filter",
    "parse_test_create",
    "parse_update",
]

Operation = Literal["create", "update", "test"]
CREATE: Final = "create"
UPDATE: Final = "update"
TEST: Final = "test"
_ALL: Final[frozenset[Operation]] = frozenset({CREATE, UPDATE, TEST})
_STORED: Final[frozenset[Operation]] = frozenset({CREATE, UPDATE})
_SENT_ONCE: Final[frozenset[Operation]] = frozenset({CREATE, TEST})

OBJECT_TYPES: Final = ("deployment", "pipeline")
"""What a webhook can watch (the reference: "either 'deployment' or 'pipeline'")."""
EVENTS: Final = tuple(
    f"{kind}_request_{stage}"
    for kind in OBJECT_TYPES
    for stage in ("started", "completed", "failed", "finished")
)
"""``{object_type}_request_{started|completed|failed|finished}``."""

Kind = Literal["text", "url", "choice", "whole", "flag", "labels", "headers"]
_PREVIEW: Final = 60
_WHITE_SPACE: Final = re.compile(r"\s")


class HeaderItem(NamedTuple):
    """One checked header item; ``value`` None only in an update (keep the stored one)."""

    key: str
    value: str | None
    protected: bool


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _PREVIEW else f"{text[:_PREVIEW]}..."


def _refuse(field: str, rule: str, value: object, *, secret: bool = False) -> BadRequest:
    return BadRequest(f"{field}: {rule} (got {'<hidden>' if secret else _shown(value)})")


@attrs.frozen
class FieldRule:
    """One field of a request body: where it appears, whether it is required, its bounds.

    ``operations`` are the bodies the API reads the field from, ``required`` those
    that must carry it. ``nullable`` lets an update set it to null (read as
    ``default``). ``secret`` keeps the value out of error messages. Lengths count
    characters; ``minimum`` and ``maximum`` bound whole numbers.
    """

    field: str
    kind: Kind
    operations: frozenset[Operation] = _ALL
    required: frozenset[Operation] = frozenset()
    default: Any = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False
    secret: bool = False

    def describe(self) -> str:
        """The rule in words, as tests and docs name it: ``name: 1 to 64 characters``."""
        parts: list[str] = [self.kind]
        if self.min_length is not None or self.max_length is not None:
            low = self.min_length if self.min_length is not None else 0
            high = "" if self.max_length is None else f" to {self.max_length}"
            parts.append(f"{low}{high or ' or more'} characters")
        if self.minimum is not None or self.maximum is not None:
            parts.append(f"{self.minimum} to {self.maximum}")
        if self.choices:
            parts.append("one of " + ", ".join(self.choices))
        return f"{self.field}: {'; '.join(parts)}"

    def check(self, value: object, where: str, operation: Operation) -> Any:
        """``value`` as stored, or :class:`BadRequest` naming ``where`` and the rule."""
        if self.kind in ("text", "url", "choice"):
            if type(value) is not str:
                raise _refuse(where, "must be a string", value, secret=self.secret)
            self._check_text(value, where)
            return value
        if self.kind == "whole":
            if type(value) is not int:
                raise _refuse(where, "must be a whole number", value)
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise _refuse(where, f"must be between {self.minimum} and {self.maximum}", value)
            return value
        if self.kind == "flag":
            if type(value) is not bool:
                raise _refuse(where, "must be true or false", value)
            return value
        if self.kind == "labels":
            return _labels(value, where)
        return _headers(value, where, operation)

    def _check_text(self, value: str, where: str) -> None:
        if self.min_length is not None and len(value) < self.min_length:
            rule = (
                "must not be empty"
                if self.min_length == 1
                else f"must have at least {self.min_length} characters"
            )
            raise _refuse(where, rule, value, secret=self.secret)
        if self.max_length is not None and len(value) > self.max_length:
            raise _refuse(
                where, f"must have at most {self.max_length} characters", value, secret=self.secret
            )
        if self.kind == "url":
            _check_url(value, where)
        if self.choices and value not in self.choices:
            choices = ", ".join(repr(c) for c in self.choices)
            raise _refuse(where, f"must be one of {choices}", value)


def _check_url(value: str, where: str) -> None:
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise _refuse(where, "must be an absolute http(s) URL", value) from None
    if parts.scheme not in ("http", "https") or not host:
        raise _refuse(where, "must be an absolute http(s) URL", value)
    if _WHITE_SPACE.search(value):
        raise _refuse(where, "must not contain white space", value)


RULES: Final = (
    FieldRule("name", "text", _STORED, frozenset({CREATE}), min_length=1, max_length=64),
    FieldRule("url", "url", _ALL, _SENT_ONCE),
    FieldRule("object_type", "choice", _SENT_ONCE, _SENT_ONCE, choices=OBJECT_TYPES),
    FieldRule("object_name", "text", _SENT_ONCE, _SENT_ONCE, min_length=1),
    FieldRule("event", "choice", _ALL, _SENT_ONCE, choices=EVENTS),
    FieldRule("headers", "headers", default=()),
    FieldRule("description", "text", _STORED, default="", max_length=400, nullable=True),
    FieldRule("labels", "labels", _STORED, default={}),
    FieldRule("version", "text", _SENT_ONCE, min_length=1),
    FieldRule("timeout", "whole", default=10, minimum=1, maximum=30),
    FieldRule("enabled", "flag", _STORED, default=True),
    FieldRule("retry", "flag", default=False),
    FieldRule("include_result", "flag", default=False),
)
"""Every field of the create, update and test bodies, in the order they are checked."""

HEADER_RULES: Final = (
    FieldRule("key", "text", required=_ALL, min_length=1),
    FieldRule("value", "text", required=_SENT_ONCE, min_length=1, secret=True),
    FieldRule("protected", "flag", required=_ALL),
)
"""Every field of one item of ``headers``; the reference's header objects always carry
``protected``, and a header without it is refused."""


def _labels(value: object, where: str) -> dict[str, str]:
    if type(value) is not dict:
        raise _refuse(where, "must be an object of strings", value)
    for key, item in value.items():
        if not key:
            raise _refuse(where, "keys must not be empty", key)
        if type(item) is not str:
            raise _refuse(f"{where}[{key!r}]", "must be a string", item)
    return dict(value)


def _headers(value: object, where: str, operation: Operation) -> tuple[HeaderItem, ...]:
    if type(value) is not list:
        raise _refuse(where, "must be a list of headers", value)
    items = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        if type(item) is not dict:
            raise _refuse(at, "must be an object with key, value and protected", item)
        checked = check_fields(HEADER_RULES, item, operation, prefix=f"{at}.", partial=False)
        items.append(HeaderItem(checked["key"], checked.get("value"), checked["protected"]))
    return tuple(items)


def check_fields(
    rules: tuple[FieldRule, ...],
    body: Mapping[str, Any],
    operation: Operation,
    *,
    prefix: str = "",
    partial: bool = False,
) -> dict[str, Any]:
    """The fields of ``rules`` in ``body``; unless ``partial``, missing ones get defaults."""
    checked: dict[str, Any] = {}
    for rule in rules:
        if operation not in rule.operations:
            continue
        where = prefix + rule.field
        value = body.get(rule.field)
        if value is None and (not partial or rule.field not in body):
            if operation in rule.required:
                raise _refuse(where, "is required", None)
            if not partial:
                checked[rule.field] = _fresh(rule.default)
            continue
        if value is None:  # a partial body (an update) sets the field to null
            if not rule.nullable:
                raise _refuse(where, "must not be null (leave it out to keep it)", None)
            checked[rule.field] = _fresh(rule.default)
            continue
        checked[rule.field] = rule.check(value, where, operation)
    return checked


def _fresh(default: Any) -> Any:
    return dict(default) if isinstance(default, dict) else default


@attrs.frozen
class Limits:
    """The emulator's own bounds on what one webhook may hold, so that its memory stays
    bounded whatever its callers send. They are not rules of the API (no public source
    states any) and are not compared with the client's: defaults are generous.

    A body beyond them is refused with 400 naming the field and the limit.
    """

    max_webhooks_per_project: int = 10_000
    max_labels: int = 50
    max_labels_size: int = 4_096
    max_headers: int = 20
    max_headers_size: int = 4_096
    max_url_length: int = 2_048

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(Limits):
            value = getattr(self, field.name)
            if type(value) is not int or value < 1:
                raise ValueError(f"{field.name} must be a whole number >= 1, got {value!r}")

    def check(self, checked: Mapping[str, Any]) -> None:
        """Refuse a checked body that holds more than these limits allow."""
        url = checked.get("url")
        if url is not None and len(url) > self.max_url_length:
            raise BadRequest(
                f"url: must have at most {self.max_url_length} characters "
                f"(the emulator's limit; got {len(url)})"
            )
        labels = checked.get("labels")
        if labels is not None:
            size = sum(len(k) + len(v) for k, v in labels.items())
            _check_size("labels", len(labels), size, self.max_labels, self.max_labels_size)
        headers = checked.get("headers")
        if headers is not None:
            size = sum(len(h.key) + len(h.value or "") for h in headers)
            _check_size("headers", len(headers), size, self.max_headers, self.max_headers_size)


def _check_size(field: str, count: int, size: int, max_count: int, max_size: int) -> None:
    if count > max_count or size > max_size:
        raise BadRequest(
            f"{field}: at most {max_count} {field} of {max_size} characters together "
            f"(the emulator's limit; got {count} with {size})"
        )


def event_object_type(event: str) -> str:
    """The object type an event belongs to (its prefix): ``pipeline`` for ``pipeline_...``."""
    return event.split("_", 1)[0]


def check_body(
    operation: Operation, body: Mapping[str, Any], limits: Limits | None = None
) -> dict[str, Any]:
    """A request body checked against :data:`RULES` and the emulator's ``limits``;
    :class:`BadRequest` names the field."""
    checked = check_fields(RULES, body, operation, prefix="", partial=operation == UPDATE)
    (limits or _DEFAULT_LIMITS).check(checked)
    if "object_type" in checked and event_object_type(checked["event"]) != checked["object_type"]:
        raise _refuse(
            "event",
            f"must start with '{checked['object_type']}_' to match object_type",
            checked["event"],
        )
    return checked


def parse_create(body: Mapping[str, Any], limits: Limits | None = None) -> dict[str, Any]:
    """A create body, checked, with every default filled in."""
    return check_body(CREATE, body, limits)


def parse_test_create(body: Mapping[str, Any], limits: Limits | None = None) -> dict[str, Any]:
    """A webhook-test body, checked, with every default filled in."""
    return check_body(TEST, body, limits)


def parse_update(body: Mapping[str, Any], limits: Limits | None = None) -> dict[str, Any]:
    """A PATCH body, checked: only the fields it sets."""
    return check_body(UPDATE, body, limits)


_DEFAULT_LIMITS: Final = Limits()


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


@attrs.frozen
class ListFilter:
    """The query filters of the list endpoint; every given filter must match."""

    labels: tuple[tuple[str, str], ...] = ()
    object_type: str | None = None
    event: str | None = None


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
    object_type = _query_choice("object_type", query.get("object_type"), OBJECT_TYPES)
    event = _query_choice("event", query.get("event"), EVENTS)
    return ListFilter(labels=tuple(labels), object_type=object_type, event=event)


def _query_choice(field: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    if not value:
        return None
    if value not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise BadRequest(f"{field}: must be one of {shown} (got {value!r:.60})")
    return value
