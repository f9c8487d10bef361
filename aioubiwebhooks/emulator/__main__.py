"""``python -m aioubiwebhooks.emulator``: serve the emulator until SIGINT or SIGTERM.

Once the port accepts connections it prints exactly one line to standard output,
``listening on http://HOST:PORT`` (the real port when ``--port 0``), and exits 0 on
a stop signal. A main command can mount the same options as a subcommand with
:func:`add_arguments` and :func:`run`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence

from ._app import DEFAULT_MAX_BODY_SIZE
from ._ratelimit import parse_rate_limit
from ._rules import Limits
from ._seed import SeedError
from ._server import Emulator

__all__ = ["add_arguments", "main", "run", "serve"]


def _rate_limit(text: str) -> tuple[int, float]:
    try:
        return parse_rate_limit(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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
        type=_rate_limit,
        default=None,
        metavar="LIMIT/SECONDS",
        help="fixed-window rate limit, e.g. 300/60 (default: off)",
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
    )


async def serve(
    args: argparse.Namespace,
    *,
    stop: asyncio.Event | None = None,
    ready: Callable[[Emulator], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set), then close cleanly."""
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    try:
        async with _emulator(args) as emulator:
            print(f"listening on {emulator.root_url}", flush=True)
            if ready is not None:
                ready(emulator)
            await stop.wait()
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


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
