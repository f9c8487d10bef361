"""Benchmark 1: throughput and client CPU per request, plain HTTP and TLS.

Each contender creates, then gets, then deletes the same N webhooks against the
emulator in a child process (rate limit off), so the CPU counted by
``getrusage(RUSAGE_SELF)`` here is the client's alone. Contenders run in turn,
in a rotated order each round; medians over rounds and ratios from the same
run are reported.

- ``aioubiwebhooks``: ``bulk_create`` / ``run_bulk(webhooks_get)`` / ``bulk_delete``;
- ``raw aiohttp``: one ``ClientSession``, hand-built JSON bodies, ``json.loads`` of
  answers and nothing else: the floor for any aiohttp client;
- ``raw aiohttp, answers kept``: the same, keeping every parsed answer until the run
  ends, as a client handing its results back does (the library's bulk calls return
  one per item). Not run by default (``--contenders raw_kept``); it shows what keeping
  results costs a client, apart from its own code;
- ``raw aiohttp, typed results kept``: raw aiohttp again, but each answer is read by the
  library's own decoder into a ``WebhookDetail`` and kept in an ``Outcome``, as a bulk
  call returns it. Not run by default (``--contenders raw_typed``); it is the floor for
  any aiohttp client that returns typed results per item, without checking input,
  pacing or retrying;
- ``raw aiohttp, typed results and the library's checks and pacing``: the same, with
  the library's own parts for its other duties: every spec checked into a
  ``WebhookCreate`` before anything is sent, each body encoded from it, and every
  request paced by a session's ``Pacer``. Not run by default (``--contenders
  raw_duties``); what is left between it and the library is the library's plumbing
  (requester, transport, bulk runner);
- ``ubiops sequential`` and ``ubiops pool_threads=K``: the official client, one call
  at a time, or with ``async_req=True`` on a thread pool.

Over TLS every contender trusts the test CA: the library through
``WebhooksSession(verify_tls=ssl_context)``, raw aiohttp through its connector and
the official client through ``Configuration.ssl_ca_cert``.

``--phases create get`` measures only those calls (the client-CPU bar is about create
and get), ``--contenders`` picks contenders by kind (``lib raw`` leaves out the slow
official client), and ``--load K`` keeps K more cores busy with child processes for
the whole run, to measure on a loaded machine.

``python -m benchmarks.throughput [--n 2000] [--rounds 3] [--tls] [--phases ...]
[--contenders ...] [--load K]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ._common import (
    PROJECT,
    TOKEN,
    CollectorClock,
    TlsFiles,
    cpu_load,
    cpu_seconds,
    emulator_process,
    fmt,
    markdown_table,
    median,
    median_interval,
    quiet_logs,
    rotate,
    tls_files,
    webhook_spec,
)

__all__ = [
    "CONCURRENCY",
    "Contender",
    "Sample",
    "ThroughputResult",
    "contenders",
    "measure",
    "run",
]

CONCURRENCY = 64
POOL_THREADS = 16
CONNECTION_LIMIT = 100
TIMEOUT = 60.0

LIB = "aioubiwebhooks"
RAW = "raw aiohttp"
RAW_KEPT = "raw aiohttp, answers kept"
RAW_TYPED = "raw aiohttp, typed results kept"
RAW_DUTIES = "raw aiohttp, typed results and the library's checks and pacing"
OFFICIAL = "ubiops sequential"
PHASES = ("create", "get", "delete")
KINDS = ("lib", "raw", "raw_kept", "raw_typed", "raw_duties", "official")
RAW_KINDS = ("raw", "raw_kept", "raw_typed", "raw_duties")
"""Raw aiohttp, keeping nothing, the parsed JSON, typed results, or typed results with the
library's input checks and pacing."""
DEFAULT_KINDS = ("lib", "raw", "official")


def official_pool(threads: int) -> str:
    return f"ubiops pool_threads={threads}"


@dataclass(frozen=True)
class Sample:
    """One contender's run: requests made, wall seconds, client CPU seconds and the
    seconds of them the cycle collector took."""

    requests: int
    wall: float
    cpu: float
    collector: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.wall

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.requests * 1e6

    @property
    def collector_us(self) -> float:
        return self.collector / self.requests * 1e6


@dataclass(frozen=True)
class Contender:
    """A named client setup: ``kind`` is lib, raw or official; ``concurrency`` its fan-out."""

    name: str
    kind: str
    concurrency: int


def contenders(concurrency: int = CONCURRENCY, pool_threads: int = POOL_THREADS) -> list[Contender]:
    return [
        Contender(LIB, "lib", concurrency),
        Contender(RAW, "raw", concurrency),
        Contender(RAW_KEPT, "raw_kept", concurrency),
        Contender(RAW_TYPED, "raw_typed", concurrency),
        Contender(RAW_DUTIES, "raw_duties", concurrency),
        Contender(OFFICIAL, "official", 1),
        Contender(official_pool(pool_threads), "official", pool_threads),
    ]


