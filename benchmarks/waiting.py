"""Benchmark 3: how soon a finished webhook test is noticed, and how many polls it takes.

Tests stay pending for a random time between 50 ms and 5 s (the emulator's
per-test delay is a function, so the emulator runs in this process), then deliver
to a local receiver that answers 200 and notes when each delivery arrived (by a
per-test header). Pending time = arrival - creation; detection delay = the moment
the waiter returned - arrival. A third of the tests are awaited with
``await_test`` (library defaults), a third by polling every second, and a third
with ``await_test(factor=1.5)`` as a reference: it meets the delay target but not
the poll bound (``benchmarks.waiting_model`` and RESULTS.md say why). All run at
the same time.

``python -m benchmarks.waiting [--tests 100] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ._common import DEPLOYMENT, PROJECT, fmt, markdown_table, median, percentile, quiet_logs

__all__ = ["WaitRecord", "WaitingResult", "run"]

AWAIT_TEST = "await_test (defaults)"
FIXED = "fixed 1 s polling"
TUNED_FACTOR = 1.5
TUNED = f"await_test (factor={TUNED_FACTOR})"
STRATEGIES = (AWAIT_TEST, FIXED, TUNED)
MIN_PENDING = 0.05
MAX_PENDING = 5.0
INITIAL_DELAY = 0.1  # await_test's default, for the poll bound
FIXED_INTERVAL = 1.0
MAX_POLLS = 60
WAIT_TIMEOUT = 30.0
ID_HEADER = "X-Bench-Id"


@dataclass(frozen=True)
class WaitRecord:
    pending: float
    delay: float
    polls: int

    @property
    def fraction(self) -> float:
        return self.delay / self.pending

    @property
    def delay_bound(self) -> float:
        return max(0.25 * self.pending, 0.1)

    @property
    def poll_bound(self) -> float:
        return math.log2(max(self.pending, 1e-9) / INITIAL_DELAY) + 3

    @property
    def within_polls(self) -> bool:
        return self.polls <= max(1.0, self.poll_bound)


@dataclass
class WaitingResult:
    tests: int
    rounds: int
    records: dict[str, list[WaitRecord]] = field(default_factory=dict)

    def normalised_delay(self, name: str) -> float:
        """Median of delay / max(25 % of pending, 100 ms): at most 1 meets the target."""
        return median([r.delay / r.delay_bound for r in self.records[name]])

    def poll_violations(self, name: str) -> int:
        return sum(not r.within_polls for r in self.records[name])

    def to_markdown(self) -> str:
        rows = []
        for name, records in self.records.items():
            fractions = [r.fraction for r in records]
            rows.append(
                [
                    name,
                    str(len(records)),
                    fmt(median([r.delay for r in records]) * 1e3),
                    fmt(median(fractions) * 100, 1) + " %",
                    fmt(percentile(fractions, 0.9) * 100, 1) + " %",
                    fmt(self.normalised_delay(name), 2),
                    fmt(median([r.polls for r in records]), 1),
                    str(max(r.polls for r in records)),
                    f"{self.poll_violations(name)} of {len(records)}",
                ]
            )
        header = [
            "waiter",
            "tests",
            "detection delay ms (median)",
            "delay / pending (median)",
            "delay / pending (p90)",
            "delay / max(25 % pending, 100 ms) (median)",
            "polls (median)",
            "polls (max)",
            "tests over log2(pending/0.1 s)+3 polls",
        ]
        return markdown_table(header, rows) + "\n\n" + self._by_pending()

    def _by_pending(self) -> str:
        bins = [(0.0, 0.5), (0.5, 2.0), (2.0, math.inf)]
        rows = []
        for low, high in bins:
            row = [f"{low:g}-{high:g} s" if high != math.inf else f">= {low:g} s"]
            for name in self.records:
                chosen = [r for r in self.records[name] if low <= r.pending < high]
                row.append(
                    f"{fmt(median([r.fraction for r in chosen]) * 100, 1)} % / "
                    f"{fmt(median([r.polls for r in chosen]), 1)} polls (n={len(chosen)})"
                )
            rows.append(row)
        header = ["pending time", *(f"{name}: delay/pending, polls" for name in self.records)]
        return markdown_table(header, rows)


async def _round(tests: int, seed: int) -> dict[str, list[WaitRecord]]:
    from aioubiwebhooks import TestStatus, WebhooksSession
    from aioubiwebhooks.emulator import Emulator

    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    arrivals: dict[str, float] = {}

    async def receive(request: web.BaseRequest) -> web.Response:
        await request.read()
        bench_id = request.headers.get(ID_HEADER)
        if bench_id is not None:
            arrivals.setdefault(bench_id, loop.time())
        return web.Response(status=200)

    runner = web.ServerRunner(web.Server(receive), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        receiver_url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        delay = lambda: rng.uniform(MIN_PENDING, MAX_PENDING)  # noqa: E731
        async with (
            Emulator(port=0, test_delay=delay, max_pending_tests=8 * tests) as emulator,
            WebhooksSession(emulator.token, emulator.url) as session,
        ):
            polls: dict[str, int] = {}
            original_get = session.webhook_tests_get

            async def counted_get(project_name: str, test_id: str) -> Any:
                polls[test_id] = polls.get(test_id, 0) + 1
                return await original_get(project_name, test_id)

            session.webhook_tests_get = counted_get  # type: ignore[method-assign]

            async def fixed_wait(test_id: str) -> None:
                for _ in range(MAX_POLLS):
                    await asyncio.sleep(FIXED_INTERVAL)
                    detail = await counted_get(PROJECT, test_id)
                    if detail.status is not TestStatus.PENDING:
                        return
                raise RuntimeError(f"test {test_id} still pending after {MAX_POLLS} polls")

            async def one(index: int, strategy: str) -> tuple[str, WaitRecord]:
                bench_id = f"{seed}-{index}"
                spec = {
                    "url": receiver_url,
                    "object_type": "deployment",
                    "object_name": DEPLOYMENT,
                    "event": "deployment_request_completed",
                    "headers": [{"key": ID_HEADER, "value": bench_id, "protected": False}],
                }
                test = await session.webhook_tests_create(PROJECT, spec)
                created = loop.time()
                if strategy == AWAIT_TEST:
                    await session.await_test(PROJECT, test.id, timeout=WAIT_TIMEOUT)
                elif strategy == TUNED:
                    await session.await_test(
                        PROJECT, test.id, timeout=WAIT_TIMEOUT, factor=TUNED_FACTOR
                    )
                else:
                    await fixed_wait(test.id)
                detected = loop.time()
                arrived = arrivals[bench_id]
                return strategy, WaitRecord(arrived - created, detected - arrived, polls[test.id])

            count = len(STRATEGIES)
            results = await asyncio.gather(
                *(one(i, STRATEGIES[i % count]) for i in range(count * tests))
            )
    finally:
        await runner.cleanup()
    records: dict[str, list[WaitRecord]] = {name: [] for name in STRATEGIES}
    for strategy, record in results:
        records[strategy].append(record)
    return records


def run(tests: int, rounds: int, *, log: Callable[[str], None] = print) -> WaitingResult:
    """``tests`` waits per strategy and round; records of all rounds pooled."""
    quiet_logs()
    result = WaitingResult(tests, rounds, {name: [] for name in STRATEGIES})
    for round_index in range(rounds):
        records = asyncio.run(_round(tests, seed=round_index + 1))
        for name, found in records.items():
            result.records[name].extend(found)
            log(
                f"  waiting round {round_index + 1}/{rounds} {name}: median delay "
                f"{median([r.delay for r in found]) * 1e3:.0f} ms, "
                f"median polls {median([r.polls for r in found]):.1f}"
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=100, help="tests per strategy and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(run(args.tests, args.rounds).to_markdown())


if __name__ == "__main__":
    main()
