"""``python -m aioubiwebhooks.emulator``: serve the emulator until SIGINT or SIGTERM.

By default it behaves like the service: 300 requests a minute and the
``x-ratelimit-*`` headers on every answer (``--rate-limit off`` lifts the limit; the
headers stay). Once the port accepts connections it prints one line to standard error
saying which rate limit holds, then exactly one line to standard output,
``listening on http://HOST:PORT`` (the real port when ``--port 0``), and exits 0 on a
stop signal. A main command can mount the same options as a subcommand with
:func:`add_arguments` and :func:`run`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import Final

from .._signals import on_stop_signals
from ._app import DEFAULT_MAX_BODY_SIZE
from ._delivery import FINISHED_STATUSES
from ._ratelimit import parse_rate_limit
from ._rules import Limits
from ._seed import SeedError
from ._server import Emulator
from ._state import OPEN_LIMIT

__all__ = [
    "SERVICE_RATE_LIMIT",
    "add_arguments",
    "main",
    "rate_limit_argument",
    "rate_limit_line",
    "run",
    "serve",
]

SERVICE_RATE_LIMIT: Final = (300, 60.0)
"""The service's limit for the webhooks endpoints (the "general" group), per source IP."""


def rate_limit_argument(text: str) -> tuple[int, float] | None:
    """A ``--rate-limit`` value: ``LIMIT/SECONDS``, or ``off`` (None)."""
    if text.strip().lower() == "off":
        return None
    try:
        return parse_rate_limit(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def rate_limit_line(limit: tuple[int, float] | None) -> str:
    """The first line the command prints (to standard error): which rate limit holds."""
    if limit is None:
        return (
            f"rate limit off: x-ratelimit-* headers still on every answer, with a limit "
            f"of {OPEN_LIMIT:,} requests"
        )
    count, window = limit
    like = ", as the UbiOps service does" if limit == SERVICE_RATE_LIMIT else ""
    return (
        f"rate limit {count} requests per {window:g} s and x-ratelimit-* headers on every "
        f"answer{like} (--rate-limit off lifts it)"
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 0 and 3600 seconds: {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser`` (standalone or as a subcommand)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port to bind; 0 picks a free one (default 8765)"
    )
    parser.add_argument(
        "--token", default=None, help="accept only this API token (default: accept any token)"
    )
    parser.add_argument(
        "--rate-limit",
        type=rate_limit_argument,
        default=SERVICE_RATE_LIMIT,
        metavar="LIMIT/SECONDS",
        help="fixed-window rate limit, e.g. 50/5, or 'off'; the x-ratelimit-* headers are "
        "sent either way (default 300/60, as the service)",
    )
    parser.add_argument(
        "--reset-rounding",
        choices=("up", "down"),
        default="up",
        help="round x-ratelimit-reset's seconds up (default) or down, as a Redis TTL does",
    )
    parser.add_argument(
        "--seed",
        default=None,
        metavar="FILE",
        help='JSON file: {"projects": {"p": {"deployments": {"d": ["v1"]}, "pipelines": {}}}}',
    )
    parser.add_argument(
        "--test-delay",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="keep webhook tests pending this long before delivering (default 0)",
    )
    parser.add_argument("--admin", action="store_true", help="mount the /_emulator/ admin routes")
    parser.add_argument(
        "--protected-mask",
        default=None,
        metavar="TEXT",
        help="read protected header values back as TEXT (default: null)",
    )
    parser.add_argument(
        "--finished-status",
        choices=(*FINISHED_STATUSES, "mixed"),
        default="completed",
        help="the status *_request_finished test deliveries report; 'mixed' draws among "
        "the three (default completed)",
    )
    parser.add_argument(
        "--finished-seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the draw for --finished-status mixed (default 0)",
    )
    parser.add_argument(
        "--allow-target",
        action="append",
        default=None,
        metavar="NETWORK|HOST",
        help="let webhook tests deliver only to these networks or host names (repeatable, "
        "e.g. 127.0.0.1 or 10.0.0.0/8); default: anywhere but link-local and cloud "
        "metadata addresses",
    )
    parser.add_argument(
        "--max-webhooks",
        type=_positive,
        default=Limits().max_webhooks_per_project,
        metavar="N",
        help="webhooks one project may hold (default %(default)s)",
    )
    parser.add_argument(
        "--max-body-size",
        type=_positive,
        default=DEFAULT_MAX_BODY_SIZE,
        metavar="BYTES",
        help="larger request bodies are answered 413 (default %(default)s)",
    )


def _emulator(args: argparse.Namespace) -> Emulator:
    return Emulator(
        host=args.host,
        port=args.port,
        token=args.token,
        seed=args.seed,
        rate_limit=args.rate_limit,
        reset_rounding=args.reset_rounding,
        test_delay=args.test_delay,
        admin=args.admin,
        allow_targets=args.allow_target,
        limits=Limits(max_webhooks_per_project=args.max_webhooks),
        max_body_size=args.max_body_size,
        protected_mask=args.protected_mask,
        finished_status=(
            FINISHED_STATUSES if args.finished_status == "mixed" else args.finished_status
        ),
        finished_seed=args.finished_seed,
    )


async def serve(
    args: argparse.Namespace,
    *,
    stop: asyncio.Event | None = None,
    ready: Callable[[Emulator], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set), then close cleanly."""
    stop = stop if stop is not None else asyncio.Event()
    with on_stop_signals(stop.set):
        async with _emulator(args) as emulator:
            print(rate_limit_line(emulator.rate_limit), file=sys.stderr, flush=True)
            print(f"listening on {emulator.root_url}", flush=True)
            if ready is not None:
                ready(emulator)
            await stop.wait()


def run(args: argparse.Namespace) -> int:
    """Serve with the parsed ``args``; the exit status (0 after a stop signal)."""
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    except SeedError as error:
        print(f"error: bad seed: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aioubiwebhooks.emulator",
        description="Serve a local emulator of the UbiOps webhooks API.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
