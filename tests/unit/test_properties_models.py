"""Property tests of every model and the converter.

Valid values survive the trip through the converter unchanged: request models as
``unstructure`` then ``Model.from_dict`` (and through the JSON body), response models
as written by ``_wire`` then read back by it. Invalid values raise
``ValidationError`` (request models) or ``_wire.DecodeError`` (response models),
never any other exception.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioubiwebhooks import (
    EventType,
    ObjectType,
    ValidationError,
    WebhookCreate,
    WebhookDetail,
    WebhookHeader,
    WebhookTestCreate,
    WebhookTestDetail,
    WebhookUpdate,
    _wire,
)
from aioubiwebhooks._rules import RULES
from aioubiwebhooks.models import _PLAIN_CREATE, TestStatus, _from_dict

_T = TypeVar("_T")


def as_json(model: Any) -> dict[str, Any]:
    """A model in the JSON shape the wire layer writes for it (secrets revealed)."""
    if isinstance(model, WebhookHeader):
        return _wire.header_json(model, reveal=True)
    if isinstance(model, WebhookCreate):
        return _wire.create_json(model)
    if isinstance(model, WebhookUpdate):
        return _wire.update_json(model)
    if isinstance(model, WebhookTestCreate):
        return _wire.webhook_test_create_json(model)
    if isinstance(model, WebhookDetail):
        return _wire.webhook_json(model, reveal=True)
    return _wire.webhook_test_json(model)


def read(kind: type[_T], data: Any) -> _T:
    """The wire layer's reader for ``kind``."""
    reader: Any = _wire.webhook_from_json if kind is WebhookDetail else _wire.webhook_test_from_json
    return reader(data)  # type: ignore[no-any-return]


EXAMPLES = settings(max_examples=120, deadline=None)

# --- valid values -------------------------------------------------------------------------

texts = st.text(min_size=1, max_size=40)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z]{2,6}){0,2}", fullmatch=True)
url_paths = st.text(alphabet=st.sampled_from("abcxyz0123456789-._~/%?=&"), max_size=30)
urls = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}/{path}",
    st.sampled_from(["http", "https"]),
    hosts,
    st.sampled_from(["", ":8080", ":1"]),
    url_paths,
)
names = st.text(min_size=1, max_size=64)
descriptions = st.none() | st.text(max_size=400)
label_maps = st.dictionaries(texts, st.text(max_size=20), max_size=4)
timeouts = st.integers(min_value=1, max_value=30)
events = st.sampled_from(list(EventType))
header_values = st.text(min_size=1, max_size=40)
full_headers = st.builds(WebhookHeader, key=texts, value=header_values, protected=st.booleans())
update_headers = st.builds(
    WebhookHeader, key=texts, value=st.none() | header_values, protected=st.booleans()
)


@st.composite
def creates(draw: st.DrawFn) -> WebhookCreate:
    event = draw(events)
    return WebhookCreate(
        name=draw(names),
        url=draw(urls),
        object_type=event.object_type,
        object_name=draw(texts),
        event=event,
        headers=tuple(draw(st.lists(full_headers, max_size=3))),
        description=draw(descriptions),
        labels=draw(label_maps),
        version=draw(st.none() | texts),
        timeout=draw(timeouts),
        enabled=draw(st.booleans()),
        retry=draw(st.booleans()),
        include_result=draw(st.booleans()),
    )


@st.composite
def hook_test_specs(draw: st.DrawFn) -> WebhookTestCreate:
    event = draw(events)
    return WebhookTestCreate(
        url=draw(urls),
        object_type=event.object_type,
        object_name=draw(texts),
        event=event,
        headers=tuple(draw(st.lists(full_headers, max_size=3))),
        version=draw(st.none() | texts),
        timeout=draw(timeouts),
        retry=draw(st.booleans()),
        include_result=draw(st.booleans()),
    )


def build_update(fields: dict[str, Any]) -> WebhookUpdate:
    return WebhookUpdate(**fields)


updates = st.fixed_dictionaries(
    {},
    optional={
        "name": names,
        "url": urls,
        "headers": st.lists(update_headers, max_size=3).map(tuple),
        "event": events,
        "description": descriptions,
        "labels": label_maps,
        "timeout": timeouts,
        "enabled": st.booleans(),
        "retry": st.booleans(),
        "include_result": st.booleans(),
    },
).map(lambda fields: build_update(fields))

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
moments = st.none() | st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
)
response_headers = st.builds(
    WebhookHeader, key=texts, value=st.none() | header_values, protected=st.booleans()
)
unknown_names = st.text(max_size=30).filter(
    lambda text: text not in {m.value for kind in (ObjectType, EventType, TestStatus) for m in kind}
)
"""Values of object_type, event or status this library does not know: read as strings."""
details = st.builds(
    WebhookDetail,
    id=st.text(max_size=40),
    name=st.text(max_size=80),
    url=st.text(max_size=80),
    object_type=st.sampled_from(list(EventType)).map(lambda e: e.object_type) | unknown_names,
    object_name=st.text(max_size=40),
    event=events | unknown_names,
    version=st.none() | st.text(max_size=20),
    headers=st.lists(response_headers, max_size=3).map(tuple),
    description=st.none() | st.text(max_size=500),
    labels=label_maps,
    timeout=st.integers(min_value=-(2**40), max_value=2**40),
    enabled=st.booleans(),
    retry=st.booleans(),
    include_result=st.booleans(),
    creation_date=moments,
    last_updated=moments,
)
hook_test_details = st.builds(
    WebhookTestDetail,
    id=st.text(max_size=40),
    status=st.sampled_from(list(TestStatus)) | unknown_names,
    error_message=st.none() | st.text(max_size=80),
)
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
unknown_fields = st.dictionaries(
    st.text(min_size=1, max_size=10).map(lambda k: f"x_{k}"), json_scalars, max_size=3
)


# --- valid values round-trip ----------------------------------------------------------------


@EXAMPLES
@given(header=full_headers)
def test_header_round_trips(header: WebhookHeader) -> None:
    data = as_json(header)
    assert WebhookHeader.from_dict(data) == header
    assert WebhookHeader.from_dict(json.loads(json.dumps(data))) == header


@EXAMPLES
@given(spec=creates())
def test_create_round_trips(spec: WebhookCreate) -> None:
    assert WebhookCreate.from_dict(as_json(spec)) == spec
    assert WebhookCreate.from_dict(json.loads(_wire.to_body(as_json(spec)))) == spec


@EXAMPLES
@given(update=updates)
def test_update_round_trips_and_sends_only_what_is_set(update: WebhookUpdate) -> None:
    data = as_json(update)
    assert set(data) == set(update.changed_fields())
    assert WebhookUpdate.from_dict(data) == update
    assert WebhookUpdate.from_dict(json.loads(_wire.to_body(as_json(update)))) == update


@EXAMPLES
@given(spec=hook_test_specs())
def test_test_create_round_trips(spec: WebhookTestCreate) -> None:
    assert WebhookTestCreate.from_dict(as_json(spec)) == spec
    assert WebhookTestCreate.from_dict(json.loads(_wire.to_body(as_json(spec)))) == spec


@EXAMPLES
@given(detail=details, extra=unknown_fields)
def test_detail_round_trips_and_tolerates_unknown_fields(
    detail: WebhookDetail, extra: dict[str, Any]
) -> None:
    data = as_json(detail)
    assert read(WebhookDetail, data) == detail
    wire = json.loads(json.dumps({**data, **extra}))
    assert read(WebhookDetail, wire) == detail
    assert _wire.webhooks_from_json([wire, wire]) == [detail, detail]
    assert _wire.decode_webhooks(json.dumps([wire, wire]).encode()) == [detail, detail]


@EXAMPLES
@given(detail=hook_test_details, extra=unknown_fields)
def test_test_detail_round_trips(detail: WebhookTestDetail, extra: dict[str, Any]) -> None:
    data = as_json(detail)
    assert read(WebhookTestDetail, data) == detail
    assert read(WebhookTestDetail, {**data, **extra}) == detail


