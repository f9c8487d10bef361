"""Every endpoint of the session against the emulator, over real loopback HTTP."""

from __future__ import annotations

import pytest
from conftest import webhook_spec

from aioubiwebhooks import (
    UNSET,
    AuthenticationError,
    ConflictError,
    EventType,
    NotFoundError,
    ObjectType,
    TestStatus,
    WebhookCreate,
    WebhookHeader,
    WebhooksSession,
    WebhookUpdate,
)
from aioubiwebhooks.emulator import Emulator

SECRET = "Token protected-value-7f3a"


async def test_create_get_list_update_delete(session: WebhooksSession) -> None:
    created = await session.webhooks_create(
        "demo",
        WebhookCreate.from_dict(
            webhook_spec(
                "on-done",
                labels={"team": "ml", "env": "prod"},
                headers=[{"key": "Authorization", "value": SECRET, "protected": True}],
                description="notify",
            )
        ),
    )
    assert created.name == "on-done"
    assert created.object_type is ObjectType.DEPLOYMENT
    assert created.headers == (WebhookHeader("Authorization", None, protected=True),)
    assert created.creation_date is not None

    fetched = await session.webhooks_get("demo", "on-done")
    assert fetched == created

    updated = await session.webhooks_update(
        "demo",
        "on-done",
        WebhookUpdate(timeout=25, headers=[WebhookHeader("Authorization", None, protected=True)]),
    )
    assert updated.timeout == 25
    assert updated.description == "notify"
    assert updated.labels == {"team": "ml", "env": "prod"}

    await session.webhooks_delete("demo", "on-done")
    with pytest.raises(NotFoundError):
        await session.webhooks_get("demo", "on-done")
    with pytest.raises(NotFoundError):
        await session.webhooks_delete("demo", "on-done")


async def test_protected_value_is_kept_on_update_with_none(
    session: WebhooksSession, emulator: Emulator
) -> None:
    headers = [{"key": "Authorization", "value": SECRET, "protected": True}]
    await session.webhooks_create("demo", webhook_spec("keep", headers=headers))
    await session.webhooks_update(
        "demo",
        "keep",
        {
            "url": "https://example.org/new",
            "headers": [{"key": "Authorization", "value": None, "protected": True}],
        },
    )
    (stored,) = [h for h in emulator.webhooks("demo") if h.name == "keep"]
    assert stored.headers[0].value == SECRET
    assert stored.url == "https://example.org/new"


async def test_list_filters(session: WebhooksSession) -> None:
    await session.webhooks_create("demo", webhook_spec("a", labels={"team": "x", "tier": "1"}))
    await session.webhooks_create("demo", webhook_spec("b", labels={"team": "x"}))
    await session.webhooks_create(
        "demo",
        webhook_spec(
            "c",
            object_type="pipeline",
            object_name="demo-pipeline",
            event="pipeline_request_failed",
        ),
    )
    names = lambda hooks: sorted(h.name for h in hooks)  # noqa: E731
    assert names(await session.webhooks_list("demo")) == ["a", "b", "c"]
    assert names(await session.webhooks_list("demo", labels={"team": "x"})) == ["a", "b"]
    assert names(await session.webhooks_list("demo", labels="team:x,tier:1")) == ["a"]
    assert names(await session.webhooks_list("demo", object_type="pipeline")) == ["c"]
    assert names(
        await session.webhooks_list("demo", event=EventType.DEPLOYMENT_REQUEST_COMPLETED)
    ) == ["a", "b"]


async def test_names_with_reserved_characters_are_escaped(session: WebhooksSession) -> None:
    with pytest.raises(NotFoundError) as caught:
        await session.webhooks_get("demo", "a/b?c")
    assert caught.value.path == "/projects/demo/webhooks/a%2Fb%3Fc"


async def test_duplicate_name_is_a_conflict(session: WebhooksSession) -> None:
    await session.webhooks_create("demo", webhook_spec("dup"))
    with pytest.raises(ConflictError) as caught:
        await session.webhooks_create("demo", webhook_spec("dup"))
    assert caught.value.status == 409
    assert caught.value.message


async def test_unknown_project_and_object_are_not_found(session: WebhooksSession) -> None:
    with pytest.raises(NotFoundError):
        await session.webhooks_list("no-such-project")
    with pytest.raises(NotFoundError):
        await session.webhooks_create("demo", webhook_spec("x", object_name="ghost"))


async def test_unknown_version_is_named(session: WebhooksSession) -> None:
    with pytest.raises(NotFoundError, match="v999"):
        await session.webhooks_create("demo", webhook_spec("x", version="v999"))


async def test_wrong_token_is_an_authentication_error() -> None:
    async with Emulator(token="right") as emu, WebhooksSession("wrong", emu.url) as session:
        with pytest.raises(AuthenticationError) as caught:
            await session.webhooks_list("demo")
    assert "wrong" not in str(caught.value)
    assert "right" not in repr(caught.value)


async def test_webhook_test_runs_to_completion(session: WebhooksSession) -> None:
    spec = {k: v for k, v in webhook_spec("t").items() if k != "name"}
    test = await session.webhook_tests_create("demo", spec)
    assert test.status is TestStatus.PENDING
    done = await session.await_test("demo", test.id, timeout=20)
    assert done.status is TestStatus.FAILED  # nothing listens on port 9
    assert done.error_message
    again = await session.webhook_tests_get("demo", test.id)
    assert again == done
    with pytest.raises(NotFoundError):
        await session.webhook_tests_get("demo", "00000000-0000-0000-0000-000000000000")


async def test_update_sends_only_what_was_set(session: WebhooksSession) -> None:
    await session.webhooks_create("demo", webhook_spec("partial", description="keep me"))
    update = WebhookUpdate(enabled=False)
    assert update.description is UNSET
    after = await session.webhooks_update("demo", "partial", update)
    assert after.enabled is False
    assert after.description == "keep me"


async def test_caller_owned_client_session_is_left_open(emulator: Emulator) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as own:
        async with WebhooksSession(emulator.token, emulator.url, client_session=own) as session:
            assert await session.webhooks_list("demo") == []
        assert not own.closed


async def test_dot_names_cannot_walk_the_path(session: WebhooksSession) -> None:
    with pytest.raises(NotFoundError) as caught:
        await session.webhooks_get("demo", "..")
    assert caught.value.path == "/projects/demo/webhooks/%2E%2E"
