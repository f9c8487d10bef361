"""Typed, frozen models of the webhooks API, checked when they are built.

Request models (``WebhookCreate``, ``WebhookUpdate``, ``WebhookTestCreate``,
``WebhookHeader``) enforce the API's field rules in their constructors and raise
:class:`~aioubiwebhooks.errors.ValidationError` naming the field, the rule and the
value, so bad input never reaches the wire. Response models (``WebhookDetail``,
``WebhookTestDetail``) only check types: the server is the authority on values,
and they must keep reading answers from a newer API. So a value the enums below do
not know (an ``object_type`` of ``"experiment"``, say) is read as its plain string,
while a known one is read as the enum member; both compare equal to their text and
``str()`` gives it back.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

import attrs

from ._plain import BAD, Check, PlainReader
from ._rules import (
    DEFAULT_TIMEOUT,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    TIMEOUT_MAX,
    TIMEOUT_MIN,
    Rule,
    rule,
)
from .errors import ValidationError

__all__ = [
    "UNSET",
    "EventType",
    "ObjectType",
    "TestStatus",
    "Unset",
    "WebhookCreate",
    "WebhookDetail",
    "WebhookHeader",
    "WebhookTestCreate",
    "WebhookTestDetail",
    "WebhookUpdate",
]


class ObjectType(str, enum.Enum):
    """What a webhook watches."""

    DEPLOYMENT = "deployment"
    PIPELINE = "pipeline"

    def __str__(self) -> str:
        return self.value


class EventType(str, enum.Enum):
    """What triggers a webhook; the prefix names the object type."""

    DEPLOYMENT_REQUEST_STARTED = "deployment_request_started"
    DEPLOYMENT_REQUEST_COMPLETED = "deployment_request_completed"
    DEPLOYMENT_REQUEST_FAILED = "deployment_request_failed"
    DEPLOYMENT_REQUEST_FINISHED = "deployment_request_finished"
    PIPELINE_REQUEST_STARTED = "pipeline_request_started"
    PIPELINE_REQUEST_COMPLETED = "pipeline_request_completed"
    PIPELINE_REQUEST_FAILED = "pipeline_request_failed"
    PIPELINE_REQUEST_FINISHED = "pipeline_request_finished"

    def __str__(self) -> str:
        return self.value

    @property
    def object_type(self) -> ObjectType:
        """The object type this event belongs to."""
        return _EVENT_OBJECT_TYPE[self]


_EVENT_OBJECT_TYPE: Final = {e: ObjectType(e.value.split("_", 1)[0]) for e in EventType}


class TestStatus(str, enum.Enum):
    """Where a webhook test stands: ``pending``, then ``completed`` or ``failed``.

    A read status this enum does not know stays a plain string and counts as final
    (see :attr:`WebhookTestDetail.is_final`), so a wait never polls it forever.
    """

    __test__ = False  # not a pytest test class

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_final(self) -> bool:
        """True for completed and failed: the test will not change any more."""
        return self is not TestStatus.PENDING


class _UnsetType(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _UnsetType.UNSET
"""Marks an update field the caller did not set (``None`` can be a real value)."""

Unset = Literal[_UnsetType.UNSET]

_E = TypeVar("_E", bound=enum.Enum)
_WHITE_SPACE: Final = re.compile(r"\s")
_T = TypeVar("_T")


# --- field checks: each raises ValidationError(field, rule, value) ------------------------
#
# Every rule comes from the table in ``_rules`` (text, limits, source); an ``assumed``
# rule whose ``enforced`` is False there is skipped here.

_REQUIRED: Final = rule("required")
_KNOWN_FIELDS: Final = rule("known_fields")
_NOT_NONE_IN_UPDATE: Final = rule("update.not_none")
_HEADER_VALUE_REQUIRED: Final = rule("header.value.required")
_STRING: Final = rule("type.string")
_HEADER_VALUE_TYPE: Final = rule("type.header_value")
_FLAG: Final = rule("type.flag")
_TIMEOUT_TYPE: Final = rule("type.timeout")
_HEADERS_TYPE: Final = rule("type.headers")
_LABELS_TYPE: Final = rule("type.labels")
_LABEL_KEY_TYPE: Final = rule("type.label_key")
_LABEL_VALUE_TYPE: Final = rule("type.label_value")
_NAME_NOT_EMPTY: Final = rule("name.not_empty")
_NAME_MAX_LENGTH: Final = rule("name.max_length")
_URL_HTTP: Final = rule("url.http")
_URL_NO_WHITE_SPACE: Final = rule("url.no_white_space")
_OBJECT_TYPE_CHOICE: Final = rule("object_type.choice")
_OBJECT_NAME_NOT_EMPTY: Final = rule("object_name.not_empty")
_EVENT_CHOICE: Final = rule("event.choice")
_EVENT_PREFIX: Final = rule("event.prefix")
_DESCRIPTION_MAX_LENGTH: Final = rule("description.max_length")
_VERSION_NOT_EMPTY: Final = rule("version.not_empty")
_TIMEOUT_MAX: Final = rule("timeout.max")
_TIMEOUT_MIN: Final = rule("timeout.min")
_HEADER_KEY_NOT_EMPTY: Final = rule("header.key.not_empty")
_HEADER_VALUE_NOT_EMPTY: Final = rule("header.value.not_empty")
_LABEL_KEY_NOT_EMPTY: Final = rule("label.key.not_empty")


def _broken(field: str, broken: Rule, value: object, *, secret: bool = False) -> ValidationError:
    return ValidationError(field, broken.text, value, secret=secret)


def _check_string(field: str, value: object) -> str:
    if type(value) is not str and not isinstance(value, str):
        raise _broken(field, _STRING, value)
    return value


def _check_not_empty(field: str, value: str, broken: Rule) -> None:
    if not value and broken.enforced:
        raise _broken(field, broken, value)


def _check_max_length(field: str, value: str, limit: int, broken: Rule) -> None:
    if len(value) > limit and broken.enforced:
        raise _broken(field, broken, value)


def _check_url(field: str, value: object) -> None:
    text = _check_string(field, value)
    if _URL_HTTP.enforced:
        try:
            parts = urlsplit(text)
        except ValueError:
            raise _broken(field, _URL_HTTP, value) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _broken(field, _URL_HTTP, value)
    if _URL_NO_WHITE_SPACE.enforced and _WHITE_SPACE.search(text):
        raise _broken(field, _URL_NO_WHITE_SPACE, value)


def _check_timeout(field: str, value: object) -> None:
    # bool is an int subclass, but a flag is never a number of seconds.
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _broken(field, _TIMEOUT_TYPE, value)
    if value > TIMEOUT_MAX and _TIMEOUT_MAX.enforced:
        raise _broken(field, _TIMEOUT_MAX, value)
    if value < TIMEOUT_MIN and _TIMEOUT_MIN.enforced:
        raise _broken(field, _TIMEOUT_MIN, value)


def _check_flag(field: str, value: object) -> None:
    if type(value) is not bool:
        raise _broken(field, _FLAG, value)


def _to_enum(kind: type[_E], field: str, broken: Rule) -> Any:
    members = {m.value: m for m in kind}

    def convert(value: object) -> _E:
        try:
            return members[value] if type(value) is str else kind(value)
        except (KeyError, ValueError, TypeError):
            raise _broken(field, broken, value) from None

    return convert


def _to_labels(field: str) -> Any:
    def convert(value: object) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise _broken(field, _LABELS_TYPE, value)
        labels = dict(value)
        for key, item in labels.items():
            if not isinstance(key, str):
                raise _broken(field, _LABEL_KEY_TYPE, key)
            if not key and _LABEL_KEY_NOT_EMPTY.enforced:
                raise _broken(field, _LABEL_KEY_NOT_EMPTY, key)
            if not isinstance(item, str):
                raise _broken(f"{field}[{key!r}]", _LABEL_VALUE_TYPE, item)
        return labels

    return convert


def _to_headers(value: object) -> tuple[WebhookHeader, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _broken("headers", _HEADERS_TYPE, value)
    headers = []
    for index, item in enumerate(value):
        try:
            headers.append(
                item if isinstance(item, WebhookHeader) else WebhookHeader.from_dict(item)
            )
        except ValidationError as error:
            raise error.nested(f"headers[{index}]") from None
    return tuple(headers)


_object_type = _to_enum(ObjectType, "object_type", _OBJECT_TYPE_CHOICE)
_event = _to_enum(EventType, "event", _EVENT_CHOICE)
_labels = _to_labels("labels")


def _to_object_type(value: object) -> ObjectType:
    return _object_type(value)  # type: ignore[no-any-return]


def _to_event(value: object) -> EventType:
    return _event(value)  # type: ignore[no-any-return]


def _to_label_dict(value: object) -> dict[str, str]:
    return _labels(value)  # type: ignore[no-any-return]


# In an update, None passes the converters so that the update.not_none rule can say so.


def _to_event_or_unset(value: object) -> EventType | Unset:
    return value if value is UNSET or value is None else _to_event(value)  # type: ignore[return-value]


def _to_labels_or_unset(value: object) -> dict[str, str] | Unset:
    return value if value is UNSET or value is None else _to_label_dict(value)  # type: ignore[return-value]


def _to_headers_or_unset(value: object) -> tuple[WebhookHeader, ...] | Unset:
    return value if value is UNSET or value is None else _to_headers(value)  # type: ignore[return-value]


_KEPT_UNLESS_GIVEN: Final = ("name", "url", "event", "labels", "headers", "timeout")
"""Update fields that None cannot mean anything for (leave them out to keep them)."""


def _check_name(value: object) -> None:
    text = _check_string("name", value)
    _check_not_empty("name", text, _NAME_NOT_EMPTY)
    _check_max_length("name", text, NAME_MAX_LENGTH, _NAME_MAX_LENGTH)


def _check_object_name(value: object) -> None:
    _check_not_empty("object_name", _check_string("object_name", value), _OBJECT_NAME_NOT_EMPTY)


def _check_description(value: object) -> None:
    text = _check_string("description", value)
    _check_max_length("description", text, DESCRIPTION_MAX_LENGTH, _DESCRIPTION_MAX_LENGTH)


def _check_version(value: object) -> None:
    _check_not_empty("version", _check_string("version", value), _VERSION_NOT_EMPTY)


def _check_event_matches(object_type: ObjectType, event: EventType) -> None:
    if event.object_type is not object_type and _EVENT_PREFIX.enforced:
        says = _EVENT_PREFIX.says(object_type=object_type.value)
        raise ValidationError("event", says, event.value)


def _check_header_values_given(headers: tuple[WebhookHeader, ...]) -> None:
    if not _HEADER_VALUE_REQUIRED.enforced:
        return
    for index, header in enumerate(headers):
        if header.value is None:
            raise _broken(f"headers[{index}].value", _HEADER_VALUE_REQUIRED, None)


def _check_target(spec: WebhookCreate | WebhookTestCreate) -> None:
    """The rules of where and on what a spec delivers, which a create and a test share."""
    _check_url("url", spec.url)
    _check_object_name(spec.object_name)
    _check_event_matches(spec.object_type, spec.event)
    _check_header_values_given(spec.headers)


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(a.name for a in attrs.fields(cls))
    return names


def _spec_from_dict(cls: type[_T], data: object, plain: PlainReader[Any]) -> _T:
    """A spec from ``data``: a plain dict takes the fast reader, and whatever that cannot
    judge (or a subclass) takes :func:`_from_dict`, whose errors say what is wrong."""
    if type(data) is dict and cls is plain.model:
        spec: _T | None = plain.read(data)
        if spec is not None:
            return spec
    return _from_dict(cls, data)


def _from_dict(cls: type[_T], data: object) -> _T:
    """Build a request model from a plain dict, refusing unknown keys (typos are bugs)."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ValidationError(cls.__name__, "must be a mapping of field names to values", data)
    known = _field_names(cls)
    unknown = [key for key in data if key not in known]
    if unknown and _KNOWN_FIELDS.enforced:
        key = unknown[0]
        # A mistyped header field ("Value") may well hold the secret: never show it.
        raise ValidationError(
            str(key),
            _KNOWN_FIELDS.says(model=cls.__name__),
            data[key],
            secret=cls is WebhookHeader,
        )
    fields = {key: data[key] for key in data if key in known} if unknown else data
    try:
        return cls(**fields)
    except TypeError as error:  # a required field is missing
        missing = next((a.name for a in attrs.fields(cls) if a.name not in fields), "?")  # type: ignore[arg-type]
        raise _broken(missing, _REQUIRED, None) from error


