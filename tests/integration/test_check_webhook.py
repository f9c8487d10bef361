"""check_webhook with every kind of input, and protected values that only the caller knows.

The receiver refuses a delivery without the right ``Authorization`` header, so a
completed test proves that the real protected value (not what a read returned) was sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import delivery_spec, webhook_spec

from aioubiwebhooks import (
    TestStatus,
    ValidationError,
    WebhookCreate,
    WebhookReceiver,
    WebhooksSession,
    WebhookTestCreate,
)
from aioubiwebhooks._compare import stored_differences
from aioubiwebhooks.emulator import Emulator

SECRET = "Token check-7c1e"
PROTECTED = [{"key": "Authorization", "value": SECRET, "protected": True}]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(secret=SECRET) as rx:
        yield rx


async def test_a_test_spec_dict_is_checked_as_a_test(
    session: WebhooksSession, emulator: Emulator, receiver: WebhookReceiver
) -> None:
    spec = delivery_spec(receiver.url, headers=PROTECTED)
    done = await session.check_webhook("demo", spec, timeout=30)
    assert done.status is TestStatus.COMPLETED
    assert emulator.stats.requests["webhooks_get"] == 0


@pytest.mark.parametrize(
    "kind", ["create dict", "create model", "test model"], ids=lambda kind: kind
)
async def test_specs_of_every_kind_are_checked(
    session: WebhooksSession, receiver: WebhookReceiver, kind: str
) -> None:
    data: dict[str, Any] = webhook_spec("unstored", url=receiver.url, headers=PROTECTED)
    given: Any = {
        "create dict": data,
        "create model": WebhookCreate.from_dict(data),
        "test model": WebhookCreate.from_dict(data).to_test(),
    }[kind]
    assert (await session.check_webhook("demo", given, timeout=30)).status is TestStatus.COMPLETED


async def test_a_dict_that_fits_neither_names_the_field(session: WebhooksSession) -> None:
    with pytest.raises(ValidationError, match=r"^name: is required"):
        await session.check_webhook("demo", delivery_spec("http://127.0.0.1:9/", enabled=True))


async def test_a_stored_webhook_needs_its_protected_values_from_the_caller(
    session: WebhooksSession, emulator: Emulator, receiver: WebhookReceiver
) -> None:
    await session.webhooks_create(
        "demo", webhook_spec("stored", url=receiver.url, headers=PROTECTED)
    )
    with pytest.raises(ValidationError, match="'Authorization' needs its value"):
        await session.check_webhook("demo", "stored")
    assert emulator.stats.requests["webhook_tests_create"] == 0
    known = {"Authorization": SECRET}
    by_name = await session.check_webhook("demo", "stored", protected_values=known, timeout=30)
    assert by_name.status is TestStatus.COMPLETED
    stored = await session.webhooks_get("demo", "stored")
    by_detail = await session.check_webhook("demo", stored, protected_values=known, timeout=30)
    assert by_detail.status is TestStatus.COMPLETED
    wrong = await session.check_webhook(
        "demo", stored, protected_values={"Authorization": "Token wrong"}, timeout=30
    )
    assert wrong.status is TestStatus.FAILED  # the receiver refused the wrong value


async def test_url_sends_the_check_elsewhere(
    session: WebhooksSession, receiver: WebhookReceiver
) -> None:
    spec = WebhookTestCreate.from_dict(
        delivery_spec("http://127.0.0.1:9/nowhere", headers=PROTECTED)
    )
    done = await session.check_webhook("demo", spec, url=receiver.url, timeout=30)
    assert done.status is TestStatus.COMPLETED


MASK = "********"


async def test_a_masked_read_is_never_taken_for_the_protected_value(
    receiver: WebhookReceiver,
) -> None:
    async with (
        Emulator(protected_mask=MASK) as emulator,
        WebhooksSession(emulator.token, emulator.url) as session,
    ):
        spec = webhook_spec("masked", url=receiver.url, headers=PROTECTED)
        await session.webhooks_create("demo", spec)
        stored = await session.webhooks_get("demo", "masked")
        assert stored.headers[0].value == MASK  # what this API answers in its place
        # Not the value: neither a create, a test nor a check may send the mask.
        with pytest.raises(ValidationError, match="'Authorization' needs its value"):
            stored.to_create()
        with pytest.raises(ValidationError, match="'Authorization' needs its value"):
            await session.check_webhook("demo", "masked")
        assert emulator.stats.requests["webhook_tests_create"] == 0
        done = await session.check_webhook(
            "demo", "masked", protected_values={"Authorization": SECRET}, timeout=30
        )
        assert done.status is TestStatus.COMPLETED  # the receiver got the real value
        # Nor does the comparison take the mask for a changed value.
        read, changed = await stored_differences(session, "demo", WebhookCreate.from_dict(spec))
        assert read.headers[0].value == MASK
        assert changed == {}
