"""Migration: export, plan, apply and copy against the emulator, and the spec file format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import webhook_spec

from aioubiwebhooks import (
    ConflictError,
    EventType,
    ObjectType,
    UbiOpsError,
    ValidationError,
    WebhookCreate,
    WebhookDetail,
    WebhookHeader,
    WebhooksSession,
)
from aioubiwebhooks.emulator import Emulator
from aioubiwebhooks.migrate import (
    Blocked,
    Create,
    Delete,
    PlanBlockedError,
    Replace,
    SpecFormat,
    Update,
    apply,
    copy,
    diff,
    dump_specs,
    export,
    load_specs,
    plan,
)

SECRET = "s3cret-value-that-must-not-leak"


def protected(key: str, value: str | None) -> dict[str, Any]:
    return {"key": key, "value": value, "protected": True}


def plain(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": value, "protected": False}


def writes(emulator: Emulator) -> int:
    """API requests that could change something."""
    requests = emulator.stats.requests
    return sum(requests[op] for op in ("webhooks_create", "webhooks_update", "webhooks_delete"))


async def seed_varied(session: WebhooksSession) -> None:
    await session.webhooks_create(
        "demo",
        webhook_spec(
            "zeta",
            headers=[plain("X-Trace", "1"), protected("Authorization", SECRET)],
            labels={"team": "b", "env": "prod", "app": "x"},
            description="the last one",
        ),
    )
    await session.webhooks_create(
        "demo",
        webhook_spec(
            "alpha",
            object_type="pipeline",
            object_name="demo-pipeline",
            event="pipeline_request_failed",
            version="v1",
            timeout=30,
            retry=True,
            include_result=True,
            enabled=False,
        ),
    )
    await session.webhooks_create("demo", webhook_spec("mid", description=""))


# --- export and the file format --------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "yaml"])
async def test_export_round_trip_plans_nothing(
    session: WebhooksSession, emulator: Emulator, fmt: SpecFormat, tmp_path: Path
) -> None:
    await seed_varied(session)
    exported = await export(session, "demo")
    text = dump_specs(exported, format=fmt)

    assert SECRET not in text
    assert emulator.token not in text
    assert [s["name"] for s in exported] == ["alpha", "mid", "zeta"]
    zeta = exported[2]
    assert list(zeta["labels"]) == ["app", "env", "team"]
    assert zeta["headers"] == [plain("X-Trace", "1"), protected("Authorization", None)]
    assert all(list(s) == list(exported[0]) for s in exported)  # every field, same order
    assert len(exported[0]) == 13

    path = tmp_path / f"hooks.{fmt}"
    path.write_text(text, encoding="utf-8")
    for source in (text, path, str(path)):
        loaded = load_specs(source)
        assert loaded == exported
        before = emulator.stats.total_requests
        again = await plan(session, "demo", loaded, prune=True)
        assert again.is_empty, again.summary()
        assert again.unchanged == ("alpha", "mid", "zeta")
        assert emulator.stats.total_requests == before + 1  # one list call
    assert dump_specs(await export(session, "demo"), format=fmt) == text  # stable
    assert writes(emulator) == 3


def test_dump_keeps_references_but_never_literal_secrets() -> None:
    specs = [
        webhook_spec("b", headers=[protected("Authorization", "${HOOK_TOKEN}")]),
        webhook_spec("a", headers=[protected("Authorization", SECRET), plain("X", "y")]),
    ]
    text = dump_specs(specs)
    assert SECRET not in text
    data = json.loads(text)
    assert [d["name"] for d in data] == ["a", "b"]
    assert data[0]["headers"] == [protected("Authorization", None), plain("X", "y")]
    assert data[1]["headers"] == [protected("Authorization", "${HOOK_TOKEN}")]
    assert yaml.safe_load(dump_specs(specs, format="yaml")) == data
    with pytest.raises(ValidationError, match="format"):
        dump_specs(specs, format="toml")  # type: ignore[arg-type]


def test_load_specs_names_the_spec_and_field(tmp_path: Path) -> None:
    bad = [webhook_spec("ok"), webhook_spec("bad", timeout=99)]
    with pytest.raises(ValidationError) as caught:
        load_specs(json.dumps(bad))
    assert caught.value.field == "specs[1].timeout"
    with pytest.raises(ValidationError) as caught:
        load_specs(yaml.safe_dump([webhook_spec("x", headers=[{"value": "v"}])]))
    assert caught.value.field == "specs[0].headers[0].key"
    with pytest.raises(ValidationError, match=r"specs\[1\]\.name: repeats the name of specs\[0\]"):
        load_specs(json.dumps([webhook_spec("x"), webhook_spec("x")]))
    with pytest.raises(ValidationError, match="must be a list of webhook specs, or one spec"):
        load_specs("just some text\n")
    with pytest.raises(ValidationError, match=r"specs\[0\]\.url: is required"):
        load_specs("name: just-one\n")  # one spec, missing its fields
    assert load_specs(json.dumps(webhook_spec("one")))[0]["name"] == "one"
    with pytest.raises(ValidationError, match="not valid JSON or YAML"):
        load_specs("- [unclosed\n")
    with pytest.raises(ValidationError, match="cannot read the file"):
        load_specs(tmp_path / "missing.yaml")
    assert load_specs(json.dumps({"webhooks": [webhook_spec("w")]}))[0]["name"] == "w"
    assert load_specs("[]") == []


# --- plan categories ---------------------------------------------------------------------------


async def test_plan_sorts_every_webhook_into_its_category(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.bulk_create(
        "demo",
        [
            webhook_spec("same", headers=[protected("Authorization", SECRET)]),
            webhook_spec("stale", timeout=5, labels={"a": "1"}),
            webhook_spec("moved"),
            webhook_spec("extra"),
        ],
    )
    desired = [
        # A known protected value alone is not a change.
        webhook_spec("same", headers=[protected("Authorization", "${TOKEN}")]),
        webhook_spec("stale", timeout=20, labels={"a": "2"}),
        webhook_spec(
            "moved",
            object_type="pipeline",
            object_name="demo-pipeline",
            event="pipeline_request_completed",
        ),
        webhook_spec("new"),
        webhook_spec("needs-secret", headers=[protected("Authorization", "${MISSING_VAR}")]),
    ]
    environ = {"TOKEN": "another-secret"}
    before = emulator.stats.total_requests
    result = await plan(session, "demo", desired, prune=True, environ=environ)
    assert emulator.stats.total_requests == before + 1
    assert writes(emulator) == 4  # only the seeding

    assert result.creates == (Create("new", WebhookCreate.from_dict(webhook_spec("new"))),)
    (update,) = result.updates
    assert isinstance(update, Update)
    assert update.name == "stale"
    assert update.changes == {"timeout": (5, 20), "labels": ({"a": "1"}, {"a": "2"})}
    assert update.update.changed_fields() == ("labels", "timeout")
    (replace,) = result.replaces
    assert isinstance(replace, Replace)
    assert set(replace.changes) == {"object_type", "object_name", "event"}
    assert result.deletes == (Delete("extra"),)
    assert result.unchanged == ("same",)
    (blocked,) = result.blocked
    assert isinstance(blocked, Blocked)
    assert (blocked.name, blocked.action) == ("needs-secret", "create")
    assert blocked.headers == ("Authorization",)
    assert blocked.variables == ("MISSING_VAR",)

    summary = result.summary()
    assert "1 to create, 1 to update, 1 to replace, 1 to delete, 1 unchanged, 1 blocked" in summary
    assert '~ update  stale: labels {"a": "1"} -> {"a": "2"}; timeout 5 -> 20' in summary
    assert "MISSING_VAR" in summary
    as_json = json.dumps(result.to_dict())
    assert "another-secret" not in as_json
    assert "another-secret" not in summary
    assert result.to_dict()["counts"]["blocked"] == 1

    # Without prune nothing is deleted; plans never change anything.
    assert (await plan(session, "demo", desired, environ=environ)).deletes == ()
    assert writes(emulator) == 4


async def test_apply_refuses_a_blocked_plan_naming_webhooks_headers_and_variables(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.webhooks_create("demo", webhook_spec("has-one"))
    desired = [
        webhook_spec("fine"),
        webhook_spec("new-a", headers=[protected("Authorization", "${TOKEN_A}")]),
        webhook_spec("new-b", headers=[protected("X-Key", None)]),
        # A protected header the stored webhook lacks cannot be "kept".
        webhook_spec("has-one", headers=[protected("X-Added", "Bearer ${TOKEN_C}")]),
    ]
    the_plan = await plan(session, "demo", desired, environ={"TOKEN_A": ""})
    assert [(b.name, b.action) for b in the_plan.blocked] == [
        ("has-one", "update"),
        ("new-a", "create"),
        ("new-b", "create"),
    ]
    with pytest.raises(PlanBlockedError) as caught:
        await apply(session, the_plan)
    error = caught.value
    assert isinstance(error, UbiOpsError)
    message = str(error)
    for expected in ("new-a", "new-b", "has-one", "Authorization", "X-Key", "X-Added", "TOKEN_A"):
        assert expected in message
    assert "TOKEN_C" in message
    assert "no value given" in message
    assert writes(emulator) == 1
    assert [w.name for w in emulator.webhooks("demo")] == ["has-one"]


async def test_apply_carries_out_the_plan_and_the_second_one_is_empty(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.bulk_create(
        "demo",
        [
            webhook_spec("keep-secret", headers=[protected("Authorization", SECRET)]),
            webhook_spec("moved"),
            webhook_spec("old"),
        ],
    )
    desired = [
        # Unknown protected value on update: sent as null, the stored value stays.
        webhook_spec(
            "keep-secret", url="https://example.org/new", headers=[protected("Authorization", None)]
        ),
        webhook_spec(
            "moved",
            object_type="pipeline",
            object_name="demo-pipeline",
            event="pipeline_request_started",
            headers=[protected("Authorization", "${TOKEN}")],
        ),
        webhook_spec("created", headers=[protected("X-Key", "k-${TOKEN}")]),
    ]
    environ = {"TOKEN": "tok"}
    first = await plan(session, "demo", desired, prune=True, environ=environ)
    seen: list[int] = []
    result = await apply(session, first, progress=lambda p: seen.append(p.done))
    assert result.ok, result.summary()
    assert [o.item.kind for o in result.outcomes] == ["create", "update", "replace", "delete"]
    assert sorted(seen) == [1, 2, 3, 4]
    assert "4 done" in result.summary()

    stored = {w.name: w for w in emulator.webhooks("demo")}
    assert set(stored) == {"keep-secret", "moved", "created"}
    assert stored["keep-secret"].url == "https://example.org/new"
    assert stored["keep-secret"].headers[0].value == SECRET
    assert stored["moved"].object_name == "demo-pipeline"
    assert stored["moved"].headers[0].value == "tok"
    assert stored["created"].headers[0].value == "k-tok"

    count = emulator.stats.total_requests
    second = await plan(session, "demo", desired, prune=True, environ=environ)
    assert second.is_empty, second.summary()
    again = await apply(session, second)
    assert again.ok
    assert again.outcomes == ()
    assert emulator.stats.total_requests == count + 1  # the list call of the plan only


async def test_rotating_a_secret_is_an_explicit_choice(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.webhooks_create(
        "demo", webhook_spec("hook", headers=[protected("Authorization", "old")])
    )
    desired = [webhook_spec("hook", headers=[protected("Authorization", "${NEW}")])]
    environ = {"NEW": SECRET}
    assert (await plan(session, "demo", desired, environ=environ)).is_empty
    rotate = await plan(session, "demo", desired, environ=environ, rotate_secrets=True)
    (update,) = rotate.updates
    assert set(update.changes) == {"headers"}
    assert SECRET not in json.dumps(rotate.to_dict()) + rotate.summary()
    assert '"<hidden>"' in json.dumps(rotate.to_dict())
    assert (await apply(session, rotate)).ok
    assert emulator.webhook("demo", "hook").headers[0].value == SECRET


async def test_a_partial_apply_is_finished_by_planning_again(
    session: WebhooksSession, emulator: Emulator
) -> None:
    desired = [webhook_spec(f"hook-{i:02d}") for i in range(20)]
    first = await plan(session, "demo", desired)
    emulator.faults.fail_next(6, status=500, routes=["webhooks_create"])  # 500: not retried
    partial = await apply(session, first, concurrency=4)
    assert not partial.ok
    assert len(partial.failed) == 6
    assert "Plan and apply again" in partial.summary()
    assert len(emulator.webhooks("demo")) == 14

    rest = await plan(session, "demo", desired)
    assert sorted(c.name for c in rest.creates) == sorted(o.item.name for o in partial.failed)
    assert (await apply(session, rest)).ok
    assert (await plan(session, "demo", desired)).is_empty
    assert sorted(w.name for w in emulator.webhooks("demo")) == [s["name"] for s in desired]


async def test_a_stale_plan_counts_what_is_already_done_as_skipped(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.webhooks_create("demo", webhook_spec("gone"))
    stale = await plan(session, "demo", [webhook_spec("twin"), webhook_spec("clash")], prune=True)
    await session.webhooks_create("demo", webhook_spec("twin"))
    await session.webhooks_create("demo", webhook_spec("clash", timeout=3))
    await session.webhooks_delete("demo", "gone")
    result = await apply(session, stale)
    by_name = {o.item.name: o for o in result.outcomes}
    assert by_name["twin"].ok
    assert by_name["twin"].skipped
    assert by_name["gone"].ok
    assert by_name["gone"].skipped
    assert isinstance(by_name["clash"].error, ConflictError)
    assert emulator.webhook("demo", "clash").timeout == 3


async def test_bad_specs_are_refused_before_any_request(
    session: WebhooksSession, emulator: Emulator
) -> None:
    with pytest.raises(ValidationError) as caught:
        await plan(session, "demo", [webhook_spec("ok"), webhook_spec("bad", event="nope")])
    assert caught.value.field == "specs[1].event"
    with pytest.raises(ValidationError) as caught:
        await plan(session, "demo", [webhook_spec("a"), "not a spec"])  # type: ignore[list-item]
    assert caught.value.field == "specs[1]"
    with pytest.raises(ValidationError) as caught:
        await plan(session, "demo", [webhook_spec("a", headers=[plain("X", None)])])  # type: ignore[arg-type]
    assert caught.value.field == "specs[0].headers[0].value"
    with pytest.raises(ValidationError, match="protected_values"):
        await plan(session, "demo", [], protected_values={"hook/": "x"})
    assert emulator.stats.total_requests == 0


def test_diff_is_pure_and_accepts_models() -> None:
    spec = WebhookCreate.from_dict(webhook_spec("a", headers=[protected("K", "${V}")]))
    the_plan = diff("p", [spec, webhook_spec("b")], [], environ={"V": SECRET})
    assert [c.name for c in the_plan.creates] == ["a", "b"]
    assert the_plan.creates[0].spec.headers[0].value == SECRET
    escaped = diff("p", [webhook_spec("c", headers=[protected("K", "$${V}")])], [], environ={})
    assert escaped.creates[0].spec.headers[0].value == "${V}"
    assert SECRET not in repr(the_plan) + the_plan.summary() + json.dumps(the_plan.to_dict())


def test_protected_values_fill_unknown_values_by_webhook_then_by_key() -> None:
    unknown = [protected("Authorization", None)]
    the_plan = diff(
        "p",
        [webhook_spec("a", headers=unknown), webhook_spec("b", headers=unknown)],
        [],
        protected_values={"Authorization": "${GLOBAL}", "a/authorization": "${ONLY_A}"},
        environ={"GLOBAL": "g-value", "ONLY_A": "a-value"},
    )
    values = {c.name: c.spec.headers[0].value for c in the_plan.creates}
    assert values == {"a": "a-value", "b": "g-value"}


def test_a_replace_needing_an_unknown_value_is_blocked() -> None:
    stored = WebhookDetail(
        id="1",
        name="hook",
        url="http://127.0.0.1:9/unused",
        object_type=ObjectType.DEPLOYMENT,
        object_name="demo-deployment",
        event=EventType.DEPLOYMENT_REQUEST_COMPLETED,
        headers=(WebhookHeader("Authorization", None, protected=True),),
    )
    moved = webhook_spec("hook", version="v2", headers=[protected("Authorization", None)])
    (blocked,) = diff("p", [moved], [stored]).blocked
    assert (blocked.name, blocked.action, blocked.headers) == (
        "hook",
        "replace",
        ("Authorization",),
    )
    kept = webhook_spec("hook", timeout=20, headers=[protected("Authorization", None)])
    (update,) = diff("p", [kept], [stored]).updates
    assert update.update.changed_fields() == ("timeout",)


# --- copy --------------------------------------------------------------------------------------


async def test_copy_renames_rewrites_and_fills_protected_values(
    session: WebhooksSession, emulator: Emulator
) -> None:
    emulator.add_project("prod", deployments={"demo-deployment": ["v1"]})
    await session.bulk_create(
        "demo",
        [
            webhook_spec(
                "alpha",
                url="http://staging.example/hooks/a",
                headers=[protected("Authorization", SECRET), protected("X-Key", "k")],
            ),
            webhook_spec("beta", url="http://other.example/b"),
        ],
    )
    await session.webhooks_create("prod", webhook_spec("leftover"))
    values = {"Authorization": "${AUTH}", "alpha/X-Key": "${KEY_A}"}
    environ = {"AUTH": "auth-value", "KEY_A": "key-value"}
    dry = await copy(
        session,
        "demo",
        session,
        "prod",
        rename=[{"alpha": "first"}, lambda name: f"prod-{name}"],
        rewrite_urls=[("http://staging.example/", "https://prod.example/")],
        protected_values=values,
        prune=True,
        dry_run=True,
        environ=environ,
    )
    assert dry.result is None
    assert dry.ok
    assert [c.name for c in dry.plan.creates] == ["prod-beta", "prod-first"]
    assert dry.plan.deletes == (Delete("leftover"),)
    assert [w.name for w in emulator.webhooks("prod")] == ["leftover"]

    done = await copy(
        session,
        "demo",
        session,
        "prod",
        rename=[{"alpha": "first"}, lambda name: f"prod-{name}"],
        rewrite_urls={"http://staging.example/": "https://prod.example/"},
        protected_values=values,
        prune=True,
        environ=environ,
    )
    assert done.ok
    assert done.result is not None
    assert done.result.ok
    stored = {w.name: w for w in emulator.webhooks("prod")}
    assert set(stored) == {"prod-first", "prod-beta"}
    first = stored["prod-first"]
    assert first.url == "https://prod.example/hooks/a"
    assert [(h.key, h.value) for h in first.headers] == [
        ("Authorization", "auth-value"),
        ("X-Key", "key-value"),
    ]
    assert stored["prod-beta"].url == "http://other.example/b"


async def test_copy_refuses_bad_arguments_before_any_request(
    session: WebhooksSession, emulator: Emulator
) -> None:
    with pytest.raises(ValidationError, match="rewrite_urls"):
        await copy(session, "demo", session, "demo", rewrite_urls=[("only-one",)])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="rename"):
        await copy(session, "demo", session, "demo", rename=42)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="protected_values"):
        await copy(session, "demo", session, "demo", protected_values={"K": ""})
    assert emulator.stats.total_requests == 0
