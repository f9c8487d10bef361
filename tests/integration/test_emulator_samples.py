"""The emulator against the recorded samples of the documented API (``tests/samples/``).

Each documented request is sent to a running emulator over raw HTTP; its answer must
have the documented status and shape: the same keys (plus the ones a sample records
from another source, such as ``creation_date``), and values of the documented types.
The delivery a webhook test POSTs must have the shape of the documented payload.
``tests/unit/test_samples.py`` holds the client's readers and writers to the same
samples, so a change on either side that drifts from the documented shapes fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

import aiohttp
import pytest
from _emulator_helpers import (
    Recorder,
    Sample,
    hook_test_body,
    load_samples,
    shape_differences,
    template_pattern,
)

from aioubiwebhooks.emulator import Emulator

PROJECT: Final = "project_name_example"
SEED: Final = {
    "projects": {PROJECT: {"deployments": {"deployment-1": ["v1"], "deployment-2": ["v1"]}}}
}
A_URL: Final = "https://example.org/hook"
"""Stands in for the documented url, a link that did not survive the copy of the page."""
HIDDEN_AS_NULL: Final = {"$.headers[].value": {"null"}, "$[].headers[].value": {"null"}}
"""Without a mask a protected value reads as null; the reference's example echoes it, and
no source says which the service does (``protected_mask`` gives the echoed type)."""


def one(operation: str) -> Sample:
    (sample,) = load_samples(operation)
    return sample


def documented_request(operation: str, **changes: Any) -> dict[str, Any]:
    request = one(operation).request
    assert request is not None
    body: dict[str, Any] = dict(request["body"])
    if body.get("url") == "":
        body["url"] = A_URL
    body.update(changes)
    return body


@pytest.fixture(params=[None, "***"], ids=["null", "mask"])
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    async with Emulator(seed=SEED, protected_mask=request.param, test_delay=3600.0) as emu:
        yield emu


class Api:
    def __init__(self, http: aiohttp.ClientSession, emulator: Emulator) -> None:
        self.http, self.emulator = http, emulator

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"{self.emulator.url}/projects/{PROJECT}{path}"
        async with self.http.request(method, url, json=body) as answer:
            raw = await answer.read()
            return answer.status, (await answer.json() if raw else None)

    async def create_documented(self) -> None:
        status, _ = await self("POST", "/webhooks", documented_request("webhooks_create"))
        assert status == 201


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[Api]:
    headers = {"Authorization": f"Token {emulator.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        yield Api(http, emulator)


def assert_shape(sample: Sample, answer: Any, mask: str | None) -> None:
    also = HIDDEN_AS_NULL if mask is None else {}
    found = shape_differences(sample.body, answer, undocumented=sample.undocumented_keys, also=also)
    assert not found, f"{sample.name} ({sample.source}):\n" + "\n".join(found)


async def test_create_answers_as_documented(api: Api, emulator: Emulator) -> None:
    sample = one("webhooks_create")
    status, answer = await api("POST", "/webhooks", documented_request("webhooks_create"))
    assert status == sample.status
    assert_shape(sample, answer, emulator.state.protected_mask)
    assert answer["headers"][0]["value"] == emulator.state.protected_mask


async def test_get_answers_as_documented(api: Api, emulator: Emulator) -> None:
    await api.create_documented()
    sample = one("webhooks_get")
    status, answer = await api("GET", "/webhooks/webhook-1")
    assert status == sample.status
    assert_shape(sample, answer, emulator.state.protected_mask)


async def test_list_answers_as_documented(api: Api, emulator: Emulator) -> None:
    await api.create_documented()
    sample = one("webhooks_list")
    second = sample.body[1]
    fields = ("name", "object_type", "object_name", "event", "labels", "timeout", "version")
    await api("POST", "/webhooks", {"url": A_URL, **{k: second[k] for k in fields}})
    status, answer = await api("GET", "/webhooks")
    assert status == sample.status
    assert [w["name"] for w in answer] == [w["name"] for w in sample.body]
    assert_shape(sample, answer, emulator.state.protected_mask)


async def test_update_answers_as_documented(api: Api, emulator: Emulator) -> None:
    await api.create_documented()
    sample = one("webhooks_update")
    status, answer = await api(
        "PATCH", "/webhooks/webhook-1", documented_request("webhooks_update")
    )
    assert status == sample.status
    assert answer["name"] == sample.body["name"]
    assert_shape(sample, answer, emulator.state.protected_mask)


async def test_delete_answers_as_documented(api: Api) -> None:
    await api.create_documented()
    sample = one("webhooks_delete")
    assert await api("DELETE", "/webhooks/webhook-1") == (sample.status, None)


async def test_a_test_create_answers_as_documented(api: Api, emulator: Emulator) -> None:
    sample = one("webhook_tests_create")
    status, answer = await api(
        "POST", "/webhooks-tests", documented_request("webhook_tests_create")
    )
    assert status == sample.status
    assert_shape(sample, answer, None)
    assert {**answer, "id": sample.body["id"]} == sample.body


@pytest.mark.parametrize("status", ["pending", "completed", "failed"])
async def test_a_test_reads_as_documented(api: Api, emulator: Emulator, status: str) -> None:
    (sample,) = [s for s in load_samples("webhook_tests_get") if s.body["status"] == status]
    async with Recorder() as target:
        if status != "pending":
            emulator.test_delay = 0.0
        url = target.url if status == "completed" else "http://127.0.0.1:9/closed"
        made, created = await api(
            "POST", "/webhooks-tests", documented_request("webhook_tests_create", url=url)
        )
        assert made == 201
        if status != "pending":
            assert await emulator.drain(timeout=20)
        code, answer = await api("GET", f"/webhooks-tests/{created['id']}")
    assert code == sample.status
    assert_shape(sample, answer, None)
    assert {**answer, "id": sample.body["id"]} == sample.body


@pytest.mark.parametrize("sample", load_samples("delivery"), ids=lambda s: s.name)
@pytest.mark.parametrize("include_result", [False, True])
async def test_a_delivery_has_the_documented_payload(sample: Sample, include_result: bool) -> None:
    kind = "pipeline" if "pipeline_id" in sample.body else "deployment"
    async with Recorder() as target, Emulator() as emulator:
        body = hook_test_body(
            target.url,
            object_type=kind,
            object_name=f"demo-{kind}",
            event=sample.body["event"],
            include_result=include_result,
        )
        async with (
            aiohttp.ClientSession(headers={"Authorization": emulator.token}) as http,
            http.post(f"{emulator.url}/projects/demo/webhooks-tests", json=body) as made,
        ):
            assert made.status == 201
        (received,) = await target.wait_for(1)
    payload = received.json
    found = shape_differences(sample.body, payload, optional=sample.optional_keys)
    assert not found, f"{sample.name} ({sample.source}):\n" + "\n".join(found)
    assert ("result" in payload) is include_result
    assert payload["status"] == sample.body["status"]
    assert template_pattern(sample.body["text"]).fullmatch(payload["text"]), payload["text"]
    assert "in project demo" in payload["text"]