# --- the contenders ---------------------------------------------------------------------------


def _connector(ssl_context: ssl.SSLContext | None) -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(
        limit=CONNECTION_LIMIT, ssl=ssl_context if ssl_context is not None else True
    )


async def _lib(
    base_url: str,
    names: Sequence[str],
    concurrency: int,
    ssl_context: ssl.SSLContext | None,
    phases: Sequence[str],
) -> Sample:
    from aioubiwebhooks import Outcome, WebhooksSession, bulk

    specs = [webhook_spec(name) for name in names]
    collector = CollectorClock().start()
    started_cpu, started = cpu_seconds(), asyncio.get_running_loop().time()
    outcomes: list[Outcome[Any, Any]] = []
    async with WebhooksSession(
        TOKEN,
        base_url + "/v2.1",
        timeout=TIMEOUT,
        connection_limit=CONNECTION_LIMIT,
        verify_tls=ssl_context if ssl_context is not None else True,
    ) as session:
        if "create" in phases:
            outcomes += await session.bulk_create(PROJECT, specs, concurrency=concurrency)
        if "get" in phases:
            outcomes += await bulk.run_bulk(
                list(names),
                lambda name: session.webhooks_get(PROJECT, name),
                concurrency=concurrency,
            )
        if "delete" in phases:
            outcomes += await session.bulk_delete(PROJECT, names, concurrency=concurrency)
        wall = asyncio.get_running_loop().time() - started
        cpu = cpu_seconds() - started_cpu
        collected = collector.stop()
        if "delete" not in phases:  # not measured: the emulator keeps a bounded store
            await session.bulk_delete(PROJECT, names, concurrency=concurrency)
    failed = [o for o in outcomes if not o.ok or o.skipped]
    if failed:
        raise RuntimeError(f"{LIB}: {len(failed)} calls failed, first: {failed[0]}")
    return Sample(len(phases) * len(names), wall, cpu, collected)


