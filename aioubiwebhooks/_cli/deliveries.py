"""The delivery commands: ``test`` (ask the API for one test delivery), ``listen``, ``journal``.

Both may run a :class:`~aioubiwebhooks.receiver.WebhookReceiver`: ``test --listen``
points the test at a local one and prints what arrived; ``listen`` prints every
delivery as one JSON line (:func:`~aioubiwebhooks.events.event_to_json`, which
never includes headers, so a webhook's secret cannot leak through it), keeping
them in a journal with ``--journal``. ``journal show`` prints what a journal holds
and has not handled; ``journal replay`` prints it too and marks each one handled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any, Final

from .. import _wire
from .._signals import on_stop_signals
from ..errors import TestFailedError
from ..events import WebhookEvent, event_to_json
from ..journal import DEFAULT_GROUP, JournalError, open_journal
from ..models import TestStatus, WebhookDetail, WebhookTestCreate, WebhookTestDetail
from ..receiver import WebhookReceiver
from ..session import WebhooksSession, webhook_test_spec
from . import options
from .output import EXIT_FAILED, EXIT_OK, Output, UsageError, describe

__all__ = ["register"]

_SPEC_ONLY: Final = ("object_type", "object_name", "event", "version", "timeout", "retry")
_CHECK_URL: Final = "http://127.0.0.1/"
"""Where a test spec given by flags points while it is checked, before the receiver runs."""
DELIVERY_WAIT: Final = 10.0
"""Seconds to wait for a completed test's delivery: it was acknowledged before completion."""


# --- test ----------------------------------------------------------------------------------


def _check_test_args(args: argparse.Namespace) -> None:
    """Flag combinations that make no sense, refused before any request."""
    if args.name is not None:
        given = [name for name in _SPEC_ONLY if getattr(args, name) is not None]
        if args.include_result is not None:
            given.append("include_result")
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise UsageError(f"{flag} describes a new spec; with NAME the stored settings are used")
        for _key, value, protected in args.headers or ():
            if not protected or value is None:
                raise UsageError(
                    "with NAME only --protected-header KEY=VALUE is allowed, to give the "
                    "values of the stored protected headers"
                )
    if args.listen and args.url is not None and args.public_url is None:
        raise UsageError("--listen sends the test to the local receiver; drop --url")


async def _stored_for_test(
    args: argparse.Namespace, session: WebhooksSession
) -> WebhookDetail | None:
    """The stored webhook NAME (None without one), checked before anything else starts:
    the API never returns its protected values, so each must be given."""
    if args.name is None:
        return None
    stored = await session.webhooks_get(args.project, args.name)
    values = {key: value for key, value, _ in args.headers or ()}
    for header in stored.headers:
        if header.protected and header.key not in values:  # a read value is never the secret
            raise UsageError(
                f"webhook {stored.name!r} has the protected header {header.key!r}, whose value "
                f"the API never returns: give it as --protected-header {header.key}=VALUE"
            )
    return stored


def _test_spec(
    args: argparse.Namespace, stored: WebhookDetail | None, url: str | None
) -> WebhookTestCreate:
    """The test to run: the stored webhook's settings, or the spec given by flags."""
    if stored is None:
        return options.spec_for_test(args, url=url)
    values = {key: value for key, value, _ in args.headers or ()}
    return webhook_test_spec(stored, values, url=url or args.url)


async def _run_test(
    args: argparse.Namespace,
    session: WebhooksSession,
    spec: WebhookTestCreate,
    *,
    wait: bool,
    receiver: WebhookReceiver | None = None,
) -> WebhookTestDetail:
    test = await session.webhook_tests_create(args.project, spec)
    if not wait:
        return test
    return await session.await_test(
        args.project, test.id, timeout=args.wait_timeout, receiver=receiver
    )


def _event_dict(event: WebhookEvent) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event_to_json(event))
    return data


def _report_test(out: Output, detail: WebhookTestDetail, event: WebhookEvent | None) -> int:
    failed = detail.status is TestStatus.FAILED
    if out.json_mode:
        out.document(
            {
                "ok": not failed,
                "test": _wire.webhook_test_json(detail),
                "delivery": None if event is None else _event_dict(event),
            }
        )
    else:
        reason = f": {detail.error_message}" if detail.error_message else ""
        out.line(f"test {detail.id}: {detail.status}{reason}")
        if event is not None:
            out.line(event_to_json(event))
    if failed:
        out.note(f"error: {describe(TestFailedError(detail.id, detail.error_message))}")
    return EXIT_FAILED if failed else EXIT_OK


async def test_command(args: argparse.Namespace, out: Output) -> int:
    _check_test_args(args)
    async with options.connect(args) as session:
        # Every check first: exit status 2 means nothing was started.
        stored = await _stored_for_test(args, session)
        if not args.listen:
            detail = await _run_test(args, session, _test_spec(args, stored, None), wait=args.wait)
            return _report_test(out, detail, None)
        _test_spec(args, stored, args.public_url or _CHECK_URL)  # the flags, before listening
        async with WebhookReceiver(host=args.listen_host, port=args.listen_port) as rx:
            url = args.public_url or rx.url
            note = f" (reached as {url})" if args.public_url else ""
            out.note(f"listening on {rx.url}{note}")
            spec = _test_spec(args, stored, url)
            detail = await _run_test(args, session, spec, wait=True, receiver=rx)
            event = None
            if detail.status is TestStatus.COMPLETED:
                event = await rx.wait_for(timeout=min(args.wait_timeout, DELIVERY_WAIT))
    return _report_test(out, detail, event)


# --- listen --------------------------------------------------------------------------------


async def listen_command(args: argparse.Namespace, out: Output) -> int:
    stop = asyncio.Event()
    received = 0
    with on_stop_signals(stop.set):
        async with WebhookReceiver(
            host=args.host, port=args.port, path=args.path, secret=args.secret, journal=args.journal
        ) as rx:
            out.note(f"listening on {rx.url}")

            async def consume() -> None:
                nonlocal received
                async for event in rx:
                    out.line(event_to_json(event))
                    received += 1
                    if args.count is not None and received >= args.count:
                        return

            consumer = asyncio.ensure_future(consume())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {consumer, stopper}, timeout=args.timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for task in (consumer, stopper):
                task.cancel()
            await asyncio.gather(consumer, stopper, return_exceptions=True)
    if args.count is not None and received < args.count:
        out.note(f"error: {received} of {args.count} deliveries received")
        return EXIT_FAILED
    return EXIT_OK


# --- journal -------------------------------------------------------------------------------


async def journal_command(args: argparse.Namespace, out: Output) -> int:
    journal = open_journal(args.journal, group=args.group)
    try:
        await journal.open()
        entries = await journal.pending()
        for entry in entries:
            out.line(event_to_json(entry.event))
            if args.action == "replay":
                await journal.commit([], [entry.id])  # printed: handled
    except JournalError as error:
        out.note(f"error: {error}")
        return EXIT_FAILED
    finally:
        await journal.close()
    verb = "replayed and marked handled" if args.action == "replay" else "not yet handled"
    out.note(f"{len(entries)} events {verb} in {journal.describe()}")
    return EXIT_OK


# --- the parsers ---------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add test and listen to the main parser."""
    p = commands.add_parser(
        "test",
        help="send a test delivery for a webhook",
        description="Ask the API to send one test delivery: for the stored webhook NAME "
        "(give its protected header values with --protected-header KEY=VALUE; --url sends "
        "the test elsewhere), or for the spec given by flags. Without --wait or --listen "
        "the test is left pending. Exit status 1 when the test ends failed.",
    )
    p.add_argument("project")
    p.add_argument("name", nargs="?", help="a stored webhook (omit to give a spec by flags)")
    options.add_target_arguments(p)
    options.add_delivery_arguments(p, test=True)
    p.add_argument("--wait", action="store_true", help="poll until the test is completed or failed")
    p.add_argument(
        "--wait-timeout", type=options.seconds, default=60.0, metavar="SECONDS",
        help="how long --wait and --listen wait for the result (default 60)",
    )  # fmt: skip
    p.add_argument(
        "--listen",
        action="store_true",
        help="start a local receiver, send the test to it, wait, and print the delivery "
        "(the API server must be able to reach this machine, e.g. the emulator)",
    )
    p.add_argument("--listen-host", default="127.0.0.1", help="receiver address (127.0.0.1)")
    p.add_argument("--listen-port", type=int, default=0, help="receiver port (default: a free one)")
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="with --listen: the URL under which the server reaches the receiver (a tunnel)",
    )
    options.add_connection_arguments(p)
    p.set_defaults(handler=test_command)

    p = commands.add_parser(
        "listen",
        help="receive webhook deliveries and print each as a JSON line",
        description="Serve a webhook receiver and print every accepted delivery as one JSON "
        "line on stdout (headers are never printed); 'listening on URL' goes to stderr. "
        "Stops on Ctrl-C or SIGTERM (exit status 0), after --count deliveries, or after "
        "--timeout seconds (exit status 1 if --count was not reached).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (8080)")
    p.add_argument("--path", default="/", help="the path deliveries are POSTed to (default /)")
    p.add_argument(
        "--secret", help="refuse deliveries whose Authorization header is not exactly this value"
    )
    p.add_argument("--count", type=options.count, metavar="N", help="stop after N deliveries")
    p.add_argument("--timeout", type=options.seconds, metavar="SECONDS", help="stop after this")
    p.add_argument(
        "--journal",
        metavar="PATH|URL",
        help="keep deliveries in a SQLite file or a redis:// stream until printed; after a "
        "restart the ones not yet printed come first",
    )
    p.set_defaults(handler=listen_command)

    p = commands.add_parser(
        "journal",
        help="show or replay the events a journal has not handled",
        description="Print, as JSON lines and oldest first, the events a journal (a SQLite "
        "file or a redis:// URL) accepted and no consumer has handled yet. 'replay' also "
        "marks each one handled once printed, so a script reading stdout takes them over.",
    )
    p.add_argument("action", choices=("show", "replay"))
    p.add_argument("journal", metavar="PATH|URL")
    p.add_argument(
        "--group", default=DEFAULT_GROUP, help=f"Redis consumer group (default {DEFAULT_GROUP})"
    )
    p.set_defaults(handler=journal_command)
