"""The emulator's fixed-window rate limit: pure window maths, then the headers on the wire."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from aioubiwebhooks.emulator import Emulator, FixedWindow, parse_rate_limit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_counts_down_and_refuses_without_consuming() -> None:
    clock = FakeClock()
    window = FixedWindow(3, 10, clock=clock)
    decisions = [window.hit() for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert {d.reset for d in decisions} == {10}
    assert decisions[3].headers()["Retry-After"] == "10"
    assert "Retry-After" not in decisions[0].headers()


def test_reset_is_whole_seconds_rounded_up_and_at_least_one() -> None:
    clock = FakeClock()
    window = FixedWindow(100, 2, clock=clock)
    window.hit()
    clock.now += 0.01
    assert window.hit().reset == 2  # 1.99 s left -> 2, never "1.99"
    clock.now += 1.0
    assert window.hit().reset == 1
    clock.now += 0.985
    assert window.hit().reset == 1  # 0.005 s left still says 1
    assert window.hit().headers()["x-ratelimit-reset"] == "1"


def test_a_new_window_starts_at_the_first_request_after_the_old_one_ended() -> None:
    clock = FakeClock()
    window = FixedWindow(2, 5, clock=clock)
    window.hit()
    window.hit()
    assert not window.hit().allowed
    clock.now += 5.0
    fresh = window.hit()
    assert (fresh.allowed, fresh.remaining, fresh.reset) == (True, 1, 5)
    clock.now += 100  # idle for long: the next window still starts at the next request
    assert window.hit().reset == 5
    window.reset()
    assert window.hit().remaining == 1


@pytest.mark.parametrize("args", [(0, 1), (1, 0), (True, 1), (-1, 5)])
def test_window_refuses_nonsense(args: tuple[int, float]) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        FixedWindow(*args)


def test_parse_rate_limit() -> None:
    assert parse_rate_limit("300/60") == (300, 60.0)
    assert parse_rate_limit("5/0.5") == (5, 0.5)
    assert parse_rate_limit("10") == (10, 60.0)
    for bad in ("", "a/b", "0/1", "5/0", "5/-1", "5/inf"):
        with pytest.raises(ValueError, match="LIMIT"):
            parse_rate_limit(bad)


async def test_headers_on_every_answer_and_429_over_the_limit() -> None:
    async with (
        Emulator(token="T", rate_limit=(3, 60), admin=True) as emu,
        aiohttp.ClientSession(headers={"Authorization": "Token T"}) as http,
    ):
        statuses = []
        for path in ["webhooks", "webhooks/missing", "webhooks", "webhooks", "webhooks"]:
            async with http.get(f"{emu.url}/projects/demo/{path}") as response:
                statuses.append(response.status)
                assert response.headers["x-ratelimit-limit"] == "3"
                reset = response.headers["x-ratelimit-reset"]
                assert reset.isdigit()
                assert 1 <= int(reset) <= 60
                remaining = int(response.headers["x-ratelimit-remaining"])
                if response.status == 429:
                    assert remaining == 0
                    assert response.headers["Retry-After"] == reset
                    assert "error" in await response.json()
        assert statuses == [200, 404, 200, 429, 429]
        assert emu.stats.rate_limited == 2
        assert emu.stats.statuses[429] == 2
        # Admin routes are outside the API's budget.
        async with http.get(f"{emu.root_url}/_emulator/stats") as response:
            assert response.status == 200
            assert "x-ratelimit-limit" not in response.headers
        # A wrong token uses up no budget: only authenticated requests count.
        emu.rate_limit = (1, 60)
        wrong = {"Authorization": "x"}
        async with http.get(f"{emu.url}/projects/demo/webhooks", headers=wrong) as response:
            assert response.status == 401
        async with http.get(f"{emu.url}/projects/demo/webhooks") as response:
            assert response.status == 200


async def test_open_headers_when_off_and_a_new_window_after_it_ends() -> None:
    async with Emulator() as emu, aiohttp.ClientSession() as http:
        headers = {"Authorization": emu.token}
        async with http.get(f"{emu.url}/projects/demo/webhooks", headers=headers) as response:
            assert response.headers["x-ratelimit-limit"] == "1000000000"
            assert response.headers["x-ratelimit-remaining"] == "999999999"
            assert response.headers["x-ratelimit-reset"] == "60"
        emu.rate_limit = (1, 0.2)
        url = f"{emu.url}/projects/demo/webhooks"
        async with http.get(url, headers=headers) as response:
            assert response.status == 200
        # Poll until the short window has passed (bounded), then the budget is back.
        for _ in range(200):
            async with http.get(url, headers=headers) as response:
                if response.status == 200:
                    break
                assert response.status == 429
                await asyncio.sleep(0.02)
        assert response.status == 200


def test_peek_reports_the_window_without_counting() -> None:
    clock = FakeClock()
    window = FixedWindow(2, 10, clock=clock)
    assert (window.peek().remaining, window.peek().reset) == (2, 10)
    window.hit()
    clock.now += 3
    assert (window.peek().remaining, window.peek().reset) == (1, 7)
    window.hit()
    peeked = window.peek()
    assert (peeked.remaining, peeked.allowed) == (0, True)
    assert "Retry-After" not in peeked.headers()
    assert not window.hit().allowed


async def test_every_api_answer_carries_the_headers() -> None:
    async with (
        Emulator(token="T", rate_limit=(5, 60)) as emu,
        aiohttp.ClientSession() as http,
    ):
        url = f"{emu.url}/projects/demo/webhooks"
        good = {"Authorization": "Token T"}
        emu.faults.fail_next(1, status=503)
        answers = []
        for path, headers in [
            ("", good),  # an injected 503
            ("", {"Authorization": "Token wrong"}),  # 401, uses no budget
            ("/missing", good),  # 404
            ("", good),  # 200
        ]:
            async with http.get(url + path, headers=headers) as response:
                answers.append(
                    (
                        response.status,
                        response.headers["x-ratelimit-limit"],
                        response.headers["x-ratelimit-remaining"],
                    )
                )
                assert response.headers["x-ratelimit-reset"].isdigit()
        assert answers == [(503, "5", "5"), (401, "5", "5"), (404, "5", "4"), (200, "5", "3")]
