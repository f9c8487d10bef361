"""Migration: export, plan, apply and copy against the emulator, and the spec file format."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
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


MASK = "*****"


@pytest.fixture(params=[None, MASK], ids=["null", "mask"])
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    """No source says whether a read returns a protected value as null or as a mask, so
    every test here runs against both."""
    async with Emulator(protected_mask=request.param) as emu:
        yield emu


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
    read_back = (await session.webhooks_get("demo", "zeta")).headers[1].value
    assert read_back == emulator.state.protected_mask  # null, or the mask
    exported = await export(session, "demo")
    text = dump_specs(exported, format=fmt)

    assert SECRET not in text
    assert MASK not in text  # a mask is no value: it is written as unknown
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
    with pytest.raises(
        ValidationError, match=r"specs\[0\]\.url \(webhook 'just-one'\): is required"
    ):
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
    same, update = result.updates
    assert isinstance(update, Update)
    assert update.name == "stale"
    assert update.changes == {"timeout": (5, 20), "labels": ({"a": "1"}, {"a": "2"})}
    assert update.update.changed_fields() == ("labels", "timeout")
    assert update.secrets == ()
    # A known protected value is sent: the stored one cannot be read to compare.
    assert (same.name, same.changes, same.secrets) == ("same", {}, ("Authorization",))
    assert same.update.changed_fields() == ("headers",)
    (replace,) = result.replaces
    assert isinstance(replace, Replace)
    assert set(replace.changes) == {"object_type", "object_name", "event"}
    assert result.deletes == (Delete("extra"),)
    assert result.unchanged == ()
    (blocked,) = result.blocked
    assert isinstance(blocked, Blocked)
    assert (blocked.name, blocked.action) == ("needs-secret", "create")
    assert blocked.headers == ("Authorization",)
    assert blocked.variables == ("MISSING_VAR",)

    assert same.changes == {}
    stored_headers = [h.value for u in result.updates for h in u.update.headers or ()]
    assert MASK not in stored_headers  # what is sent is the spec's value, or None (keep)
    summary = result.summary()
    assert MASK not in summary + json.dumps(result.to_dict())
    assert "1 to create, 2 to update, 1 to replace, 1 to delete, 0 unchanged, 1 blocked" in summary
    assert '~ update  stale: labels {"a": "1"} -> {"a": "2"}; timeout 5 -> 20\n' in summary
    assert "~ update  same: protected Authorization sent (the stored value cannot be read)" in (
        summary
    )
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


async def test_apply_carries_out_the_plan_and_the_second_sends_only_known_secrets(
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

    # Planned again, only the known protected values are sent (they cannot be compared);
    # the unknown one is kept, and nothing else is left to do.
    second = await plan(session, "demo", desired, prune=True, environ=environ)
    assert [(u.name, u.changes, u.secrets) for u in second.updates] == [
        ("created", {}, ("X-Key",)),
        ("moved", {}, ("Authorization",)),
    ]
    assert second.counts() | {"update": 2, "unchanged": 1} == second.counts()
    assert (len(second.creates), len(second.replaces), len(second.blocked)) == (0, 0, 0)
    assert second.unchanged == ("keep-secret",)
    count = emulator.stats.total_requests
    again = await apply(session, second)
    assert again.ok
    assert emulator.stats.total_requests == count + 2
    assert emulator.webhook("demo", "keep-secret").headers[0].value == SECRET


async def test_a_changed_secret_is_sent_and_never_reported_as_unchanged(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.webhooks_create(
        "demo", webhook_spec("hook", headers=[protected("Authorization", "old")])
    )
    desired = [webhook_spec("hook", headers=[protected("Authorization", "${NEW}")])]
    environ = {"NEW": SECRET}
    rotate = await plan(session, "demo", desired, environ=environ)
    assert rotate.unchanged == ()
    (update,) = rotate.updates
    assert update.secrets == ("Authorization",)
    assert SECRET not in json.dumps(rotate.to_dict()) + rotate.summary()
    assert rotate.to_dict()["updates"][0]["secrets"] == ["Authorization"]
    assert (await apply(session, rotate)).ok
    assert emulator.webhook("demo", "hook").headers[0].value == SECRET
    # The old keyword changes nothing now, and says so.
    with pytest.warns(DeprecationWarning, match="rotate_secrets"):
        again = await plan(session, "demo", desired, environ=environ, rotate_secrets=True)
    assert again.updates == rotate.updates


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


async def test_a_create_that_meets_its_twin_sends_the_secret_it_carries(
    session: WebhooksSession, emulator: Emulator
) -> None:
    desired = [webhook_spec("twin", headers=[protected("Authorization", "${TOKEN}")])]
    stale = await plan(session, "demo", desired, environ={"TOKEN": "new-secret"})
    await session.webhooks_create(
        "demo", webhook_spec("twin", headers=[protected("Authorization", "other-secret")])
    )
    (outcome,) = (await apply(session, stale)).outcomes
    assert outcome.ok
    assert not outcome.skipped  # not "already so": the stored secret could not be compared
    assert emulator.webhook("demo", "twin").headers[0].value == "new-secret"


def hundred_specs_three_bad() -> list[dict[str, Any]]:
    specs = [webhook_spec(f"hook-{i:03d}") for i in range(100)]
    specs[7]["timeout"] = 99
    specs[42]["event"] = "pipeline_request_failed"  # the wrong object type for the event
    specs[88]["headers"] = [{"key": "", "value": "x"}, plain("X-Fine", "1")]
    specs[99]["name"] = "hook-000"  # a name given twice
    return specs


def test_every_invalid_spec_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "hooks.json"
    path.write_text(json.dumps(hundred_specs_three_bad()))
    with pytest.raises(ValidationError) as caught:
        load_specs(path)
    error = caught.value
    assert [(p.field, p.webhook) for p in error.problems] == [
        ("hooks.json[7].timeout", "hook-007"),
        ("hooks.json[42].event", "hook-042"),
        ("hooks.json[88].headers[0].key", "hook-088"),
        ("hooks.json[99].name", None),
    ]
    assert error.problems[0].rule == "must be at most 30 seconds"
    assert error.problems[3].rule == "repeats the name of hooks.json[0]"
    message = str(error)
    assert message.startswith("4 of 100 specs in hooks.json are invalid: ")
    assert "hooks.json[7].timeout (webhook 'hook-007'): must be at most 30" in message
    assert message.endswith("; and 1 more")
    assert error.field == "hooks.json[7].timeout"  # the first problem's


async def test_plan_and_bulk_create_report_every_invalid_spec_before_any_request(
    session: WebhooksSession, emulator: Emulator
) -> None:
    specs = hundred_specs_three_bad()
    with pytest.raises(ValidationError) as planned:
        await plan(session, "demo", specs)
    assert len(planned.value.problems) == 4
    assert planned.value.summary == "4 of 100 specs are invalid"
    with pytest.raises(ValidationError) as created:
        await session.bulk_create("demo", specs)
    assert [p.field for p in created.value.problems] == [
        "items[7].timeout",
        "items[42].event",
        "items[88].headers[0].key",
        "items[99].name",
    ]
    assert emulator.stats.total_requests == 0


# --- replacing without losing a webhook --------------------------------------------------------


def moved(name: str) -> dict[str, Any]:
    """The spec of ``name`` on the pipeline: a change only a replacement makes."""
    return webhook_spec(
        name,
        object_type="pipeline",
        object_name="demo-pipeline",
        event="pipeline_request_completed",
        headers=[protected("Authorization", "${TOKEN}")],
    )


async def seed_five(session: WebhooksSession) -> list[dict[str, Any]]:
    names = [f"swap-{i}" for i in range(5)]
    await session.bulk_create(
        "demo", [webhook_spec(n, headers=[protected("Authorization", "old")]) for n in names]
    )
    return [moved(n) for n in names]


def objects(emulator: Emulator) -> dict[str, str]:
    return {w.name: w.object_name for w in emulator.webhooks("demo")}


ENV = {"TOKEN": "new-secret"}


async def test_a_replacement_whose_create_fails_keeps_the_old_webhook(
    session: WebhooksSession, emulator: Emulator
) -> None:
    desired = await seed_five(session)
    first = await plan(session, "demo", desired, environ=ENV, prune=True)
    assert [r.name for r in first.replaces] == [f"swap-{i}" for i in range(5)]
    assert "(made anew under a temporary name, then swapped in)" in first.summary()
    emulator.faults.fail_next(5, status=500, routes=["webhooks_create"])
    failed = await apply(session, first)
    assert len(failed.failed) == 5
    # Nothing was deleted: every webhook is there, as it was.
    assert objects(emulator) == {f"swap-{i}": "demo-deployment" for i in range(5)}

    done = await apply(session, await plan(session, "demo", desired, environ=ENV, prune=True))
    assert done.ok, done.summary()
    assert objects(emulator) == {f"swap-{i}": "demo-pipeline" for i in range(5)}
    assert {w.headers[0].value for w in emulator.webhooks("demo")} == {"new-secret"}
    last = await plan(session, "demo", desired, environ=ENV, prune=True)
    assert (last.creates, last.replaces, last.deletes) == ((), (), ())


@pytest.mark.parametrize("failing", ["webhooks_delete", "webhooks_update"])
async def test_a_replacement_cut_short_is_finished_by_the_next_apply(
    session: WebhooksSession, emulator: Emulator, failing: str
) -> None:
    desired = await seed_five(session)
    first = await plan(session, "demo", desired, environ=ENV, prune=True)
    emulator.faults.fail_next(5, status=500, routes=[failing])  # the delete, or the rename
    cut_short = await apply(session, first)
    assert len(cut_short.failed) == 5
    left = objects(emulator)
    temporary = {name for name in left if "-replacing-" in name}
    assert len(temporary) == 5  # each new webhook waits under its temporary name
    assert all(value == "demo-pipeline" for name, value in left.items() if name in temporary)

    again = await plan(session, "demo", desired, environ=ENV, prune=True)
    assert [r.name for r in again.replaces] == [f"swap-{i}" for i in range(5)]
    assert all(r.resumed for r in again.replaces)
    assert again.deletes == ()  # the temporary webhooks are not pruned as strangers
    if failing == "webhooks_update":
        assert again.creates == ()  # the names are missing, yet nothing is made twice
        assert "finishing a replacement that was cut short" in again.summary()
    assert (await apply(session, again)).ok
    assert objects(emulator) == {f"swap-{i}": "demo-pipeline" for i in range(5)}


async def test_a_leftover_of_a_replacement_no_longer_needed_is_deleted(
    session: WebhooksSession, emulator: Emulator
) -> None:
    from aioubiwebhooks.migrate._replace import replacement_name

    await session.webhooks_create("demo", webhook_spec("kept"))
    await session.webhooks_create("demo", webhook_spec(replacement_name("kept")))
    the_plan = await plan(session, "demo", [webhook_spec("kept")])  # no prune asked
    assert the_plan.deletes == (Delete(replacement_name("kept")),)
    assert the_plan.unchanged == ("kept",)
    assert (await apply(session, the_plan)).ok
    assert [w.name for w in emulator.webhooks("demo")] == ["kept"]
    assert len(replacement_name("x" * 64)) == 64
    assert replacement_name("a" * 64) != replacement_name("a" * 63 + "b")


async def test_a_protected_value_read_from_the_api_is_never_taken_for_the_value(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.webhooks_create(
        "demo", webhook_spec("src", headers=[protected("Authorization", SECRET)])
    )
    # Copied, whatever the read held: unknown, so blocked, never the read value.
    with pytest.raises(PlanBlockedError):
        await copy(session, "demo", session, "demo", rename={"src": "dst"})
    assert [w.name for w in emulator.webhooks("demo")] == ["src"]
    # Applied from an export: unknown, so kept as stored (sent as null).
    exported = await export(session, "demo")
    exported[0]["url"] = "https://example.org/moved"
    exported[0]["headers"].append(plain("X-Added", "1"))
    the_plan = await plan(session, "demo", exported)
    (change,) = the_plan.to_dict()["updates"]
    assert change["changes"]["headers"]["stored"] == [protected("Authorization", None)]
    assert change["changes"]["headers"]["wanted"][0] == protected("Authorization", None)
    result = await apply(session, the_plan)
    assert result.ok
    stored = emulator.webhook("demo", "src")
    assert (stored.url, stored.headers[0].value) == ("https://example.org/moved", SECRET)


# --- pruning is asked for, never assumed -------------------------------------------------------


async def test_a_plan_prunes_only_when_asked(session: WebhooksSession, emulator: Emulator) -> None:
    await session.bulk_create("demo", [webhook_spec("kept"), webhook_spec("extra")])
    desired = [webhook_spec("kept")]
    kept = await plan(session, "demo", desired)
    assert kept.deletes == ()
    assert kept.is_empty
    assert "extra" not in kept.summary() + json.dumps(kept.to_dict())
    pruned = await plan(session, "demo", desired, prune=True)
    assert pruned.deletes == (Delete("extra"),)
    assert "  - delete  extra" in pruned.summary()
    assert sorted(w.name for w in emulator.webhooks("demo")) == ["extra", "kept"]  # unchanged


async def test_apply_deletes_only_what_a_pruning_plan_names(
    session: WebhooksSession, emulator: Emulator
) -> None:
    await session.bulk_create("demo", [webhook_spec("kept"), webhook_spec("extra")])
    desired = [webhook_spec("kept", timeout=12)]
    result = await apply(session, await plan(session, "demo", desired))
    assert [o.item.kind for o in result.outcomes] == ["update"]
    assert sorted(w.name for w in emulator.webhooks("demo")) == ["extra", "kept"]
    assert emulator.stats.requests["webhooks_delete"] == 0
    result = await apply(session, await plan(session, "demo", desired, prune=True))
    assert [(o.item.kind, o.item.name) for o in result.outcomes] == [("delete", "extra")]
    assert [w.name for w in emulator.webhooks("demo")] == ["kept"]
