"""Fault injection: the pure decisions, then what a client sees on the wire."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from _emulator_helpers import webhook_body

from aioubiwebhooks.emulator import Emulator, FaultInjector
from aioubiwebhooks.emulator._faults import Drop, Fail


def test_nothing_is_injected_by_default() -> None:
    faults = FaultInjector()
    assert not faults.active
    assert faults.decide("GET", "webhooks_list").action is None


def test_fail_next_counts_down_in_order_and_respects_scope() -> None:
    faults = FaultInjector()
    faults.fail_next(2, status=503, routes=["webhooks_create"])
    faults.fail_next(1, status=500, methods=["get"])
    assert faults.decide("GET", "webhooks_list").action == Fail(
        500, "Internal Server Error (injected fault)"
    )
    assert faults.decide("GET", "webhooks_list").action is None
    first = faults.decide("POST", "webhooks_create").action
    assert isinstance(first, Fail)
    assert first.status == 503
    assert isinstance(faults.decide("POST", "webhooks_create").action, Fail)
    assert faults.decide("POST", "webhooks_create").action is None
    assert faults.fired == {"fail": 3}
    assert not faults.active


def test_drops_come_before_fails() -> None:
    faults = FaultInjector()
    faults.fail_next(1)
    faults.drop_next(1)
    assert faults.decide("GET", "webhooks_get").action == Drop()
    assert isinstance(faults.decide("GET", "webhooks_get").action, Fail)


def test_fail_fraction_is_repeatable_with_a_seed() -> None:
    def run() -> list[int | None]:
        faults = FaultInjector()
        faults.fail_fraction(0.3, statuses=(500, 502), seed=7)
        decisions = [faults.decide("GET", "webhooks_list").action for _ in range(200)]
        return [a.status if isinstance(a, Fail) else None for a in decisions]

    first = run()
    assert first == run()
    failed = [s for s in first if s is not None]
    assert 20 < len(failed) < 100  # about 30 % of 200
    assert set(failed) == {500, 502}


def test_latency_fixed_and_ranged() -> None:
    faults = FaultInjector()
    faults.latency(0.25)
    assert faults.decide("GET", "webhooks_list").delay == 0.25
    faults.latency((0.1, 0.2), seed=3, routes=["webhooks_get"])
    assert faults.decide("GET", "webhooks_list").delay == 0
    delays = {faults.decide("GET", "webhooks_get").delay for _ in range(20)}
    assert all(0.1 <= d <= 0.2 for d in delays)
    assert len(delays) > 1
    faults.latency(None)
    assert not faults.active


@pytest.mark.parametrize(
    "call",
    [
        lambda f: f.fail_next(0),
        lambda f: f.fail_next(1, status=200),
        lambda f: f.fail_next(1, routes=["nope"]),
        lambda f: f.fail_next(1, methods="GET"),
        lambda f: f.drop_next(-1),
        lambda f: f.latency(-1),
        lambda f: f.latency((2, 1)),
        lambda f: f.fail_fraction(1.5),
        lambda f: f.fail_fraction(0.5, statuses=()),
    ],
)
def test_nonsense_is_refused(call: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        call(FaultInjector())  # type: ignore[operator]


def test_clear_and_describe() -> None:
    faults = FaultInjector()
    faults.fail_next(2, status=502, methods=["POST"])
    faults.latency(0.1)
    faults.fail_fraction(0.5, seed=1)
    described = faults.describe()
    assert described["counted"][0]["status"] == 502
    assert described["counted"][0]["methods"] == ["POST"]
    assert described["fail_fraction"]["fraction"] == 0.5
    faults.clear()
    assert not faults.active


# --- on the wire -------------------------------------------------------------------------------


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(admin=True) as emulator:
        yield emulator


def _session(emu: Emulator) -> aiohttp.ClientSession:
    # A fresh connection per request, so a dropped one is not silently retried on another.
    connector = aiohttp.TCPConnector(force_close=True)
    return aiohttp.ClientSession(connector=connector, headers={"Authorization": emu.token})


async def test_fail_next_answers_json_errors_then_recovers(emu: Emulator) -> None:
    emu.faults.fail_next(2, status=503)
    async with _session(emu) as http:
        statuses = []
        for _ in range(3):
            async with http.get(f"{emu.url}/projects/demo/webhooks") as response:
                statuses.append(response.status)
                body = await response.json()
        assert statuses == [503, 503, 200]
        assert body == []
        assert emu.stats.faults["fail"] == 2
        assert emu.stats.statuses[503] == 2


async def test_drop_next_closes_the_connection_without_an_answer(emu: Emulator) -> None:
    emu.faults.drop_next(1, methods=["POST"])
    async with _session(emu) as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.post(f"{emu.url}/projects/demo/webhooks", json=webhook_body()):
                pass
        async with http.post(f"{emu.url}/projects/demo/webhooks", json=webhook_body()) as response:
            assert response.status == 201  # the dropped request was never handled
    assert emu.stats.faults["drop"] == 1
    assert emu.stats.requests["webhooks_create"] == 2
    assert sum(emu.stats.statuses.values()) == 1


async def test_latency_delays_answers(emu: Emulator) -> None:
    emu.faults.latency(0.3, routes=["webhooks_list"])
    async with _session(emu) as http:
        started = time.monotonic()
        async with http.get(f"{emu.url}/projects/demo/webhooks") as response:
            assert response.status == 200
        assert time.monotonic() - started >= 0.29  # a lower bound only: never flaky
    assert emu.stats.faults["latency"] == 1


async def test_fail_fraction_on_the_wire(emu: Emulator) -> None:
    emu.faults.fail_fraction(0.5, statuses=(502,), seed=11)
    async with _session(emu) as http:
        statuses = []
        for _ in range(30):
            async with http.get(f"{emu.url}/projects/demo/webhooks") as response:
                statuses.append(response.status)
    assert set(statuses) == {200, 502}
    assert emu.stats.faults["fail_fraction"] == statuses.count(502)


async def test_admin_routes_are_never_faulted_and_can_steer_faults(emu: Emulator) -> None:
    emu.faults.fail_next(5)
    async with _session(emu) as http:
        async with http.get(f"{emu.root_url}/_emulator/stats") as response:
            assert response.status == 200
        async with http.delete(f"{emu.root_url}/_emulator/faults") as response:
            assert response.status == 204
        async with http.get(f"{emu.url}/projects/demo/webhooks") as response:
            assert response.status == 200
        spec = {"kind": "fail_next", "count": 1, "status": 429, "routes": ["webhooks_get"]}
        async with http.post(f"{emu.root_url}/_emulator/faults", json=spec) as response:
            assert response.status == 201
            assert (await response.json())["counted"][0]["status"] == 429
        async with http.get(f"{emu.url}/projects/demo/webhooks/x") as response:
            assert response.status == 429
        for bad in [{"kind": "explode"}, {"kind": "fail_next", "count": 0}, {"kind": "latency"}]:
            async with http.post(f"{emu.root_url}/_emulator/faults", json=bad) as response:
                assert response.status == 400
                assert "error" in await response.json()
        latency = {"kind": "latency", "seconds": [0.0, 0.01]}
        async with http.post(f"{emu.root_url}/_emulator/faults", json=latency) as response:
            assert response.status == 201


async def test_admin_routes_are_absent_unless_asked_for() -> None:
    async with (
        Emulator() as emu,
        aiohttp.ClientSession() as http,
        http.get(f"{emu.root_url}/_emulator/stats") as response,
    ):
        assert response.status == 404


async def test_admin_reset_seed_config_and_deliveries(emu: Emulator) -> None:
    async with _session(emu) as http:
        seed = {"projects": {"extra": {"deployments": {"d": ["v1"]}}}}
        async with http.post(f"{emu.root_url}/_emulator/seed", json=seed) as response:
            assert response.status == 201
            projects = (await response.json())["projects"]
            assert set(projects) == {"demo", "extra"}
            assert projects["extra"]["objects"][0]["id"] == emu.object_id("extra", "d")
        async with http.post(f"{emu.root_url}/_emulator/seed", json={"projects": 1}) as response:
            assert response.status == 400
        config = {"test_delay": 0.5, "rate_limit": "100/10"}
        async with http.post(f"{emu.root_url}/_emulator/config", json=config) as response:
            assert (await response.json())["rate_limit"] == {"limit": 100, "window": 10.0}
        assert emu.test_delay == 0.5
        assert emu.rate_limit == (100, 10.0)
        for bad in [{"test_delay": -1}, {"rate_limit": "x"}, {"rate_limit": 5}]:
            async with http.post(f"{emu.root_url}/_emulator/config", json=bad) as response:
                assert response.status == 400
        async with http.post(
            f"{emu.url}/projects/extra/webhooks", json=webhook_body(object_name="d")
        ):
            pass
        async with http.post(f"{emu.root_url}/_emulator/reset") as response:
            assert response.status == 204
        assert emu.webhooks("extra") == []
        assert emu.stats.total_requests == 0
        async with http.post(
            f"{emu.root_url}/_emulator/reset", json={"restore_seed": True}
        ) as response:
            assert response.status == 204
        with pytest.raises(KeyError):
            emu.webhooks("extra")
        async with http.get(f"{emu.root_url}/_emulator/deliveries") as response:
            assert await response.json() == []
        async with http.get(f"{emu.root_url}/_emulator/config") as response:
            assert (await response.json())["token_required"] is False


async def test_admin_needs_the_token_when_one_is_set() -> None:
    async with Emulator(token="T", admin=True) as emu, aiohttp.ClientSession() as http:
        async with http.get(f"{emu.root_url}/_emulator/stats") as response:
            assert response.status == 401
        headers = {"Authorization": "Token T"}
        async with http.get(f"{emu.root_url}/_emulator/stats", headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["total_requests"] == 0


async def test_concurrent_requests_with_faults_leave_the_server_healthy(emu: Emulator) -> None:
    emu.faults.fail_fraction(0.3, seed=5)
    emu.faults.latency((0.0, 0.01), seed=5)
    async with aiohttp.ClientSession(headers={"Authorization": emu.token}) as http:

        async def one(i: int) -> int:
            body = webhook_body(name=f"h{i}")
            async with http.post(f"{emu.url}/projects/demo/webhooks", json=body) as response:
                return response.status

        statuses = await asyncio.gather(*(one(i) for i in range(60)))
    assert statuses.count(201) == len(emu.webhooks("demo"))
    assert emu.stats.server_errors == 0
