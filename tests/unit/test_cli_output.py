"""The command's printing and flag parsing, without a server."""

from __future__ import annotations

import argparse
import io
import json
import logging

import pytest

from aioubiwebhooks import (
    AuthenticationError,
    BulkProgress,
    EventType,
    ObjectType,
    ValidationError,
    WebhookDetail,
    WebhookHeader,
    _wire,
)
from aioubiwebhooks._cli import options
from aioubiwebhooks._cli.output import (
    ItemResult,
    Output,
    ProgressBar,
    UsageError,
    error_info,
    format_table,
)
from aioubiwebhooks._cli.progress import duration
from aioubiwebhooks._ratelimit import Pacer
from aioubiwebhooks.cli import build_parser


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_table_aligns_columns_and_leaves_the_last_unpadded() -> None:
    text = format_table(("A", "LONGER", "C"), [("xyz", "1", "end"), ("q", "22222222", "")])
    assert text.splitlines() == ["A    LONGER    C", "xyz  1         end", "q    22222222"]


def test_progress_bar_draws_on_a_terminal_and_ends_the_line() -> None:
    stream = Terminal()
    bar = ProgressBar(stream, "creating", enabled=True, interval=0.0)
    for done in range(1, 5):
        bar(BulkProgress(done=done, total=4, failed=1 if done > 2 else 0))
    bar.finish()
    text = stream.getvalue()
    assert text.endswith("creating [" + "#" * 28 + "] 4/4  1 failed\n")
    assert text.count("\r\x1b[K") >= 4


def test_progress_bar_is_silent_when_disabled() -> None:
    stream = io.StringIO()
    bar = Output(json_mode=False, stdout=io.StringIO(), stderr=stream).progress("x")
    bar(BulkProgress(done=1, total=1, failed=0))
    bar.finish()
    assert stream.getvalue() == ""


def test_error_info_carries_type_status_and_field() -> None:
    api = AuthenticationError(401, "bad token", method="GET", path="/p")
    assert error_info(api) == {
        "type": "AuthenticationError",
        "message": "GET /p -> 401: bad token",
        "status": 401,
    }
    field = ValidationError("timeout", "must be between 1 and 30 seconds", 99)
    assert error_info(field)["field"] == "timeout"


def test_webhook_json_hides_a_protected_value_even_if_a_server_sent_one() -> None:
    detail = WebhookDetail(
        id="1", name="n", url="https://example.org", object_type=ObjectType.DEPLOYMENT,
        object_name="d", event=EventType.DEPLOYMENT_REQUEST_STARTED,
        headers=(WebhookHeader("Authorization", "leaked", protected=True),),
    )  # fmt: skip
    data = _wire.webhook_json(detail)
    assert data["headers"] == [{"key": "Authorization", "value": None, "protected": True}]
    assert "leaked" not in json.dumps(data)


def test_items_report_counts_and_failures() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(json_mode=True, stdout=stdout, stderr=stderr)
    error = AuthenticationError(401, "no", method="POST", path="/x")
    status = out.items(
        [ItemResult("a", "created"), ItemResult("b", "failed", error)], verb="create"
    )
    assert status == 1
    doc = json.loads(stdout.getvalue())
    assert doc["ok"] is False
    assert doc["counts"] == {"created": 1, "failed": 1}
    assert doc["items"][1]["error"]["type"] == "AuthenticationError"
    assert stderr.getvalue().splitlines() == [
        "error: 1 of 2 failed:",
        "  b: AuthenticationError: POST /x -> 401: no",
    ]


def test_log_lines_clear_the_progress_line_on_a_terminal() -> None:
    stderr = Terminal()
    handler = Output(json_mode=False, stdout=io.StringIO(), stderr=stderr).log_handler()
    handler.emit(logging.LogRecord("aioubiwebhooks", logging.WARNING, "", 0, "wait", (), None))
    assert stderr.getvalue() == "\r\x1b[Kwarning: wait\n"


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (options.key_value, "a=b=c", ("a", "b=c")),
        (options.key_value, "a=", ("a", "")),
        (options.labels_filter, "a:1,b:2", {"a": "1", "b": "2"}),
        (options.concurrency, "64", 64),
        (options.seconds, "0.5", 0.5),
    ],
)
def test_flag_types_accept(parse: object, text: str, expected: object) -> None:
    assert parse(text) == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (options.key_value, "novalue"),
        (options.key_value, "=v"),
        (options.labels_filter, "a:1,b"),
        (options.labels_filter, "a:1:2"),
        (options.concurrency, "0"),
        (options.concurrency, "many"),
        (options.seconds, "-1"),
    ],
)
def test_flag_types_refuse(parse: object, text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse(text)  # type: ignore[operator]


def test_a_malformed_header_flag_is_not_echoed() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        options.key_value("Authorization: Token very-secret")
    assert "very-secret" not in str(caught.value)


def _update_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["update", "p", "n", *argv])


def test_update_flags_build_an_update_with_only_the_given_fields() -> None:
    update = options.update_spec(
        _update_args("--url", "https://example.org/x", "--no-retry", "--protected-header", "Auth")
    )
    assert update.changed_fields() == ("url", "headers", "retry")
    assert update.headers == (WebhookHeader("Auth", None, protected=True),)
    assert update.retry is False
    cleared = options.update_spec(_update_args("--clear-labels", "--description", ""))
    assert cleared.labels == {}
    assert cleared.description is None


def test_update_flags_that_contradict_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        options.update_spec(_update_args("--label", "a=1", "--clear-labels"))
    with pytest.raises(UsageError):
        options.update_spec(_update_args())


def test_the_bar_shows_rate_time_left_and_a_rate_limit_wait() -> None:
    pacer = Pacer("auto")
    now = [100.0]
    bar = ProgressBar(Terminal(), "creating", enabled=True, pacer=pacer, clock=lambda: now[0])
    halfway = BulkProgress(done=100, total=300, failed=2)
    assert bar.line(halfway, 120.0) == (
        "creating [#########-------------------] 100/300  2 failed  5.0/s  about 40s left"
    )
    # The budget of the window is spent: the wait counts down with the clock.
    pacer.state.limit, pacer.state.used, pacer.state.window_end = 300, 300, 162.5
    assert bar.line(halfway, 120.0).endswith("  rate limit: next window in 43s")
    assert bar.line(halfway, 160.0).endswith("  rate limit: next window in 3s")
    assert "rate limit" not in bar.line(halfway, 163.0)  # the window is over
    pacer.state.blocked_until = 200.0  # a 429 holds every request
    assert bar.line(halfway, 110.0).endswith("rate limit: next window in 1m30s")
    # The finished bar shows the counts alone.
    assert bar.line(BulkProgress(300, 300, 2), 200.0).endswith("] 300/300  2 failed")


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0s"), (41.2, "42s"), (365, "6m05s"), (7380, "2h03m")]
)
def test_durations_read_at_a_glance(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown
