"""Reading the API's answers: every misfit named by its JSON path and what was wrong.

A bad answer must fail with a DecodeError whose message says where (``$.headers[0].key``)
and what (``expected a string, got a number``), so that whoever reads it can tell the
server's fault from the client's. Each case below writes the whole expected message
out, independent of the reader's own templates. The writers' small promises (a masked
protected value, a copy rather than the model's own dict, UTC times) are held here too.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from aioubiwebhooks import WebhookDetail, WebhookHeader, WebhookUpdate, _wire
from aioubiwebhooks._wire import (
    DecodeError,
    SharedHeaders,
    decode_json,
    decode_webhooks,
    header_json,
    iso,
    parse_datetime,
    spec_json,
    update_json,
    webhook_from_json,
    webhook_json,
    webhook_test_from_json,
    webhooks_from_json,
)
from aioubiwebhooks.models import EventType, ObjectType, TestStatus

GOOD: dict[str, Any] = {
    "id": "i-1",
    "name": "hook",
    "url": "https://example.org/hook",
    "object_type": "deployment",
    "object_name": "dep",
    "event": "deployment_request_completed",
}


def problem(read: Any, data: Any) -> str:
    with pytest.raises(DecodeError) as info:
        read(data)
    assert str(info.value) == f"{info.value.path}: {info.value.problem}"
    return str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "$: expected an object, got null"),
        (True, "$: expected an object, got a boolean"),
        (3, "$: expected an object, got a number"),
        (2.5, "$: expected an object, got a number"),
        ("hook", "$: expected an object, got a string"),
        ([GOOD], "$: expected an object, got an array"),
    ],
)
def test_a_webhook_that_is_no_object_says_what_it_is(data: Any, message: str) -> None:
    assert problem(webhook_from_json, data) == message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": None}, "$.id: expected a string, got null"),
        ({"name": 7}, "$.name: expected a string, got a number"),
        ({"object_type": 7}, "$.object_type: expected a string, got a number"),
        ({"event": ["x"]}, "$.event: expected a string, got an array"),
        ({"version": 2}, "$.version: expected a string or null, got a number"),
        ({"description": {}}, "$.description: expected a string or null, got an object"),
        ({"timeout": "10"}, "$.timeout: expected a whole number, got a string"),
        ({"timeout": 1.5}, "$.timeout: expected a whole number, got a number"),
        ({"timeout": True}, "$.timeout: expected a whole number, got a boolean"),
        ({"enabled": "yes"}, "$.enabled: expected true or false, got a string"),
        ({"retry": 1}, "$.retry: expected true or false, got a number"),
        ({"include_result": None}, "$.include_result: expected true or false, got null"),
        ({"labels": ["a"]}, "$.labels: expected an object, got an array"),
        ({"labels": {"team": 1}}, "$.labels['team']: expected a string, got a number"),
        ({"creation_date": 5}, "$.creation_date: expected an ISO 8601 time, got a number"),
        ({"last_updated": "noon"}, "$.last_updated: expected an ISO 8601 time, got 'noon'"),
        ({"headers": {}}, "$.headers: expected an array, got an object"),
        ({"headers": [5]}, "$.headers[0]: expected an object, got a number"),
        ({"headers": [{"key": 1}]}, "$.headers[0].key: expected a string, got a number"),
        (
            {"headers": [{"key": "A", "value": 1}]},
            "$.headers[0].value: expected a string or null, got a number",
        ),
        (
            {"headers": [{"key": "A", "value": "v", "protected": "yes"}]},
            "$.headers[0].protected: expected true or false, got a string",
        ),
        ({"headers": [{"key": "", "value": "v"}]}, "$.headers[0].key: must not be empty"),
        (
            {"headers": [{"key": "A", "value": "v"}, {"key": "B", "value": ""}]},
            "$.headers[1].value: must not be empty (None keeps a protected value)",
        ),
    ],
)
def test_a_field_that_does_not_fit_is_named_with_what_was_wrong(
    changes: dict[str, Any], message: str
) -> None:
    assert problem(webhook_from_json, {**GOOD, **changes}) == message


@pytest.mark.parametrize("field", ["id", "name", "url", "object_type", "object_name", "event"])
def test_a_missing_required_field_is_named(field: str) -> None:
    data = {key: value for key, value in GOOD.items() if key != field}
    assert problem(webhook_from_json, data) == f"$.{field}: required field missing"


def test_a_long_bad_time_is_shown_cut_short() -> None:
    text = "x" * 100
    message = problem(webhook_from_json, {**GOOD, "creation_date": text})
    assert message == f"$.creation_date: expected an ISO 8601 time, got '{'x' * 59}..."


def test_a_bad_time_as_long_as_the_preview_is_shown_whole() -> None:
    text = "x" * 58  # its repr, quotes included, is the 60 characters a preview shows
    message = problem(webhook_from_json, {**GOOD, "creation_date": text})
    assert message == f"$.creation_date: expected an ISO 8601 time, got '{text}'"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"headers": [{"key": 1}], "timeout": "10"},
            "$.headers[0].key: expected a string, got a number",
        ),
        ({"labels": ["a"], "enabled": "yes"}, "$.labels: expected an object, got an array"),
        ({"headers": "A: v", "labels": ["a"]}, "$.headers: expected an array, got a string"),
    ],
)
def test_of_two_misfits_the_first_in_reading_order_is_named(
    changes: dict[str, Any], message: str
) -> None:
    assert problem(webhook_from_json, {**GOOD, **changes}) == message
    assert problem(webhooks_from_json, [GOOD, {**GOOD, **changes}]) == message.replace(
        "$", "$[1]", 1
    )


def test_what_an_answer_leaves_out_reads_as_the_documented_defaults() -> None:
    detail = webhook_from_json({**GOOD, "headers": [{"key": "A", "value": "v"}]})
    assert detail == WebhookDetail(
        id="i-1",
        name="hook",
        url="https://example.org/hook",
        object_type=ObjectType.DEPLOYMENT,
        object_name="dep",
        event=EventType.DEPLOYMENT_REQUEST_COMPLETED,
        headers=(WebhookHeader("A", "v", protected=False),),
        timeout=10,
        enabled=True,
        retry=False,
        include_result=False,
    )
    assert detail.labels == {}
    assert (detail.version, detail.description, detail.creation_date) == (None, None, None)


FULL: dict[str, Any] = {
    **GOOD,
    "version": "v1",
    "description": "d",
    "labels": {"team": "a"},
    "timeout": 12,
    "enabled": False,
    "retry": True,
    "include_result": True,
    "creation_date": "2024-05-01T12:00:00Z",
    "last_updated": "2024-05-01T13:00:00+02:00",
    "headers": [{"key": "Authorization", "value": None, "protected": True}],
}


def test_a_webhook_with_every_field_reads_as_written() -> None:
    assert webhook_from_json(FULL) == WebhookDetail(
        id="i-1",
        name="hook",
        url="https://example.org/hook",
        object_type=ObjectType.DEPLOYMENT,
        object_name="dep",
        event=EventType.DEPLOYMENT_REQUEST_COMPLETED,
        version="v1",
        headers=(WebhookHeader("Authorization", None, protected=True),),
        description="d",
        labels={"team": "a"},
        timeout=12,
        enabled=False,
        retry=True,
        include_result=True,
        creation_date=datetime(2024, 5, 1, 12, tzinfo=timezone.utc),
        last_updated=datetime(2024, 5, 1, 11, tzinfo=timezone.utc),
    )
    assert webhook_from_json({**FULL, "object_type": "experiment"}).object_type == "experiment"


@pytest.mark.parametrize("data", [GOOD, FULL], ids=["defaults", "every field"])
def test_a_webhook_read_field_by_field_matches_the_fast_reading(data: dict[str, Any]) -> None:
    """The field-by-field reading runs only to name a misfit; on a webhook that fits it must
    still give the same model, or the two readings have drifted apart."""
    assert _wire._checked_webhook(data, None) == webhook_from_json(data)


@pytest.mark.parametrize("data", [GOOD, FULL], ids=["defaults", "every field"])
def test_a_webhook_that_fits_is_read_in_one_go(
    data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The point of the fast reading: a webhook that fits never takes the field-by-field
    way, in a single answer or in a list."""

    def not_expected(item: dict[str, Any], shared: Any) -> WebhookDetail:
        raise AssertionError(f"read field by field: {item}")

    monkeypatch.setattr(_wire, "_checked_webhook", not_expected)
    one = webhook_from_json(data)
    assert webhooks_from_json([data, data]) == [one, one]
    assert decode_webhooks(json.dumps([data]).encode()) == [one]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=timezone.utc)),
        ("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, tzinfo=timezone.utc)),
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, tzinfo=timezone.utc)),
    ],
    ids=["Z", "no offset", "offset"],
)
def test_times_read_as_aware_datetimes_in_utc_when_no_offset_is_given(
    text: str, expected: datetime
) -> None:
    moment = parse_datetime(text)
    assert moment == expected
    assert moment.tzinfo is not None
    assert moment.utcoffset() == (timedelta(hours=2) if "+02:00" in text else timedelta(0))


# --- lists --------------------------------------------------------------------------------


def hook(name: str, *headers: dict[str, Any]) -> dict[str, Any]:
    return {**GOOD, "id": f"id-{name}", "name": name, "headers": list(headers)}


def test_a_list_keeps_each_headers_own_value_and_flag() -> None:
    """Equal headers are built once per list; headers that differ in any part are not."""
    secret = {"key": "A", "value": "v", "protected": True}
    plain = {"key": "A", "value": "v"}  # protected left out: false
    other = {"key": "A", "value": "w"}
    hooks = webhooks_from_json(
        [hook("a", secret), hook("b", plain), hook("c", other), hook("d", plain)]
    )
    assert [h.headers for h in hooks] == [
        (WebhookHeader("A", "v", protected=True),),
        (WebhookHeader("A", "v"),),
        (WebhookHeader("A", "w"),),
        (WebhookHeader("A", "v"),),
    ]
    assert hooks[1].headers is hooks[3].headers  # equal header lists are shared
    mixed = webhooks_from_json([hook("a", plain), hook("b", other, plain)])
    assert mixed[1].headers[1] is mixed[0].headers[0]  # and equal headers within others


def test_single_answers_read_by_one_reader_share_equal_headers_and_stay_bounded() -> None:
    """A session's reader hands out the headers of earlier answers again when equal; it
    keeps each header's own value and flag, reads a misfit as webhook_from_json does, and
    forgets what it holds once full."""
    secret = {"key": "A", "value": "v", "protected": True}
    plain = {"key": "A", "value": "v"}
    reader = SharedHeaders(limit=4)
    first, again = reader.webhook(hook("a", plain)), reader.webhook(hook("b", plain))
    masked = reader.webhook(hook("c", secret))
    assert first.headers is again.headers
    assert masked.headers == (WebhookHeader("A", "v", protected=True),)
    assert first.headers == (WebhookHeader("A", "v"),)
    assert first == webhook_from_json(hook("a", plain))
    bad = hook("d", {"key": 1, "value": "v"})
    assert problem(reader.webhook, bad) == problem(webhook_from_json, bad)
    assert problem(reader.webhook, bad) == "$.headers[0].key: expected a string, got a number"
    for index in range(10):  # each adds a header and a tuple: the reader starts over when full
        reader.webhook(hook(f"e{index}", {"key": f"K{index}", "value": "v"}))
    assert reader.webhook(hook("f", plain)).headers is not first.headers


