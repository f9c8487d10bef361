"""The migration commands: export, plan, apply and copy, over :mod:`aioubiwebhooks.migrate`.

Plans are shown before anything changes, and a plan that needs protected values
nobody supplied is refused as a whole (exit 1) without touching the project.
Protected values can be given as ``--protected KEY=VALUE`` where VALUE may be a
``${VAR}`` reference, which keeps the secret itself off the command line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from .. import migrate
from ..bulk import DEFAULT_CONCURRENCY
from ..errors import PlanBlockedError
from ..session import WebhooksSession
from . import options
from .interrupt import stop_on_signals
from .output import EXIT_FAILED, EXIT_OK, ItemResult, Output, UsageError, describe, error_info
from .protected_file import read_protected_file

__all__ = ["register"]

TARGET_HOST_ENV: Final = "UBIOPS_TARGET_API_HOST"
TARGET_TOKEN_ENV: Final = "UBIOPS_TARGET_API_TOKEN"  # noqa: S105 - a variable name

_MAX_NAMED: Final = 5
"""Variables or header keys a hint names before "and N more"."""

_DONE: Final = {
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "delete": "deleted",
}


# --- export --------------------------------------------------------------------------------


def _export_format(args: argparse.Namespace) -> migrate.SpecFormat:
    if args.format is not None:
        chosen: migrate.SpecFormat = args.format
        return chosen
    if args.output is not None and args.output.suffix.lower() in (".yaml", ".yml"):
        return "yaml"
    return "json"


async def export_command(args: argparse.Namespace, out: Output) -> int:
    fmt = _export_format(args)
    if args.output is None and args.json and fmt != "json":
        raise UsageError("--json prints JSON; drop --format yaml or write it with -o FILE")
    async with options.connect(args) as session:
        specs = await migrate.export(session, args.project)
    text = migrate.dump_specs(specs, fmt)
    unknown = sum(1 for s in specs for h in s["headers"] if h["protected"])
    if args.output is None:
        out.stdout.write(text)
        out.stdout.flush()
    else:
        args.output.write_text(text, encoding="utf-8")
        if out.json_mode:
            out.document(
                {
                    "ok": True,
                    "project": args.project,
                    "count": len(specs),
                    "file": str(args.output),
                    "format": fmt,
                    "unknown_protected_values": unknown,
                }
            )
        else:
            out.line(f"exported {len(specs)} webhooks of {args.project} to {args.output}")
    if unknown:
        values = "value is" if unknown == 1 else "values are"
        out.note(
            f"note: {unknown} protected header {values} not readable and written as null; "
            "before applying elsewhere give them as ${VAR} references or with --protected"
        )
    return EXIT_OK


# --- plan, apply, copy ---------------------------------------------------------------------


def _protected(args: argparse.Namespace) -> dict[str, str]:
    """The values of ``--protected`` flags and ``--protected-file``; a key in both is an error."""
    values = options.pairs(args.protected, "--protected")
    if args.protected_file is not None:
        for key, value in read_protected_file(args.protected_file).items():
            if key in values:
                raise UsageError(f"{key!r:.80} is given by --protected and --protected-file")
            values[key] = value
    return values


def _load(path: Path) -> list[migrate.WebhookSpec]:
    return migrate.read_specs(path)


def _show_plan(out: Output, plan: migrate.Plan) -> None:
    if not out.json_mode:
        out.line(plan.summary())


def _blocked(out: Output, plan: migrate.Plan, *, extra: dict[str, Any]) -> int:
    """Report a plan that cannot be applied: what is missing, and that nothing changed."""
    error = PlanBlockedError(plan.project, plan.blocked)
    if out.json_mode:
        out.document({"ok": False, **extra, "plan": plan.to_dict(), "error": error_info(error)})
    out.note(f"error: {describe(error)}")
    for hint in _blocked_hints(plan.blocked):
        out.note(f"hint: {hint}")
    return EXIT_FAILED


def _blocked_hints(blocked: Sequence[migrate.Blocked]) -> list[str]:
    """What to do: the variables to set, by name; the values nobody gave, how to give them."""
    hints = []
    variables = list(dict.fromkeys(name for b in blocked for name in b.variables))
    if variables:
        shown = ", ".join(variables[:_MAX_NAMED])
        more = f" and {len(variables) - _MAX_NAMED} more" if len(variables) > _MAX_NAMED else ""
        plural = "s" if len(variables) > 1 else ""
        hints.append(f"set the environment variable{plural} {shown}{more} the specs refer to")
    keys = list(dict.fromkeys(v.header for b in blocked for v in b.values if not v.variables))
    if keys:
        hints.append(
            f"give the values of {', '.join(keys[:_MAX_NAMED])} with --protected KEY=VALUE "
            "or --protected-file FILE (a value may be a ${VAR} reference)"
        )
    return hints


async def _carry_out(
    out: Output,
    session: WebhooksSession,
    plan: migrate.Plan,
    args: argparse.Namespace,
    **extra: Any,
) -> int:
    """Show the plan, then apply it unless ``--dry-run``; exit 1 when blocked or any failed."""
    _show_plan(out, plan)
    if plan.blocked:
        return _blocked(out, plan, extra=extra)
    if args.dry_run or not plan.actions:
        if out.json_mode:
            out.document({"ok": True, **extra, "dry_run": args.dry_run, "plan": plan.to_dict()})
        return EXIT_OK
    with stop_on_signals(out) as stop:
        async with out.progress("applying", pacer=session.pacer) as bar:
            result = await migrate.apply(
                session, plan, concurrency=args.concurrency, progress=bar, stop=stop
            )
    items = [
        ItemResult.of(o, o.item.name, done=_DONE[o.item.kind], skipped="already done")
        for o in result.outcomes
    ]
    again = "plan and apply again to finish: what is done is not repeated"
    status = out.items(
        items,
        verb="apply",
        extra={**extra, "dry_run": False},
        interrupted=stop.requested,
        resume=again,
    )
    if status == EXIT_FAILED:
        out.note(f"hint: {again}")
    return status


async def _plan_from_args(session: WebhooksSession, args: argparse.Namespace) -> migrate.Plan:
    """The plan for ``plan`` and ``apply``: the spec file against the project."""
    return await migrate.plan(
        session,
        args.project,
        _load(args.specfile),
        args.prune,
        protected_values=_protected(args),
    )


async def plan_command(args: argparse.Namespace, out: Output) -> int:
    async with options.connect(args) as session:
        plan = await _plan_from_args(session, args)
    _show_plan(out, plan)
    if plan.blocked:
        return _blocked(out, plan, extra={"project": args.project})
    if out.json_mode:
        out.document({"ok": True, "project": args.project, "plan": plan.to_dict()})
    return EXIT_OK


async def apply_command(args: argparse.Namespace, out: Output) -> int:
    async with options.connect(args) as session:
        plan = await _plan_from_args(session, args)
        return await _carry_out(out, session, plan, args, project=args.project)


def _target(args: argparse.Namespace) -> WebhooksSession:
    """The target session: its own host and token, or the source's when no host is given."""
    host = args.target_host or os.environ.get(TARGET_HOST_ENV) or None
    token = args.target_token or os.environ.get(TARGET_TOKEN_ENV) or None
    if host is not None and token is None:
        raise UsageError(
            f"a target host needs its own token: give --target-token or set {TARGET_TOKEN_ENV} "
            "(the source token is only reused on the source host)"
        )
    return options.connect(args, host=host, token=token)


