"""Benchmark 5: deliveries per second a ``WebhookReceiver`` accepts and yields.

A sender in its own process (``benchmarks._sender``: aiohttp, 64 in flight) POSTs
webhook payloads, each with its own request id. Against a ``WebhookReceiver`` (with
a secret) whose ``async for`` consumer counts distinct events, and against a bare
aiohttp handler that reads the body and answers 200. The clock runs from the go
signal (connections already open) until the sender has its last answer and the
consumer has its last event. The receiving process's CPU per delivery is counted
too, and the sender's own: on two cores the sender has about one core, and when
it needs as much CPU per delivery as the server, it caps the rate of every server
alike. The receiving CPU per delivery is then the fair comparison.

The receiver runs three ways: in memory, with a SQLite journal (a fresh file per
round) and with a Redis journal (a redis-server of its own per round, on loopback,
no persistence; its CPU is not counted, only the receiving process's).

A third server is the floor of any event stream: the bare handler that also parses
each body (``json.loads``) and hands it through an ``asyncio.Queue`` to a consumer
task, with no checks, typing, dedupe or acknowledgement body. What it costs over the
bare handler is what yielding deliveries to ``async for`` costs at all; what the
receiver costs over it is the receiver's own.

One more receiver keeps little: ``max_history=1`` and ``max_dedupe=64`` instead of
the 1,000 events and 10,000 dedupe keys it keeps by default. The gap between the
two is what keeping recent deliveries costs per delivery, if anything (memory for
the caches to cycle through, objects for the cycle collector to scan), not work done
for each one.

``python -m benchmarks.receiving [--count 20000] [--rounds 3] [--extra-rounds K]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from ._common import cpu_seconds, fmt, markdown_table, median, median_interval, rotate

__all__ = ["ReceiveSample", "ReceivingResult", "run"]

RECEIVER = "WebhookReceiver + async for"
SQLITE = "WebhookReceiver, SQLite journal"
REDIS = "WebhookReceiver, Redis journal"
BARE = "bare aiohttp handler"
QUEUED = "bare handler + json.loads + queue"
LEAN = "WebhookReceiver, keeping little"
LEAN_SETTINGS: dict[str, Any] = {"max_history": 1, "max_dedupe": 64}
"""What the receiver that keeps little is given (the defaults are 1,000 and 10,000)."""
SERVERS = (RECEIVER, SQLITE, REDIS, BARE, QUEUED, LEAN)
PAIRED = (RECEIVER, BARE, QUEUED, LEAN)
"""The servers the extra rounds run: the receivers in memory, the bare handler and the
floor between."""
CONCURRENCY = 64
SECRET = "Token bench-secret"
TIMEOUT = 120.0
_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ReceiveSample:
    count: int
    seconds: float
    cpu: float
    lost: int
    sender_cpu: float = float("nan")

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.count * 1e6

    @property
    def sender_cpu_us(self) -> float:
        return self.sender_cpu / self.count * 1e6


@dataclass
class ReceivingResult:
    count: int
    rounds: int
    samples: dict[str, list[ReceiveSample]] = field(default_factory=dict)

    def rate(self, name: str) -> float:
        return median([s.rate for s in self.samples[name]])

    def _pairs(self, name: str, against: str = BARE) -> list[tuple[ReceiveSample, ReceiveSample]]:
        """Samples of ``name`` and ``against`` from the same rounds (extra rounds run only
        the :data:`PAIRED` servers: pairs are taken by round index)."""
        return list(zip(self.samples[name], self.samples[against], strict=False))

    def rate_ratio(self, name: str = RECEIVER) -> float:
        return median([a.rate / b.rate for a, b in self._pairs(name)])

    def cpu_ratios(self, name: str = RECEIVER, against: str = BARE) -> list[float]:
        return [a.cpu_us / b.cpu_us for a, b in self._pairs(name, against)]

    def cpu_ratio(self, name: str = RECEIVER, against: str = BARE) -> float:
        return median(self.cpu_ratios(name, against))

    def cpu_ratio_interval(self, name: str = RECEIVER, against: str = BARE) -> tuple[float, float]:
        """A 95 % interval for that median (order statistics of the per-round ratios)."""
        return median_interval(self.cpu_ratios(name, against))

    def cpu_us(self, name: str) -> float:
        return median([s.cpu_us for s in self.samples[name]])

    def sender_cpu_us(self, name: str) -> float:
        return median([s.sender_cpu_us for s in self.samples[name]])

    def lost(self) -> int:
        return sum(s.lost for samples in self.samples.values() for s in samples)

    def to_markdown(self) -> str:
        rows = []
        for name, samples in self.samples.items():
            rows.append(
                [
                    name,
                    fmt(self.rate(name)),
                    fmt(self.cpu_us(name)),
                    fmt(self.sender_cpu_us(name)),
                    fmt(self.rate_ratio(name), 2),
                    fmt(self.cpu_ratio(name), 2),
                    str(sum(s.lost for s in samples)),
                    ", ".join(fmt(s.rate) for s in samples),
                ]
            )
        header = [
            "server",
            "deliveries/s (median)",
            "receiving CPU µs/delivery (median)",
            "sender CPU µs/delivery (median)",
            "rate vs bare",
            "CPU vs bare",
            "lost",
            "deliveries/s per round",
        ]
        return markdown_table(header, rows)


@contextlib.asynccontextmanager
async def _serving(
    handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """``handler`` as a bare aiohttp server on a free loopback port; yields its URL."""
    runner = web.ServerRunner(web.Server(handler), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def _bare(run_sender: Callable[[str], Awaitable[int]], expected: int) -> int:
    received = 0

    async def acknowledge(request: web.BaseRequest) -> web.Response:
        nonlocal received
        await request.read()
        received += 1
        return web.Response(status=200)

    async with _serving(acknowledge) as url:
        ok = await run_sender(url)
    return expected - min(received, ok)


async def _queued(run_sender: Callable[[str], Awaitable[int]], expected: int) -> int:
    """The least an event stream does: the bare handler, plus parsing each body and
    handing it through an ``asyncio.Queue`` to an ``async for``-style consumer task."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    seen: set[str] = set()
    received = 0

    async def acknowledge(request: web.BaseRequest) -> web.Response:
        nonlocal received
        queue.put_nowait(json.loads(await request.read()))
        received += 1
        return web.Response(status=200)

    async def consume() -> None:
        while len(seen) < expected:
            seen.add((await queue.get())["request_id"])

    consumer = asyncio.ensure_future(consume())
    try:
        async with _serving(acknowledge) as url:
            ok = await run_sender(url)
            await asyncio.wait_for(consumer, TIMEOUT)
    finally:
        consumer.cancel()
    return expected - min(len(seen), received, ok)


