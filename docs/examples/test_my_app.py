"""Testing an application that uses aioubiwebhooks, with the library's pytest fixtures.

The application code is at the top (in a real project it lives in its own module);
the tests below it use ``ubiops_emulator`` and ``webhook_receiver``.
"""

from collections.abc import AsyncIterator

import pytest

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator

# --- the application -------------------------------------------------------------------------


async def ensure_alert_hook(
    session: uw.WebhooksSession, project: str, url: str, secret: str
) -> bool:
    """Make sure the project's failure alert webhook exists as wanted, secret included.

    The API never shows a stored secret, so ``on_conflict="update"`` always sends it:
    a rotated secret reaches the webhook. Returns True if the webhook was created or sent.
    """
    spec = uw.WebhookCreate(
        name="failure-alerts",
        url=url,
        object_type="deployment",
        object_name="demo-deployment",
        event="deployment_request_failed",
        headers=[uw.WebhookHeader("Authorization", secret, protected=True)],
    )
    [outcome] = await session.bulk_create(project, [spec], on_conflict="update")
    outcome.unwrap()  # raises the error if the create or update failed
    return not outcome.skipped


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_backoff_sleeps(ubiops_testing_mode: None) -> None:
    """Every test here in testing mode: retries still happen, without waiting between them."""


@pytest.fixture
async def session(ubiops_emulator: Emulator) -> AsyncIterator[uw.WebhooksSession]:
    async with uw.WebhooksSession(ubiops_emulator.token, ubiops_emulator.url) as session:
        yield session


async def test_creates_the_hook_with_its_secret(
    session: uw.WebhooksSession, ubiops_emulator: Emulator
) -> None:
    assert await ensure_alert_hook(session, "demo", "https://example.org/a", "Token a")
    stored = ubiops_emulator.webhook("demo", "failure-alerts")  # with real protected values
    assert stored.url == "https://example.org/a"
    assert stored.headers[0].value == "Token a"


async def test_a_rotated_secret_reaches_the_webhook(
    session: uw.WebhooksSession, ubiops_emulator: Emulator
) -> None:
    await ensure_alert_hook(session, "demo", "https://example.org/a", "Token a")
    assert await ensure_alert_hook(session, "demo", "https://example.org/a", "Token b")
    stored = ubiops_emulator.webhook("demo", "failure-alerts")
    assert stored.headers[0].value == "Token b"
    assert ubiops_emulator.stats.requests["webhooks_update"] == 1
    # A new URL is an update of the same webhook.
    assert await ensure_alert_hook(session, "demo", "https://example.org/b", "Token b")
    assert ubiops_emulator.webhook("demo", "failure-alerts").url == "https://example.org/b"


async def test_survives_a_flaky_api(session: uw.WebhooksSession, ubiops_emulator: Emulator) -> None:
    ubiops_emulator.faults.fail_next(2, status=503)  # the next two requests fail
    ubiops_emulator.faults.drop_next(1)  # and one more loses its connection
    await ensure_alert_hook(session, "demo", "https://example.org/a", "Token a")
    assert [hook.name for hook in ubiops_emulator.webhooks("demo")] == ["failure-alerts"]
    assert ubiops_emulator.stats.faults == {"fail": 2, "drop": 1}


@pytest.mark.ubiops_emulator(token="the-right-token")
async def test_a_wrong_token_is_refused(ubiops_emulator: Emulator) -> None:
    async with uw.WebhooksSession("a-wrong-token", ubiops_emulator.url) as session:
        with pytest.raises(uw.AuthenticationError):
            await ensure_alert_hook(session, "demo", "https://example.org/a", "Token a")


@pytest.mark.webhook_receiver(secret="Token a")
async def test_the_hook_really_delivers(
    session: uw.WebhooksSession, webhook_receiver: uw.WebhookReceiver
) -> None:
    await ensure_alert_hook(session, "demo", webhook_receiver.url, "Token a")
    test = await session.check_webhook(
        "demo", "failure-alerts", protected_values={"Authorization": "Token a"}
    )
    assert test.status is uw.TestStatus.COMPLETED
    event = await webhook_receiver.wait_for(timeout=10)
    assert event.event is uw.EventType.DEPLOYMENT_REQUEST_FAILED


@pytest.mark.ubiops_emulator(
    seed={"projects": {"shop": {"deployments": {"demo-deployment": ["v1", "v2"]}}}},
    rate_limit=(5, 1.0),  # 5 requests a second
)
async def test_own_projects_under_a_rate_limit(
    session: uw.WebhooksSession, ubiops_emulator: Emulator
) -> None:
    for url in ("https://example.org/a", "https://example.org/b", "https://example.org/c"):
        await ensure_alert_hook(session, "shop", url, "Token a")  # 8 requests in all
    assert ubiops_emulator.stats.rate_limited <= 2  # the session paced itself
    with pytest.raises(uw.NotFoundError):  # this seed has no project "demo"
        await ensure_alert_hook(session, "demo", "https://example.org/a", "Token a")
