"""Benchmark 2: a bulk create of 3L webhooks against a limit of L requests per W seconds.

The emulator (a child process, ``--rate-limit L/W --admin``) counts the 429s it
sends; it is reset between contenders, which also starts a fresh window. The
theoretical minimum is the time until the last window opens:
``(ceil(count / L) - 1) * W``, since the first window opens with the first request.

It runs twice: against an emulator that rounds ``x-ratelimit-reset`` up (its default,
never telling a client to come back early) and one that rounds it down
(``--reset-rounding down``, as a limiter reporting a Redis TTL does: up to a second
early).

- ``aioubiwebhooks``: ``bulk_create(concurrency=64)`` with the default pacing (``auto``);
- ``ubiops sequential``: the official client, one create after another (on a 429 it
  sleeps ``int(x-ratelimit-reset) + 1`` seconds and retries).

``python -m benchmarks.paced [--limit 100] [--window 5] [--rounds 3] [--rounding up down]``
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._common import (
    PROJECT,
    TOKEN,
    Admin,
    emulator_process,
    fmt,
    markdown_table,
    median,
    quiet_logs,
    webhook_spec,
)

__all__ = ["PacedResult", "PacedSample", "run"]

LIB = "aioubiwebhooks"
OFFICIAL = "ubiops sequential"
CONCURRENCY = 64


@dataclass(frozen=True)
class PacedSample:
    seconds: float
    rate_limited: int
    requests: int


@dataclass
class PacedResult:
    limit: int
    window: float
    count: int
    rounds: int
    samples: dict[str, list[PacedSample]] = field(default_factory=dict)
    rounding: str = "up"

    @property
    def windows(self) -> int:
        return math.ceil(self.count / self.limit)

    @property
    def minimum(self) -> float:
        return (self.windows - 1) * self.window

    def over_minimum(self, name: str) -> float:
        return median([s.seconds for s in self.samples[name]]) / self.minimum

    def worst_429s(self, name: str) -> int:
        return max(s.rate_limited for s in self.samples[name])

    def to_markdown(self) -> str:
        rows = []
        for name, samples in self.samples.items():
            rows.append(
                [
                    name,
                    fmt(median([s.seconds for s in samples]), 2),
                    fmt(self.over_minimum(name), 3) + "x",
                    fmt(median([s.rate_limited for s in samples]), 1),
                    str(self.worst_429s(name)),
                    fmt(median([s.requests for s in samples])),
                    ", ".join(f"{s.seconds:.2f} s/{s.rate_limited}" for s in samples),
                ]
            )
        header = [
            "contender",
            "seconds (median)",
            f"over the {self.minimum:g} s minimum",
            "429s (median)",
            "429s (worst round)",
            "requests seen by the server",
            "per round: seconds/429s",
        ]
        return markdown_table(header, rows)


async def _lib(base_url: str, names: list[str]) -> None:
    from aioubiwebhooks import WebhooksSession

    async with WebhooksSession(TOKEN, base_url + "/v2.1", timeout=60.0) as session:
        outcomes = await session.bulk_create(
            PROJECT, [webhook_spec(name) for name in names], concurrency=CONCURRENCY
        )
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise RuntimeError(f"{LIB}: {len(failed)} creates failed, first: {failed[0]}")


def _official(base_url: str, names: list[str]) -> None:
    import ubiops

    config = ubiops.Configuration(host=base_url + "/v2.1", api_key={"Authorization": TOKEN})
    with ubiops.ApiClient(config) as client:
        core = ubiops.CoreApi(client)
        for name in names:
            core.webhooks_create(PROJECT, webhook_spec(name))


def run(
    limit: int,
    window: float,
    rounds: int,
    *,
    rounding: str = "up",
    log: Callable[[str], None] = print,
) -> PacedResult:
    """Both contenders ``rounds`` times against an emulator rounding ``reset`` this way."""
    quiet_logs()
    count = 3 * limit
    result = PacedResult(limit, window, count, rounds, {LIB: [], OFFICIAL: []}, rounding)
    with emulator_process(rate_limit=(limit, window), reset_rounding=rounding) as emulator:
        admin = Admin(emulator.url)
        for round_index in range(rounds):
            order = [LIB, OFFICIAL] if round_index % 2 == 0 else [OFFICIAL, LIB]
            for name in order:
                admin.reset()
                names = [f"paced-{round_index}-{i}" for i in range(count)]
                started = time.perf_counter()
                if name == LIB:
                    asyncio.run(_lib(emulator.url, names))
                else:
                    _official(emulator.url, names)
                seconds = time.perf_counter() - started
                stats = admin.stats()
                sample = PacedSample(
                    seconds, int(stats["rate_limited"]), int(stats["total_requests"])
                )
                result.samples[name].append(sample)
                log(
                    f"  paced ({rounding}) round {round_index + 1}/{rounds} {name}: "
                    f"{seconds:.2f} s, {sample.rate_limited} 429s"
                )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100, help="requests per window (L)")
    parser.add_argument("--window", type=float, default=5.0, help="window seconds (W)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--rounding",
        nargs="+",
        choices=("up", "down"),
        default=["up", "down"],
        help="how the emulator rounds x-ratelimit-reset (default: both, one after the other)",
    )
    args = parser.parse_args()
    for rounding in args.rounding:
        print(f"\nreset rounded {rounding}:\n")
        print(run(args.limit, args.window, args.rounds, rounding=rounding).to_markdown())


if __name__ == "__main__":
    main()
