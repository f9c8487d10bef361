"""Benchmark 2b: 1, 2 and 4 processes sharing one rate-limit budget.

The limit is per source IP, so a migration script and an application on one machine
(or a load tool started as several processes) draw on the same budget, and each learns
what is left only from answers while the others drain it. Here N worker processes
(each ``python -m benchmarks.shared_budget worker``, with its own session) split a
bulk create between them against one emulator process with ``--rate-limit L/W``. They
start their work at the same moment (a wall-clock time given to all of them), so
that none has a head start of its own making.

The theoretical minimum is the time until the last window opens,
``(ceil(total / L) - 1) * W``, counted from the earliest start. 429s are the
emulator's count; each worker also notes every 429 it met with the window it belongs
to (the answer's time plus its ``x-ratelimit-reset``: the window's end, at most a
second late as the emulator rounds up), so the most one process met in one window can
be named. A sliding span of one window's length would count one 429 at the end of a
window and one at the start of the next as two in a window, which they are not.

``python -m benchmarks.shared_budget [--limit 60] [--window 5] [--rounds 3] [--processes 1 2 4]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import aiohttp

from ._common import (
    PROJECT,
    TOKEN,
    Admin,
    child_env,
    emulator_process,
    fmt,
    markdown_table,
    median,
    quiet_logs,
    webhook_spec,
)

__all__ = ["SharedResult", "SharedSample", "most_in_one_window", "run", "totals"]

CONCURRENCY = 64
START_DELAY = 3.0  # seconds for every worker to import and be ready before the start
WORKER_TIMEOUT = 120.0


def totals(limit: int, processes: Sequence[int]) -> dict[int, int]:
    """Creates in all per process count: three windows' worth, four for four processes."""
    return {n: (4 if n >= 4 else 3) * limit for n in processes}


@dataclass(frozen=True)
class SharedSample:
    seconds: float
    rate_limited: int
    worst_process_429s: int
    """The most 429s one process met in one window."""
    requests: int


@dataclass
class SharedResult:
    limit: int
    window: float
    rounds: int
    totals: dict[int, int]
    samples: dict[int, list[SharedSample]] = field(default_factory=dict)

    def windows(self, processes: int) -> int:
        return math.ceil(self.totals[processes] / self.limit)

    def minimum(self, processes: int) -> float:
        return (self.windows(processes) - 1) * self.window

    def over_minimum(self, processes: int) -> float:
        return median([s.seconds for s in self.samples[processes]]) / self.minimum(processes)

    def worst_per_process(self, processes: int) -> int:
        return max(s.worst_process_429s for s in self.samples[processes])

    def to_markdown(self) -> str:
        rows = []
        for processes, samples in self.samples.items():
            rows.append(
                [
                    str(processes),
                    f"{self.totals[processes]} ({self.totals[processes] // processes} each)",
                    f"{self.minimum(processes):g} s",
                    fmt(median([s.seconds for s in samples]), 2),
                    fmt(self.over_minimum(processes), 3) + "x",
                    fmt(median([s.rate_limited for s in samples]), 1),
                    f"{self.worst_per_process(processes)} ({self.windows(processes)} windows)",
                    fmt(median([s.requests for s in samples])),
                    ", ".join(f"{s.seconds:.2f} s/{s.rate_limited}" for s in samples),
                ]
            )
        header = [
            "processes",
            "creates",
            "minimum",
            "seconds (median)",
            "over the minimum",
            "429s (median)",
            "most 429s one process met in one window",
            "requests seen by the server",
            "per round: seconds/429s",
        ]
        return markdown_table(header, rows)


# --- one worker process -----------------------------------------------------------------------


