"""The receiver's pure decisions and typed events, without sockets."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from aioubiwebhooks._delivery_check import (
    Reason,
    Rejected,
    check_body_size,
    check_content_length,
    check_header_count,
    check_route,
    check_secret,
    dedupe_key,
    parse_delivery,
    redact_headers,
)
from aioubiwebhooks.events import (
    HIDDEN,
    DeploymentEvent,
    PipelineEvent,
    WebhookEvent,
    event_to_json,
)
from aioubiwebhooks.models import EventType, ObjectType

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def payload(object_type: str = "deployment", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": f"{object_type}_request_completed",
        f"{object_type}_id": "id-1",
        f"{object_type}_name": "my-object",
        f"{object_type}_version_id": "vid-1",
        f"{object_type}_version_name": "v1",
        "request_id": "req-1",
        "status": "completed",
        "text": f"{object_type} request req-1 finished",
    }
    body.update(changes)
    return body


def parse(
    body: dict[str, Any] | bytes, headers: CIMultiDictProxy[str] = NO_HEADERS
) -> WebhookEvent:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_delivery(raw, headers=headers, received_at=WHEN)


def rejected(call: Any, *args: Any, **kwargs: Any) -> Rejected:
    with pytest.raises(Rejected) as info:
        call(*args, **kwargs)
    return info.value


# --- route, headers, secret, size ---------------------------------------------------------


def test_route_accepts_post_to_the_path() -> None:
    check_route("/hook", "POST", "/hook")


def test_route_refuses_other_paths_and_methods() -> None:
    assert rejected(check_route, "/other", "POST", "/hook").status == 404
    wrong_method = rejected(check_route, "/hook", "GET", "/hook")
    assert (wrong_method.status, wrong_method.reason) == (405, Reason.METHOD_NOT_ALLOWED)


def test_header_count_limit_is_inclusive() -> None:
    check_header_count(10, 10)
    error = rejected(check_header_count, 11, 10)
    assert (error.status, error.reason) == (431, Reason.TOO_MANY_HEADERS)
    assert "11" in error.message


def test_no_secret_configured_accepts_anything() -> None:
    check_secret(None, None, "Authorization")
    check_secret("whatever", None, "Authorization")


def test_right_secret_is_accepted() -> None:
    check_secret("Token abc", b"Token abc", "Authorization")


@pytest.mark.parametrize("given_value", [None, "", "Token ab", "Token abcd", "token abc"])
def test_missing_or_wrong_secret_is_401_without_echoing_it(given_value: str | None) -> None:
    error = rejected(check_secret, given_value, b"Token abc", "X-Secret")
    assert (error.status, error.reason) == (401, Reason.UNAUTHORIZED)
    assert "X-Secret" in error.message
    assert "abc" not in json.dumps(error.body())


def test_secret_compares_every_received_byte() -> None:
    # a non-UTF-8 byte arrives as a surrogate escape; it must not match or crash
    error = rejected(check_secret, "Token \udcff", "Token ÿ".encode(), "Authorization")
    assert error.status == 401
    check_secret("Token \udcff", b"Token \xff", "Authorization")


def test_content_length_over_the_limit_is_413() -> None:
    check_content_length(None, 10)
    check_content_length(10, 10)
    error = rejected(check_content_length, 11, 10)
    assert (error.status, error.reason) == (413, Reason.TOO_LARGE)


def test_body_size_is_checked_while_reading() -> None:
    check_body_size(10, 10)
    assert rejected(check_body_size, 11, 10).status == 413


def test_every_rejection_body_is_json_with_an_error() -> None:
    error = Rejected(Reason.BAD_PAYLOAD, "request_id: missing", field="request_id")
    body = error.body()
    assert body == {"error": "request_id: missing", "reason": "bad_payload", "field": "request_id"}
    assert json.loads(json.dumps(body))["error"]


# --- headers ------------------------------------------------------------------------------


def test_redaction_hides_only_the_secret_header_in_any_case() -> None:
    raw = CIMultiDict(
        [("authorization", "Token abc"), ("X-Other", "1"), ("X-Other", "2"), ("AUTHORIZATION", "x")]
    )
    headers = redact_headers(raw, "Authorization")
    assert headers.getall("Authorization") == [HIDDEN]
    assert headers.getall("x-other") == ["1", "2"]
    assert [name for name, _ in headers.items()] == ["Authorization", "X-Other", "X-Other"]
    assert redact_headers(raw, None)["authorization"] == "Token abc"


# --- the body -----------------------------------------------------------------------------


def test_deployment_payload_becomes_a_deployment_event() -> None:
    event = parse(payload("deployment"))
    assert isinstance(event, DeploymentEvent)
    assert event.event is EventType.DEPLOYMENT_REQUEST_COMPLETED
    assert event.object_type is ObjectType.DEPLOYMENT
    assert (event.deployment_id, event.deployment_name) == ("id-1", "my-object")
    assert (event.deployment_version_id, event.deployment_version_name) == ("vid-1", "v1")
    assert (event.object_id, event.object_name, event.version_id, event.version_name) == (
        "id-1",
        "my-object",
        "vid-1",
        "v1",
    )
    assert (event.request_id, event.status) == ("req-1", "completed")
    assert event.received_at == WHEN
    assert not event.has_result
    assert event.result is None


def test_pipeline_payload_becomes_a_pipeline_event_with_its_result() -> None:
    event = parse(payload("pipeline", event="pipeline_request_failed", result={"out": [1, 2]}))
    assert isinstance(event, PipelineEvent)
    assert event.event is EventType.PIPELINE_REQUEST_FAILED
    assert event.object_type is ObjectType.PIPELINE
    assert (event.pipeline_id, event.pipeline_name) == ("id-1", "my-object")
    assert (event.pipeline_version_id, event.pipeline_version_name) == ("vid-1", "v1")
    assert event.has_result
    assert event.result == {"out": [1, 2]}


def test_null_result_differs_from_no_result() -> None:
    with_null = parse(payload(result=None))
    without = parse(payload())
    assert with_null.has_result
    assert with_null.result is None
    assert not without.has_result
    assert with_null != without


def test_event_keeps_raw_body_and_headers() -> None:
    raw = json.dumps(payload(future_key={"x": 1})).encode()
    headers = CIMultiDictProxy(CIMultiDict({"X-Trace": "t1"}))
    event = parse(raw, headers)
    assert event.raw == raw
    assert event.headers["x-trace"] == "t1"
    assert event.payload()["future_key"] == {"x": 1}


@given(
    st.dictionaries(
        st.text(min_size=1).filter(lambda key: key not in payload() and key != "result"),
        st.none() | st.booleans() | st.integers() | st.text(),
        max_size=5,
    )
)
def test_unknown_keys_are_tolerated(extra: dict[str, Any]) -> None:
    event = parse({**payload(), **extra})
    assert event.request_id == "req-1"
    assert not event.has_result


@pytest.mark.parametrize("value", [None, "absent"])
def test_a_delivery_without_its_event_is_400_naming_it(value: Any) -> None:
    body = payload()
    if value == "absent":
        del body["event"]
    else:
        body["event"] = value
    error = rejected(parse, body)
    assert (error.status, error.reason, error.field) == (400, Reason.BAD_PAYLOAD, "event")
    assert error.body()["error"] == "event: missing"


@pytest.mark.parametrize(
    ("field", "attribute"),
    [
        ("deployment_id", "object_id"),
        ("deployment_name", "object_name"),
        ("deployment_version_id", "version_id"),
        ("deployment_version_name", "version_name"),
        ("request_id", "request_id"),
        ("status", "status"),
        ("text", "text"),
    ],
)
def test_optional_keys_may_be_missing_or_null(field: str, attribute: str) -> None:
    body = payload()
    del body[field]
    assert getattr(parse(body), attribute) is None
    assert getattr(parse({**body, field: None}), attribute) is None


@pytest.mark.parametrize("value", [1, True, ["x"], {"a": 1}])
def test_wrong_type_is_400_naming_the_field(value: Any) -> None:
    error = rejected(parse, payload(request_id=value))
    assert (error.status, error.field) == (400, "request_id")
    assert "must be a string" in error.message


_TEXT_KEYS = ("id", "name", "version_id", "version_name")


@pytest.mark.parametrize(
    ("object_type", "field"),
    [
        *((kind, f"{kind}_{key}") for kind in ("deployment", "pipeline") for key in _TEXT_KEYS),
        ("deployment", "request_id"),
        ("deployment", "status"),
        ("pipeline", "text"),
        ("experiment", "experiment_name"),  # an unknown event's keys follow its prefix too
    ],
)
def test_every_text_key_of_the_wrong_type_is_refused_by_name(object_type: str, field: str) -> None:
    error = rejected(parse, payload(object_type, **{field: 7}))
    assert (error.status, error.field) == (400, field)
    assert error.message == f"{field}: must be a string, got number"


def test_of_several_keys_of_the_wrong_type_the_first_in_order_is_named() -> None:
    body = payload(text=False, status=["x"], deployment_version_name=1, deployment_name={})
    assert rejected(parse, body).field == "deployment_name"
    assert rejected(parse, payload(text=False, status=["x"])).field == "status"


def test_keys_of_another_object_type_are_kept_as_extra() -> None:
    event = parse(payload("deployment", event="pipeline_request_started"))
    assert isinstance(event, PipelineEvent)
    assert event.object_name is None
    assert event.extra["deployment_name"] == "my-object"


@pytest.mark.parametrize(
    ("name", "object_type"),
    [
        ("experiment_run_completed", "experiment"),
        ("deployment_request_exploded", ObjectType.DEPLOYMENT),
    ],
)
def test_an_unknown_event_is_kept_as_its_string(name: str, object_type: Any) -> None:
    body = {"event": name, "experiment_id": "e-1", "run": 7}
    event = parse(body)
    assert event.event == name
    assert not isinstance(event.event, EventType)
    assert event.object_type == object_type
    assert event.event_name == name
    assert event.request_id is None
    assert event.payload() == body
    assert json.loads(event_to_json(event))["event"] == name


def test_unknown_experiment_event_reads_its_object_keys() -> None:
    event = parse({"event": "experiment_run_finished", "experiment_name": "exp", "request_id": "r"})
    assert type(event) is WebhookEvent
    assert (event.object_type, event.object_name, event.request_id) == ("experiment", "exp", "r")
    assert event.extra == {}


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_a_finished_event_reports_any_outcome(status: str) -> None:
    event = parse(payload(event="deployment_request_finished", status=status))
    assert (event.event, event.status) == (EventType.DEPLOYMENT_REQUEST_FINISHED, status)


def test_dedupe_key_without_a_request_id_is_the_body_digest() -> None:
    first = parse(b'{"event": "experiment_run_started", "n": 1}')
    again = parse(b'{"event": "experiment_run_started", "n": 1}')
    other = parse(b'{"event": "experiment_run_started", "n": 2}')
    assert dedupe_key(first) == dedupe_key(again) != dedupe_key(other)
    assert dedupe_key(first)[1].startswith("sha256:")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", Reason.NOT_JSON),
        (b"not json", Reason.NOT_JSON),
        (b"\xff\xfe\x00garbage", Reason.NOT_JSON),
        (b"[" * 100_000 + b"]" * 100_000, Reason.NOT_JSON),
        (b"[1, 2]", Reason.BAD_PAYLOAD),
        (b'"text"', Reason.BAD_PAYLOAD),
        (b"null", Reason.BAD_PAYLOAD),
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(raw: bytes, reason: Reason) -> None:
    error = rejected(parse, raw)
    assert (error.status, error.reason) == (400, reason)


def test_dedupe_key_is_event_and_request_id() -> None:
    first = parse(payload())
    again = parse(payload(text="sent again"))
    other_event = parse(payload(event="deployment_request_finished"))
    assert dedupe_key(first) == dedupe_key(again) == ("deployment_request_completed", "req-1")
    assert dedupe_key(other_event) != dedupe_key(first)


# --- the events themselves ----------------------------------------------------------------


def test_variant_refuses_the_other_object_type() -> None:
    with pytest.raises(ValueError, match="DeploymentEvent"):
        DeploymentEvent(
            event=EventType.PIPELINE_REQUEST_STARTED,
            object_id="i",
            object_name="n",
            version_id="vi",
            version_name="v",
            request_id="r",
            status="processing",
            text="t",
            received_at=WHEN,
        )


def test_events_are_frozen() -> None:
    event = parse(payload())
    with pytest.raises(AttributeError):
        event.status = "failed"  # type: ignore[misc]


def test_repr_shows_no_header_value_and_no_raw_body() -> None:
    headers = redact_headers(
        CIMultiDict({"Authorization": "Token top-secret", "X-Protected": "also-secret"}),
        "Authorization",
    )
    event = parse(payload(), headers)
    text = repr(event)
    assert "top-secret" not in text
    assert "also-secret" not in text
    assert "<2 headers>" in text
    assert f"<{len(event.raw)} bytes>" in text
    assert "top-secret" not in str(dict(event.headers))


def test_long_results_are_shortened_in_the_repr() -> None:
    event = parse(payload(result="x" * 10_000))
    assert len(repr(event)) < 1000
    assert event.result == "x" * 10_000


def test_event_to_json_is_one_line_with_the_documented_keys() -> None:
    headers = CIMultiDictProxy(CIMultiDict({"Authorization": "Token top-secret"}))
    event = parse(payload("pipeline", result={"k": "v"}, text="line\nbreak \u2028"), headers)
    line = event_to_json(event)
    assert "\n" not in line
    assert len(line.splitlines()) == 1
    assert "top-secret" not in line
    decoded = json.loads(line)
    assert list(decoded) == [
        "event",
        "object_type",
        "object_name",
        "version",
        "request_id",
        "status",
        "text",
        "result",
        "received_at",
    ]
    assert decoded["object_type"] == "pipeline"
    assert decoded["version"] == "v1"
    assert decoded["result"] == {"k": "v"}
    assert decoded["received_at"] == WHEN.isoformat()


def test_event_to_json_leaves_out_a_missing_result_but_keeps_a_null_one() -> None:
    assert "result" not in json.loads(event_to_json(parse(payload())))
    assert json.loads(event_to_json(parse(payload(result=None))))["result"] is None


# --- the fast reading agrees with the plain one ----------------------------------------------


def test_a_parsed_event_equals_the_one_its_constructor_builds() -> None:
    """parse_delivery fills the event in directly; nothing the constructor sets is missing."""
    headers = redact_headers(CIMultiDict({"X-Secret": "s"}), "X-Secret")
    raw = json.dumps(payload("pipeline", result={"n": 1})).encode()
    event = parse_delivery(raw, headers=headers, received_at=WHEN)
    built = PipelineEvent(
        event=EventType.PIPELINE_REQUEST_COMPLETED,
        object_id="id-1",
        object_name="my-object",
        version_id="vid-1",
        version_name="v1",
        request_id="req-1",
        status="completed",
        text="pipeline request req-1 finished",
        result={"n": 1},
        has_result=True,
        raw=raw,
        headers=headers,
        received_at=WHEN,
    )
    assert event == built
    assert type(event) is PipelineEvent
    assert event.headers is headers
    assert hash(event) == hash(built)


@pytest.mark.parametrize(
    "result",
    [
        123456789012345678901234567890,  # past 64 bits: orjson would read a float
        18446744073709551615,
        -(2**63),
        0.1 + 0.2,
        [1, 2.5, {"deep": [10**30]}],
        "text",
        None,
        True,
    ],
)
def test_a_result_reads_as_json_reads_it(result: Any) -> None:
    event = parse(payload(result=result))
    assert event.result == json.loads(json.dumps(result))
    assert type(event.result) is type(json.loads(json.dumps(result)))


@pytest.mark.parametrize(
    "raw",
    [
        b'\xef\xbb\xbf{"event": "deployment_request_completed"}',  # a byte order mark
        b'{"event": "deployment_request_completed", "x": NaN}',
        b'{"event": "deployment_request_completed", "x": "\\ud800"}',  # a lone surrogate
        b'{"event": "deployment_request_completed", "x": 1e400}',
    ],
)
def test_bodies_orjson_refuses_are_read_as_json_reads_them(raw: bytes) -> None:
    event = parse(raw)
    assert event.event is EventType.DEPLOYMENT_REQUEST_COMPLETED


def test_whitespace_around_a_body_that_json_reads_is_allowed() -> None:
    """A float result is read by ``json`` (exactly as it reads floats), with or without
    orjson installed: whitespace before and after the object is JSON all the same."""
    body = b" \n\t" + json.dumps(payload(result=1.5)).encode() + b" \r\n "
    event = parse(body)
    assert event.result == 1.5
    assert rejected(parse, b" " + json.dumps(payload(result=1.5)).encode() + b" x").reason is (
        Reason.NOT_JSON
    )
