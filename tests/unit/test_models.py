"""Field rules, dict input and (de)serialisation of the models."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from aioubiwebhooks import (
    UNSET,
    EventType,
    ObjectType,
    ValidationError,
    WebhookCreate,
    WebhookHeader,
    WebhookTestCreate,
    WebhookUpdate,
    _wire,
)

VALID: dict[str, Any] = {
    "name": "on-fail",
    "url": "https://example.org/hook",
    "object_type": "deployment",
    "object_name": "dep-1",
    "event": "deployment_request_failed",
}


def make(**changes: Any) -> WebhookCreate:
    return WebhookCreate.from_dict({**VALID, **changes})


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"name": ""}, "name", "must not be empty"),
        ({"name": "x" * 65}, "name", "at most 64"),
        ({"name": 5}, "name", "must be a string"),
        ({"description": "d" * 401}, "description", "at most 400"),
        ({"timeout": 0}, "timeout", "between 1 and 30"),
        ({"timeout": 31}, "timeout", "between 1 and 30"),
        ({"timeout": 2.5}, "timeout", "whole number"),
        ({"timeout": True}, "timeout", "whole number"),
        ({"event": "pipeline_request_failed"}, "event", "'deployment_'"),
        ({"event": "deployment_request_exploded"}, "event", "must be one of"),
        ({"object_type": "model"}, "object_type", "must be one of"),
        ({"object_name": ""}, "object_name", "must not be empty"),
        ({"url": "example.org/hook"}, "url", "absolute http(s) URL"),
        ({"url": "ftp://example.org/hook"}, "url", "absolute http(s) URL"),
        ({"url": "https:///nohost"}, "url", "absolute http(s) URL"),
        ({"url": "https://exa mple.org"}, "url", "white space"),
        ({"headers": [{"key": "", "value": "v"}]}, "headers[0].key", "must not be empty"),
        ({"headers": [{"key": "A"}]}, "headers[0].value", "is required"),
        ({"headers": [{"key": "A", "value": ""}]}, "headers[0].value", "must not be empty"),
        ({"headers": "A: b"}, "headers", "list of headers"),
        (
            {"headers": [{"key": "A", "value": "b", "secret": True}]},
            "headers[0].secret",
            "not a field",
        ),
        ({"labels": {"a": 1}}, "labels['a']", "must be a string"),
        ({"labels": ["a"]}, "labels", "mapping"),
        ({"enabled": "yes"}, "enabled", "true or false"),
        ({"retry": 1}, "retry", "true or false"),
        ({"include_result": None}, "include_result", "true or false"),
        ({"version": ""}, "version", "must not be empty"),
        ({"timout": 5}, "timout", "is not a field of WebhookCreate"),
    ],
)
def test_every_field_rule_names_field_rule_and_value(
    changes: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make(**changes)
    assert caught.value.field == field
    assert rule in caught.value.rule
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"{field}: ")


def test_missing_required_field_is_named() -> None:
    data = dict(VALID)
    del data["url"]
    with pytest.raises(ValidationError, match="url: is required"):
        WebhookCreate.from_dict(data)


def test_valid_create_converts_strings_to_enums_and_defaults() -> None:
    hook = make(headers=[{"key": "X", "value": "1"}], labels={"team": "a"})
    assert hook.object_type is ObjectType.DEPLOYMENT
    assert hook.event is EventType.DEPLOYMENT_REQUEST_FAILED
    assert hook.headers == (WebhookHeader("X", "1"),)
    assert (hook.timeout, hook.enabled, hook.retry, hook.include_result) == (10, True, False, False)


def test_limits_are_inclusive() -> None:
    assert make(name="n" * 64, description="d" * 400, timeout=30).timeout == 30
    assert make(timeout=1).timeout == 1


def test_create_body_leaves_out_none_and_sends_enums_as_strings() -> None:
    body = json.loads(
        _wire.to_body(
            _wire.create_json(make(headers=[{"key": "A", "value": "s", "protected": True}]))
        )
    )
    assert body["object_type"] == "deployment"
    assert body["event"] == "deployment_request_failed"
    assert "version" not in body
    assert "description" not in body
    assert body["headers"] == [{"key": "A", "value": "s", "protected": True}]


def test_update_sends_only_set_fields_and_null_for_kept_protected_value() -> None:
    update = WebhookUpdate(timeout=5, headers=[{"key": "Authorization", "protected": True}])
    assert update.changed_fields() == ("headers", "timeout")
    assert json.loads(_wire.to_body(_wire.update_json(update))) == {
        "headers": [{"key": "Authorization", "value": None, "protected": True}],
        "timeout": 5,
    }
    assert _wire.update_json(WebhookUpdate()) == {}
    assert WebhookUpdate().name is UNSET


def test_update_can_clear_description_but_not_required_fields() -> None:
    assert _wire.update_json(WebhookUpdate(description=None)) == {"description": None}
    with pytest.raises(ValidationError, match="name: must not be None"):
        WebhookUpdate(name=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="timeout"):
        WebhookUpdate.from_dict({"timeout": 99})


def test_test_create_checks_its_rules() -> None:
    spec = WebhookTestCreate(
        url="http://127.0.0.1:9/x",
        object_type="pipeline",
        object_name="p",
        event="pipeline_request_finished",
    )
    assert spec.object_type is ObjectType.PIPELINE
    with pytest.raises(ValidationError, match="event"):
        WebhookTestCreate.from_dict(
            {
                "url": "http://h/x",
                "object_type": "pipeline",
                "object_name": "p",
                "event": "deployment_request_started",
            }
        )


def test_protected_header_value_is_hidden_in_reprs_and_errors() -> None:
    secret = "Token super-secret-value"
    header = WebhookHeader("Authorization", secret, protected=True)
    hook = make(headers=[header])
    assert secret not in repr(header)
    assert secret not in repr(hook)
    assert "<hidden>" in repr(header)
    assert "plain" in repr(WebhookHeader("X", "plain"))


DETAIL: dict[str, Any] = {
    "id": "e54251d8-e518-424f-bf7d-c45aaf26f72c",
    "name": "webhook-1",
    "url": "https://example.org/hook",
    "headers": [{"key": "Authorization", "value": None, "protected": True}],
    "object_type": "deployment",
    "object_name": "deployment-1",
    "version": "v1",
    "description": "",
    "labels": {"event-type": "request-finished"},
    "event": "deployment_request_finished",
    "timeout": 10,
    "enabled": True,
    "retry": False,
    "include_result": False,
    "creation_date": "2024-05-01T12:00:00.123456Z",
    "last_updated": "2024-05-01T12:00:00+00:00",
}


def test_detail_reads_the_documented_shape_and_tolerates_new_fields() -> None:
    detail = _wire.webhook_from_json({**DETAIL, "new_field": [1, 2]})
    assert detail.headers[0].value is None
    assert detail.creation_date is not None
    assert detail.creation_date.tzinfo is not None
    assert detail.creation_date.microsecond == 123456
    again = _wire.webhook_from_json(_wire.webhook_json(detail))
    assert again == detail


def test_detail_reads_null_lists_as_empty() -> None:
    detail = _wire.webhook_from_json({**DETAIL, "headers": None, "labels": None})
    assert detail.headers == ()
    assert detail.labels == {}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"name": 5}, "$.name"),
        ({"timeout": "10"}, "$.timeout"),
        ({"enabled": "true"}, "$.enabled"),
        ({"event": "unknown_event"}, "$.event"),
        ({"creation_date": "yesterday"}, "$.creation_date"),
        ({"headers": [{"value": "A"}]}, "$.headers[0]"),
        ({"headers": [{"key": ""}]}, "$.headers[0]"),
    ],
)
def test_malformed_detail_names_the_field(change: dict[str, Any], where: str) -> None:
    with pytest.raises(_wire.DecodeError, match=re.escape(where)):
        _wire.webhook_from_json({**DETAIL, **change})


def test_missing_detail_field_is_named() -> None:
    data = dict(DETAIL)
    del data["url"]
    with pytest.raises(_wire.DecodeError, match=r"^\$\.url: required field missing"):
        _wire.webhook_from_json(data)


def test_test_detail_status_is_an_enum() -> None:
    detail = _wire.webhook_test_from_json({"id": "t", "status": "failed", "error_message": "x"})
    assert detail.status.is_final
    with pytest.raises(_wire.DecodeError, match="status"):
        _wire.webhook_test_from_json({"id": "t", "status": None})


def test_to_create_refuses_to_invent_protected_values() -> None:
    detail = _wire.webhook_from_json(DETAIL)
    with pytest.raises(ValidationError, match=r"headers\[0\]\.value"):
        detail.to_create()