class _Refusals:
    """Notes, for every 429 the session meets, when its window ends (an aiohttp trace)."""

    def __init__(self) -> None:
        self.ends: list[float] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_end.append(self._ended)

    async def _ended(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status == 429:
            reset = float(params.response.headers.get("x-ratelimit-reset", "0"))
            self.ends.append(time.monotonic() + reset)


def most_in_one_window(ends: Sequence[float], window: float) -> int:
    """The most 429s in one window, given the end of the window each belongs to.

    The ends named by 429s of one window lie within a second of each other (the reset
    is rounded up to whole seconds); those of the next window lie a whole window later.
    """
    groups: list[list[float]] = []
    for end in sorted(ends):
        if groups and end - groups[-1][0] < window / 2:
            groups[-1].append(end)
        else:
            groups.append([end])
    return max((len(group) for group in groups), default=0)


async def _work(
    base_url: str, names: list[str], start_at: float, window: float
) -> dict[str, float]:
    from aioubiwebhooks import WebhooksSession

    quiet_logs()
    refusals = _Refusals()
    specs = [webhook_spec(name) for name in names]
    # The session's own connection settings, with a trace that sees every answer.
    client = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100),
        timeout=aiohttp.ClientTimeout(total=60.0),
        trace_configs=[refusals.trace],
    )
    async with client, WebhooksSession(TOKEN, base_url + "/v2.1", client_session=client) as session:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        started = time.time()
        outcomes = await session.bulk_create(PROJECT, specs, concurrency=CONCURRENCY)
        finished = time.time()
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} creates failed, first: {failed[0]}")
    worst = most_in_one_window(refusals.ends, window)
    return {"started": started, "finished": finished, "rate_limited": worst}


def worker(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shared_budget worker")
    parser.add_argument("--url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--start-at", type=float, required=True)
    parser.add_argument("--window", type=float, required=True)
    args = parser.parse_args(argv)
    names = [f"{args.prefix}-{i}" for i in range(args.count)]
    report = asyncio.run(_work(args.url, names, args.start_at, args.window))
    print(json.dumps(report), flush=True)


# --- the comparison ---------------------------------------------------------------------------


def _round(
    url: str, processes: int, total: int, window: float, tag: str
) -> tuple[float, list[int]]:
    """Start ``processes`` workers on ``total`` creates; seconds, and the most 429s
    each met within one window's span."""
    start_at = time.time() + START_DELAY
    env = child_env()
    each = total // processes
    children = []
    for index in range(processes):
        argv = ["--url", url, "--prefix", f"{tag}-p{index}", "--count", str(each)]
        argv += ["--window", str(window)]
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.shared_budget",
                    "worker",
                    *argv,
                    "--start-at",
                    str(start_at),
                ],
                stdout=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                env=env,
            )
        )
    reports = []
    try:
        for child in children:
            out, _ = child.communicate(timeout=WORKER_TIMEOUT)
            if child.returncode != 0:
                raise RuntimeError(f"a worker failed (exit {child.returncode})")
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(10)
    seconds = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    return seconds, [int(r["rate_limited"]) for r in reports]


def run(
    limit: int,
    window: float,
    rounds: int,
    processes: Sequence[int] = (1, 2, 4),
    *,
    log: Callable[[str], None] = print,
) -> SharedResult:
    """Each process count ``rounds`` times against one emulator, reset in between."""
    quiet_logs()
    result = SharedResult(limit, window, rounds, totals(limit, processes))
    result.samples = {n: [] for n in processes}
    with emulator_process(rate_limit=(limit, window)) as emulator:
        admin = Admin(emulator.url)
        for round_index in range(rounds):
            for count in processes:
                admin.reset()
                seconds, met = _round(
                    emulator.url,
                    count,
                    result.totals[count],
                    window,
                    f"shared-{round_index}-{count}",
                )
                stats = admin.stats()
                sample = SharedSample(
                    seconds, int(stats["rate_limited"]), max(met), int(stats["total_requests"])
                )
                result.samples[count].append(sample)
                log(
                    f"  shared budget round {round_index + 1}/{rounds}, {count} processes: "
                    f"{seconds:.2f} s ({seconds / result.minimum(count):.3f}x), "
                    f"{sample.rate_limited} 429s, most in one window per process {met}"
                )
    return result


def main() -> None:
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60, help="requests per window (L)")
    parser.add_argument("--window", type=float, default=5.0, help="window seconds (W)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    print(run(args.limit, args.window, args.rounds, args.processes).to_markdown())


if __name__ == "__main__":
    main()
