"""The emulator's pure layers: body rules, store, rendering, seeds (no sockets)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _emulator_helpers import webhook_body
from hypothesis import given, settings
from hypothesis import strategies as st

from aioubiwebhooks._wire import webhook_json
from aioubiwebhooks.emulator import DEFAULT_SEED, Limits, SeedError, load_seed, parse_seed
from aioubiwebhooks.emulator._delivery import build_payload, status_for_event
from aioubiwebhooks.emulator._problems import BadRequest, Conflict, NotFound, Problem, Unavailable
from aioubiwebhooks.emulator._rules import (
    decode_body,
    parse_create,
    parse_list_filter,
    parse_test_create,
    parse_update,
)
from aioubiwebhooks.emulator._store import Store, stable_id
from aioubiwebhooks.models import TestStatus


def _store() -> Store:
    store = Store()
    store.apply_seed(DEFAULT_SEED)
    store.add_project("p", deployments={"dep": ["v1", "v2"]}, pipelines={"pipe": ["a"]})
    return store


# --- bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", "empty body"),
        (b"   ", "empty body"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[1, 2]", "an array"),
        (b'"text"', "a string"),
        (b"null", "null"),
        (b"12", "a number"),
        (b'{"a": NaN}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_decode_body_refuses_what_is_not_an_object(raw: bytes, says: str) -> None:
    with pytest.raises(BadRequest, match=says):
        decode_body(raw)


def test_create_ignores_unknown_keys_at_top_and_in_headers() -> None:
    header = {"key": "X", "value": "1", "protected": False, "extra": True}
    spec = parse_create(webhook_body(surprise=1, headers=[header]))
    assert spec["name"] == "hook-1"
    assert spec["headers"][0].key == "X"


def test_create_treats_null_optional_fields_as_absent() -> None:
    spec = parse_create(webhook_body(description=None, labels=None, version=None, timeout=None))
    assert spec["timeout"] == 10
    assert spec["labels"] == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"description": "d" * 401}, "description"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 31}, "timeout"),
        ({"timeout": 10.5}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"event": "deployment_request_exploded"}, "event"),
        ({"event": "pipeline_request_failed"}, "event"),
        ({"object_type": "model"}, "object_type"),
        ({"url": "ftp://example.org"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"url": 42}, "url"),
        ({"headers": [{"key": "", "value": "v"}]}, "headers[0].key"),
        ({"headers": [{"key": "K", "value": ""}]}, "headers[0].value"),
        ({"headers": [{"key": "K"}]}, "headers[0].value"),
        ({"headers": [{"key": "K", "value": "v"}]}, "headers[0].protected"),
        ({"headers": [{"key": "K", "value": "v", "protected": None}]}, "headers[0].protected"),
        ({"headers": [{"key": "K", "value": "v", "protected": "yes"}]}, "headers[0].protected"),
        ({"headers": "K: v"}, "headers"),
        ({"headers": [7]}, "headers[0]"),
        ({"labels": ["a"]}, "labels"),
        ({"labels": {"a": 1}}, "labels"),
        ({"enabled": "true"}, "enabled"),
        ({"retry": 1}, "retry"),
        ({"include_result": None, "retry": 0}, "retry"),
        ({"object_name": ""}, "object_name"),
        ({"version": ""}, "version"),
    ],
)
def test_create_rules_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_create(webhook_body(**changes))
    assert caught.value.message.startswith(field)


def test_update_keeps_only_given_fields_and_allows_headers_without_value() -> None:
    change = parse_update({"description": "new", "headers": [{"key": "A", "protected": True}]})
    assert list(change) == ["headers", "description"]
    assert change["headers"][0].value is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"url": None}, "url"),
        ({"timeout": None}, "timeout"),
        ({"enabled": None}, "enabled"),
        ({"labels": None}, "labels"),
        ({"name": "x" * 65}, "name"),
        ({"headers": [{"key": "K", "value": ""}]}, "headers[0].value"),
        ({"headers": [{"key": "K"}]}, "headers[0].protected"),
    ],
)
def test_update_rules_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_update(body)
    assert caught.value.message.startswith(field)


def test_test_create_needs_no_name() -> None:
    spec = parse_test_create({**webhook_body(name=None), "url": "http://h/x"})
    assert spec["url"] == "http://h/x"
    with pytest.raises(BadRequest, match=r"^url"):
        parse_test_create(webhook_body(url=None))


def test_list_filter_parses_labels_and_checks_choices() -> None:
    where = parse_list_filter({"labels": "a:1,b:x:y", "object_type": "pipeline"})
    assert where.labels == (("a", "1"), ("b", "x:y"))
    assert where.object_type == "pipeline"
    assert parse_list_filter({"labels": ""}).labels == ()
    for bad in ({"labels": "novalue"}, {"object_type": "x"}, {"event": "nope"}):
        with pytest.raises(BadRequest):
            parse_list_filter(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
field_names = st.sampled_from(
    [*webhook_body(), "headers", "labels", "timeout", "version", "description", "retry", "x"]
)
bodies = st.dictionaries(field_names, json_values, max_size=8) | st.builds(
    lambda extra: {**webhook_body(), **extra}, st.dictionaries(field_names, json_values, max_size=3)
)


@settings(max_examples=200, deadline=None)
@given(body=bodies)
def test_body_parsers_only_ever_raise_bad_request(body: dict[str, Any]) -> None:
    messages = []
    for parse in (parse_create, parse_update, parse_test_create):
        try:
            parse(json.loads(json.dumps(body)))
        except BadRequest as error:
            messages.append(error.message)
    assert all(messages)


# --- store ------------------------------------------------------------------------------------


def test_store_create_get_list_delete_and_unique_names() -> None:
    store = _store()
    made = store.create_webhook("p", parse_create(webhook_body(object_name="dep", version="v2")))
    assert store.get_webhook("p", "hook-1") == made
    assert made.description == ""
    assert made.creation_date == made.last_updated
    with pytest.raises(Conflict):
        store.create_webhook("p", parse_create(webhook_body(object_name="dep")))
    # The same name is fine in another project.
    store.create_webhook("demo", parse_create(webhook_body()))
    store.delete_webhook("p", "hook-1")
    with pytest.raises(NotFound):
        store.get_webhook("p", "hook-1")
    with pytest.raises(NotFound):
        store.delete_webhook("p", "hook-1")


@pytest.mark.parametrize(
    ("project", "changes", "says"),
    [
        ("nope", {}, "Project 'nope'"),
        ("p", {"object_name": "ghost"}, "Deployment 'ghost'"),
        ("p", {"object_name": "dep", "version": "v9"}, "Version 'v9'"),
        (
            "p",
            {"object_type": "pipeline", "object_name": "dep", "event": "pipeline_request_failed"},
            "Pipeline 'dep'",
        ),
    ],
)
def test_store_unknown_things_are_not_found(
    project: str, changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(NotFound, match=says):
        _store().create_webhook(project, parse_create(webhook_body(**changes)))


def test_store_list_filters_must_all_match() -> None:
    store = _store()
    for name, event, labels in [
        ("a", "deployment_request_failed", {"team": "x", "env": "prod"}),
        ("b", "deployment_request_completed", {"team": "x"}),
        ("c", "deployment_request_failed", {"team": "y", "env": "prod"}),
    ]:
        body = webhook_body(name=name, object_name="dep", event=event, labels=labels)
        store.create_webhook("p", parse_create(body))
    store.create_webhook(
        "p",
        parse_create(
            webhook_body(
                name="d",
                object_type="pipeline",
                object_name="pipe",
                event="pipeline_request_failed",
            )
        ),
    )

    def names(query: dict[str, str]) -> list[str]:
        return [w.name for w in store.list_webhooks("p", parse_list_filter(query))]

    assert names({}) == ["a", "b", "c", "d"]
    assert names({"labels": "team:x"}) == ["a", "b"]
    assert names({"labels": "team:x,env:prod"}) == ["a"]
    assert names({"event": "deployment_request_failed"}) == ["a", "c"]
    assert names({"object_type": "pipeline"}) == ["d"]
    assert names({"object_type": "deployment", "labels": "env:prod"}) == ["a", "c"]


def test_store_update_changes_only_sent_fields_and_keeps_protected_values() -> None:
    store = _store()
    headers = [
        {"key": "Authorization", "value": "Token s3cret", "protected": True},
        {"key": "X-Plain", "value": "plain", "protected": False},
    ]
    body = webhook_body(object_name="dep", headers=headers, labels={"a": "1"}, timeout=5)
    before = store.create_webhook("p", parse_create(body))
    change = parse_update(
        {
            "description": "changed",
            "headers": [
                {"key": "Authorization", "value": None, "protected": True},
                {"key": "x-plain", "protected": False},
                {"key": "X-New", "value": "n", "protected": True},
            ],
        }
    )
    after = store.update_webhook("p", "hook-1", change)
    assert after.description == "changed"
    assert after.timeout == 5
    assert after.labels == {"a": "1"}
    assert [(h.key, h.value) for h in after.headers] == [
        ("Authorization", "Token s3cret"),
        ("x-plain", "plain"),
        ("X-New", "n"),
    ]
    assert after.id == before.id
    assert after.creation_date == before.creation_date
    assert after.last_updated is not None
    assert before.last_updated is not None
    assert after.last_updated >= before.last_updated


def test_store_update_rules_that_need_the_stored_webhook() -> None:
    store = _store()
    for name in ("a", "b"):
        store.create_webhook("p", parse_create(webhook_body(name=name, object_name="dep")))
    with pytest.raises(Conflict):
        store.update_webhook("p", "a", parse_update({"name": "b"}))
    with pytest.raises(BadRequest, match=r"^event"):
        store.update_webhook("p", "a", parse_update({"event": "pipeline_request_failed"}))
    with pytest.raises(BadRequest, match=r"^headers\[0\]\.value"):
        store.update_webhook(
            "p", "a", parse_update({"headers": [{"key": "New", "protected": True}]})
        )
    with pytest.raises(NotFound):
        store.update_webhook("p", "zzz", parse_update({}))
    renamed = store.update_webhook("p", "a", parse_update({"name": "z"}))
    assert renamed.name == "z"
    assert [w.name for w in store.list_webhooks("p")] == ["z", "b"]  # order kept
    assert store.update_webhook("p", "z", parse_update({"name": "z"})).name == "z"


def test_render_hides_protected_values_as_null() -> None:
    store = _store()
    headers = [
        {"key": "A", "value": "secret", "protected": True},
        {"key": "B", "value": "shown", "protected": False},
    ]
    made = store.create_webhook("p", parse_create(webhook_body(object_name="dep", headers=headers)))
    rendered = webhook_json(made)
    assert rendered["headers"] == [
        {"key": "A", "value": None, "protected": True},
        {"key": "B", "value": "shown", "protected": False},
    ]
    assert "secret" not in json.dumps(rendered)
    assert rendered["creation_date"].endswith("Z")
    assert set(rendered) == {
        "id", "name", "url", "headers", "object_type", "object_name", "version", "description",
        "labels", "event", "timeout", "enabled", "retry", "include_result", "creation_date",
        "last_updated",
    }  # fmt: skip


def test_store_tests_resolve_default_version_and_stay_bounded() -> None:
    store = Store(max_tests=3, max_pending=2)
    store.add_project("p", deployments={"dep": ["v2", "v1"]})
    spec = parse_test_create({**webhook_body(name=None, object_name="dep"), "url": "http://h/x"})
    first, plan = store.create_test("p", spec)
    assert first.status is TestStatus.PENDING
    assert plan.version_name == "v2"  # the first listed is the default
    assert plan.version_id == stable_id("p", "deployment", "dep", "v2")
    store.create_test("p", spec)
    with pytest.raises(Unavailable):
        store.create_test("p", spec)
    store.finish_test(first.id, None)
    store.finish_test(first.id, "late second outcome is ignored")
    assert store.get_test("p", first.id).status is TestStatus.COMPLETED
    for _ in range(3):
        store.finish_test(store.create_test("p", spec)[0].id, "Connection error")
    assert len(store.tests()) == 3
    with pytest.raises(NotFound):
        store.get_test("p", first.id)  # the oldest finished test was forgotten
    with pytest.raises(NotFound):
        store.get_test("demo-less", "x")


def test_test_ids_belong_to_their_project() -> None:
    store = _store()
    spec = parse_test_create({**webhook_body(name=None), "url": "http://h/x"})
    test, _ = store.create_test("demo", spec)
    assert store.get_test("demo", test.id) is test
    with pytest.raises(NotFound):
        store.get_test("p", test.id)


def test_ids_are_stable_across_stores() -> None:
    one, two = _store(), _store()
    assert one.project("p").objects == two.project("p").objects
    assert one.project("p").id == two.project("p").id


def test_problems_carry_their_status() -> None:
    assert [c("m").status for c in (BadRequest, NotFound, Conflict, Unavailable)] == [
        400,
        404,
        409,
        503,
    ]
    assert Problem("m").message == "m"


# --- payload ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "status"),
    [
        ("deployment_request_started", "processing"),
        ("deployment_request_completed", "completed"),
        ("pipeline_request_failed", "failed"),
        ("pipeline_request_finished", "completed"),
    ],
)
def test_payload_status_follows_the_event(event: str, status: str) -> None:
    assert status_for_event(event) == status


def test_payload_keys_for_pipelines_and_result_only_when_asked() -> None:
    store = _store()
    spec = parse_test_create(
        {
            "url": "http://h/x",
            "object_type": "pipeline",
            "object_name": "pipe",
            "event": "pipeline_request_completed",
        }
    )
    _, plan = store.create_test("p", spec)
    payload = build_payload(plan, "req-1")
    assert set(payload) == {
        "event", "pipeline_id", "pipeline_name", "pipeline_version_id", "pipeline_version_name",
        "request_id", "status", "text",
    }  # fmt: skip
    assert payload["text"] == "Pipeline request req-1 finished for pipeline pipe a in project p"
    with_result = build_payload(
        store.create_test("p", {**spec, "include_result": True})[1], "req-2"
    )
    assert with_result["result"] is not None


# --- seeds ------------------------------------------------------------------------------------


def test_seed_round_trips_and_default_is_the_demo_project() -> None:
    data = {"projects": {"a": {"deployments": {"d": ["v1", "v2"]}, "pipelines": {"p": ["x"]}}}}
    assert parse_seed(data).to_dict() == data
    assert list(DEFAULT_SEED.projects) == ["demo"]
    assert parse_seed({"projects": {"b": {}}}).projects["b"].deployments == {}


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "seed: must be a JSON object"),
        ({}, "'projects' is required"),
        ({"projects": {}, "extra": 1}, "unknown key 'extra'"),
        ({"projects": []}, "projects: must be an object"),
        ({"projects": {"": {}}}, "names must be non-empty"),
        ({"projects": {"a": []}}, r"projects\['a'\]: must be an object"),
        ({"projects": {"a": {"models": {}}}}, "unknown key 'models'"),
        ({"projects": {"a": {"deployments": []}}}, r"projects\['a'\]\.deployments: must be"),
        ({"projects": {"a": {"deployments": {"d": []}}}}, r"\['d'\]: must be a non-empty list"),
        ({"projects": {"a": {"pipelines": {"p": "v1"}}}}, "non-empty list"),
        ({"projects": {"a": {"pipelines": {"p": ["v1", 2]}}}}, r"\[1\]: names must be"),
        ({"projects": {"a": {"pipelines": {"p": ["v1", "v1"]}}}}, "must be unique"),
    ],
)
def test_bad_seeds_say_what_is_wrong(data: object, says: str) -> None:
    with pytest.raises(SeedError, match=says):
        parse_seed(data)


def test_load_seed_names_the_file(tmp_path: Any) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"projects": {"x": {"deployments": {"d": ["v1"]}}}}))
    assert list(load_seed(good).projects) == ["x"]
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(SeedError, match=r"bad\.json: not valid JSON"):
        load_seed(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text("{}")
    with pytest.raises(SeedError, match=r"wrong\.json: seed: 'projects' is required"):
        load_seed(wrong)
    with pytest.raises(SeedError, match="cannot read"):
        load_seed(tmp_path / "missing.json")


@pytest.mark.parametrize("field", ["max_webhooks_per_project", "max_labels", "max_url_length"])
def test_limits_must_be_whole_numbers_of_one_or_more(field: str) -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=field):
            Limits(**{field: bad})


def test_limits_bound_updates_after_kept_values_are_merged() -> None:
    store = Store(limits=Limits(max_headers_size=100))
    store.apply_seed(DEFAULT_SEED)
    headers = [{"key": "A", "value": "v" * 90, "protected": True}]
    store.create_webhook("demo", parse_create(webhook_body(headers=headers)))
    kept_twice = {"headers": [{"key": "A", "protected": True}, {"key": "a", "protected": True}]}
    with pytest.raises(BadRequest, match=r"^headers: at most 20 headers of 100 characters"):
        store.update_webhook("demo", "hook-1", parse_update(kept_twice))