# --- invalid values are refused with the typed error ----------------------------------------

NOT_A_MAPPING: list[Any] = [None, 5, "name", ["name"], b"x", 1.5, True]
NOT_A_STRING: list[Any] = [5, None, ["x"], {"x": 1}, True, 1.5, b"x"]
NOT_A_FLAG: list[Any] = ["yes", 1, 0, None, "true", 1.0, []]
BAD_TIMEOUTS: list[Any] = [0, 31, -1, 10**9, "10", 2.5, True, None, [10]]
BAD_URLS: list[Any] = [
    "",
    "example.org/hook",
    "ftp://example.org/x",
    "https://",
    "https:///nohost",
    "https://exa mple.org/x",
    "http://[::1/x",
    "https://example.org/\n",
    *NOT_A_STRING,
]
BAD_HEADER_LISTS: list[Any] = [
    "A: b",
    5,
    None,
    {"key": "A", "value": "b"},
    [5],
    ["A: b"],
    [{"key": "", "value": "v"}],
    [{"key": 5, "value": "v"}],
    [{"key": "A", "value": 5}],
    [{"key": "A", "value": ""}],
    [{"key": "A", "value": "v", "protected": "yes"}],
    [{"key": "A", "value": "v", "secret": True}],
    [{"value": "v"}],
]
BAD_LABELS: list[Any] = [["a"], "a:b", None, 5, {"": "x"}, {"a": 1}, {"a": None}, {5: "x"}]


def _bad_event(valid: dict[str, Any]) -> list[Any]:
    event = EventType(valid["event"])
    other = next(e for e in EventType if e.object_type is not event.object_type)
    return ["nope", "deployment_request_exploded", 5, None, [event.value], other.value]


def _bad_object_type(valid: dict[str, Any]) -> list[Any]:
    event = EventType(valid["event"])
    other = next(e for e in EventType if e.object_type is not event.object_type)
    return ["model", "", 5, None, ["deployment"], other.object_type.value]


CREATE_RULES: dict[str, list[Any]] = {
    "name": ["", "x" * 65, *NOT_A_STRING],
    "url": BAD_URLS,
    "object_name": ["", *NOT_A_STRING],
    "headers": [*BAD_HEADER_LISTS, [{"key": "A"}]],
    "description": ["d" * 401, 5, [], {"a": "b"}, True],
    "labels": BAD_LABELS,
    "version": ["", 5, [], True],
    "timeout": BAD_TIMEOUTS,
    "enabled": NOT_A_FLAG,
    "retry": NOT_A_FLAG,
    "include_result": NOT_A_FLAG,
}
UPDATE_RULES: dict[str, list[Any]] = {
    "name": ["", "x" * 65, *NOT_A_STRING],
    "url": BAD_URLS,
    "headers": BAD_HEADER_LISTS,
    "event": ["nope", 5, None, ["deployment_request_failed"]],
    "description": ["d" * 401, 5, [], True],
    "labels": BAD_LABELS,
    "timeout": BAD_TIMEOUTS,
    "enabled": NOT_A_FLAG,
    "retry": NOT_A_FLAG,
    "include_result": NOT_A_FLAG,
}
TEST_RULES: dict[str, list[Any]] = {
    key: CREATE_RULES[key]
    for key in ("url", "object_name", "headers", "version", "timeout", "retry", "include_result")
}
HEADER_RULES: dict[str, list[Any]] = {
    "key": ["", *NOT_A_STRING],
    "value": [5, "", b"x", ["v"], {"v": 1}, True],
    "protected": NOT_A_FLAG,
}