# --- request models --------------------------------------------------------------------------


@attrs.frozen(repr=False)
class WebhookHeader:
    """A header sent with every delivery. A protected header's value is never shown.

    In an update, a protected header with ``value=None`` keeps the value stored on
    the server. On reads, a protected header's value is unknown: the API returns null
    (or possibly a mask), and the library never takes it for the real value.
    """

    key: str
    value: str | None = None
    protected: bool = False

    def __attrs_post_init__(self) -> None:
        _check_not_empty("key", _check_string("key", self.key), _HEADER_KEY_NOT_EMPTY)
        if self.value is not None:
            if not isinstance(self.value, str):
                secret = bool(self.protected)
                raise _broken("value", _HEADER_VALUE_TYPE, self.value, secret=secret)
            _check_not_empty("value", self.value, _HEADER_VALUE_NOT_EMPTY)
        _check_flag("protected", self.protected)

    def __repr__(self) -> str:
        shown = "<hidden>" if self.protected and self.value is not None else repr(self.value)
        return f"WebhookHeader(key={self.key!r}, value={shown}, protected={self.protected!r})"

    @classmethod
    def from_dict(cls, data: object) -> WebhookHeader:
        """Build it from a dict of field names; an unknown or missing field is a ValidationError."""
        return _from_dict(cls, data)


