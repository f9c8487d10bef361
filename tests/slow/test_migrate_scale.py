"""Migration at scale: 1,000 specs through injected faults, a 300-webhook copy between hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import webhook_spec

from aioubiwebhooks import WebhookCreate, WebhookDetail, WebhooksSession
from aioubiwebhooks._wire import create_json
from aioubiwebhooks.emulator import Emulator
from aioubiwebhooks.emulator._rules import parse_create
from aioubiwebhooks.migrate import PlanBlockedError, apply, copy, diff, export, plan

pytestmark = pytest.mark.slow


def protected(key: str, value: str | None) -> dict[str, Any]:
    return {"key": key, "value": value, "protected": True}


def many_specs(count: int) -> list[dict[str, Any]]:
    """Varied specs: both object types, labels, plain and protected (``${VAR}``) headers."""
    specs = []
    for i in range(count):
        changes: dict[str, Any] = {
            "url": f"https://hooks.example/{i}",
            "labels": {"batch": str(i % 7), "index": str(i)},
            "timeout": 1 + i % 30,
            "retry": i % 2 == 0,
        }
        if i % 3 == 0:
            changes.update(
                object_type="pipeline",
                object_name="demo-pipeline",
                event="pipeline_request_failed",
            )
        headers = [{"key": "X-Index", "value": str(i), "protected": False}]
        if i % 4 == 0:
            headers.append(protected("Authorization", f"Bearer ${{HOOK_SECRET_{i % 10}}}"))
        changes["headers"] = headers
        specs.append(webhook_spec(f"hook-{i:04d}", **changes))
    return specs


def expected_headers(spec: dict[str, Any], environ: dict[str, str]) -> list[tuple[str, str]]:
    out = []
    for header in spec["headers"]:
        value = header["value"]
        if header["protected"]:
            value = value.replace("${HOOK_SECRET_", "").rstrip("}")
            value = "Bearer " + environ[f"HOOK_SECRET_{value.split()[-1]}"]
        out.append((header["key"], value))
    return out


def matches(stored: WebhookDetail, spec: dict[str, Any], environ: dict[str, str]) -> bool:
    wanted = WebhookCreate.from_dict({**spec, "headers": []})
    return (
        stored.url == wanted.url
        and stored.object_type == wanted.object_type
        and stored.object_name == wanted.object_name
        and stored.event == wanted.event
        and stored.labels == wanted.labels
        and stored.timeout == wanted.timeout
        and stored.retry == wanted.retry
        and [(h.key, h.value) for h in stored.headers] == expected_headers(spec, environ)
    )


@pytest.fixture
async def flaky_session(emulator: Emulator) -> AsyncIterator[WebhooksSession]:
    # A fifth of requests fail: more retries than the default keep 1,000 calls safe.
    async with WebhooksSession(emulator.token, emulator.url, max_retries=10) as s:
        yield s


async def test_apply_1000_specs_through_faults_then_only_secrets_are_sent_again(
    flaky_session: WebhooksSession, emulator: Emulator
) -> None:
    environ = {f"HOOK_SECRET_{n}": f"secret-{n}" for n in range(10)}
    specs = many_specs(1000)
    emulator.faults.fail_fraction(0.2, statuses=(503,), seed=1234)

    first = await plan(flaky_session, "demo", specs, environ=environ)
    assert len(first.creates) == 1000
    assert not first.blocked
    emulator.faults.drop_next(40, routes=["webhooks_create"])
    result = await apply(flaky_session, first, concurrency=64)

    assert result.ok, result.summary()
    assert emulator.faults.fired["drop"] == 40
    assert emulator.faults.fired["fail_fraction"] > 150
    assert sum(o.attempts for o in result.outcomes) > 1000  # retries really happened

    stored = emulator.webhooks("demo")
    assert len(stored) == 1000
    by_name = {w.name: w for w in stored}
    assert len(by_name) == 1000
    for spec in specs:
        assert matches(by_name[spec["name"]], spec, environ), spec["name"]
    listed = await flaky_session.webhooks_list("demo")
    assert sorted(w.name for w in listed) == [s["name"] for s in specs]
    assert all(h.value is None for w in listed for h in w.headers if h.protected)

    writes_before = sum(
        emulator.stats.requests[op]
        for op in ("webhooks_create", "webhooks_update", "webhooks_delete")
    )
    # Planned again: nothing left but the known protected values, which are sent again
    # (250 webhooks carry one): the stored values cannot be read to compare.
    second = await plan(flaky_session, "demo", specs, prune=True, environ=environ)
    assert len(second.updates) == 250
    assert all(u.changes == {} and u.secrets == ("Authorization",) for u in second.updates)
    assert len(second.unchanged) == 750
    assert (second.creates, second.replaces, second.deletes) == ((), (), ())
    again = await apply(flaky_session, second)
    assert again.ok
    writes_after = sum(
        emulator.stats.requests[op]
        for op in ("webhooks_create", "webhooks_update", "webhooks_delete")
    )
    assert writes_after >= writes_before + 250  # retried ones may count more than once


async def test_plan_over_1000_webhooks_takes_one_list_call(
    session: WebhooksSession, emulator: Emulator
) -> None:
    specs = many_specs(1000)
    environ = {f"HOOK_SECRET_{n}": "x" for n in range(10)}
    for created in diff("demo", specs, [], environ=environ).creates:
        emulator.state.store.create_webhook("demo", parse_create(create_json(created.spec)))
    changed = [{**s, "timeout": 30} if i % 10 == 0 else s for i, s in enumerate(specs)]

    result = await plan(session, "demo", changed, environ=environ)

    assert emulator.stats.requests == {"webhooks_list": 1}
    assert len(result.unchanged) + len(result.updates) == 1000
    timeout_changed = {i for i in range(0, 1000, 10) if 1 + i % 30 != 30}
    with_secret = set(range(0, 1000, 4))  # a known protected value is always sent
    assert len(result.updates) == len(timeout_changed | with_secret)
    assert sum(1 for u in result.updates if "timeout" in u.changes) == len(timeout_changed)


async def test_copy_300_webhooks_between_hosts_with_protected_values() -> None:
    count = 300
    target_seed = {
        "projects": {
            "prod": {
                "deployments": {"demo-deployment": ["v1"]},
                "pipelines": {"demo-pipeline": ["v1"]},
            }
        }
    }
    async with (
        Emulator(token="source-token") as source_emu,
        Emulator(token="target-token", seed=target_seed) as target_emu,
        WebhooksSession(source_emu.token, source_emu.url) as source,
        WebhooksSession(target_emu.token, target_emu.url) as target,
    ):
        specs = []
        for i in range(count):
            headers = [protected("Authorization", f"source-auth-{i}")]
            if i % 5 == 0:
                headers.append(protected("X-Api-Key", "source-api-key"))
            specs.append(
                webhook_spec(f"hook-{i:03d}", url=f"http://old.example/{i}", headers=headers)
            )
        created = await source.bulk_create("demo", specs, concurrency=64)
        assert all(o.ok for o in created)

        # Without the protected values: stopped before the target is touched.
        with pytest.raises(PlanBlockedError) as caught:
            await copy(source, "demo", target, "prod", environ={})
        blocked = caught.value.blocked
        assert sorted(b.name for b in blocked) == sorted(s["name"] for s in specs)
        assert all(b.action == "create" for b in blocked)
        assert {b.headers for b in blocked} == {
            ("Authorization",),
            ("Authorization", "X-Api-Key"),
        }
        message = str(caught.value)
        assert "300 webhook(s)" in message
        assert "and 295 more" in message  # the message stays short; .blocked has them all
        assert len(message) < 1000
        assert target_emu.webhooks("prod") == []
        assert target_emu.stats.requests == {"webhooks_list": 1}

        environ = {f"AUTH_{i}": f"target-auth-{i}" for i in range(count)} | {"API_KEY": "k-123"}
        values = {f"hook-{i:03d}/Authorization": f"${{AUTH_{i}}}" for i in range(count)}
        values["X-Api-Key"] = "${API_KEY}"
        done = await copy(
            source,
            "demo",
            target,
            "prod",
            rename=lambda name: name.replace("hook-", "prod-hook-"),
            rewrite_urls=[("http://old.example/", "https://new.example/")],
            protected_values=values,
            environ=environ,
            concurrency=64,
        )
        assert done.ok
        assert done.result is not None
        assert len(done.result.outcomes) == count

        stored = {w.name: w for w in target_emu.webhooks("prod")}
        assert len(stored) == count
        for i in range(count):
            hook = stored[f"prod-hook-{i:03d}"]
            assert hook.url == f"https://new.example/{i}"
            wanted = [("Authorization", f"target-auth-{i}")]
            if i % 5 == 0:
                wanted.append(("X-Api-Key", "k-123"))
            assert [(h.key, h.value) for h in hook.headers] == wanted
            assert all(h.protected for h in hook.headers)

        again = await copy(
            source,
            "demo",
            target,
            "prod",
            rename=lambda name: name.replace("hook-", "prod-hook-"),
            rewrite_urls=[("http://old.example/", "https://new.example/")],
            environ={},
        )
        assert again.plan.is_empty
        assert again.result is not None
        assert again.result.outcomes == ()
        assert (await export(target, "prod"))[0]["headers"][0]["value"] is None