def test_a_flag_that_is_not_a_boolean_is_never_taken_for_one() -> None:
    body = [hook("a", {"key": "A", "value": "v", "protected": True}), hook("b")]
    body[1]["headers"] = [{"key": "A", "value": "v", "protected": 1}]
    assert problem(webhooks_from_json, body) == (
        "$[1].headers[0].protected: expected true or false, got a number"
    )


def test_a_list_answer_that_is_no_list_says_what_it_is() -> None:
    assert problem(webhooks_from_json, {"items": []}) == "$: expected an array, got an object"
    assert problem(decode_webhooks, b"{}") == "$: expected an array, got an object"


@pytest.mark.parametrize(
    "body",
    [b"[]", b" [ ] ", b"\n[\t]\r\n"],
)
def test_an_empty_list_reads_with_any_json_whitespace(body: bytes) -> None:
    assert decode_webhooks(body) == []


def test_a_list_body_reads_element_by_element_with_whitespace_anywhere() -> None:
    items = [hook("a", {"key": "A", "value": "v"}), hook("b", {"key": "A", "value": "v"})]
    compact = json.dumps(items, separators=(",", ":")).encode()
    spaced = b" [ " + json.dumps(items[0]).encode() + b" ,\n " + json.dumps(items[1]).encode()
    spaced += b" ] \n"
    for body in (compact, spaced):
        hooks = decode_webhooks(body)
        assert [h.name for h in hooks] == ["a", "b"]
        assert hooks[0].headers is hooks[1].headers
    assert decode_webhooks(compact) == webhooks_from_json(items)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "$: not JSON (JSONDecodeError): ''"),
        (b"\xff[]", "$: not JSON (UnicodeDecodeError): '\ufffd[]'"),
        (b'[{"id": 1}]', "$[0].id: expected a string, got a number"),
        (b"[{}, ]", "$[0].id: required field missing"),
        (b"[nope]", "$[0]: not JSON (JSONDecodeError)"),
        (b"[" + b"[" * 100_000, "$[0]: not JSON (RecursionError)"),
        (b"[] x", "$: not JSON: extra data after character 1"),
        (b"[]x", "$: not JSON: extra data after character 1"),
    ],
    ids=[
        "empty",
        "not UTF-8",
        "bad item",
        "bad first",
        "bad JSON item",
        "nested",
        "extra",
        "extra at once",
    ],
)
def test_a_bad_list_body_says_where(body: bytes, message: str) -> None:
    assert problem(decode_webhooks, body) == message