@attrs.frozen
class WebhookCreate:
    """What ``webhooks_create`` sends. Required: name, url, object_type, object_name, event."""

    name: str
    url: str
    object_type: ObjectType = attrs.field(converter=_to_object_type)
    object_name: str
    event: EventType = attrs.field(converter=_to_event)
    headers: tuple[WebhookHeader, ...] = attrs.field(default=(), converter=_to_headers)
    description: str | None = None
    labels: dict[str, str] = attrs.field(factory=dict, converter=_to_label_dict)
    version: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    enabled: bool = True
    retry: bool = False
    include_result: bool = False

    def __attrs_post_init__(self) -> None:
        _check_name(self.name)
        _check_target(self)
        if self.description is not None:
            _check_description(self.description)
        if self.version is not None:
            _check_version(self.version)
        _check_timeout("timeout", self.timeout)
        _check_flag("enabled", self.enabled)
        _check_flag("retry", self.retry)
        _check_flag("include_result", self.include_result)

    @classmethod
    def from_dict(cls, data: object) -> WebhookCreate:
        """Build it from a dict of field names; an unknown or missing field is a ValidationError."""
        return _spec_from_dict(cls, data, _PLAIN_CREATE)

    def to_test(self, *, url: str | None = None) -> WebhookTestCreate:
        """The webhook test that tries this spec once, without storing it (at ``url`` if given).

        The test carries what a test request has: every field but name, description,
        labels and enabled, headers (with their values) included.
        """
        return WebhookTestCreate(
            url=self.url if url is None else url,
            object_type=self.object_type,
            object_name=self.object_name,
            event=self.event,
            headers=self.headers,
            version=self.version,
            timeout=self.timeout,
            retry=self.retry,
            include_result=self.include_result,
        )


