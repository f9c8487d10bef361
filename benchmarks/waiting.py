"""Benchmark 3: how soon a finished webhook test is noticed, and how many polls it takes.

Tests stay pending for a random time between 50 ms and 5 s (the emulator's
per-test delay is a function, so the emulator runs in this process), then deliver
to a local receiver that answers 200 and notes when each delivery arrived (by a
per-test header). Pending time = arrival - creation; detection delay = the moment
the waiter returned - arrival. Four waiters share the tests, all at the same time:

- ``await_test`` with the library's default schedule;
- ``await_test(receiver=rx)``: the test delivers to a ``WebhookReceiver`` in this
  process, whose deliveries bring the next poll forward (arrival = the event's
  ``received_at``, on the wall clock like the creation and detection times);
- polling every second, the naive waiter;
- the previous default schedule (delays growing by 1.6 up to 5 s), for comparison.

Targets (``benchmarks.waiting_model`` models them without the network): for the
default schedule a median delay / pending at most that of fixed 1 s polling, a p90 at
most 60 % and at most 1.5·log2(pending / initial_delay) + 3 polls; with a receiver a
median detection delay of at most 50 ms plus one request, and at most 3 polls.

``python -m benchmarks.waiting [--tests 100] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from aioubiwebhooks import PollSchedule

from ._common import DEPLOYMENT, PROJECT, fmt, markdown_table, median, percentile, quiet_logs

__all__ = ["WaitRecord", "WaitingResult", "run"]

AWAIT_TEST = "await_test (defaults)"
RECEIVER = "await_test(receiver=rx)"
FIXED = "fixed 1 s polling"
PREVIOUS = "previous default (factor 1.6 up to 5 s)"
STRATEGIES = (AWAIT_TEST, RECEIVER, FIXED, PREVIOUS)
MIN_PENDING = 0.05
MAX_PENDING = 5.0
INITIAL_DELAY = PollSchedule().initial_delay  # for the poll bound
POLLS_PER_DOUBLING = 1.5
RECEIVER_MAX_POLLS = 3
RECEIVER_MAX_DELAY = 0.05  # seconds, plus one request
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
        return POLLS_PER_DOUBLING * math.log2(max(self.pending, 1e-9) / INITIAL_DELAY) + 3

    @property
    def within_polls(self) -> bool:
        return self.polls <= max(1.0, self.poll_bound)


@dataclass
class WaitingResult:
    tests: int
    rounds: int
    records: dict[str, list[WaitRecord]] = field(default_factory=dict)
    request_times: list[float] = field(default_factory=list)
    """Seconds each poll (one GET of a test) took, over every waiter: "one request"."""

    def request_time(self) -> float:
        return median(self.request_times)

    def receiver_targets_met(self) -> bool:
        return (
            self.median_delay(RECEIVER) <= RECEIVER_MAX_DELAY + self.request_time()
            and self.max_polls(RECEIVER) <= RECEIVER_MAX_POLLS
        )

    def default_targets_met(self) -> bool:
        return (
            self.median_fraction(AWAIT_TEST) <= self.median_fraction(FIXED)
            and self.p90_fraction(AWAIT_TEST) <= 0.6
            and self.poll_violations(AWAIT_TEST) == 0
        )

    def median_fraction(self, name: str) -> float:
        """Median of detection delay / pending time."""
        return median([r.fraction for r in self.records[name]])

    def p90_fraction(self, name: str) -> float:
        return percentile([r.fraction for r in self.records[name]], 0.9)

    def median_delay(self, name: str) -> float:
        return median([r.delay for r in self.records[name]])

    def max_polls(self, name: str) -> int:
        return max(r.polls for r in self.records[name])

    def poll_violations(self, name: str) -> int:
        """Tests that took more than 1.5·log2(pending / 0.1 s) + 3 polls."""
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
            "polls (median)",
            "polls (max)",
            "tests over 1.5·log2(pending/0.1 s)+3 polls",
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


async def _round(tests: int, seed: int, request_times: list[float]) -> dict[str, list[WaitRecord]]:
    from aioubiwebhooks import PollSchedule, TestStatus, WebhookReceiver, WebhooksSession
    from aioubiwebhooks.emulator import Emulator

    previous = PollSchedule(initial_delay=0.1, max_delay=5.0, factor=1.6, polls_per_doubling=None)

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
        room = 2 * tests
        async with (
            Emulator(port=0, test_delay=delay, max_pending_tests=8 * tests) as emulator,
            WebhooksSession(emulator.token, emulator.url) as session,
            WebhookReceiver(max_queue=room, max_history=room) as rx,
        ):
            polls: dict[str, int] = {}
            original_get = session.webhook_tests_get

            async def counted_get(project_name: str, test_id: str) -> Any:
                polls[test_id] = polls.get(test_id, 0) + 1
                started = loop.time()
                answer = await original_get(project_name, test_id)
                request_times.append(loop.time() - started)
                return answer

            session.webhook_tests_get = counted_get  # type: ignore[method-assign]

            async def fixed_wait(test_id: str) -> None:
                for _ in range(MAX_POLLS):
                    await asyncio.sleep(FIXED_INTERVAL)
                    detail = await counted_get(PROJECT, test_id)
                    if detail.status is not TestStatus.PENDING:
                        return
                raise RuntimeError(f"test {test_id} still pending after {MAX_POLLS} polls")

            def arrival_at_rx(bench_id: str) -> float:
                for event in rx.events:
                    if event.headers.get(ID_HEADER) == bench_id:
                        return event.received_at.timestamp()
                raise RuntimeError(f"no delivery for {bench_id} at the receiver")

            def spec_for(url: str, bench_id: str) -> dict[str, Any]:
                return {
                    "url": url,
                    "object_type": "deployment",
                    "object_name": DEPLOYMENT,
                    "event": "deployment_request_completed",
                    "headers": [{"key": ID_HEADER, "value": bench_id, "protected": False}],
                }

            async def one(index: int, strategy: str) -> tuple[str, WaitRecord]:
                bench_id = f"{seed}-{index}"
                if strategy == RECEIVER:  # the wall clock, like the event's received_at
                    spec = spec_for(rx.url, bench_id)
                    test = await session.webhook_tests_create(PROJECT, spec)
                    created = time.time()
                    await session.await_test(
                        PROJECT,
                        test.id,
                        timeout=WAIT_TIMEOUT,
                        receiver=rx,
                        matches=lambda event: event.headers.get(ID_HEADER) == bench_id,
                    )
                    detected = time.time()
                    arrived = arrival_at_rx(bench_id)
                    record = WaitRecord(arrived - created, detected - arrived, polls[test.id])
                    return strategy, record
                test = await session.webhook_tests_create(PROJECT, spec_for(receiver_url, bench_id))
                created = loop.time()
                if strategy == AWAIT_TEST:
                    await session.await_test(PROJECT, test.id, timeout=WAIT_TIMEOUT)
                elif strategy == PREVIOUS:
                    await session.await_test(
                        PROJECT, test.id, timeout=WAIT_TIMEOUT, schedule=previous
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
        records = asyncio.run(_round(tests, round_index + 1, result.request_times))
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
    result = run(args.tests, args.rounds)
    print(result.to_markdown())
    print(f"\nOne request (a poll), median: {result.request_time() * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
