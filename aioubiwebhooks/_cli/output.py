"""What the command prints: aligned tables, JSON documents, progress bars and error summaries.

Two audiences, two streams. Results go to standard output, either for people
(tables, one-line summaries) or, with ``--json``, as exactly one JSON document for
programs. Everything else (progress, warnings, the summary of what failed) goes
to standard error, and a progress bar is drawn only when standard error is a
terminal, so piped or logged output stays clean.

Secrets stay out of every path: webhooks are printed from what the API returned
(protected header values are shown as hidden even if a server sent one), create
specs are never printed, and error messages come from the library, whose errors
never carry the token or a protected value.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TextIO

import attrs

from .. import _wire
from .._outcome import Outcome
from .._ratelimit import Pacer
from .._redact import HIDDEN
from ..errors import ApiError, NotAttemptedError, UbiOpsError, ValidationError
from ..models import WebhookDetail
from .progress import ProgressBar

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "HIDDEN",
    "ItemResult",
    "Output",
    "ProgressBar",
    "UsageError",
    "describe",
    "error_info",
    "format_table",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
"""A request or an item failed (the server refused, a test failed, a delivery never came)."""
EXIT_USAGE: Final = 2
"""Bad input: a flag, a spec or a missing setting, found before any request is sent."""
EXIT_INTERRUPTED: Final = 130

MAX_LISTED_FAILURES: Final = 20


class UsageError(Exception):
    """Bad command-line input that argparse cannot see (a combination, a file): exit 2."""


def error_info(error: BaseException) -> dict[str, Any]:
    """An error as JSON: its class, message, and the HTTP status or field when known;
    a ValidationError of many problems lists every one."""
    info: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, ApiError):
        info["status"] = error.status
    if isinstance(error, ValidationError):
        info["field"] = error.field
        if len(error.problems) > 1:
            info["problems"] = [
                {"field": p.field, "webhook": p.webhook, "rule": p.rule, "message": str(p)}
                for p in error.problems
            ]
    return info


def describe(error: BaseException) -> str:
    """``ClassName: message``, the form every failure takes on standard error."""
    if isinstance(error, UsageError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def format_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Rows under their column titles, left aligned, the last column unpadded."""
    table = [list(columns), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    lines = []
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


@attrs.frozen
class ItemResult:
    """What became of one item of a many-item command, ready to print."""

    name: str
    status: str
    error: UbiOpsError | None = None
    attempts: int = 1
    webhook: WebhookDetail | None = None
    secrets_not_applied: tuple[str, ...] = ()

    @classmethod
    def of(cls, outcome: Outcome[Any, Any], name: str, *, done: str, skipped: str) -> ItemResult:
        """An outcome ready to print: ``done`` or ``skipped`` when it succeeded, else
        ``failed`` or ``not attempted`` (an item the call never started)."""
        if outcome.error is not None:
            never = isinstance(outcome.error, NotAttemptedError)
            status = "not attempted" if never else "failed"
        else:
            status = skipped if outcome.skipped else done
        webhook = outcome.value if isinstance(outcome.value, WebhookDetail) else None
        return cls(
            name, status, outcome.error, outcome.attempts, webhook, outcome.secrets_not_applied
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "attempts": self.attempts,
            "error": None if self.error is None else error_info(self.error),
            "webhook": None if self.webhook is None else _wire.webhook_json(self.webhook),
            "secrets_not_applied": list(self.secrets_not_applied),
        }


class _StderrLogHandler(logging.Handler):
    """Library log records as ``warning: ...`` lines, clearing a progress bar's line first."""

    def __init__(self, output: Output) -> None:
        super().__init__()
        self._output = output

    def emit(self, record: logging.LogRecord) -> None:
        try:
            prefix = "\r\x1b[K" if self._output.stderr_is_tty else ""
            level = record.levelname.lower()
            self._output.stderr.write(f"{prefix}{level}: {self.format(record)}\n")
            self._output.stderr.flush()
        except Exception:  # a log line must never break a command
            self.handleError(record)


class Output:
    """Where one command run writes: results to ``stdout``, the rest to ``stderr``."""

    def __init__(self, *, json_mode: bool, stdout: TextIO, stderr: TextIO) -> None:
        self.json_mode = json_mode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def stderr_is_tty(self) -> bool:
        isatty = getattr(self.stderr, "isatty", None)
        try:
            return bool(isatty()) if isatty is not None else False
        except ValueError:  # a closed stream
            return False

    def document(self, data: Mapping[str, Any] | Sequence[Any]) -> None:
        """The one JSON document of a ``--json`` run."""
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        self.stdout.flush()

    def line(self, text: str = "") -> None:
        """A line of human output on standard output."""
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def note(self, text: str) -> None:
        """A line on standard error (never part of the result)."""
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def fail(self, error: BaseException) -> None:
        """Report an error that ended the command: the summary on stderr, JSON on stdout.

        A ValidationError of many problems is one line per problem (the first
        ``MAX_LISTED_FAILURES``); the JSON document lists them all."""
        problems = error.problems if isinstance(error, ValidationError) else ()
        if len(problems) > 1:
            assert isinstance(error, ValidationError)
            self.note(f"error: {type(error).__name__}: {error.summary}:")
            for problem in problems[:MAX_LISTED_FAILURES]:
                self.note(f"  {problem}")
            if len(problems) > MAX_LISTED_FAILURES:
                self.note(f"  ... and {len(problems) - MAX_LISTED_FAILURES} more")
        else:
            self.note(f"error: {describe(error)}")
        if self.json_mode:
            self.document({"ok": False, "error": error_info(error)})

    def progress(self, label: str, *, pacer: Pacer | None = None) -> ProgressBar:
        """A progress bar on standard error, drawn only when it is a terminal; with the
        session's ``pacer``, it shows rate-limit waits."""
        return ProgressBar(self.stderr, label, enabled=self.stderr_is_tty, pacer=pacer)

    def log_handler(self) -> logging.Handler:
        return _StderrLogHandler(self)

    def items(
        self,
        results: Sequence[ItemResult],
        *,
        verb: str,
        extra: Mapping[str, Any] | None = None,
        interrupted: bool = False,
        resume: str | None = None,
    ) -> int:
        """Report a many-item command: exit status 1 when any item failed, 130 when the
        run was interrupted (then ``resume`` says how to finish the job)."""
        counts: dict[str, int] = {}
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
        failures = [r for r in results if r.error is not None]
        if self.json_mode:
            self.document(
                {
                    "ok": not failures and not interrupted,
                    **(extra or {}),
                    "interrupted": interrupted,
                    "total": len(results),
                    "counts": counts,
                    "items": [r.to_dict() for r in results],
                }
            )
        elif len(results) == 1:
            self.line(f"{verb} {results[0].name}: {results[0].status}")
        else:
            parts = [f"{status} {n}" for status, n in counts.items()] or ["nothing to do"]
            self.line(f"{verb}: {', '.join(parts)} (of {len(results)})")
        kept = [r for r in results if r.secrets_not_applied]
        if kept:
            keys = ", ".join(dict.fromkeys(k for r in kept for k in r.secrets_not_applied))
            self.note(
                f"note: {len(kept)} webhook(s) were left as stored, so their protected values "
                f"({keys}) may differ from the spec; --on-conflict update sends them"
            )
        if interrupted:
            return self._interrupted(results, resume)
        if failures:
            self.failures(failures, len(results))
        return EXIT_FAILED if failures else EXIT_OK

    def _interrupted(self, results: Sequence[ItemResult], resume: str | None) -> int:
        never = sum(1 for r in results if isinstance(r.error, NotAttemptedError))
        failed = [
            r for r in results if r.error is not None and not isinstance(r.error, NotAttemptedError)
        ]
        done = len(results) - never - len(failed)
        self.note(
            f"interrupted: {done} done, {len(failed)} failed, {never} not attempted "
            f"(of {len(results)})"
        )
        if failed:
            self.failures(failed, len(results))
        if resume:
            self.note(f"hint: {resume}")
        return EXIT_INTERRUPTED

    def failures(self, failures: Sequence[ItemResult], total: int) -> None:
        """The summary of what failed and why, on standard error: the first few failures
        one per line, and the items never started as one line with the reason."""
        never = [r for r in failures if isinstance(r.error, NotAttemptedError)]
        failed = [r for r in failures if not isinstance(r.error, NotAttemptedError)]
        self.note(f"error: {len(failures)} of {total} failed:")
        for result in failed[:MAX_LISTED_FAILURES]:
            assert result.error is not None
            self.note(f"  {result.name}: {describe(result.error)}")
        if len(failed) > MAX_LISTED_FAILURES:
            self.note(f"  ... and {len(failed) - MAX_LISTED_FAILURES} more")
        if never:
            self.note(f"  {len(never)} not attempted: {never[0].error}")
