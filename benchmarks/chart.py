"""Throughput against concurrency for the three clients, and its chart.

The same create/get/delete cycle as ``benchmarks.throughput`` (plain HTTP, rate
limit off), at concurrency 1, 4, 16 and 64: ``bulk`` concurrency for the library,
worker count for raw aiohttp, and for the official client sequential calls at 1
and ``pool_threads`` (with ``async_req=True``) above it.

``python -m benchmarks.chart [--n 300] [--rounds 2] [--out benchmarks/throughput.png]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._common import emulator_process, fmt, markdown_table, median, quiet_logs, rotate
from .throughput import Contender, Sample, measure

__all__ = ["LEVELS", "SweepResult", "plot", "run"]

LEVELS = (1, 4, 16, 64)
CLIENTS = {
    "lib": "aioubiwebhooks (bulk concurrency)",
    "raw": "raw aiohttp (workers)",
    "official": "ubiops (sequential at 1, pool_threads above)",
}
DEFAULT_PNG = Path(__file__).resolve().parent / "throughput.png"


@dataclass
class SweepResult:
    n: int
    rounds: int
    levels: tuple[int, ...]
    samples: dict[tuple[str, int], list[Sample]] = field(default_factory=dict)

    def rate(self, kind: str, level: int) -> float:
        return median([s.rate for s in self.samples[(kind, level)]])

    def cpu_us(self, kind: str, level: int) -> float:
        return median([s.cpu_us for s in self.samples[(kind, level)]])

    def to_markdown(self) -> str:
        header = ["client", *(f"c={level}: req/s, µs CPU/req" for level in self.levels)]
        rows = [
            [
                label,
                *(
                    f"{fmt(self.rate(kind, level))}, {fmt(self.cpu_us(kind, level))}"
                    for level in self.levels
                ),
            ]
            for kind, label in CLIENTS.items()
        ]
        return markdown_table(header, rows)


def run(
    n: int,
    rounds: int,
    levels: Sequence[int] = LEVELS,
    *,
    log: Callable[[str], None] = print,
) -> SweepResult:
    quiet_logs()
    chosen = [Contender(f"{kind} c={level}", kind, level) for kind in CLIENTS for level in levels]
    result = SweepResult(n, rounds, tuple(levels))
    with emulator_process(admin=False) as emulator:
        for round_index in range(rounds):
            for contender in rotate(chosen, round_index):
                names = [
                    f"sw-{contender.kind}-{contender.concurrency}-{round_index}-{i}"
                    for i in range(n)
                ]
                sample = measure(contender, emulator.url, names, None)
                result.samples.setdefault((contender.kind, contender.concurrency), []).append(
                    sample
                )
                log(
                    f"  sweep round {round_index + 1}/{rounds} {contender.name}: "
                    f"{sample.rate:,.0f} req/s"
                )
    return result


def plot(result: SweepResult, path: Path = DEFAULT_PNG, *, subtitle: str = "") -> Path:
    """A log-log chart of requests per second against concurrency, one line per client."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    figure, axes = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    for (kind, label), marker in zip(CLIENTS.items(), ("o", "s", "^"), strict=True):
        rates = [result.rate(kind, level) for level in result.levels]
        axes.plot(result.levels, rates, marker=marker, label=label)
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(list(result.levels), [str(level) for level in result.levels])
    thousands = FuncFormatter(lambda value, _: f"{value:,.0f}")
    axes.yaxis.set_major_formatter(thousands)
    axes.yaxis.set_minor_formatter(thousands)
    axes.tick_params(axis="y", which="minor", labelsize=7)
    axes.set_xlabel("concurrency (requests in flight / threads)")
    axes.set_ylabel("requests per second (median)")
    title = f"create+get+delete of {result.n} webhooks, emulator over loopback"
    axes.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=9)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="webhooks per point and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_PNG)
    args = parser.parse_args()
    result = run(args.n, args.rounds)
    print(result.to_markdown())
    print(f"chart written to {plot(result, args.out)}")


if __name__ == "__main__":
    main()