def test_items_not_separated_by_commas_are_refused() -> None:
    item = json.dumps(hook("a")).encode()
    body = b"[" + item + b" " + item + b"]"
    assert problem(decode_webhooks, body) == (
        f"$: not JSON: expected ',' or ']' at character {len(item) + 2}"
    )
    assert problem(decode_webhooks, b"[" + item) == (
        f"$: not JSON: expected ',' or ']' at character {len(item) + 1}"
    )


def test_the_second_bad_item_of_a_list_is_named_by_its_index() -> None:
    body = json.dumps([hook("a"), {**hook("b"), "timeout": "x"}]).encode()
    assert problem(decode_webhooks, body) == "$[1].timeout: expected a whole number, got a string"


# --- webhook tests --------------------------------------------------------------------------


def test_a_webhook_test_reads_its_status_and_names_what_does_not_fit() -> None:
    done = webhook_test_from_json({"id": "t", "status": "failed", "error_message": "500"})
    assert (done.id, done.status, done.error_message) == ("t", TestStatus.FAILED, "500")
    assert webhook_test_from_json({"id": "t", "status": "queued"}).status == "queued"
    assert problem(webhook_test_from_json, []) == "$: expected an object, got an array"
    assert problem(webhook_test_from_json, {"status": "failed"}) == "$.id: required field missing"
    assert problem(webhook_test_from_json, {"id": "t", "status": 1}) == (
        "$.status: expected a string, got a number"
    )
    assert problem(webhook_test_from_json, {"id": "t", "status": "failed", "error_message": 2}) == (
        "$.error_message: expected a string or null, got a number"
    )


# --- writing ------------------------------------------------------------------------------


SECRET = WebhookHeader("Authorization", "s3cret", protected=True)


def test_a_protected_value_is_written_only_when_revealed() -> None:
    assert header_json(SECRET) == {"key": "Authorization", "value": None, "protected": True}
    assert header_json(SECRET, mask="***")["value"] == "***"
    assert header_json(SECRET, reveal=True)["value"] == "s3cret"
    detail = attrs.evolve(webhook_from_json(GOOD), headers=(SECRET,))
    assert webhook_json(detail, mask="***")["headers"][0]["value"] == "***"
    assert spec_json(detail, mask="***")["headers"][0]["value"] == "***"
    assert spec_json(detail)["headers"][0]["value"] is None


def test_an_update_body_holds_plain_json_values_of_its_own() -> None:
    update = WebhookUpdate(labels={"team": "a"}, event="deployment_request_failed")
    body = update_json(update)
    assert body == {"labels": {"team": "a"}, "event": "deployment_request_failed"}
    assert type(body["event"]) is str
    assert body["labels"] is not update.labels  # a copy: the body may be changed freely


@pytest.fixture
def far_from_utc() -> Iterator[None]:
    """The process's local time zone nine hours from UTC, for the length of a test."""
    saved = time.tzname
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()
        assert time.tzname == saved


@pytest.mark.usefixtures("far_from_utc")
def test_times_are_written_in_utc_whatever_the_local_zone() -> None:
    moment = datetime(2024, 5, 1, 21, tzinfo=timezone(timedelta(hours=9)))
    assert iso(moment) == "2024-05-01T12:00:00Z"
    assert iso(None) is None


def test_json_nested_too_deeply_says_so() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(DecodeError) as info:
        decode_json(deep)
    assert str(info.value) == "$: JSON nested too deeply"