async def copy_command(args: argparse.Namespace, out: Output) -> int:
    rename = options.pairs(args.rename, "--rename")
    rewrites = list(options.pairs(args.rewrite_url, "--rewrite-url").items())
    protected = _protected(args)
    extra = {"source_project": args.source_project, "project": args.target_project}
    async with options.connect(args) as source, _target(args) as target:
        copied = await migrate.copy(
            source,
            args.source_project,
            target,
            args.target_project,
            rename=rename,
            rewrite_urls=rewrites,
            protected_values=protected,
            prune=args.prune,
            dry_run=True,
        )
        return await _carry_out(out, target, copied.plan, args, **extra)


# --- the parsers ---------------------------------------------------------------------------


def _add_plan_arguments(parser: argparse.ArgumentParser, *, rotate: bool = False) -> None:
    parser.add_argument(
        "--prune", action="store_true", help="also delete stored webhooks that no spec names"
    )
    if rotate:  # known protected values are always sent now; kept for old scripts
        parser.add_argument("--rotate-secrets", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--protected", action="append", type=options.key_value, metavar="KEY=VALUE",
        help="value of a protected header the specs leave unknown, by header key or "
        "'webhook-name/Header-Key'; VALUE may be a ${VAR} reference (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--protected-file", type=Path, metavar="FILE",
        help="many --protected values at once: a JSON object, or KEY=VALUE lines "
        "(dotenv style, # comments)",
    )  # fmt: skip