async def _receiver(
    run_sender: Callable[[str], Awaitable[int]],
    expected: int,
    journal: str | None = None,
    settings: dict[str, Any] | None = None,
) -> int:
    from aioubiwebhooks.receiver import WebhookReceiver

    seen: set[str] = set()
    async with WebhookReceiver(
        port=0, secret=SECRET, journal=journal, **(settings or {})
    ) as receiver:

        async def consume() -> None:
            async for event in receiver:
                seen.add(str(event.request_id))
                if len(seen) >= expected:
                    return

        consumer = asyncio.ensure_future(consume())
        try:
            ok = await run_sender(receiver.url)
            await asyncio.wait_for(consumer, TIMEOUT)
        finally:
            consumer.cancel()
        stats = receiver.stats
    if stats.duplicates or stats.total_rejected:
        raise RuntimeError(f"receiver saw duplicates or rejections: {stats}")
    return expected - min(len(seen), ok, stats.accepted)


@contextlib.contextmanager
def _journal(name: str) -> Iterator[str | None]:
    """A fresh journal for one round: a SQLite file, or a redis-server of its own."""
    if name == SQLITE:
        with tempfile.TemporaryDirectory(prefix="aioubiwebhooks-bench-") as folder:
            yield str(Path(folder, "events.db"))
    elif name == REDIS:
        with tempfile.TemporaryDirectory(prefix="aioubiwebhooks-bench-") as folder:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            binary = shutil.which("redis-server")
            if binary is None:
                raise RuntimeError("redis-server is not installed")
            argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", folder]  # fmt: skip
            process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + 10
                while True:
                    with contextlib.suppress(OSError):
                        socket.create_connection(("127.0.0.1", port), 1).close()
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start")
                    time.sleep(0.02)
                yield f"redis://127.0.0.1:{port}/0"
            finally:
                process.terminate()
                process.wait(10)
    else:
        yield None


