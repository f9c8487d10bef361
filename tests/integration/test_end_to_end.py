"""A webhook test pointed at a WebhookReceiver arrives in its stream as a typed event."""

from __future__ import annotations

from aioubiwebhooks import (
    DeploymentEvent,
    PipelineEvent,
    TestStatus,
    WebhookReceiver,
    WebhooksSession,
    WebhookTestCreate,
)
from aioubiwebhooks.emulator import Emulator


async def test_delivery_arrives_as_a_typed_event_with_the_sent_request_id(
    emulator: Emulator, session: WebhooksSession
) -> None:
    async with WebhookReceiver(secret="Token shared-secret") as receiver:
        spec = WebhookTestCreate(
            url=receiver.url,
            object_type="deployment",
            object_name="demo-deployment",
            event="deployment_request_completed",
            headers=[{"key": "Authorization", "value": "Token shared-secret", "protected": True}],
            include_result=True,
        )
        test = await session.webhook_tests_create("demo", spec)
        done = await session.await_test("demo", test.id, timeout=20)
        assert done.status is TestStatus.COMPLETED
        event = await receiver.wait_for(timeout=5)

    (record,) = [r for r in emulator.deliveries if r.test_id == test.id]
    assert isinstance(event, DeploymentEvent)
    assert event.request_id == record.payload["request_id"]
    assert event.object_name == "demo-deployment"
    assert event.version_name == "v1"
    assert event.has_result
    assert "shared-secret" not in repr(event)


async def test_pipeline_delivery_through_the_async_stream(
    emulator: Emulator, session: WebhooksSession
) -> None:
    async with WebhookReceiver() as receiver:
        test = await session.webhook_tests_create(
            "demo",
            {
                "url": receiver.url,
                "object_type": "pipeline",
                "object_name": "demo-pipeline",
                "event": "pipeline_request_failed",
            },
        )
        await session.await_test("demo", test.id, timeout=20)
        event = await anext(aiter(receiver))
    assert isinstance(event, PipelineEvent)
    (record,) = [r for r in emulator.deliveries if r.test_id == test.id]
    assert event.request_id == record.payload["request_id"]
    assert not event.has_result
