"""The ``aioubiwebhooks`` command: manage, test, migrate and receive UbiOps webhooks.

A thin layer over the library's public calls; it knows nothing of HTTP. Results
go to stdout (text, or one JSON document with ``--json``), progress and errors
to stderr. Exit status: 0 when everything succeeded, 1 when a request or any
item failed (stderr then names each failure: error class and message), 2 for
bad input found before any request (flags, spec files, a missing token), 130
when interrupted (create, delete, apply and copy first finish what is in flight and
report every item, as a finished run does).

The token comes from ``--token`` or ``UBIOPS_API_TOKEN``, the host from
``--host`` or ``UBIOPS_API_HOST``; the token and protected header values are
never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import TextIO

from ._cli import commands, deliveries, migrate
from ._cli.output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Output,
    UsageError,
)
from ._version import __version__
from .errors import UbiOpsError, ValidationError

__all__ = ["build_parser", "main"]

PROG = "aioubiwebhooks"


# --- emulator and demo ---------------------------------------------------------------------


def _emulator_command(args: argparse.Namespace, out: Output) -> int:
    from .emulator.__main__ import run

    return run(args)


def _demo_command(args: argparse.Namespace, out: Output) -> int:
    from ._cli.demo_output import run_demo_command

    return asyncio.run(run_demo_command(args, out))


def _register_extras(commands_: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .demo import DEFAULT_COUNT, DEFAULT_RATE_LIMIT
    from .emulator.__main__ import add_arguments, rate_limit_argument

    p = commands_.add_parser(
        "emulator",
        help="serve a local emulator of the UbiOps webhooks API",
        description="Serve the emulated UbiOps webhooks API (under /v2.1 and /v2) until "
        "Ctrl-C. By default it behaves like the service: 300 requests a minute and the "
        "x-ratelimit-* headers on every answer (--rate-limit off lifts the limit). Once it "
        "accepts connections it says which rate limit holds on stderr, then prints "
        "'listening on http://HOST:PORT'.",
    )
    add_arguments(p)
    p.set_defaults(handler=_emulator_command, is_async=False)

    limit, window = DEFAULT_RATE_LIMIT
    p = commands_.add_parser(
        "demo",
        help="run the end-to-end demo against an in-process emulator",
        description="Start an emulator and a webhook receiver on loopback, bulk-create "
        "webhooks pointing at the receiver (with a protected Authorization header), test "
        "each one, await all tests and check that every delivery arrived with the request "
        "id the server sent. Prints a summary; exit status 1 if anything did not check out.",
    )
    p.add_argument(
        "--count", type=int, default=DEFAULT_COUNT, metavar="N",
        help=f"webhooks to create and test, 1 to 1000 (default {DEFAULT_COUNT})",
    )  # fmt: skip
    p.add_argument(
        "--rate-limit",
        type=rate_limit_argument,
        default=DEFAULT_RATE_LIMIT,
        metavar="LIMIT/SECONDS",
        help=f"the emulator's rate limit, or 'off' (default {limit}/{window:g})",
    )
    p.add_argument(
        "--concurrency", type=int, default=32, metavar="N", help="requests in flight (32)"
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    p.set_defaults(handler=_demo_command, is_async=False)


# --- the parser ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every command with its options and help."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Manage, test, migrate and receive UbiOps webhooks. Host and token come "
        "from --host/--token or UBIOPS_API_HOST/UBIOPS_API_TOKEN. Exit status: 0 ok, "
        "1 a request or item failed, 2 bad input (nothing sent).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log lines on stderr (-v: info, -vv: every request)",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    commands.register(sub)
    deliveries.register(sub)
    migrate.register(sub)
    _register_extras(sub)
    return parser


# --- running -------------------------------------------------------------------------------


@contextlib.contextmanager
def _library_logging(out: Output, verbose: int) -> Iterator[None]:
    """Library log records (rate-limit waits, with -v requests) and warnings as plain
    ``warning: ...`` lines on stderr, for this run only."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        out.note(f"warning: {message}")

    logger = logging.getLogger("aioubiwebhooks")
    handler = out.log_handler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    saved = (logger.level, logger.propagate)
    logger.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = show
            yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _exit_code(exit_: SystemExit) -> int:
    if exit_.code is None:
        return EXIT_OK
    return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return _exit_code(exit_)
    if getattr(args, "handler", None) is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"{PROG}: error: a command is required (see --help)\n")
        return EXIT_USAGE
    out = Output(json_mode=getattr(args, "json", False), stdout=sys.stdout, stderr=sys.stderr)
    with _library_logging(out, args.verbose):
        try:
            if getattr(args, "is_async", True):
                status: int = asyncio.run(args.handler(args, out))
            else:
                status = args.handler(args, out)
            return status
        except (UsageError, ValidationError) as error:
            out.fail(error)
            return EXIT_USAGE
        except (UbiOpsError, OSError) as error:
            out.fail(error)
            return EXIT_FAILED
        except KeyboardInterrupt:
            out.note("interrupted")
            return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
