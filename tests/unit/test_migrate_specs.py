"""Specs for migration, without a server: checking, resolving protected values, the old name."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest
from conftest import webhook_spec

from aioubiwebhooks import ValidationError, WebhookCreate, migrate
from aioubiwebhooks.migrate import DesiredHeader, UnknownValue, WebhookSpec
from aioubiwebhooks.migrate._spec import desired_webhooks, parse_spec, resolve_spec
from aioubiwebhooks.migrate._values import ProtectedValues

SECRET = "s3cret-never-shown"


def protected(key: str, value: str | None) -> dict[str, Any]:
    return {"key": key, "value": value, "protected": True}


def test_an_unknown_protected_value_is_none_as_written_and_unknown_once_resolved() -> None:
    spec = parse_spec(webhook_spec("a", headers=[protected("Authorization", None)]))
    assert isinstance(spec, WebhookSpec)
    assert spec.headers[0].value is None  # no stand-in string inside the spec
    (desired,) = desired_webhooks([spec], environ={})
    assert desired.headers == (DesiredHeader("Authorization", UnknownValue("Authorization"), True),)
    assert desired.unknown == (UnknownValue("Authorization"),)
    assert desired.outbound_headers()[0].value is None  # an update keeps the stored value
    with pytest.raises(ValidationError, match=r"headers\[0\]\.value: header 'Authorization'"):
        desired.to_create()


def test_references_resolve_from_the_environment_and_name_unset_variables() -> None:
    spec = parse_spec(
        webhook_spec(
            "a",
            headers=[
                protected("Authorization", "Token ${TOKEN}"),
                protected("X-Key", "${KEY_A}-${KEY_B}"),
                protected("X-Literal", "$${NOT_A_VARIABLE}"),
                {"key": "X-Plain", "value": "${NOT_RESOLVED}", "protected": False},
            ],
        )
    )
    desired = resolve_spec(spec, {"TOKEN": SECRET, "KEY_A": "a", "KEY_B": ""})
    values = [h.value for h in desired.headers]
    assert values == [
        f"Token {SECRET}",
        UnknownValue("X-Key", ("KEY_B",)),  # empty counts as unset: the API refuses ""
        "${NOT_A_VARIABLE}",
        "${NOT_RESOLVED}",  # only protected values are resolved
    ]
    assert desired.secrets == ("Authorization", "X-Literal")
    assert "variable KEY_B not set" in desired.unknown[0].describe()
    assert SECRET not in repr(desired)


def test_protected_values_fill_unknown_values_by_webhook_first() -> None:
    given = {"authorization": "${ALL}", "b/Authorization": "only-b"}
    values = ProtectedValues.parse(given)
    specs = [webhook_spec(n, headers=[protected("Authorization", None)]) for n in ("a", "b")]
    found = [d.headers[0].value for d in desired_webhooks(specs, {"ALL": "every"}, given)]
    assert found == ["every", "only-b"]
    assert "only-b" not in repr(values)
    assert "every" not in repr(values)
    for bad in ({"": "x"}, {"hook/": "x"}, {"K": ""}, {"K": 1}):
        with pytest.raises(ValidationError, match="protected_values") as caught:
            ProtectedValues.parse(bad)  # type: ignore[arg-type]
        assert caught.value.value is None  # a secret is never echoed


def test_specs_are_checked_with_the_create_rules_and_named_by_position() -> None:
    with pytest.raises(ValidationError) as caught:
        desired_webhooks([webhook_spec("ok"), webhook_spec("bad", timeout=99)], {})
    assert caught.value.field == "specs[1].timeout"
    with pytest.raises(ValidationError) as caught:
        desired_webhooks([webhook_spec("a", headers=[{"key": "X", "value": None}])], {})
    assert caught.value.field == "specs[0].headers[0].value"
    with pytest.raises(ValidationError) as caught:
        desired_webhooks(["not a spec"], {})
    assert caught.value.field == "specs[0]"
    model = WebhookCreate.from_dict(webhook_spec("m", headers=[protected("K", SECRET)]))
    (desired,) = desired_webhooks([model], {})
    assert desired.to_create() == model


def test_the_old_module_name_still_imports_with_a_warning() -> None:
    sys.modules.pop("aioubiwebhooks.sync", None)
    with pytest.warns(DeprecationWarning, match=r"aioubiwebhooks\.migrate"):
        old = importlib.import_module("aioubiwebhooks.sync")
    for name in old.__all__:
        assert getattr(old, name) is getattr(migrate, name), name


def test_a_spec_that_is_no_mapping_is_refused_with_the_rule_and_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_spec(42)
    assert (caught.value.field, caught.value.rule, caught.value.value) == (
        "",
        "must be a mapping of field names to values",
        42,
    )


def test_a_plain_header_without_a_value_is_refused_with_the_rule() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_spec(webhook_spec("a", headers=[{"key": "X", "value": None}]))
    assert (caught.value.field, caught.value.rule) == (
        "headers[0].value",
        "is required (only a protected header's value may be left unknown, as null)",
    )


def test_every_bad_header_and_field_is_reported_the_field_first() -> None:
    bad = webhook_spec(
        "a",
        timeout=99,
        headers=[{"key": ""}, {"key": "ok", "value": "v"}, {"key": "X", "value": None}],
    )
    with pytest.raises(ValidationError) as caught:
        parse_spec(bad)
    fields = [problem.field for problem in caught.value.problems]
    assert fields == ["timeout", "headers[0].key", "headers[2].value"]
    assert caught.value.summary == "3 fields are invalid"
    assert str(caught.value).startswith("3 fields are invalid: timeout: ")


def test_a_webhook_create_as_a_spec_keeps_its_headers_apart_from_its_fields() -> None:
    model = WebhookCreate.from_dict(webhook_spec("m", headers=[protected("K", SECRET)]))
    spec = parse_spec(model)
    assert spec.fields.headers == ()
    assert spec.headers == model.headers
