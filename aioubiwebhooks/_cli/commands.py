"""The webhook commands: list, get, create, update and delete.

Each is a coroutine ``(args, out) -> exit status`` over the library's public
calls; none of them knows HTTP. Errors that end a command propagate to
:func:`aioubiwebhooks.cli.main`, which maps them to exit statuses.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypedDict, TypeVar

from .. import _wire, bulk
from .._outcome import Outcome
from ..models import EventType, ObjectType, WebhookCreate, WebhookDetail
from ..session import WebhooksSession
from . import options
from .interrupt import stop_on_signals
from .output import (
    EXIT_OK,
    HIDDEN,
    ItemResult,
    Output,
    UsageError,
    format_table,
)
from .specfile import read_create_specs

__all__ = ["register"]

_I = TypeVar("_I")
_R = TypeVar("_R")


# --- list, get -----------------------------------------------------------------------------


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _labels_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


async def list_command(args: argparse.Namespace, out: Output) -> int:
    async with options.connect(args) as session:
        hooks = await session.webhooks_list(
            args.project, labels=args.labels, object_type=args.object_type, event=args.event
        )
    if out.json_mode:
        out.document({"project": args.project, "webhooks": [_wire.webhook_json(h) for h in hooks]})
        return EXIT_OK
    if not hooks:
        out.line(f"no webhooks in project {args.project}")
        return EXIT_OK
    rows = [
        (
            h.name,
            f"{h.object_type}/{h.object_name}" + (f"@{h.version}" if h.version else ""),
            str(h.event),
            _yes(h.enabled),
            _labels_text(h.labels),
            h.url,
        )
        for h in hooks
    ]
    out.line(format_table(("NAME", "OBJECT", "EVENT", "ENABLED", "LABELS", "URL"), rows))
    return EXIT_OK


def _show_webhook(out: Output, hook: WebhookDetail) -> None:
    if out.json_mode:
        out.document(_wire.webhook_json(hook))
        return
    headers = [
        f"{h.key}: {HIDDEN} (protected)" if h.protected else f"{h.key}: {h.value}"
        for h in hook.headers
    ]
    fields: list[tuple[str, str]] = [
        ("name", hook.name),
        ("id", hook.id),
        ("url", hook.url),
        ("object", f"{hook.object_type} {hook.object_name}"),
        ("version", hook.version or "(default)"),
        ("event", str(hook.event)),
        ("enabled", _yes(hook.enabled)),
        ("timeout", f"{hook.timeout} s"),
        ("retry", _yes(hook.retry)),
        ("include_result", _yes(hook.include_result)),
        ("description", hook.description or ""),
        ("labels", _labels_text(hook.labels)),
        ("headers", headers[0] if headers else ""),
        *(("", header) for header in headers[1:]),
        ("created", hook.creation_date.isoformat() if hook.creation_date else ""),
        ("updated", hook.last_updated.isoformat() if hook.last_updated else ""),
    ]
    width = max(len(name) for name, _ in fields) + 2
    for name, value in fields:
        out.line(f"{(name + ':') if name else '':<{width}}{value}".rstrip())


async def get_command(args: argparse.Namespace, out: Output) -> int:
    async with options.connect(args) as session:
        hook = await session.webhooks_get(args.project, args.name)
    _show_webhook(out, hook)
    return EXIT_OK


# --- create, update, delete ----------------------------------------------------------------


_CREATE_FIELDS = (
    "name", "url", "object_type", "object_name", "event", "version", "headers", "timeout",
    "retry", "include_result", "description", "labels", "enabled",
)  # fmt: skip


def _create_specs(args: argparse.Namespace) -> list[WebhookCreate]:
    flags_given = any(getattr(args, name) is not None for name in _CREATE_FIELDS)
    if args.file is not None:
        if flags_given:
            raise UsageError("give --file or the webhook's fields as flags, not both")
        return read_create_specs(args.file)
    if not flags_given:
        raise UsageError("nothing to create: give --file SPEC or the webhook's fields as flags")
    return [options.create_spec(args)]


_CREATE_STATUS = {"error": "created", "skip": "created", "update": "applied"}


async def create_command(args: argparse.Namespace, out: Output) -> int:
    specs = _create_specs(args)
    done = _CREATE_STATUS[args.on_conflict]
    resume = "run the same command again with --on-conflict skip to create the rest"
    if args.on_conflict != "error":
        resume = "run the same command again to finish: what exists is decided in one request"
    return await _run_bulk(
        args,
        out,
        lambda session, settings: session.bulk_create(
            args.project, specs, on_conflict=args.on_conflict, **settings
        ),
        lambda o: ItemResult.of(o, o.item.name, done=done, skipped="exists"),
        label="creating",
        verb="create",
        resume=resume,
    )


async def update_command(args: argparse.Namespace, out: Output) -> int:
    update = options.update_spec(args)
    async with options.connect(args) as session:
        hook = await session.webhooks_update(args.project, args.name, update)
    if out.json_mode:
        out.document(_wire.webhook_json(hook))
    else:
        changed = ", ".join(update.changed_fields())
        out.line(f"updated {hook.name}: {changed}")
    return EXIT_OK


async def delete_command(args: argparse.Namespace, out: Output) -> int:
    names = list(dict.fromkeys(args.names))
    return await _run_bulk(
        args,
        out,
        lambda session, settings: session.bulk_delete(args.project, names, **settings),
        lambda o: ItemResult.of(o, o.item, done="deleted", skipped="missing"),
        label="deleting",
        verb="delete",
        resume="run the same command again: webhooks already gone count as done",
    )


class _BulkSettings(TypedDict):
    """What a bulk command passes to every bulk call, besides its items."""

    concurrency: int
    fail_fast: bool
    progress: bulk.ProgressHook
    stop: bulk.BulkStop


async def _run_bulk(
    args: argparse.Namespace,
    out: Output,
    call: Callable[[WebhooksSession, _BulkSettings], Awaitable[list[Outcome[_I, _R]]]],
    result: Callable[[Outcome[_I, _R]], ItemResult],
    *,
    label: str,
    verb: str,
    resume: str,
) -> int:
    """Run a bulk call with ``--concurrency`` and ``--fail-fast``, a progress bar, and
    Ctrl-C asking it to stop; then report every item."""
    with stop_on_signals(out) as stop:
        async with (
            options.connect(args) as session,
            out.progress(label, pacer=session.pacer) as bar,
        ):
            settings = _BulkSettings(
                concurrency=args.concurrency, fail_fast=args.fail_fast, progress=bar, stop=stop
            )
            outcomes = await call(session, settings)
    return out.items(
        [result(o) for o in outcomes],
        verb=verb,
        extra={"project": args.project},
        interrupted=stop.requested,
        resume=resume,
    )


# --- the parsers ---------------------------------------------------------------------------


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add list, get, create, update and delete to the main parser."""
    p = commands.add_parser(
        "list",
        help="list a project's webhooks",
        description="List a project's webhooks as a table (or JSON), optionally filtered; "
        "every filter given must match.",
    )
    p.add_argument("project")
    p.add_argument(
        "--labels", type=options.labels_filter, metavar="K:V[,K:V...]",
        help="only webhooks carrying all these labels",
    )  # fmt: skip
    p.add_argument("--object-type", choices=[t.value for t in ObjectType])
    p.add_argument("--event", choices=[e.value for e in EventType], metavar="EVENT")
    options.add_connection_arguments(p)
    p.set_defaults(handler=list_command)

    p = commands.add_parser(
        "get",
        help="show one webhook",
        description="Show one webhook. Protected header values are never shown.",
    )
    p.add_argument("project")
    p.add_argument("name")
    options.add_connection_arguments(p)
    p.set_defaults(handler=get_command)

    p = commands.add_parser(
        "create",
        help="create webhooks from a spec file or from flags",
        description="Create webhooks: many from --file (JSON or YAML, one spec or a list; "
        "created concurrently, paced to the rate limit, with a progress bar on a terminal), "
        "or one from flags. Every spec is checked before any request is sent. "
        "Exit status 1 when any webhook failed.",
    )
    p.add_argument("project")
    p.add_argument("--file", "-f", type=Path, metavar="SPEC", help="JSON or YAML spec file")
    options.add_create_arguments(p)
    _add_bulk_arguments(p)
    p.add_argument(
        "--on-conflict",
        choices=["error", "skip", "update"],
        default="error",
        help="when the name exists: fail (default), leave it (status 'exists'; its protected "
        "values are not sent and may differ), or update it to match (status 'applied'; "
        "protected values are always sent, since the stored ones cannot be read)",
    )
    options.add_connection_arguments(p)
    p.set_defaults(handler=create_command)

    p = commands.add_parser(
        "update",
        help="change fields of a webhook",
        description="Change the fields given as flags; the others keep their values. "
        "Headers and labels are replaced as a whole.",
    )
    p.add_argument("project")
    p.add_argument("name")
    options.add_update_arguments(p)
    options.add_connection_arguments(p)
    p.set_defaults(handler=update_command)

    p = commands.add_parser(
        "delete",
        help="delete webhooks",
        description="Delete webhooks by name, concurrently. A webhook that is already gone "
        "counts as done (status 'missing'), so the command can simply be run again.",
    )
    p.add_argument("project")
    p.add_argument("names", nargs="+", metavar="NAME")
    _add_bulk_arguments(p)
    options.add_connection_arguments(p)
    p.set_defaults(handler=delete_command)


def _add_bulk_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--concurrency",
        type=options.concurrency,
        default=bulk.DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests in flight at once (default {bulk.DEFAULT_CONCURRENCY}); the session "
        "still paces them to the server's rate limit",
    )
    parser.add_argument(
        "--fail-fast", action="store_true", help="start no new item after the first failure"
    )
