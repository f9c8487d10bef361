"""Compatibility proven by a client nobody here wrote: the official ``ubiops`` client.

The official client is synchronous (``requests``), so the emulator runs on its own
event loop in a background thread (``EmulatorThread``) while the test blocks in the
client's calls. If the official client cannot read an answer, the emulator is wrong.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from _emulator_helpers import Recorder

from aioubiwebhooks.emulator import EmulatorThread

ubiops = pytest.importorskip("ubiops")

TOKEN = "official-client-token"


@pytest.fixture
def threaded() -> Iterator[EmulatorThread]:
    with EmulatorThread(token=TOKEN) as running:
        running.emulator.add_project(
            "proj", deployments={"dep-1": ["v1", "v2"]}, pipelines={"pipe-1": ["p1"]}
        )
        yield running


@pytest.fixture
def core(threaded: EmulatorThread) -> Iterator[Any]:
    configuration = ubiops.Configuration(
        host=threaded.url, api_key={"Authorization": f"Token {TOKEN}"}
    )
    with ubiops.ApiClient(configuration) as client:
        yield ubiops.CoreApi(client)


@pytest.fixture
def recorder(threaded: EmulatorThread) -> Iterator[Recorder]:
    async def start() -> Recorder:
        return await Recorder().__aenter__()

    started = threaded.call(start())
    yield started
    threaded.call(started.__aexit__(None, None, None))


def _webhook(name: str, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "name": name,
        "url": "https://example.org/hook",
        "object_type": "deployment",
        "object_name": "dep-1",
        "event": "deployment_request_failed",
    }
    fields.update(changes)
    return ubiops.WebhookCreate(**fields)


def test_host_handling_keeps_v2_1_and_appends_v2_to_the_root(threaded: EmulatorThread) -> None:
    assert ubiops.Configuration(host=threaded.url).host == threaded.url
    assert ubiops.Configuration(host=threaded.root_url).host == threaded.root_url + "/v2"
    # The /v2 flavour works as well, and a bare token gets its "Token " prefix.
    configuration = ubiops.Configuration(host=threaded.root_url, api_key={"Authorization": TOKEN})
    with ubiops.ApiClient(configuration) as client:
        assert ubiops.CoreApi(client).webhooks_list("proj") == []


def test_all_seven_endpoints(core: Any, threaded: EmulatorThread, recorder: Recorder) -> None:
    api = core
    secret = ubiops.WebhookHeader(key="Authorization", value="Token hook-secret", protected=True)
    plain = ubiops.WebhookHeader(key="X-Team", value="blue", protected=False)
    created = api.webhooks_create(
        "proj",
        _webhook(
            "on-fail",
            headers=[secret, plain],
            labels={"team": "blue", "tier": "1"},
            description="created by the official client",
            version="v2",
            timeout=20,
            retry=True,
        ),
    )
    assert created.name == "on-fail"
    assert created.version == "v2"
    assert created.timeout == 20
    assert created.headers[0].value is None
    assert created.headers[0].protected is True
    assert created.headers[1].value == "blue"
    assert created.creation_date is not None
    api.webhooks_create(
        "proj",
        _webhook(
            "on-pipe",
            object_type="pipeline",
            object_name="pipe-1",
            event="pipeline_request_completed",
            labels={"team": "red"},
        ),
    )

    got = api.webhooks_get("proj", "on-fail")
    assert got.id == created.id
    assert got.labels == {"team": "blue", "tier": "1"}

    def names(**filters: str) -> list[str]:
        return [w.name for w in api.webhooks_list("proj", **filters)]

    assert names() == ["on-fail", "on-pipe"]
    assert names(labels="team:blue,tier:1") == ["on-fail"]
    assert names(labels="team:red") == ["on-pipe"]
    assert names(object_type="pipeline") == ["on-pipe"]
    assert names(event="deployment_request_failed") == ["on-fail"]

    # The client drops None fields: the protected header arrives without "value" and keeps it.
    kept = ubiops.WebhookHeader(key="Authorization", value=None, protected=True)
    updated = api.webhooks_update(
        "proj",
        "on-fail",
        ubiops.WebhookUpdate(description="updated", headers=[kept], enabled=False),
    )
    assert (updated.description, updated.enabled, updated.timeout) == ("updated", False, 20)
    assert [h.key for h in updated.headers] == ["Authorization"]
    assert threaded.emulator.webhook("proj", "on-fail").headers[0].value == "Token hook-secret"

    assert api.webhooks_delete("proj", "on-pipe") is None
    assert names() == ["on-fail"]

    test = api.webhook_tests_create(
        "proj",
        ubiops.WebhookTestCreate(
            url=recorder.url,
            object_type="deployment",
            object_name="dep-1",
            event="deployment_request_completed",
            headers=[secret],
            include_result=True,
        ),
    )
    assert (test.status, test.error_message) == ("pending", None)
    deadline = time.monotonic() + 20
    while (polled := api.webhook_tests_get("proj", test.id)).status == "pending":
        assert time.monotonic() < deadline, "webhook test still pending"
        time.sleep(0.05)
    assert (polled.id, polled.status, polled.error_message) == (test.id, "completed", None)
    [received] = recorder.received
    assert received.headers["Authorization"] == "Token hook-secret"
    payload = received.json
    assert payload["event"] == "deployment_request_completed"
    assert payload["deployment_name"] == "dep-1"
    assert payload["deployment_version_name"] == "v1"
    assert payload["deployment_id"] == threaded.emulator.object_id("proj", "dep-1")
    assert "result" in payload


def test_a_failed_webhook_test_reads_back(core: Any) -> None:
    test = core.webhook_tests_create(
        "proj",
        ubiops.WebhookTestCreate(
            url="http://127.0.0.1:9/closed",
            object_type="pipeline",
            object_name="pipe-1",
            event="pipeline_request_failed",
        ),
    )
    deadline = time.monotonic() + 20
    while (polled := core.webhook_tests_get("proj", test.id)).status == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (polled.status, polled.error_message) == ("failed", "Connection error")


def test_duplicate_name_is_the_clients_409(core: Any) -> None:
    core.webhooks_create("proj", _webhook("twice"))
    with pytest.raises(ubiops.exceptions.ApiException) as caught:
        core.webhooks_create("proj", _webhook("twice"))
    assert caught.value.status == 409
    assert "twice" in caught.value.get_body_message()


def test_not_found_and_bad_request_and_wrong_token(threaded: EmulatorThread, core: Any) -> None:
    with pytest.raises(ubiops.exceptions.ApiException) as caught:
        core.webhooks_get("proj", "missing")
    assert caught.value.status == 404
    with pytest.raises(ubiops.exceptions.ApiException) as caught:
        core.webhooks_list("no-such-project")
    assert caught.value.status == 404
    with pytest.raises(ubiops.exceptions.ApiException) as caught:
        core.webhooks_create("proj", _webhook("bad", object_name="ghost"))
    assert caught.value.status == 404
    with pytest.raises(ubiops.exceptions.ApiException) as caught:
        core.webhooks_create("proj", _webhook("bad", timeout=99))
    assert caught.value.status == 400
    assert caught.value.get_body_message().startswith("timeout")

    configuration = ubiops.Configuration(host=threaded.url, api_key={"Authorization": "Token no"})
    with (
        ubiops.ApiClient(configuration) as client,
        pytest.raises(ubiops.exceptions.ApiException) as caught,
    ):
        ubiops.CoreApi(client).webhooks_list("proj")
    assert caught.value.status == 401


def test_injected_faults_surface_as_the_clients_errors(threaded: EmulatorThread, core: Any) -> None:
    threaded.emulator.faults.fail_next(1, status=503)
    with pytest.raises(ubiops.exceptions.ApiException) as caught:
        core.webhooks_list("proj")
    assert caught.value.status == 503
    assert "injected" in caught.value.get_body_message()

    threaded.emulator.faults.drop_next(1)
    with pytest.raises(ubiops.exceptions.ApiException) as caught:
        core.webhooks_create("proj", _webhook("dropped"))
    assert caught.value.status == 0  # the client's "no answer"
    assert core.webhooks_list("proj") == []


def test_the_client_waits_out_a_429_using_the_reset_header(
    threaded: EmulatorThread, core: Any
) -> None:
    threaded.emulator.rate_limit = (2, 1.0)
    started = time.monotonic()
    for name in ("a", "b", "c"):  # the third meets a 429, sleeps int(reset) + 1 s, retries
        core.webhooks_create("proj", _webhook(name))
    assert [w.name for w in threaded.emulator.webhooks("proj")] == ["a", "b", "c"]
    assert threaded.emulator.stats.rate_limited >= 1
    assert time.monotonic() - started >= 1.0
