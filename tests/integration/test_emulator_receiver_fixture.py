"""The ``webhook_receiver`` fixture with the emulator: the receiver reads what it sends."""

from __future__ import annotations

import aiohttp
import pytest
from _emulator_helpers import hook_test_body

from aioubiwebhooks.emulator import Emulator
from aioubiwebhooks.receiver import WebhookReceiver


@pytest.mark.parametrize(
    ("object_type", "object_name", "event"),
    [
        ("deployment", "demo-deployment", "deployment_request_completed"),
        ("pipeline", "demo-pipeline", "pipeline_request_failed"),
    ],
)
async def test_deliveries_reach_the_receiver_as_typed_events(
    ubiops_emulator: Emulator,
    webhook_receiver: WebhookReceiver,
    object_type: str,
    object_name: str,
    event: str,
) -> None:
    body = hook_test_body(
        str(webhook_receiver.url),
        object_type=object_type,
        object_name=object_name,
        event=event,
        include_result=True,
    )
    url = f"{ubiops_emulator.url}/projects/demo/webhooks-tests"
    async with (
        aiohttp.ClientSession(headers={"Authorization": ubiops_emulator.token}) as http,
        http.post(url, json=body) as response,
    ):
        assert response.status == 201
    received = await webhook_receiver.wait_for(timeout=10)
    assert await ubiops_emulator.drain(10)
    assert [t.status.value for t in ubiops_emulator.tests("demo")] == ["completed"]
    assert received.event.value == event
    assert received.object_name == object_name
    assert received.object_id == ubiops_emulator.object_id(
        "demo", object_name, object_type=object_type
    )
    assert received.version_name == "v1"
    assert received.has_result
