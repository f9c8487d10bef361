"""Command-line options shared by several commands, and the models built from them.

Flag values are parsed by argparse types (a malformed ``KEY=VALUE`` is a usage
error, exit 2, before anything else runs); the webhook's own field rules are
left to the models, whose ValidationError names the field and the rule, so a
spec given by flags is checked exactly like one given in a file.

A malformed header flag is reported without echoing it: it may hold a secret.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from ..models import EventType, ObjectType, WebhookCreate, WebhookTestCreate, WebhookUpdate
from ..session import WebhooksSession
from .output import UsageError

__all__ = [
    "HeaderArg",
    "add_connection_arguments",
    "add_create_arguments",
    "add_delivery_arguments",
    "add_target_arguments",
    "add_update_arguments",
    "concurrency",
    "connect",
    "count",
    "create_spec",
    "key_value",
    "labels_filter",
    "pairs",
    "seconds",
    "spec_for_test",
    "update_spec",
]

TOKEN_ENV: Final = "UBIOPS_API_TOKEN"  # noqa: S105 - a variable name, not a secret
HOST_ENV: Final = "UBIOPS_API_HOST"

_Number = TypeVar("_Number", int, float)

HeaderArg = tuple[str, "str | None", bool]
"""A header flag as parsed: key, value (None: keep the stored one) and whether protected."""


# --- argparse types ------------------------------------------------------------------------


def key_value(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` with a non-empty key; the value may be empty or hold more ``=``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected KEY=VALUE with a non-empty KEY")
    return key, value


def _plain_header(text: str) -> HeaderArg:
    key, value = key_value(text)
    return key, value, False


def _protected_header(text: str) -> HeaderArg:
    key, sep, value = text.partition("=")
    if not key:
        raise argparse.ArgumentTypeError("expected KEY=VALUE (or KEY alone) with a non-empty KEY")
    return key, (value if sep else None), True


def labels_filter(text: str) -> dict[str, str]:
    """The API's label filter ``k:v,k2:v2``, each part checked."""
    labels: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition(":")
        if not sep or not key or not value or ":" in value:
            raise argparse.ArgumentTypeError(
                f"expected KEY:VALUE[,KEY:VALUE...] with non-empty keys and values, got {text!r}"
            )
        labels[key] = value
    return labels


def _parsed(text: str, convert: Callable[[str], _Number], what: str) -> _Number:
    """``text`` converted, or the usage error saying that it is not ``what``."""
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def concurrency(text: str) -> int:
    """A whole number of requests in flight, 1 to 1000."""
    value = _parsed(text, int, "a whole number")
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1000, got {value}")
    return value


def count(text: str) -> int:
    """A whole number of at least 1."""
    value = _parsed(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seconds(text: str) -> float:
    """A positive number of seconds, at most a day."""
    value = _parsed(text, float, "a number of seconds")
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 86400, got {text}")
    return value


def pairs(values: Sequence[tuple[str, str]] | None, flag: str) -> dict[str, str]:
    """Repeated ``KEY=VALUE`` flags as a mapping; a key given twice is a usage error."""
    result: dict[str, str] = {}
    for key, value in values or ():
        if key in result:
            raise UsageError(f"{flag}: {key!r} is given twice")
        result[key] = value
    return result


# --- groups of options ---------------------------------------------------------------------


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--host``, ``--token`` and ``--json``, as every command that calls the API has them."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--host",
        default=None,
        help=f"API host or base URL (default: ${HOST_ENV}, else https://api.ubiops.com/v2.1)",
    )
    group.add_argument(
        "--token",
        default=None,
        help=f"API token, with or without 'Token ' (default: ${TOKEN_ENV}; prefer the variable, "
        "a flag is visible to other users of this machine)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout instead of text"
    )


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """What a webhook watches and where it posts: url, object and event."""
    parser.add_argument("--url", help="where deliveries are POSTed (absolute http(s) URL)")
    parser.add_argument(
        "--object-type", choices=[t.value for t in ObjectType], help="what the webhook watches"
    )
    parser.add_argument("--object-name", help="name of the deployment or pipeline")
    parser.add_argument(
        "--event",
        choices=[e.value for e in EventType],
        metavar="EVENT",
        help="e.g. deployment_request_failed: started, completed, failed or finished, "
        "prefixed with the object type",
    )
    parser.add_argument("--version", help="object version (default: the default version)")


