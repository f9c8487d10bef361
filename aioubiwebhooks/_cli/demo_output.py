"""``aioubiwebhooks demo``: run :func:`aioubiwebhooks.demo.run_demo` and print its summary."""

from __future__ import annotations

import argparse
import logging

from ..bulk import BulkProgress
from ..demo import DemoSummary, run_demo
from .output import EXIT_FAILED, EXIT_OK, Output, ProgressBar, UsageError, format_table

__all__ = ["render_summary", "run_demo_command"]

_LABELS = {"create": "creating webhooks", "test": "testing webhooks "}


class _PhaseBars:
    """One progress bar per demo phase, each ended before the next begins."""

    def __init__(self, out: Output) -> None:
        self._out = out
        self._phase: str | None = None
        self._bar: ProgressBar | None = None

    def __call__(self, phase: str, progress: BulkProgress) -> None:
        if phase != self._phase:
            self.close()
            self._phase = phase
            self._bar = self._out.progress(_LABELS.get(phase, phase))
        assert self._bar is not None
        self._bar(progress)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.finish()
            self._bar = None


def render_summary(summary: DemoSummary) -> str:
    """The summary as aligned text lines."""
    limit = summary.rate_limit
    rows = [
        ("webhooks created", f"{summary.created} of {summary.webhooks}"),
        ("tests run", str(summary.tested)),
        ("tests completed", str(summary.completed)),
        ("tests failed", str(summary.failed)),
        ("deliveries received", str(summary.deliveries_received)),
        ("request ids matched", f"{summary.deliveries_matched} of {summary.completed}"),
        ("requests sent", str(summary.requests_sent)),
        ("429s seen", str(summary.rate_limited)),
        ("rate limit", "off" if limit is None else f"{limit[0]} per {limit[1]:g} s"),
        ("elapsed", f"{summary.elapsed:.2f} s"),
    ]
    lines = [format_table(("", ""), rows).split("\n", 1)[1]]
    lines.append("result: " + ("ok" if summary.ok else "FAILED"))
    lines.extend(f"  problem: {problem}" for problem in summary.problems)
    return "\n".join(lines)


async def run_demo_command(args: argparse.Namespace, out: Output) -> int:
    if not 1 <= args.count <= 1000:
        raise UsageError(f"--count must be between 1 and 1000, got {args.count}")
    if not 1 <= args.concurrency <= 1000:
        raise UsageError(f"--concurrency must be between 1 and 1000, got {args.concurrency}")
    if not out.json_mode:
        limit = args.rate_limit
        paced = "off" if limit is None else f"{limit[0]} requests per {limit[1]:g} s"
        out.line(
            f"demo: {args.count} webhooks against an in-process emulator "
            f"(rate limit {paced}) and a local receiver"
        )
    bars = _PhaseBars(out)
    # The summary reports pacing; waits logged as they happen would only clutter it.
    pacing_log = logging.getLogger("aioubiwebhooks")
    level = pacing_log.level
    if level == logging.WARNING:
        pacing_log.setLevel(logging.ERROR)
    try:
        summary = await run_demo(
            count=args.count,
            rate_limit=args.rate_limit,
            concurrency=args.concurrency,
            progress=bars,
        )
    finally:
        bars.close()
        pacing_log.setLevel(level)
    if out.json_mode:
        out.document(summary.to_dict())
    else:
        out.line(render_summary(summary))
    if not summary.ok:
        out.note("error: the demo found problems:")
        for problem in summary.problems:
            out.note(f"  {problem}")
    return EXIT_OK if summary.ok else EXIT_FAILED