@attrs.frozen
class WebhookUpdate:
    """What ``webhooks_update`` sends: only the fields given here are changed.

    Fields left as :data:`UNSET` are not sent. A protected header whose ``value``
    is ``None`` is sent as an explicit null, which keeps the stored value.
    """

    name: str | Unset = UNSET
    url: str | Unset = UNSET
    headers: tuple[WebhookHeader, ...] | Unset = attrs.field(
        default=UNSET, converter=_to_headers_or_unset
    )
    event: EventType | Unset = attrs.field(default=UNSET, converter=_to_event_or_unset)
    description: str | Unset | None = UNSET
    labels: dict[str, str] | Unset = attrs.field(default=UNSET, converter=_to_labels_or_unset)
    timeout: int | Unset = UNSET
    enabled: bool | Unset = UNSET
    retry: bool | Unset = UNSET
    include_result: bool | Unset = UNSET

    def __attrs_post_init__(self) -> None:
        for field in _KEPT_UNLESS_GIVEN:
            if getattr(self, field) is None and _NOT_NONE_IN_UPDATE.enforced:
                raise _broken(field, _NOT_NONE_IN_UPDATE, None)
        if self.name not in (UNSET, None):
            _check_name(self.name)
        if self.url not in (UNSET, None):
            _check_url("url", self.url)
        if self.description not in (UNSET, None):
            _check_description(self.description)
        if self.timeout not in (UNSET, None):
            _check_timeout("timeout", self.timeout)
        for flag in ("enabled", "retry", "include_result"):
            if getattr(self, flag) is not UNSET:
                _check_flag(flag, getattr(self, flag))

    def changed_fields(self) -> tuple[str, ...]:
        """The names of the fields this update sets, in declaration order."""
        return tuple(
            a.name for a in attrs.fields(WebhookUpdate) if getattr(self, a.name) is not UNSET
        )

    @classmethod
    def from_dict(cls, data: object) -> WebhookUpdate:
        """Build it from a dict of field names; an unknown or missing field is a ValidationError."""
        return _from_dict(cls, data)


