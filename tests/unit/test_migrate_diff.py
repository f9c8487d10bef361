"""The pure diff behind plans: desired specs against stored webhooks, no server.

Each decision it makes (create, update, replace, delete, leave alone, blocked) is
checked here with values written out by hand; the integration tests run the same
decisions against the emulator.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from conftest import webhook_spec

from aioubiwebhooks import ValidationError, WebhookCreate, WebhookDetail, WebhookHeader
from aioubiwebhooks._wire import SPEC_FIELDS
from aioubiwebhooks.migrate import Delete, DesiredHeader, UnknownValue, diff
from aioubiwebhooks.migrate._replace import replacement_name
from aioubiwebhooks.migrate._spec import desired_webhooks, parse_spec


def stored(name: str, **changes: Any) -> WebhookDetail:
    """What the API holds for ``webhook_spec(name, **changes)``."""
    spec = WebhookCreate.from_dict(webhook_spec(name, **changes))
    return WebhookDetail(id=f"id-{name}", **{f: getattr(spec, f) for f in SPEC_FIELDS})


def test_webhooks_missing_from_the_specs_are_deleted_only_with_prune() -> None:
    current = [stored("kept"), stored("extra"), stored("another")]
    left_alone = diff("demo", [webhook_spec("kept")], current)
    assert left_alone.deletes == ()
    assert left_alone.unchanged == ("kept",)
    pruned = diff("demo", [webhook_spec("kept")], current, prune=True)
    assert pruned.deletes == (Delete("another"), Delete("extra"))
    assert pruned.unchanged == ("kept",)
    assert attrs.evolve(pruned, deletes=()) == left_alone


def protected(key: str, value: str | None) -> dict[str, Any]:
    return {"key": key, "value": value, "protected": True}


def test_a_plan_names_its_project() -> None:
    assert diff("demo", [webhook_spec("a")], []).project == "demo"


def test_an_unknown_value_can_only_be_kept_by_a_stored_protected_header_of_that_key() -> None:
    current = [
        attrs.evolve(
            stored("a"),
            headers=(
                WebhookHeader("X-Other", None, protected=True),
                WebhookHeader("Authorization", "plain"),
            ),
        )
    ]
    wanted = webhook_spec("a", url="https://example.org/moved")
    wanted["headers"] = [protected("X-Other", None), protected("Authorization", None)]
    plan = diff("demo", [wanted], current)
    (blocked,) = plan.blocked
    assert (blocked.name, blocked.action) == ("a", "update")
    assert blocked.headers == ("Authorization",)
    assert plan.updates == ()


def test_a_pruning_plan_deletes_a_stale_leftover_and_the_strangers() -> None:
    leftover = stored(replacement_name("a"))
    plan = diff("demo", [webhook_spec("a")], [stored("a"), leftover, stored("x")], prune=True)
    assert plan.deletes == tuple(sorted([Delete(leftover.name), Delete("x")], key=str))
    assert plan.unchanged == ("a",)


def test_references_resolve_from_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_TOKEN_FOR_DIFF", "s3cret")
    wanted = webhook_spec("a")
    wanted["headers"] = [protected("Authorization", "Token ${HOOK_TOKEN_FOR_DIFF}")]
    (create,) = diff("demo", [wanted], []).creates
    assert create.spec.headers == (WebhookHeader("Authorization", "Token s3cret", protected=True),)


def test_rotate_secrets_is_deprecated_and_changes_nothing() -> None:
    with pytest.warns(DeprecationWarning, match="rotate_secrets") as caught:
        plan = diff("demo", [webhook_spec("a")], [], rotate_secrets=True)
    assert str(caught[0].message) == (
        "rotate_secrets is deprecated and changes nothing: a plan always sends known "
        "protected values, since the stored ones cannot be compared"
    )
    assert plan == diff("demo", [webhook_spec("a")], [])


def test_the_rotate_secrets_warning_points_at_the_caller() -> None:
    """Run by tools/hand_mutants.py, not by mutmut (whose trampolines add frames)."""
    with pytest.warns(DeprecationWarning, match="rotate_secrets") as caught:
        diff("demo", [], [], rotate_secrets=False)
    assert caught[0].filename == __file__


# --- specs as written ---------------------------------------------------------------------


@pytest.mark.parametrize("headers", ["Authorization: x", {"key": "A", "value": "v"}, 7])
def test_headers_that_are_no_list_are_named_with_the_rule(headers: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_spec({**webhook_spec("a"), "headers": headers})
    assert (info.value.field, info.value.rule, info.value.value) == (
        "headers",
        "must be a list of headers",
        headers,
    )


def test_a_spec_may_hold_header_models_and_a_spec_value_wins_over_protected_values() -> None:
    spec = parse_spec(
        {
            **webhook_spec("a"),
            "headers": [WebhookHeader("Authorization", "Token spec", protected=True)],
        }
    )
    (desired,) = desired_webhooks([spec], {}, {"Authorization": "Token given"})
    assert desired.headers[0].value == "Token spec"


def test_a_desired_header_shows_a_known_protected_value_hidden() -> None:
    assert repr(DesiredHeader("Authorization", "s3cret", True)) == (
        "DesiredHeader(key='Authorization', value=<hidden>, protected=True)"
    )
    assert repr(DesiredHeader("X-Plain", "shown")) == (
        "DesiredHeader(key='X-Plain', value='shown', protected=False)"
    )
    unknown = UnknownValue("Authorization", ("TOKEN",))
    assert repr(DesiredHeader("Authorization", unknown, True)) == (
        f"DesiredHeader(key='Authorization', value={unknown!r}, protected=True)"
    )
