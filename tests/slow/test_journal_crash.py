"""A receiver with a journal killed (SIGKILL) in the middle of a burst loses nothing.

From the senders' records: every delivery answered 200 is handled exactly once, or
twice for the one event in hand when the process died; never zero times. SQLite
with one receiver restarted on the same file; Redis with two receiver processes
sharing one stream, redeliveries sent to the other one, and one of them killed.
"""

from __future__ import annotations

import asyncio
import collections
import time
from pathlib import Path

import aiohttp
import pytest
from _journal_helpers import Child, handled_counts, redis_server, start_child

pytestmark = pytest.mark.timeout(120)

DELIVERIES = 600
SENDERS = 8


def payload(request_id: str) -> dict[str, str]:
    return {
        "event": "deployment_request_completed",
        "deployment_name": "dep",
        "request_id": request_id,
        "status": "completed",
    }


async def post(http: aiohttp.ClientSession, url: str, request_id: str) -> bool:
    """True when the receiver answered 200 (acknowledged)."""
    try:
        async with http.post(url, json=payload(request_id)) as response:
            await response.read()
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


async def wait_until_handled(
    acknowledged: set[str], files: list[Path], timeout: float = 30
) -> collections.Counter[str]:
    deadline = time.monotonic() + timeout
    while True:
        counts = handled_counts(*files)
        if acknowledged <= set(counts) or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(0.1)


def check_at_least_once(acknowledged: set[str], counts: collections.Counter[str]) -> None:
    missing = sorted(acknowledged - set(counts))
    assert not missing, f"{len(missing)} acknowledged deliveries never handled: {missing[:5]}"
    twice = [rid for rid in acknowledged if counts[rid] == 2]
    assert all(counts[rid] <= 2 for rid in acknowledged)
    assert len(twice) <= 1, twice  # only the event in hand when the process died


async def test_sqlite_journal_survives_a_kill_in_the_middle_of_a_burst(tmp_path: Path) -> None:
    journal = str(tmp_path / "events.db")
    handled = tmp_path / "handled.txt"
    first = start_child(journal, tmp_path, "first", handled)
    second: Child | None = None
    acknowledged: set[str] = set()
    try:
        ids = iter(f"r{n:04d}" for n in range(DELIVERIES))
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as http:

            async def sender() -> None:
                for request_id in ids:
                    if await post(http, first.url, request_id):
                        acknowledged.add(request_id)
                    if len(acknowledged) >= DELIVERIES // 2 and first.process.poll() is None:
                        first.kill()  # mid-burst, with events accepted and not yet handled

            await asyncio.gather(*(sender() for _ in range(SENDERS)))
        first.kill()
        assert DELIVERIES // 2 <= len(acknowledged) < DELIVERIES
        before_restart = handled_counts(handled)
        assert set(before_restart) < acknowledged  # some were acknowledged and not handled

        second = start_child(journal, tmp_path, "second", handled)
        counts = await wait_until_handled(acknowledged, [handled])
        check_at_least_once(acknowledged, counts)
    finally:
        first.kill()
        if second is not None:
            second.stop()


async def test_two_receivers_on_redis_one_killed_lose_nothing(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        files = [tmp_path / "a.txt", tmp_path / "b.txt"]
        a = start_child(url, tmp_path, "a", files[0])
        b = start_child(url, tmp_path, "b", files[1])
        acknowledged: set[str] = set()
        try:
            ids = iter(range(DELIVERIES))
            timeout = aiohttp.ClientTimeout(total=5)
            async with aiohttp.ClientSession(timeout=timeout) as http:

                async def sender() -> None:
                    for n in ids:
                        request_id = f"r{n:04d}"
                        home, other = (a, b) if n % 2 else (b, a)
                        if home.process.poll() is not None:
                            home, other = other, home  # a retrying sender reaches the live one
                        if await post(http, home.url, request_id):
                            acknowledged.add(request_id)
                        # every fifth is delivered again to the other receiver: stored once
                        again = n % 5 == 0 and other.process.poll() is None
                        if again and await post(http, other.url, request_id):
                            acknowledged.add(request_id)
                        if len(acknowledged) >= DELIVERIES // 2 and a.process.poll() is None:
                            a.kill()

                await asyncio.gather(*(sender() for _ in range(SENDERS)))
            assert len(acknowledged) >= DELIVERIES - SENDERS
            # b claims what a held (claim_after=1 s) and handles everything
            counts = await wait_until_handled(acknowledged, files)
            check_at_least_once(acknowledged, counts)
            assert handled_counts(files[0])
            assert handled_counts(files[1])
        finally:
            a.kill()
            b.stop()
