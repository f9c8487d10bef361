"""The table of client-side rules: each one is checked, says what the table says, is
documented, and (where it is this library's own reading) can be relaxed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aioubiwebhooks import (
    ValidationError,
    WebhookCreate,
    WebhookHeader,
    WebhookTestCreate,
    WebhookUpdate,
)
from aioubiwebhooks._rules import RULES, Rule, Source, markdown_table, rule
from aioubiwebhooks.session import _segment, labels_query

MODELS_PAGE = Path(__file__).parents[2] / "docs" / "reference" / "models.md"
TABLE_START = "<!-- rules table: aioubiwebhooks._rules.markdown_table() -->"
TABLE_END = "<!-- end of rules table -->"

VALID: dict[str, Any] = {
    "name": "on-fail",
    "url": "https://example.org/hook",
    "object_type": "deployment",
    "object_name": "dep-1",
    "event": "deployment_request_failed",
}
TEST_VALID = {k: v for k, v in VALID.items() if k != "name"}


def create(**changes: Any) -> Callable[[], object]:
    return lambda: WebhookCreate.from_dict({**VALID, **changes})


def without(field: str) -> Callable[[], object]:
    return lambda: WebhookCreate.from_dict({k: v for k, v in VALID.items() if k != field})


# rule key -> (a call that breaks only that rule, the field the error names, placeholders)
EXAMPLES: dict[str, tuple[Callable[[], object], str, dict[str, str]]] = {
    "required": (without("url"), "url", {}),
    "known_fields": (create(timout=5), "timout", {"model": "WebhookCreate"}),
    "update.not_none": (lambda: WebhookUpdate(name=None), "name", {}),  # type: ignore[arg-type]
    "header.value.required": (
        create(headers=[{"key": "A", "protected": True}]),
        "headers[0].value",
        {},
    ),
    "type.string": (create(object_name=5), "object_name", {}),
    "type.header_value": (lambda: WebhookHeader("A", 5), "value", {}),  # type: ignore[arg-type]
    "type.flag": (create(retry="yes"), "retry", {}),
    "type.timeout": (create(timeout=2.5), "timeout", {}),
    "type.headers": (create(headers="A: b"), "headers", {}),
    "type.labels": (create(labels=["a"]), "labels", {}),
    "type.label_key": (create(labels={5: "a"}), "labels", {}),
    "type.label_value": (create(labels={"a": 1}), "labels['a']", {}),
    "name.not_empty": (create(name=""), "name", {}),
    "name.max_length": (create(name="n" * 65), "name", {}),
    "url.http": (create(url="example.org/hook"), "url", {}),
    "url.no_white_space": (create(url="https://exa mple.org/hook"), "url", {}),
    "object_type.choice": (create(object_type="experiment"), "object_type", {}),
    "object_name.not_empty": (create(object_name=""), "object_name", {}),
    "event.choice": (create(event="deployment_request_exploded"), "event", {}),
    "event.prefix": (
        create(event="pipeline_request_failed"),
        "event",
        {"object_type": "deployment"},
    ),
    "description.max_length": (create(description="d" * 401), "description", {}),
    "version.not_empty": (
        lambda: WebhookTestCreate.from_dict({**TEST_VALID, "version": ""}),
        "version",
        {},
    ),
    "timeout.max": (create(timeout=31), "timeout", {}),
    "timeout.min": (create(timeout=0), "timeout", {}),
    "header.key.not_empty": (create(headers=[{"key": "", "value": "v"}]), "headers[0].key", {}),
    "header.value.not_empty": (
        create(headers=[{"key": "A", "value": ""}]),
        "headers[0].value",
        {},
    ),
    "label.key.not_empty": (create(labels={"": "a"}), "labels", {}),
    "path.segment": (lambda: _segment("project_name", ""), "project_name", {}),
    "labels_filter.format": (lambda: labels_query({"team": "a,b"}), "labels['team']", {}),
}

ASSUMED = [r.key for r in RULES if r.source is Source.ASSUMED]


def test_every_rule_has_an_example_and_every_example_a_rule() -> None:
    assert sorted(EXAMPLES) == sorted(r.key for r in RULES)
    assert len({r.key for r in RULES}) == len(RULES)


@pytest.mark.parametrize("key", [r.key for r in RULES])
def test_each_rule_is_checked_with_the_text_of_the_table(key: str) -> None:
    call, field, placeholders = EXAMPLES[key]
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.field == field
    assert caught.value.rule == rule(key).says(**placeholders)


@pytest.fixture
def relaxed(request: pytest.FixtureRequest) -> Iterator[Rule]:
    """The rule named by the test's parameter, turned off for the test, as a maintainer
    would by changing ``enforced`` in the table."""
    switched = rule(request.param)
    object.__setattr__(switched, "enforced", False)
    yield switched
    object.__setattr__(switched, "enforced", True)


@pytest.mark.parametrize("relaxed", ASSUMED, indirect=True)
def test_an_assumed_rule_can_be_relaxed_in_the_table(relaxed: Rule) -> None:
    call, _, _ = EXAMPLES[relaxed.key]
    call()  # no ValidationError any more
    assert "(not enforced)" in markdown_table()


def test_assumed_rules_are_the_library_s_own_readings() -> None:
    assert set(ASSUMED) == {
        "known_fields",
        "update.not_none",
        "header.value.required",
        "url.http",
        "url.no_white_space",
        "timeout.min",
        "label.key.not_empty",
        "labels_filter.format",
    }


def test_the_documented_table_is_the_table_in_code() -> None:
    page = MODELS_PAGE.read_text()
    found = re.search(re.escape(TABLE_START) + r"\n(.*?)\n" + re.escape(TABLE_END), page, re.S)
    assert found, f"{MODELS_PAGE} has no rules table between {TABLE_START} and {TABLE_END}"
    assert found.group(1).strip() == markdown_table(), (
        "docs/reference/models.md is out of date; replace its table with the output of "
        "aioubiwebhooks._rules.markdown_table()"
    )


def test_every_rule_says_why() -> None:
    for r in RULES:
        assert r.basis.strip(), r.key
        assert isinstance(r.source, Source), r.key