@attrs.frozen
class WebhookTestCreate:
    """What ``webhook_tests_create`` sends: a webhook spec to try once, without storing it."""

    __test__ = False

    url: str
    object_type: ObjectType = attrs.field(converter=_to_object_type)
    object_name: str
    event: EventType = attrs.field(converter=_to_event)
    headers: tuple[WebhookHeader, ...] = attrs.field(default=(), converter=_to_headers)
    version: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    retry: bool = False
    include_result: bool = False

    def __attrs_post_init__(self) -> None:
        _check_target(self)
        if self.version is not None:
            _check_version(self.version)
        _check_timeout("timeout", self.timeout)
        _check_flag("retry", self.retry)
        _check_flag("include_result", self.include_result)

    @classmethod
    def from_dict(cls, data: object) -> WebhookTestCreate:
        """Build it from a dict of field names; an unknown or missing field is a ValidationError."""
        return _spec_from_dict(cls, data, _PLAIN_TEST)


# --- response models -------------------------------------------------------------------------


@attrs.frozen
class WebhookDetail:
    """A webhook as the API returns it.

    A protected header's ``value`` is whatever the answer held there (``None``, or a
    mask); it is shown by no repr and never used as the value: :meth:`to_create` and
    :meth:`to_test` take protected values from the caller.

    ``object_type`` and ``event`` are enum members when this library knows the value,
    else the plain string the API sent (webhooks on objects added to the API later).
    """

    id: str
    name: str
    url: str
    object_type: ObjectType | str
    object_name: str
    event: EventType | str
    version: str | None = None
    headers: tuple[WebhookHeader, ...] = ()
    description: str | None = None
    labels: dict[str, str] = attrs.field(factory=dict)
    timeout: int = DEFAULT_TIMEOUT
    enabled: bool = True
    retry: bool = False
    include_result: bool = False
    creation_date: datetime | None = None
    last_updated: datetime | None = None

    def to_create(self, protected_values: Mapping[str, str] | None = None) -> WebhookCreate:
        """The create request that would make this webhook again.

        What the API returns for a protected header's value (null, a mask, or even the
        value) cannot be told apart, so it is never used: the value comes from
        ``protected_values`` by header key, and a protected header missing there is a
        ValidationError naming it, rather than a webhook sent with a made-up value.
        """
        return WebhookCreate(
            name=self.name,
            url=self.url,
            object_type=self.object_type,
            object_name=self.object_name,
            event=self.event,
            headers=_known_headers(self.headers, protected_values or {}),
            description=self.description,
            labels=self.labels,
            version=self.version,
            timeout=self.timeout,
            enabled=self.enabled,
            retry=self.retry,
            include_result=self.include_result,
        )

    def to_test(
        self, protected_values: Mapping[str, str] | None = None, *, url: str | None = None
    ) -> WebhookTestCreate:
        """The webhook test that tries this webhook's settings once (at ``url`` if given).

        Protected header values come from ``protected_values``, as for :meth:`to_create`.
        """
        return WebhookTestCreate(
            url=self.url if url is None else url,
            object_type=self.object_type,
            object_name=self.object_name,
            event=self.event,
            headers=_known_headers(self.headers, protected_values or {}),
            version=self.version,
            timeout=self.timeout,
            retry=self.retry,
            include_result=self.include_result,
        )


def _known_headers(
    headers: tuple[WebhookHeader, ...], protected_values: Mapping[str, str]
) -> tuple[WebhookHeader, ...]:
    """Read headers with every protected value replaced by the one the caller knows."""
    known = []
    for index, header in enumerate(headers):
        if header.protected:
            value = protected_values.get(header.key)
            if value is None:
                raise ValidationError(
                    f"headers[{index}].value",
                    f"protected header {header.key!r} needs its value in protected_values "
                    "(the API never returns it)",
                    None,
                )
            header = WebhookHeader(header.key, value, protected=True)
        known.append(header)
    return tuple(known)


@attrs.frozen
class WebhookTestDetail:
    """A webhook test: ``pending`` until it is ``completed`` or ``failed``.

    ``status`` is a :class:`TestStatus` when this library knows the value, else the
    plain string the API sent.
    """

    __test__ = False

    id: str
    status: TestStatus | str
    error_message: str | None = None

    @property
    def is_final(self) -> bool:
        """True unless the test is ``pending``: an unknown status is final too, so that
        waiting for a test ends rather than polling a status it cannot interpret."""
        return self.status != TestStatus.PENDING


