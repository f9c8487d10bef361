"""A 429 storm: wall time and the client's CPU while far more calls are offered than allowed.

80 creates offered at once against a limit of 20 requests per 2 s, with pacing
``auto`` and ``off``. The emulator is a child process, so this process's CPU time is
the client's alone: a client that waits for the window instead of spinning spends a
small part of the wall time on the CPU. ``tests/slow/test_reliability_ratelimit.py``
checks what must hold on any machine (every create done, no faster than the limit,
429s counted); how long it takes and how much CPU it costs are measured here.

``python -m benchmarks.storm [--offered 80] [--limit 20] [--window 2] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from aioubiwebhooks import WebhooksSession
from aioubiwebhooks._ratelimit import Pacing

from ._common import (
    PROJECT,
    TOKEN,
    Admin,
    cpu_seconds,
    emulator_process,
    fmt,
    markdown_table,
    median,
    quiet_logs,
    webhook_spec,
)

__all__ = ["StormSample", "main", "run"]

PACINGS: tuple[Pacing, ...] = ("auto", "off")


@dataclass(frozen=True)
class StormSample:
    """One storm: wall seconds, the client's CPU seconds, the 429s the server sent."""

    pacing: Pacing
    wall: float
    cpu: float
    rate_limited: int


async def _storm(base_url: str, pacing: Pacing, names: list[str]) -> None:
    async with WebhooksSession(TOKEN, base_url + "/v2.1", pacing=pacing, timeout=10) as session:
        outcomes = await session.bulk_create(
            PROJECT, [webhook_spec(name) for name in names], concurrency=len(names)
        )
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} creates failed, first: {failed[0]}")


def run(offered: int, limit: int, window: float, rounds: int) -> list[StormSample]:
    """``rounds`` storms per pacing, alternating which goes first."""
    quiet_logs()
    samples = []
    with emulator_process(rate_limit=(limit, window)) as emulator:
        admin = Admin(emulator.url)
        for round_index in range(rounds):
            order = PACINGS if round_index % 2 == 0 else PACINGS[::-1]
            for pacing in order:
                admin.reset()
                names = [f"storm-{round_index}-{pacing}-{i}" for i in range(offered)]
                wall, cpu = time.perf_counter(), cpu_seconds()
                asyncio.run(_storm(emulator.url, pacing, names))
                wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
                rate_limited = int(admin.stats()["rate_limited"])
                samples.append(StormSample(pacing, wall, cpu, rate_limited))
                print(f"  storm {round_index + 1}/{rounds} {pacing}: {wall:.2f} s, {cpu:.3f} s CPU")
    return samples


def to_markdown(samples: list[StormSample], minimum: float) -> str:
    rows = []
    for pacing in PACINGS:
        mine = [s for s in samples if s.pacing == pacing]
        wall = median([s.wall for s in mine])
        cpu = median([s.cpu for s in mine])
        rows.append(
            [
                f"`{pacing}`",
                fmt(wall, 2),
                fmt(wall / minimum, 2) + "x",
                fmt(cpu, 3),
                fmt(100 * median([s.cpu / s.wall for s in mine]), 1) + "%",
                fmt(median([s.rate_limited for s in mine])),
            ]
        )
    header = [
        "pacing",
        "wall s (median)",
        f"over the {minimum:g} s minimum",
        "client CPU s",
        "CPU share of wall",
        "429s",
    ]
    return markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offered", type=int, default=80)
    parser.add_argument("--limit", type=int, default=20, help="requests per window")
    parser.add_argument("--window", type=float, default=2.0, help="window seconds")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    samples = run(args.offered, args.limit, args.window, args.rounds)
    minimum = (args.offered / args.limit - 1) * args.window
    print(to_markdown(samples, minimum))


if __name__ == "__main__":
    main()
