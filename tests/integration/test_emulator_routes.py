"""The emulator over HTTP: endpoints, wire format, auth, errors, and no 500s under fuzzing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from _emulator_helpers import webhook_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioubiwebhooks._wire import webhook_from_json, webhook_test_from_json, webhooks_from_json
from aioubiwebhooks.emulator import Emulator, EmulatorThread

TOKEN = "s3cret-token"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN) as emulator:
        emulator.add_project("p", deployments={"dep": ["v1", "v2"]}, pipelines={"pipe": ["a"]})
        yield emulator


@pytest.fixture
async def http(emu: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Token {TOKEN}"}
    async with aiohttp.ClientSession(emu.url + "/", headers=headers) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, path: str, body: Any = None, **kwargs: Any
) -> tuple[int, Any]:
    if body is not None:
        kwargs["json"] = body
    async with http.request(method, path.lstrip("/"), **kwargs) as response:
        text = await response.text()
        assert response.status != 500, text
        if response.status == 204:
            assert text == ""
            return 204, None
        assert response.content_type == "application/json", text
        return response.status, json.loads(text)


async def test_urls_and_token(emu: Emulator) -> None:
    assert emu.url == f"http://127.0.0.1:{emu.port}/v2.1"
    assert emu.root_url == f"http://127.0.0.1:{emu.port}"
    assert emu.token == TOKEN


async def test_create_get_list_update_delete(http: aiohttp.ClientSession, emu: Emulator) -> None:
    body = webhook_body(
        headers=[{"key": "Authorization", "value": "Token abc", "protected": True}],
        labels={"team": "a"},
        description="first",
    )
    status, made = await call(http, "POST", "/projects/demo/webhooks", body)
    assert status == 201
    detail = webhook_from_json(made)  # this library's own reader accepts it
    assert detail.headers[0].value is None
    assert made["headers"][0] == {"key": "Authorization", "value": None, "protected": True}
    assert made["version"] is None
    assert (made["timeout"], made["enabled"], made["retry"], made["include_result"]) == (
        10,
        True,
        False,
        False,
    )
    assert emu.webhook("demo", "hook-1").headers[0].value == "Token abc"

    status, got = await call(http, "GET", "/projects/demo/webhooks/hook-1")
    assert (status, got) == (200, made)
    status, listed = await call(http, "GET", "/projects/demo/webhooks")
    assert status == 200
    assert [w.name for w in webhooks_from_json(listed)] == ["hook-1"]

    change = {"description": "second", "headers": [{"key": "Authorization", "protected": True}]}
    status, updated = await call(http, "PATCH", "/projects/demo/webhooks/hook-1", change)
    assert status == 200
    assert updated["description"] == "second"
    assert updated["labels"] == {"team": "a"}
    assert updated["headers"][0]["value"] is None
    assert emu.webhook("demo", "hook-1").headers[0].value == "Token abc"
    assert updated["last_updated"] >= updated["creation_date"]

    assert await call(http, "DELETE", "/projects/demo/webhooks/hook-1") == (204, None)
    status, error = await call(http, "GET", "/projects/demo/webhooks/hook-1")
    assert status == 404
    assert "hook-1" in error["error"]


async def test_served_under_v2_as_well(emu: Emulator) -> None:
    headers = {"Authorization": TOKEN}  # no prefix: also accepted
    async with aiohttp.ClientSession(headers=headers) as session:
        url = f"{emu.root_url}/v2/projects/demo/webhooks"
        async with session.post(url, json=webhook_body()) as response:
            assert response.status == 201
        async with session.get(f"{emu.url}/projects/demo/webhooks/hook-1") as response:
            assert (await response.json())["name"] == "hook-1"


async def test_duplicate_name_is_409(http: aiohttp.ClientSession) -> None:
    assert (await call(http, "POST", "/projects/demo/webhooks", webhook_body()))[0] == 201
    status, error = await call(http, "POST", "/projects/demo/webhooks", webhook_body())
    assert status == 409
    assert "hook-1" in error["error"]
    await call(http, "POST", "/projects/demo/webhooks", webhook_body(name="other"))
    status, _ = await call(http, "PATCH", "/projects/demo/webhooks/other", {"name": "hook-1"})
    assert status == 409


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/projects/ghost/webhooks", None),
        ("POST", "/projects/ghost/webhooks", webhook_body()),
        ("GET", "/projects/demo/webhooks/ghost", None),
        ("PATCH", "/projects/demo/webhooks/ghost", {"description": "x"}),
        ("DELETE", "/projects/demo/webhooks/ghost", None),
        ("POST", "/projects/demo/webhooks", webhook_body(object_name="ghost")),
        ("POST", "/projects/demo/webhooks", webhook_body(version="v9")),
        ("POST", "/projects/p/webhooks-tests", {**webhook_body(object_name="dep", version="v3")}),
        ("GET", "/projects/demo/webhooks-tests/00000000-0000-0000-0000-000000000000", None),
        ("GET", "/projects/demo/webhooks-tests/not-a-uuid", None),
        ("GET", "/projects/demo/nothing-here", None),
    ],
)
async def test_unknown_things_are_404_with_json_error(
    http: aiohttp.ClientSession, method: str, path: str, body: Any
) -> None:
    status, error = await call(http, method, path, body)
    assert status == 404
    assert isinstance(error["error"], str)
    assert error["error"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "n" * 65}, "name"),
        ({"description": "d" * 401}, "description"),
        ({"timeout": 31}, "timeout"),
        ({"timeout": 2.5}, "timeout"),
        ({"event": "pipeline_request_failed"}, "event"),
        ({"url": "not a url"}, "url"),
        ({"headers": [{"key": "", "value": "v", "protected": False}]}, "headers[0].key"),
        ({"enabled": "yes"}, "enabled"),
        ({"name": None}, "name"),
    ],
)
async def test_field_rules_are_400_naming_the_field(
    http: aiohttp.ClientSession, changes: dict[str, Any], field: str
) -> None:
    status, error = await call(http, "POST", "/projects/demo/webhooks", webhook_body(**changes))
    assert status == 400
    assert error["error"].startswith(field)


async def test_unknown_fields_are_ignored(http: aiohttp.ClientSession) -> None:
    status, made = await call(
        http, "POST", "/projects/demo/webhooks", webhook_body(colour="blue", id="mine")
    )
    assert status == 201
    assert "colour" not in made
    assert made["id"] != "mine"
    status, updated = await call(
        http, "PATCH", "/projects/demo/webhooks/hook-1", {"object_name": "x", "timeout": 7}
    )
    assert status == 200
    assert (updated["object_name"], updated["timeout"]) == ("demo-deployment", 7)


async def test_list_filters(http: aiohttp.ClientSession) -> None:
    specs = [
        webhook_body(name="a", labels={"k": "1", "j": "2"}),
        webhook_body(name="b", labels={"k": "1"}, event="deployment_request_failed"),
        webhook_body(
            name="c",
            object_type="pipeline",
            object_name="demo-pipeline",
            event="pipeline_request_failed",
            labels={"k": "2"},
        ),
    ]
    for spec in specs:
        assert (await call(http, "POST", "/projects/demo/webhooks", spec))[0] == 201

    async def names(**query: str) -> list[str]:
        status, listed = await call(http, "GET", "/projects/demo/webhooks", params=query)
        assert status == 200
        return [w["name"] for w in listed]

    assert await names() == ["a", "b", "c"]
    assert await names(labels="k:1") == ["a", "b"]
    assert await names(labels="k:1,j:2") == ["a"]
    assert await names(object_type="pipeline") == ["c"]
    assert await names(event="deployment_request_failed") == ["b"]
    assert await names(labels="k:1", event="deployment_request_completed") == ["a"]
    assert await names(labels="missing:x") == []
    status, error = await call(http, "GET", "/projects/demo/webhooks", params={"labels": "k"})
    assert status == 400
    assert error["error"].startswith("labels")


async def test_webhook_tests_create_and_get(http: aiohttp.ClientSession, emu: Emulator) -> None:
    body = {k: v for k, v in webhook_body(url="http://127.0.0.1:9/never").items() if k != "name"}
    status, created = await call(http, "POST", "/projects/demo/webhooks-tests", body)
    assert status == 201
    assert created["status"] == "pending"
    assert created["error_message"] is None
    assert await emu.drain(10)
    status, got = await call(http, "GET", f"/projects/demo/webhooks-tests/{created['id']}")
    assert status == 200
    detail = webhook_test_from_json(got)
    assert (detail.status.value, detail.error_message) == ("failed", "Connection error")
    status, _ = await call(http, "GET", f"/projects/p/webhooks-tests/{created['id']}")
    assert status == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Token ", "Token wrong", "wrong", f"Bearer {TOKEN}"],
)
async def test_wrong_or_missing_token_is_401(emu: Emulator, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(f"{emu.url}/projects/demo/webhooks") as response,
    ):
        assert response.status == 401
        assert "error" in await response.json()
    assert emu.stats.statuses[401] == 1


async def test_without_a_configured_token_any_token_passes() -> None:
    async with Emulator() as emu, aiohttp.ClientSession() as session:
        for value, expected in [("anything", 200), (f"Token {emu.token}", 200), ("", 401)]:
            url = f"{emu.url}/projects/demo/webhooks"
            async with session.get(url, headers={"Authorization": value}) as response:
                assert response.status == expected


async def test_http_errors_are_json(http: aiohttp.ClientSession, emu: Emulator) -> None:
    status, error = await call(http, "PUT", "/projects/demo/webhooks/x", {})
    assert status == 405
    assert "PUT" in error["error"]
    status, error = await call(
        http, "POST", "/projects/demo/webhooks", data=b"x" * (1024 * 1024 + 1)
    )
    assert status == 413
    assert "error" in error
    async with (
        aiohttp.ClientSession() as outside,  # a base URL session only takes relative paths
        outside.get(f"{emu.root_url}/elsewhere") as response,
    ):
        assert response.status == 404
        assert "error" in await response.json()


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[]", b"null", b'"x"', b"\xff", b"[" * 50_000, b'{"name": NaN}', b"{}"],
)
async def test_malformed_bodies_are_400(http: aiohttp.ClientSession, raw: bytes) -> None:
    for method, path in [
        ("POST", "/projects/demo/webhooks"),
        ("POST", "/projects/demo/webhooks-tests"),
    ]:
        status, error = await call(http, method, path, data=raw)
        assert status == 400, error
        assert error["error"]


async def test_unexpected_exceptions_become_counted_json_500(emu: Emulator) -> None:
    def explode(*args: object) -> None:
        raise RuntimeError("boom")

    emu.state.store.list_webhooks = explode  # type: ignore[method-assign]
    async with (
        aiohttp.ClientSession(headers={"Authorization": TOKEN}) as session,
        session.get(f"{emu.url}/projects/demo/webhooks") as response,
    ):
        assert response.status == 500
        assert await response.json() == {"error": "Internal server error"}
    assert emu.stats.server_errors == 1


async def test_stats_count_routes_methods_and_statuses(
    http: aiohttp.ClientSession, emu: Emulator
) -> None:
    await call(http, "POST", "/projects/demo/webhooks", webhook_body())
    await call(http, "GET", "/projects/demo/webhooks/hook-1")
    await call(http, "GET", "/projects/demo/webhooks/nope")
    snapshot = emu.stats.snapshot()
    assert snapshot["requests"] == {"webhooks_create": 1, "webhooks_get": 2}
    assert snapshot["methods"] == {"POST": 1, "GET": 2}
    assert snapshot["statuses"] == {"201": 1, "200": 1, "404": 1}


async def test_reset_drops_webhooks_but_keeps_projects(
    http: aiohttp.ClientSession, emu: Emulator
) -> None:
    await call(http, "POST", "/projects/p/webhooks", webhook_body(object_name="dep"))
    emu.faults.fail_next(5)
    emu.reset()
    assert emu.webhooks("p") == []
    assert emu.stats.total_requests == 0
    assert (await call(http, "GET", "/projects/p/webhooks")) == (200, [])
    emu.reset(restore_seed=True)
    assert (await call(http, "GET", "/projects/p/webhooks"))[0] == 404
    with pytest.raises(KeyError):
        emu.webhooks("p")


# --- fuzzing over the wire: whatever the body, never a 500 -------------------------------------


@pytest.fixture(scope="module")
def threaded() -> Iterator[EmulatorThread]:
    with EmulatorThread(token=TOKEN) as running:
        yield running


json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
keys = st.sampled_from([*webhook_body(), "headers", "labels", "timeout", "version", "retry"])
payloads = (
    st.dictionaries(keys | st.text(max_size=8), json_values, max_size=8).map(json.dumps)
    | st.builds(
        lambda extra: json.dumps({**webhook_body(), **extra}),
        st.dictionaries(keys, json_values, max_size=3),
    )
    | json_values.map(json.dumps)
).map(str.encode) | st.binary(max_size=64)
targets = st.sampled_from(
    [
        ("POST", "/projects/demo/webhooks"),
        ("POST", "/projects/demo/webhooks-tests"),
        ("PATCH", "/projects/demo/webhooks/fuzz"),
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(target=targets, raw=payloads)
def test_fuzzed_bodies_never_cause_a_500(
    threaded: EmulatorThread, target: tuple[str, str], raw: bytes
) -> None:
    emulator = threaded.emulator
    if target[0] == "PATCH" and not any(w.name == "fuzz" for w in emulator.webhooks("demo")):
        threaded.call(_create_fuzz_target(threaded))
    method, path = target
    request = urllib.request.Request(
        threaded.url + path,
        data=raw,
        method=method,
        headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    assert status < 500, body
    decoded = json.loads(body)
    if status >= 400:
        assert isinstance(decoded["error"], str)
    assert emulator.stats.server_errors == 0


async def _create_fuzz_target(threaded: EmulatorThread) -> None:
    from aioubiwebhooks.emulator._rules import parse_create

    threaded.emulator.state.store.create_webhook("demo", parse_create(webhook_body(name="fuzz")))


async def test_create_app_serves_standalone() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from aioubiwebhooks.emulator import EmulatorState, create_app

    state = EmulatorState(token="T", seed={"projects": {"x": {"pipelines": {"p": ["v1"]}}}})
    async with TestClient(TestServer(create_app(state, admin=True))) as client:
        response = await client.get("/v2.1/projects/x/webhooks", headers={"Authorization": "T"})
        assert response.status == 200
        assert await response.json() == []
        response = await client.get("/_emulator/stats", headers={"Authorization": "T"})
        assert (await response.json())["requests"] == {"webhooks_list": 1}


async def test_a_protected_mask_is_read_back_instead_of_null() -> None:
    from aioubiwebhooks import WebhookHeader, WebhooksSession

    async with (
        Emulator(protected_mask="***") as emulator,
        WebhooksSession(emulator.token, emulator.url) as session,
    ):
        await session.webhooks_create(
            "demo",
            webhook_body(
                headers=[
                    WebhookHeader("Authorization", "Token abc", protected=True),
                    WebhookHeader("X-Plain", "plain"),
                ]
            ),
        )
        for read in (
            (await session.webhooks_get("demo", "hook-1")),
            (await session.webhooks_list("demo"))[0],
        ):
            assert [(h.key, h.value) for h in read.headers] == [
                ("Authorization", "***"),
                ("X-Plain", "plain"),
            ]
        assert emulator.webhook("demo", "hook-1").headers[0].value == "Token abc"


def test_an_empty_protected_mask_is_refused() -> None:
    with pytest.raises(ValueError, match="protected_mask must not be empty"):
        Emulator(protected_mask="")