@st.composite
def corrupted(
    draw: st.DrawFn,
    valid: st.SearchStrategy[Any],
    rules: dict[str, list[Any]],
    required: tuple[str, ...],
    model_name: str,
) -> tuple[Any, set[str]]:
    """A valid model's dict broken in one way, and the fields the error may name."""
    data = dict(as_json(draw(valid)))
    how = draw(st.sampled_from(["value", "missing", "unknown", "not_a_mapping"]))
    if how == "missing" and required:
        field = draw(st.sampled_from(required))
        del data[field]
        return data, {field}
    if how == "unknown":
        key = draw(st.sampled_from(["timout", "Name", "secret", "headers_", "x" * 70]))
        data[key] = draw(json_scalars)
        return data, {key}
    if how == "not_a_mapping":
        return draw(st.sampled_from(NOT_A_MAPPING)), {model_name}
    table = dict(rules)
    if "event" in data and "object_type" in data:
        table["event"] = _bad_event(data)
        table["object_type"] = _bad_object_type(data)
    field = draw(st.sampled_from(sorted(table)))
    data[field] = draw(st.sampled_from(table[field]))
    # a mismatched object type is reported on the event, where the prefix must match
    return data, {field, "event"} if field == "object_type" else {field}


RULE_TEXTS = [
    re.compile(re.escape(r.text).replace(r"\{object_type\}", ".+").replace(r"\{model\}", ".+"))
    for r in RULES
]
"""What the table of rules lets a ValidationError say."""
NOT_A_MAPPING_RULE = "must be a mapping of field names to values"