async def _round(name: str, count: int, journal: str | None = None) -> ReceiveSample:
    """One server, one sender process; the clock starts at the go signal."""
    expected = count + CONCURRENCY  # the warm-up burst is delivered too
    clock: dict[str, float] = {"sender_cpu": float("nan")}

    async def run_sender(url: str) -> int:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks._sender",
            "--url",
            url,
            "--count",
            str(count),
            "--concurrency",
            str(CONCURRENCY),
            "--secret",
            SECRET,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            assert process.stdout is not None
            assert process.stdin is not None
            ready: dict[str, Any] = json.loads(
                await asyncio.wait_for(process.stdout.readline(), TIMEOUT)
            )
            if ready.get("warm_ok") != CONCURRENCY:
                raise RuntimeError(f"sender warm-up failed: {ready}")
            clock["cpu"], clock["start"] = cpu_seconds(), time.perf_counter()
            process.stdin.write(b"go\n")
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), TIMEOUT)
            done: dict[str, Any] = json.loads(line)
            clock["sender_cpu"] = float(done["cpu"])
            return CONCURRENCY + int(done["ok"])
        finally:
            if process.returncode is None:
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()

    if name == BARE:
        lost = await _bare(run_sender, expected)
    elif name == QUEUED:
        lost = await _queued(run_sender, expected)
    elif name == LEAN:
        lost = await _receiver(run_sender, expected, settings=LEAN_SETTINGS)
    else:
        lost = await _receiver(run_sender, expected, journal)
    seconds = time.perf_counter() - clock["start"]
    cpu = cpu_seconds() - clock["cpu"]
    return ReceiveSample(count, seconds, cpu, lost, clock["sender_cpu"])


def run(
    count: int,
    rounds: int,
    *,
    extra_rounds: int = 0,
    log: Callable[[str], None] = print,
    servers: tuple[str, ...] = SERVERS,
) -> ReceivingResult:
    """Every server ``rounds`` times, then ``extra_rounds`` more of the in-memory receivers,
    the bare handler and the floor between (:data:`PAIRED`) only: their CPU ratios are
    the noisiest figures and gain most from more pairs."""
    pair = tuple(name for name in servers if name in PAIRED)
    schedule = [servers] * rounds + [pair] * extra_rounds
    result = ReceivingResult(count, len(schedule), {name: [] for name in servers})
    for round_index, group in enumerate(schedule):
        for name in rotate(group, round_index):
            with _journal(name) as journal:
                sample = asyncio.run(_round(name, count, journal))
            result.samples[name].append(sample)
            log(
                f"  receiving round {round_index + 1}/{len(schedule)} {name}: "
                f"{sample.rate:,.0f} deliveries/s, {sample.cpu_us:,.0f} µs CPU, lost {sample.lost}"
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--extra-rounds",
        type=int,
        default=0,
        help="more rounds of the in-memory receivers, the bare handler and the queued one only",
    )
    parser.add_argument(
        "--no-journals",
        action="store_true",
        help="only the in-memory receivers, the bare handler and the queued one",
    )
    args = parser.parse_args()
    servers = PAIRED if args.no_journals else SERVERS
    result = run(args.count, args.rounds, extra_rounds=args.extra_rounds, servers=servers)
    print(result.to_markdown())


if __name__ == "__main__":
    main()