def add_delivery_arguments(
    parser: argparse.ArgumentParser, *, update: bool = False, test: bool = False
) -> None:
    """How a delivery is made: headers, timeout, retry, include_result."""
    parser.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=_plain_header,
        metavar="KEY=VALUE",
        help="a header sent with each delivery (repeatable)",
    )
    protected_help = "a header whose value the API never shows again (repeatable)"
    if update:
        protected_help = protected_help[:-1] + "; KEY alone keeps the stored value)"
    if test:
        protected_help += "; with NAME: the value of the stored protected header KEY"
    parser.add_argument(
        "--protected-header",
        dest="headers",
        action="append",
        type=_protected_header,
        metavar="KEY=VALUE",
        help=protected_help,
    )
    parser.add_argument(
        "--timeout",
        type=int,
        metavar="SECONDS",
        help="seconds a delivery may take, 1 to 30" + ("" if update else " (default 10)"),
    )
    parser.add_argument(
        "--retry",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="retry a failed delivery (default: no)" if not update else "retry failed deliveries",
    )
    parser.add_argument(
        "--include-result",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send the request's result with the delivery (default: no)"
        if not update
        else "send the request's result",
    )


def _add_enabled(parser: argparse.ArgumentParser, default_text: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--enable",
        dest="enabled",
        action="store_const",
        const=True,
        default=None,
        help=f"the webhook fires{default_text}",
    )
    group.add_argument(
        "--disable", dest="enabled", action="store_const", const=False, help="the webhook is off"
    )


def add_create_arguments(parser: argparse.ArgumentParser) -> None:
    """Every field of a new webhook, as flags."""
    parser.add_argument("--name", help="webhook name, 1 to 64 characters, unique in the project")
    add_target_arguments(parser)
    add_delivery_arguments(parser)
    parser.add_argument("--description", help="at most 400 characters")
    parser.add_argument(
        "--label", dest="labels", action="append", type=key_value, metavar="KEY=VALUE",
        help="a label (repeatable)",
    )  # fmt: skip
    _add_enabled(parser, " (default)")


def add_update_arguments(parser: argparse.ArgumentParser) -> None:
    """The fields an update may change; only those given are sent."""
    parser.add_argument("--new-name", metavar="NAME", help="rename the webhook")
    parser.add_argument("--url", help="where deliveries are POSTed")
    parser.add_argument(
        "--event",
        choices=[e.value for e in EventType],
        metavar="EVENT",
        help="a new event of the same object type",
    )
    add_delivery_arguments(parser, update=True)
    parser.add_argument("--clear-headers", action="store_true", help="remove every header")
    parser.add_argument("--description", help="new description ('' for none)")
    parser.add_argument(
        "--label", dest="labels", action="append", type=key_value, metavar="KEY=VALUE",
        help="replace all labels with these (repeatable)",
    )  # fmt: skip
    parser.add_argument("--clear-labels", action="store_true", help="remove every label")
    _add_enabled(parser, "")


# --- models from flags ---------------------------------------------------------------------


def _headers(args: argparse.Namespace) -> list[dict[str, Any]]:
    return [
        {"key": key, "value": value, "protected": protected}
        for key, value, protected in (args.headers or [])
    ]


def _given(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


_TARGET = ("url", "object_type", "object_name", "event", "version")
_DELIVERY = ("timeout", "retry", "include_result")


def create_spec(args: argparse.Namespace) -> WebhookCreate:
    """The webhook the flags describe (ValidationError names a missing or bad field)."""
    fields = _given(args, ("name", *_TARGET, *_DELIVERY, "description", "enabled"))
    if args.headers:
        fields["headers"] = _headers(args)
    if args.labels:
        fields["labels"] = pairs(args.labels, "--label")
    return WebhookCreate.from_dict(fields)


def spec_for_test(args: argparse.Namespace, *, url: str | None = None) -> WebhookTestCreate:
    """The webhook test the flags describe, sent to ``url`` when given."""
    fields = _given(args, (*_TARGET, *_DELIVERY))
    if url is not None:
        fields["url"] = url
    if args.headers:
        fields["headers"] = _headers(args)
    return WebhookTestCreate.from_dict(fields)


def update_spec(args: argparse.Namespace) -> WebhookUpdate:
    """The update the flags describe; UsageError when they describe nothing."""
    if args.headers and args.clear_headers:
        raise UsageError("give --header/--protected-header or --clear-headers, not both")
    if args.labels and args.clear_labels:
        raise UsageError("give --label or --clear-labels, not both")
    fields = _given(args, ("url", "event", *_DELIVERY, "enabled"))
    if args.new_name is not None:
        fields["name"] = args.new_name
    if args.description is not None:
        fields["description"] = args.description or None
    if args.headers or args.clear_headers:
        fields["headers"] = _headers(args)
    if args.labels or args.clear_labels:
        fields["labels"] = pairs(args.labels, "--label")
    if not fields:
        raise UsageError("nothing to update: give at least one field to change (see --help)")
    return WebhookUpdate.from_dict(fields)


def connect(
    args: argparse.Namespace,
    *,
    host: str | None = None,
    token: str | None = None,
    token_env: str = TOKEN_ENV,
) -> WebhooksSession:
    """A session from ``--host``/``--token`` or the environment; UsageError without a token."""
    token = token if token is not None else args.token
    if not (token or os.environ.get(token_env, "")).strip():
        raise UsageError(f"no API token: give --token or set {token_env}")
    return WebhooksSession(
        token=token or os.environ[token_env], host=host if host is not None else args.host
    )