async def _workers(
    items: Iterable[str], concurrency: int, call: Callable[[str], Awaitable[None]]
) -> None:
    pending = iter(items)

    async def worker() -> None:
        for item in pending:
            await call(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def _answer_handler(kind: str, kept: list[Any]) -> Callable[[Any, bytes], None]:
    """What raw aiohttp does with an item's answer body: parse it as JSON and drop it
    (``raw``), keep the parsed JSON (``raw_kept``), or keep what a bulk call of the
    library returns for it, an ``Outcome`` holding a ``WebhookDetail`` (``raw_typed``,
    ``raw_duties``)."""
    if kind == "raw":
        return lambda item, body: json.loads(body)
    if kind == "raw_kept":
        return lambda item, body: kept.append(json.loads(body))
    from aioubiwebhooks import Outcome, _wire

    read = _wire.SharedHeaders().webhook  # as WebhooksSession reads each answer
    return lambda item, body: kept.append(Outcome(item, value=read(_wire.decode_json(body))))


def _create_encoder(
    kind: str, specs: dict[str, dict[str, Any]]
) -> Callable[[str], tuple[Any, bytes]]:
    """A create's item and body: the spec as ``json.dumps`` gives it, or, for
    ``raw_duties``, every spec checked first into a ``WebhookCreate`` (as ``bulk_create``
    does before it sends anything) and each body encoded from its model."""
    if kind != "raw_duties":
        return lambda name: (specs[name], json.dumps(specs[name]).encode())
    from aioubiwebhooks import WebhookCreate, _wire

    models = {name: WebhookCreate.from_dict(spec) for name, spec in specs.items()}
    return lambda name: (models[name], _wire.to_body(_wire.create_json(models[name])))


async def _raw(
    base_url: str,
    names: Sequence[str],
    concurrency: int,
    ssl_context: ssl.SSLContext | None,
    phases: Sequence[str],
    *,
    kind: str = "raw",
) -> Sample:
    from aioubiwebhooks._ratelimit import Pacer

    api = f"{base_url}/v2.1/projects/{PROJECT}/webhooks"
    kept: list[Any] = []
    answer_read = _answer_handler(kind, kept)
    headers = {"Authorization": TOKEN}
    json_headers = {**headers, "Content-Type": "application/json"}
    specs = {name: webhook_spec(name) for name in names}
    loop = asyncio.get_running_loop()
    collector = CollectorClock().start()
    started_cpu, started = cpu_seconds(), loop.time()
    encode = _create_encoder(kind, specs)
    # raw_duties paces every request with the library's own budget, as a session does.
    pacer = Pacer() if kind == "raw_duties" else None
    async with aiohttp.ClientSession(
        connector=_connector(ssl_context), timeout=aiohttp.ClientTimeout(total=TIMEOUT)
    ) as session:

        async def create(name: str) -> None:
            item, body = encode(name)
            ticket = await pacer.acquire() if pacer is not None else 0
            async with session.post(api, data=body, headers=json_headers) as answer:
                data = await answer.read()
                if pacer is not None:
                    pacer.release(ticket, pacer.headers(answer.headers), answered=True)
                if answer.status != 201:
                    raise RuntimeError(f"{RAW}: create answered {answer.status}")
            answer_read(item, data)

        async def get(name: str) -> None:
            ticket = await pacer.acquire() if pacer is not None else 0
            async with session.get(f"{api}/{name}", headers=headers) as answer:
                data = await answer.read()
                if pacer is not None:
                    pacer.release(ticket, pacer.headers(answer.headers), answered=True)
                if answer.status != 200:
                    raise RuntimeError(f"{RAW}: get answered {answer.status}")
            answer_read(name, data)

        async def delete(name: str) -> None:
            async with session.delete(f"{api}/{name}", headers=headers) as answer:
                await answer.read()
                if answer.status != 204:
                    raise RuntimeError(f"{RAW}: delete answered {answer.status}")

        calls = {"create": create, "get": get, "delete": delete}
        for phase in phases:
            await _workers(names, concurrency, calls[phase])
        sample = Sample(
            len(phases) * len(names),
            loop.time() - started,
            cpu_seconds() - started_cpu,
            collector.stop(),
        )
        if "delete" not in phases:  # not measured: the emulator keeps a bounded store
            await _workers(names, concurrency, delete)
    return sample


def _official(
    base_url: str,
    names: Sequence[str],
    threads: int,
    tls: TlsFiles | None,
    phases: Sequence[str],
) -> Sample:
    import time

    import ubiops

    config = ubiops.Configuration(host=base_url + "/v2.1", api_key={"Authorization": TOKEN})
    if tls is not None:
        config.ssl_ca_cert = str(tls.ca_path)
    specs = [webhook_spec(name) for name in names]
    collector = CollectorClock().start()
    started_cpu, started = cpu_seconds(), time.perf_counter()
    client = ubiops.ApiClient(config, pool_threads=max(threads, 1))
    try:
        core = ubiops.CoreApi(client)
        calls: dict[str, tuple[Callable[..., Any], Sequence[Any]]] = {
            "create": (core.webhooks_create, specs),
            "get": (core.webhooks_get, names),
            "delete": (core.webhooks_delete, names),
        }
        for phase in phases:
            call, items = calls[phase]
            if threads <= 1:
                for item in items:
                    call(PROJECT, item)
            else:
                results = [call(PROJECT, item, async_req=True) for item in items]
                for result in results:
                    result.get(TIMEOUT)
        sample = Sample(
            len(phases) * len(names),
            time.perf_counter() - started,
            cpu_seconds() - started_cpu,
            collector.stop(),
        )
        if "delete" not in phases:  # not measured: the emulator keeps a bounded store
            for name in names:
                core.webhooks_delete(PROJECT, name)
    finally:
        client.close()
    return sample


def measure(
    contender: Contender,
    base_url: str,
    names: Sequence[str],
    tls: TlsFiles | None,
    phases: Sequence[str] = PHASES,
) -> Sample:
    """Run one contender once: the ``phases`` (create, get, delete) over ``names``."""
    ssl_context = tls.client_context() if tls is not None else None
    if contender.kind == "lib":
        return asyncio.run(_lib(base_url, names, contender.concurrency, ssl_context, phases))
    if contender.kind in RAW_KINDS:
        return asyncio.run(
            _raw(base_url, names, contender.concurrency, ssl_context, phases, kind=contender.kind)
        )
    return _official(base_url, names, contender.concurrency, tls, phases)


# --- the comparison ---------------------------------------------------------------------------


@dataclass
class ThroughputResult:
    """Samples per contender, for one transport (plain HTTP or TLS)."""

    n: int
    rounds: int
    tls: bool
    order: list[str]
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def rate(self, name: str) -> float:
        return median([s.rate for s in self.samples[name]])

    def cpu_us(self, name: str) -> float:
        return median([s.cpu_us for s in self.samples[name]])

    def collector_us(self, name: str) -> float:
        return median([s.collector_us for s in self.samples[name]])

    def _pairs(self, name: str, against: str) -> list[tuple[Sample, Sample]]:
        """Samples of ``name`` and ``against`` from the same rounds."""
        # Extra rounds run the aiohttp contenders only: pairs are taken by round index.
        return list(zip(self.samples[name], self.samples[against], strict=False))

    def cpu_ratios(self, name: str, against: str) -> list[float]:
        """The per-round ratios: both ran in the same round."""
        return [a.cpu_us / b.cpu_us for a, b in self._pairs(name, against)]

    def cpu_ratio(self, name: str, against: str) -> float:
        """Median over rounds of the per-round ratio."""
        return median(self.cpu_ratios(name, against))

    def cpu_ratio_without_collector(self, name: str, against: str) -> float:
        """Median per-round ratio with the cycle collector's time taken out of both sides."""
        return median(
            [
                (a.cpu - a.collector) / (b.cpu - b.collector)
                for a, b in self._pairs(name, against)
                if b.cpu > b.collector
            ]
        )

    def cpu_ratio_interval(self, name: str, against: str) -> tuple[float, float]:
        """A 95 % interval for that median (order statistics of the per-round ratios)."""
        return median_interval(self.cpu_ratios(name, against))

    def best_official(self) -> str:
        """The official variant with the lowest CPU per request: the fairest baseline."""
        officials = [n for n in self.order if n.startswith("ubiops")]
        return min(officials, key=self.cpu_us)

    def to_markdown(self) -> str:
        rows = []
        for name in self.order:
            if not self.samples.get(name):
                continue
            rates = ", ".join(fmt(s.rate) for s in self.samples[name])
            rows.append(
                [
                    name,
                    fmt(self.rate(name)),
                    fmt(self.cpu_us(name)),
                    fmt(self.collector_us(name), 1),
                    fmt(self.cpu_ratio(name, RAW), 2),
                    fmt(self.cpu_ratio(name, OFFICIAL), 2) if self.samples.get(OFFICIAL) else "—",
                    fmt(self.rate(name) / self.rate(RAW), 2),
                    rates,
                ]
            )
        header = [
            "contender",
            "requests/s (median)",
            "client CPU µs/request (median)",
            "of which the cycle collector",
            "CPU vs raw aiohttp",
            "CPU vs ubiops sequential",
            "rate vs raw aiohttp",
            "requests/s per round",
        ]
        return markdown_table(header, rows)


def run(
    n: int,
    rounds: int,
    *,
    tls: bool,
    extra_rounds: int = 0,
    phases: Sequence[str] = PHASES,
    kinds: Sequence[str] = DEFAULT_KINDS,
    load: int = 0,
    log: Callable[[str], None] = print,
) -> ThroughputResult:
    """Every contender ``rounds`` times on one emulator process (TLS or plain).

    ``extra_rounds`` more rounds run only the aiohttp-based contenders, which take
    seconds where the official client takes tens of them: their ratios are the
    noisiest and gain most from more pairs. ``phases`` and ``kinds`` choose the calls
    and the contenders; ``load`` child processes keep that many cores busy meanwhile.
    """
    quiet_logs()
    chosen = [c for c in contenders() if c.kind in kinds]
    fast = [c for c in chosen if c.kind != "official"]
    schedule = [chosen] * rounds + [fast] * extra_rounds
    result = ThroughputResult(n, rounds + extra_rounds, tls, [c.name for c in chosen])
    result.samples = {c.name: [] for c in chosen}
    with tls_files() as files, cpu_load(load):
        tls_used = files if tls else None
        with emulator_process(tls=tls_used, admin=False) as emulator:
            for round_index, group in enumerate(schedule):
                for contender in rotate(group, round_index):
                    names = [
                        f"tp-{contender.kind}-{contender.concurrency}-{round_index}-{i}"
                        for i in range(n)
                    ]
                    sample = measure(contender, emulator.url, names, tls_used, phases)
                    result.samples[contender.name].append(sample)
                    log(
                        f"  {'tls' if tls else 'http'} round {round_index + 1}/{len(schedule)} "
                        f"{contender.name}: {sample.rate:,.0f} req/s, "
                        f"{sample.cpu_us:,.0f} µs CPU/req"
                    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="webhooks per contender and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--extra-rounds", type=int, default=4, help="more rounds of the aiohttp contenders only"
    )
    parser.add_argument("--tls", action="store_true", help="serve the emulator over TLS")
    parser.add_argument(
        "--phases", nargs="+", choices=PHASES, default=list(PHASES), help="the calls measured"
    )
    parser.add_argument(
        "--contenders",
        nargs="+",
        choices=KINDS,
        default=list(DEFAULT_KINDS),
        help="contenders by kind",
    )
    parser.add_argument(
        "--load", type=int, default=0, help="child processes keeping a core busy each meanwhile"
    )
    args = parser.parse_args()
    result = run(
        args.n,
        args.rounds,
        tls=args.tls,
        extra_rounds=args.extra_rounds,
        phases=args.phases,
        kinds=args.contenders,
        load=args.load,
    )
    print(result.to_markdown())
    if result.samples.get(LIB) and result.samples.get(RAW):
        print(f"\nclient CPU per request vs raw aiohttp: {result.cpu_ratio(LIB, RAW):.3f}x")


if __name__ == "__main__":
    main()