def _add_apply_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show the plan and change nothing")
    parser.add_argument(
        "--concurrency", type=options.concurrency, default=DEFAULT_CONCURRENCY, metavar="N",
        help=f"actions in flight at once (default {DEFAULT_CONCURRENCY}), paced to the rate limit",
    )  # fmt: skip


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add export, plan, apply and copy to the main parser."""
    p = commands.add_parser(
        "export",
        help="write a project's webhooks as a spec file",
        description="Write a project's webhooks as specs (JSON or YAML, sorted by name, every "
        "field present) to stdout or to -o FILE. Protected header values cannot be read "
        "from the API and are written as null.",
    )
    p.add_argument("project")
    p.add_argument(
        "--format", choices=["json", "yaml"], help="default: from -o's extension, else json"
    )
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here, not stdout")
    options.add_connection_arguments(p)
    p.set_defaults(handler=export_command)

    p = commands.add_parser(
        "plan",
        help="show what apply would change",
        description="Compare a spec file (as export writes it) with the project and show what "
        "apply would create, update, replace or delete. Changes nothing. Exit status 1 when "
        "the plan is blocked by protected header values nobody supplied.",
    )
    p.add_argument("project")
    p.add_argument("specfile", type=Path, metavar="SPECFILE")
    _add_plan_arguments(p, rotate=True)
    options.add_connection_arguments(p)
    p.set_defaults(handler=plan_command)

    p = commands.add_parser(
        "apply",
        help="bring a project to the state of a spec file",
        description="Plan, show the plan, then carry it out concurrently (progress bar on a "
        "terminal). Re-runnable: after a partial failure, apply again does only what is left. "
        "A blocked plan changes nothing. Exit status 1 when blocked or any action failed.",
    )
    p.add_argument("project")
    p.add_argument("specfile", type=Path, metavar="SPECFILE")
    _add_plan_arguments(p, rotate=True)
    _add_apply_arguments(p)
    options.add_connection_arguments(p)
    p.set_defaults(handler=apply_command)

    p = commands.add_parser(
        "copy",
        help="copy webhooks to another project or host",
        description="Copy every webhook of SRC_PROJECT to DST_PROJECT: export, plan, show the "
        "plan, apply. The target is the source host unless --target-host or "
        f"${TARGET_HOST_ENV} is set (then --target-token or ${TARGET_TOKEN_ENV} is required). "
        "Protected values cannot be read from the source: give them with --protected.",
    )
    p.add_argument("source_project", metavar="SRC_PROJECT")
    p.add_argument("target_project", metavar="DST_PROJECT")
    p.add_argument(
        "--target-host", help=f"target API host (default: ${TARGET_HOST_ENV}, else source)"
    )
    p.add_argument(
        "--target-token",
        help=f"target API token (default: ${TARGET_TOKEN_ENV}, else the source token on the "
        "source host)",
    )
    p.add_argument(
        "--rename", action="append", type=options.key_value, metavar="OLD=NEW",
        help="give webhook OLD the name NEW in the target (repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--rewrite-url", action="append", type=options.key_value, metavar="OLD=NEW",
        help="replace URL prefix OLD by NEW, split at the first '='; the first match wins "
        "(repeatable)",
    )  # fmt: skip
    _add_plan_arguments(p)
    _add_apply_arguments(p)
    options.add_connection_arguments(p)
    p.set_defaults(handler=copy_command)