def _refused(model: Any, data: Any, fields: set[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        model.from_dict(data)
    error = caught.value
    assert any(error.field == f or error.field.startswith(f) for f in fields), (error.field, fields)
    assert error.rule == NOT_A_MAPPING_RULE or any(
        text.fullmatch(error.rule) for text in RULE_TEXTS
    ), f"{error.rule!r} is not in the table of rules (aioubiwebhooks/_rules.py)"
    assert error.field in str(error)
    assert error.field in repr(error)


@EXAMPLES
@given(case=corrupted(full_headers, HEADER_RULES, ("key",), "WebhookHeader"))
def test_invalid_header_is_a_validation_error(case: tuple[Any, set[str]]) -> None:
    _refused(WebhookHeader, *case)


@EXAMPLES
@given(
    case=corrupted(
        creates(),
        CREATE_RULES,
        ("name", "url", "object_type", "object_name", "event"),
        "WebhookCreate",
    )
)
def test_invalid_create_is_a_validation_error(case: tuple[Any, set[str]]) -> None:
    _refused(WebhookCreate, *case)


@EXAMPLES
@given(case=corrupted(updates, UPDATE_RULES, (), "WebhookUpdate"))
def test_invalid_update_is_a_validation_error(case: tuple[Any, set[str]]) -> None:
    _refused(WebhookUpdate, *case)


@EXAMPLES
@given(
    case=corrupted(
        hook_test_specs(),
        TEST_RULES,
        ("url", "object_type", "object_name", "event"),
        "WebhookTestCreate",
    )
)
def test_invalid_test_create_is_a_validation_error(case: tuple[Any, set[str]]) -> None:
    _refused(WebhookTestCreate, *case)


# Response models: the server is the authority on values, but not on types.
WRONG_STR: list[Any] = [5, 1.5, True, ["x"], {"x": "y"}]
WRONG_OPTIONAL_STR: list[Any] = [5, True, ["x"], {"x": "y"}]
WRONG_INT: list[Any] = ["10", 1.5, True, None, [1], {"a": 1}]
WRONG_BOOL: list[Any] = ["true", 1, 0, None, [True]]
WRONG_MOMENT: list[Any] = ["yesterday", "2024-13-01T00:00:00Z", 5, True, ["2024-01-01"], {}]
DETAIL_RULES: dict[str, list[Any]] = {
    "id": [*WRONG_STR, None],
    "name": [*WRONG_STR, None],
    "url": [*WRONG_STR, None],
    "object_type": [5, None, ["deployment"]],  # an unknown string is read, not refused
    "object_name": [*WRONG_STR, None],
    "event": [5, None, {"event": "x"}],
    "version": WRONG_OPTIONAL_STR,
    "headers": [
        "abc",
        5,
        {"key": "A"},
        [5],
        [None],
        [{"value": "v"}],
        [{"key": ""}],
        [{"key": 5}],
        [{"key": "A", "value": 5}],
        [{"key": "A", "protected": "yes"}],
        [{"key": "A", "protected": None}],
    ],
    "description": WRONG_OPTIONAL_STR,
    "labels": [["a"], "a:b", 5, {"a": 1}, {"a": None}, {"a": ["b"]}],
    "timeout": WRONG_INT,
    "enabled": WRONG_BOOL,
    "retry": WRONG_BOOL,
    "include_result": WRONG_BOOL,
    "creation_date": WRONG_MOMENT,
    "last_updated": WRONG_MOMENT,
}
TEST_DETAIL_RULES: dict[str, list[Any]] = {
    "id": [*WRONG_STR, None],
    "status": [5, None, ["pending"], True],
    "error_message": WRONG_OPTIONAL_STR,
}
NOT_AN_OBJECT: list[Any] = [None, 5, "text", [], [{}], True, 1.5]


@st.composite
def broken_answers(
    draw: st.DrawFn, valid: st.SearchStrategy[Any], rules: dict[str, list[Any]]
) -> tuple[Any, str]:
    """A valid answer broken in one way, and the field the message must name (or "")."""
    data = dict(as_json(draw(valid)))
    how = draw(st.sampled_from(["value", "missing", "not_an_object"]))
    if how == "not_an_object":
        return draw(st.sampled_from(NOT_AN_OBJECT)), ""
    required = [f for f in ("id", "name", "url", "object_type", "object_name", "event", "status")]
    required = [f for f in required if f in data]
    if how == "missing":
        field = draw(st.sampled_from(required))
        del data[field]
        return data, field
    field = draw(st.sampled_from(sorted(rules)))
    data[field] = draw(st.sampled_from(rules[field]))
    return data, field


def _undecodable(kind: type[_T], data: Any, field: str) -> None:
    with pytest.raises(_wire.DecodeError) as caught:
        read(kind, data)
    message = str(caught.value)
    assert message
    assert field in message, message


@EXAMPLES
@given(case=broken_answers(details, DETAIL_RULES))
def test_malformed_detail_is_a_decode_error(case: tuple[Any, str]) -> None:
    _undecodable(WebhookDetail, *case)


@EXAMPLES
@given(case=broken_answers(hook_test_details, TEST_DETAIL_RULES))
def test_malformed_test_detail_is_a_decode_error(case: tuple[Any, str]) -> None:
    _undecodable(WebhookTestDetail, *case)


@EXAMPLES
@given(
    good=st.lists(details, max_size=3),
    bad=broken_answers(details, DETAIL_RULES),
    where=st.integers(min_value=0, max_value=3),
)
def test_one_malformed_item_makes_the_list_a_decode_error_naming_it(
    good: list[WebhookDetail], bad: tuple[Any, str], where: int
) -> None:
    items: list[Any] = [as_json(d) for d in good]
    index = min(where, len(items))
    items.insert(index, bad[0])
    for decode in (
        lambda: _wire.webhooks_from_json(items),
        lambda: _wire.decode_webhooks(json.dumps(items).encode()),
    ):
        with pytest.raises(_wire.DecodeError) as caught:
            decode()
        assert str(caught.value).startswith(f"$[{index}]"), caught.value


@EXAMPLES
@given(data=st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=8))
def test_a_list_answer_that_is_not_a_list_of_objects_is_a_decode_error(data: Any) -> None:
    body = json.dumps(data).encode()
    if data == []:
        assert _wire.webhooks_from_json(data) == []
        assert _wire.decode_webhooks(body) == []
        return
    with pytest.raises(_wire.DecodeError):
        _wire.webhooks_from_json(data)
    with pytest.raises(_wire.DecodeError):
        _wire.decode_webhooks(body)


@EXAMPLES
@given(
    good=st.lists(details, min_size=1, max_size=3),
    spacing=st.sampled_from([None, 2]),
    cut=st.integers(min_value=0, max_value=400),
)
def test_reading_a_list_body_element_by_element_agrees_with_reading_it_whole(
    good: list[WebhookDetail], spacing: int | None, cut: int
) -> None:
    body = json.dumps([as_json(d) for d in good], indent=spacing).encode()
    assert _wire.decode_webhooks(body) == _wire.webhooks_from_json(json.loads(body))
    broken = body[: min(cut, len(body) - 1)]  # a body cut short is never half a list
    with pytest.raises(_wire.DecodeError):
        _wire.decode_webhooks(broken)
    with pytest.raises(_wire.DecodeError):
        _wire.decode_webhooks(body + b"[]")  # and trailing data is not ignored


def test_equal_headers_are_shared_between_the_webhooks_of_one_list() -> None:
    header = {"key": "Authorization", "value": None, "protected": True}
    items = [{**as_json(_a_detail(name)), "headers": [dict(header)]} for name in ("one", "two")]
    first, second = _wire.decode_webhooks(json.dumps(items).encode())
    assert first.headers is second.headers
    sneaky = [items[0], {**items[1], "headers": [{**header, "protected": 1}]}]
    with pytest.raises(_wire.DecodeError, match=r"\$\[1\]\.headers\[0\]\.protected"):
        _wire.decode_webhooks(json.dumps(sneaky).encode())  # 1 is not taken for true


def _a_detail(name: str) -> WebhookDetail:
    return WebhookDetail(
        id=name,
        name=name,
        url="https://example.org/",
        object_type=ObjectType.DEPLOYMENT,
        object_name="d",
        event=EventType.DEPLOYMENT_REQUEST_STARTED,
    )


# --- the one-pass reading of plain dicts agrees with the general path ----------------------


def _read_both(model: Any, data: Any) -> tuple[Any, Any]:
    """What ``from_dict`` (one pass where it can) and the general path make of ``data``."""
    results = []
    for read in (model.from_dict, lambda d: _from_dict(model, d)):
        try:
            results.append(read(data))
        except ValidationError as error:
            results.append((error.field, error.rule))
    return results[0], results[1]


@EXAMPLES
@given(
    case=st.one_of(
        creates().map(lambda spec: (as_json(spec), set())),
        corrupted(
            creates(),
            CREATE_RULES,
            ("name", "url", "object_type", "object_name", "event"),
            "WebhookCreate",
        ),
    )
)
def test_a_create_dict_reads_the_same_in_one_pass(case: tuple[Any, set[str]]) -> None:
    fast, general = _read_both(WebhookCreate, case[0])
    assert fast == general
    if isinstance(fast, WebhookCreate):
        assert type(fast.object_type) is ObjectType
        assert all(type(h) is WebhookHeader for h in fast.headers)
        assert hash(fast.headers) == hash(general.headers)


@EXAMPLES
@given(
    case=st.one_of(
        hook_test_specs().map(lambda spec: (as_json(spec), set())),
        corrupted(
            hook_test_specs(),
            TEST_RULES,
            ("url", "object_type", "object_name", "event"),
            "WebhookTestCreate",
        ),
    )
)
def test_a_test_dict_reads_the_same_in_one_pass(case: tuple[Any, set[str]]) -> None:
    fast, general = _read_both(WebhookTestCreate, case[0])
    assert fast == general


def test_the_one_pass_reading_is_taken_for_a_valid_dict() -> None:
    spec = {
        "name": "n",
        "url": "https://example.org/h?x=1#f",
        "object_type": "pipeline",
        "object_name": "p",
        "event": "pipeline_request_started",
        "headers": [{"key": "A", "value": "b", "protected": True}],
        "labels": {"k": "v"},
    }
    assert _PLAIN_CREATE.read(spec) == WebhookCreate(**spec)
    assert _PLAIN_CREATE.read({**spec, "url": "HTTPS://example.org"}) is None  # judged elsewhere
    assert WebhookCreate.from_dict({**spec, "url": "HTTPS://example.org"}).url.startswith("HTTPS")