RequestModel = WebhookCreate | WebhookUpdate | WebhookTestCreate


# --- plain dicts in one pass (see _plain) -----------------------------------------------------
#
# Each check accepts only a value valid under every rule above (the general path says
# what is wrong with any other); the property tests hold both paths to the same models.

_PLAIN_URL: Final = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#]\S*)?")
"""URLs that plainly pass url.http and url.no_white_space (urlsplit would agree)."""
_OBJECT_TYPES: Final = {m.value: m for m in ObjectType}
_EVENTS: Final = {m.value: m for m in EventType}
_HEADER_KEYS: Final = frozenset({"key", "value", "protected"})


def _plain_name(value: object) -> object:
    return value if type(value) is str and 0 < len(value) <= NAME_MAX_LENGTH else BAD


def _plain_url(value: object) -> object:
    return value if type(value) is str and _PLAIN_URL.fullmatch(value) else BAD


def _plain_filled(value: object) -> object:
    return value if type(value) is str and value else BAD


def _plain_choice(members: dict[str, Any]) -> Check:
    def check(value: object) -> object:
        try:
            return members.get(value, BAD)  # type: ignore[call-overload]
        except TypeError:  # unhashable
            return BAD

    return check


def _plain_description(value: object) -> object:
    if value is None or (type(value) is str and len(value) <= DESCRIPTION_MAX_LENGTH):
        return value
    return BAD


def _plain_version(value: object) -> object:
    return value if value is None or (type(value) is str and value) else BAD


def _plain_timeout(value: object) -> object:
    return value if type(value) is int and TIMEOUT_MIN <= value <= TIMEOUT_MAX else BAD


def _plain_flag(value: object) -> object:
    return value if type(value) is bool else BAD


def _plain_labels(value: object) -> object:
    if type(value) is not dict:
        return BAD
    for key, item in value.items():
        if type(key) is not str or not key or type(item) is not str:
            return BAD
    return dict(value)


def _plain_headers(value: object) -> object:
    if type(value) is not list and type(value) is not tuple:
        return BAD
    headers = []
    for item in value:
        if type(item) is WebhookHeader:
            if item.value is None:  # only an update may keep a stored value
                return BAD
            headers.append(item)
            continue
        if type(item) is not dict or not item.keys() <= _HEADER_KEYS:
            return BAD
        key, text, protected = item.get("key"), item.get("value"), item.get("protected", False)
        if type(key) is not str or not key or type(text) is not str or not text:
            return BAD
        if type(protected) is not bool:
            return BAD
        header = object.__new__(WebhookHeader)
        object.__setattr__(header, "key", key)
        object.__setattr__(header, "value", text)
        object.__setattr__(header, "protected", protected)
        headers.append(header)
    return tuple(headers)


def _plain_event_agrees(model: WebhookCreate | WebhookTestCreate) -> bool:
    return _EVENT_OBJECT_TYPE[model.event] is model.object_type


_PLAIN_TARGET: Final[dict[str, Check]] = {
    "url": _plain_url,
    "object_type": _plain_choice(_OBJECT_TYPES),
    "object_name": _plain_filled,
    "event": _plain_choice(_EVENTS),
    "headers": _plain_headers,
}
_PLAIN_CREATE: Final = PlainReader(
    WebhookCreate,
    {
        "name": _plain_name,
        **_PLAIN_TARGET,
        "description": _plain_description,
        "labels": _plain_labels,
        "version": _plain_version,
        "timeout": _plain_timeout,
        "enabled": _plain_flag,
        "retry": _plain_flag,
        "include_result": _plain_flag,
    },
    {
        "headers": tuple,
        "description": lambda: None,
        "labels": dict,
        "version": lambda: None,
        "timeout": lambda: DEFAULT_TIMEOUT,
        "enabled": lambda: True,
        "retry": lambda: False,
        "include_result": lambda: False,
    },
    _plain_event_agrees,
)
_PLAIN_TEST: Final = PlainReader(
    WebhookTestCreate,
    {
        **_PLAIN_TARGET,
        "version": _plain_version,
        "timeout": _plain_timeout,
        "retry": _plain_flag,
        "include_result": _plain_flag,
    },
    {
        "headers": tuple,
        "version": lambda: None,
        "timeout": lambda: DEFAULT_TIMEOUT,
        "retry": lambda: False,
        "include_result": lambda: False,
    },
    _plain_event_agrees,
)
