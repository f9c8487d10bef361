"""What a refused sender reads, word for word, and the decoding edge cases behind it.

A sender (or the person reading its logs) learns why a delivery was refused only from
the answer: the status, the reason key and a message naming the field and the rule.
These tests hold every one of them to its exact text, written out here rather than
built from the code's own templates.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from aioubiwebhooks import _delivery_check
from aioubiwebhooks._delivery_check import (
    Rejected,
    check_body_size,
    check_content_length,
    check_header_count,
    check_route,
    check_secret,
    parse_delivery,
    redact_headers,
)
from aioubiwebhooks.events import DeploymentEvent, PipelineEvent, WebhookEvent

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
EVENT = b'{"event": "deployment_request_completed", "request_id": "r-1"}'


def refusal(call: Any, *args: Any) -> tuple[int, str, str, str]:
    """(status, reason, message, str(error)) of the Rejected that ``call(*args)`` raises."""
    with pytest.raises(Rejected) as info:
        call(*args)
    error = info.value
    return error.status, error.reason.value, error.message, str(error)


def parse(raw: bytes) -> WebhookEvent:
    return parse_delivery(raw, headers=NO_HEADERS, received_at=WHEN)


@pytest.mark.parametrize(
    ("call", "args", "expected"),
    [
        (
            check_route,
            ("/other", "POST", "/hook"),
            (404, "not_found", "no receiver at this path; deliveries go to /hook"),
        ),
        (
            check_route,
            ("/hook", "GET", "/hook"),
            (405, "method_not_allowed", "GET not allowed; deliveries are POSTs"),
        ),
        (
            check_header_count,
            (11, 10),
            (431, "too_many_headers", "too many headers: 11 (at most 10)"),
        ),
        (
            check_secret,
            (None, b"Token abc", "X-Secret"),
            (401, "unauthorized", "missing X-Secret header"),
        ),
        (
            check_secret,
            ("Token abd", b"Token abc", "X-Secret"),
            (401, "unauthorized", "wrong X-Secret header"),
        ),
        (
            check_content_length,
            (11, 10),
            (413, "too_large", "body of 11 bytes exceeds 10 bytes"),
        ),
        (check_body_size, (11, 10), (413, "too_large", "body exceeds 10 bytes")),
    ],
    ids=["path", "method", "headers", "no secret", "wrong secret", "declared size", "read size"],
)
def test_each_check_refuses_with_its_own_words(
    call: Any, args: tuple[Any, ...], expected: tuple[int, str, str]
) -> None:
    status, reason, message, text = refusal(call, *args)
    assert (status, reason, message) == expected
    assert text == f"{status} {reason}: {message}"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"null", "body must be a JSON object, got null"),
        (b"true", "body must be a JSON object, got boolean"),
        (b"12", "body must be a JSON object, got number"),
        (b"1.5", "body must be a JSON object, got number"),
        (b'"text"', "body must be a JSON object, got string"),
        (b"[]", "body must be a JSON object, got array"),
    ],
)
def test_a_body_that_is_json_but_no_object_names_what_it_is(raw: bytes, message: str) -> None:
    assert refusal(parse, raw)[:3] == (400, "bad_payload", message)


@pytest.mark.parametrize(
    ("value", "kind"),
    [(True, "boolean"), (7, "number"), (0.5, "number"), (["x"], "array"), ({"a": 1}, "object")],
)
def test_a_key_of_the_wrong_type_names_the_key_and_the_type(value: Any, kind: str) -> None:
    raw = json.dumps({"event": "deployment_request_completed", "request_id": value}).encode()
    with pytest.raises(Rejected) as info:
        parse(raw)
    assert info.value.message == f"request_id: must be a string, got {kind}"
    assert info.value.field == "request_id"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "body is not JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"{} x", "body is not JSON: Extra data: line 1 column 3 (char 2)"),
        # JSON's whitespace is four characters; a form feed is none of them
        (b"{}\x0c", "body is not JSON: Extra data: line 1 column 3 (char 2)"),
        (b"[" * 100_000 + b"]" * 100_000, "body is nested too deeply"),
    ],
    ids=["empty", "trailing data", "form feed", "nested"],
)
def test_a_body_that_is_not_json_says_where_it_stopped(raw: bytes, message: str) -> None:
    assert refusal(parse, raw)[:3] == (400, "not_json", message)


@pytest.mark.parametrize(
    "raw",
    [
        EVENT,
        b" \t\r\n" + EVENT,
        EVENT + b" \t\r\n",
        b"\n" + EVENT + b"\n",
        b"\xef\xbb\xbf" + EVENT,  # a byte order mark, as json.loads accepts it
    ],
    ids=["bare", "leading space", "trailing space", "both", "byte order mark"],
)
def test_whitespace_around_the_object_and_a_byte_order_mark_are_accepted(raw: bytes) -> None:
    event = parse(raw)
    assert (event.event_name, event.request_id) == ("deployment_request_completed", "r-1")


def test_an_unknown_event_of_a_known_object_type_gets_that_types_variant() -> None:
    deployment = parse(b'{"event": "deployment_request_exploded", "deployment_name": "d"}')
    assert type(deployment) is DeploymentEvent
    assert deployment.object_name == "d"
    pipeline = parse(b'{"event": "pipeline_request_exploded", "pipeline_name": "p"}')
    assert type(pipeline) is PipelineEvent
    assert pipeline.object_name == "p"


def test_the_object_keys_of_a_prefix_never_seen_before_are_read() -> None:
    prefix = f"t{uuid.uuid4().hex}"  # new to this process: no cached keys to lean on
    raw = json.dumps(
        {
            "event": f"{prefix}_run_completed",
            f"{prefix}_id": "i",
            f"{prefix}_name": "n",
            f"{prefix}_version_id": "vi",
            f"{prefix}_version_name": "vn",
        }
    ).encode()
    event = parse(raw)
    assert (event.object_type, event.object_id, event.object_name) == (prefix, "i", "n")
    assert (event.version_id, event.version_name) == ("vi", "vn")
    assert parse(raw) == event  # the second time from the cached keys


def test_unknown_prefixes_cannot_grow_the_key_cache_past_its_bound() -> None:
    for _ in range(100):
        parse(json.dumps({"event": f"u{uuid.uuid4().hex}_run_started"}).encode())
    assert len(_delivery_check._OBJECT_KEYS) == 64


def test_redaction_adds_no_secret_header_that_was_not_sent() -> None:
    headers = redact_headers(CIMultiDict([("X-Other", "1")]), "Authorization")
    assert list(headers.items()) == [("X-Other", "1")]


def test_a_prefixs_keys_are_built_once_then_taken_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_delivery_check, "_OBJECT_KEYS", {})
    first = _delivery_check._object_keys("deployment")
    assert first == (
        "deployment_id",
        "deployment_name",
        "deployment_version_id",
        "deployment_version_name",
    )
    assert _delivery_check._object_keys("deployment") is first
