"""Mutants written by hand, for promises the mutation tool cannot reach.

mutmut changes code inside functions only: not a module's constants (the statuses that
are retried, the fields the comparison reads), not attrs defaults, and not modules kept
out of its list (the aiohttp transport, the session's wiring). Each entry below changes
one such line the way a careless edit would, and names the tests that must fail on it.
Every named test is run on its own against a copy of the package with that one change,
so each is shown to guard the promise by itself.

``python tools/hand_mutants.py`` runs them all and writes ``mutants/hand-mutants.json``
for ``tools/mutation_report.py``; it exits 1 if a mutant survives one of its tests, and
2 if a change no longer applies (the code moved: update the entry).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["HAND_MUTANTS", "HandMutant", "main", "run"]

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("aioubiwebhooks", "tests", "docs", "pyproject.toml", "README.md", "CHANGELOG.md")
RESULTS = ROOT / "mutants" / "hand-mutants.json"


@dataclass(frozen=True)
class HandMutant:
    """Replace ``old`` (found exactly once in ``path``) by ``new``; each of ``tests`` must fail."""

    key: str
    promise: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


HAND_MUTANTS: tuple[HandMutant, ...] = (
    *(
        HandMutant(
            key=f"compare-ignores-{field}",
            promise=f"a change of `{field}` counts as a change",
            path="aioubiwebhooks/_compare.py",
            old=f'    "{field}",\n',
            new="",
            tests=(
                f"tests/unit/test_compare.py::test_a_change_in_one_field_is_noticed[{field}]",
                "tests/unit/test_compare.py::test_every_field_is_read_by_the_comparison",
            ),
        )
        for field in ("enabled", "retry", "include_result")
    ),
    HandMutant(
        key="compare-ignores-description",
        promise="a change of `description` counts as a change",
        path="aioubiwebhooks/_compare.py",
        old='    if (detail.description or "") != (spec.description or ""):',
        new="    if False:",
        tests=(
            "tests/unit/test_compare.py::test_a_change_in_one_field_is_noticed[description]",
            "tests/unit/test_compare.py::test_every_field_is_read_by_the_comparison",
        ),
    ),
    HandMutant(
        key="backoff-zero",
        promise="outside testing mode a retry waits a little longer each time",
        path="aioubiwebhooks/_retry.py",
        old="        return cap * (0.5 + 0.5 * (rng or random).random())",
        new="        return 0.0",
        tests=(
            "tests/unit/test_protocol.py::"
            "test_the_retry_backoff_is_never_zero_outside_testing_mode_and_grows",
            "tests/unit/test_testing_mode.py::test_testing_mode_zeroes_retry_backoff_and_poll_delays",
        ),
    ),
    HandMutant(
        key="set-testing-does-nothing",
        promise="`set_testing()` turns testing mode on",
        path="aioubiwebhooks/_retry.py",
        old="    previous, _testing = _testing, bool(enabled)",
        new="    previous = _testing",
        tests=(
            "tests/unit/test_testing_mode.py::test_testing_mode_zeroes_retry_backoff_and_poll_delays",
            "tests/unit/test_testing_mode.py::test_plain_calls_still_switch_for_good",
        ),
    ),
    HandMutant(
        key="408-not-retried",
        promise="408 is retried like 502, 503 and 504",
        path="aioubiwebhooks/_protocol.py",
        old="RETRY_STATUSES = frozenset({408, 502, 503, 504})",
        new="RETRY_STATUSES = frozenset({502, 503, 504})",
        tests=("tests/unit/test_protocol.py::test_what_follows_an_attempt",),
    ),
    HandMutant(
        key="503-retried-on-test-create",
        promise="a 503 on a webhook test create is not retried (a repeat would deliver twice)",
        path="aioubiwebhooks/_protocol.py",
        old="        and call.retry_on is RetryOn.TRANSIENT\n",
        new="",
        tests=(
            "tests/unit/test_protocol.py::test_what_follows_an_attempt",
            "tests/integration/test_reliability_retries.py::"
            "test_a_503_on_a_test_create_is_reported_not_repeated",
        ),
    ),
    HandMutant(
        key="connect-timeout-counted-as-sent",
        promise="a connect timeout counts as not sent, so a test create is retried",
        path="aioubiwebhooks/_aiohttp_transport.py",
        old="        sent = not isinstance(error, aiohttp.ConnectionTimeoutError)",
        new="        sent = True",
        tests=(
            "tests/integration/test_transport.py::"
            "test_a_connect_timeout_counts_as_not_sent_so_a_test_create_is_retried",
        ),
    ),
    HandMutant(
        key="user-agent-ignored",
        promise="the `user_agent` setting is the User-Agent sent",
        path="aioubiwebhooks/session.py",
        old='user_agent=user_agent or f"aioubiwebhooks/{__version__}"',
        new='user_agent=f"aioubiwebhooks/{__version__}"',
        tests=(
            "tests/integration/test_transport.py::test_the_user_agent_setting_reaches_the_wire",
        ),
    ),
    HandMutant(
        key="connection-limit-ignored",
        promise="`connection_limit` caps the open connections",
        path="aioubiwebhooks/_aiohttp_transport.py",
        old="limit=self._connection_limit,",
        new="limit=100,",
        tests=(
            "tests/integration/test_transport.py::test_the_connection_limit_reaches_the_connector",
        ),
    ),
    HandMutant(
        key="await-tests-leaves-waits-running",
        promise="leaving `await_tests` early cancels the remaining waits",
        path="aioubiwebhooks/_polling.py",
        old="            task.cancel()\n",
        new="            pass\n",
        tests=(
            "tests/integration/test_polling.py::test_a_plain_break_out_of_await_tests_also_stops_the_waits",
            "tests/unit/test_polling_scripted.py::test_leaving_await_tests_early_stops_polling_the_others",
        ),
    ),
    HandMutant(
        key="prune-unasked",
        promise="a plan deletes webhooks missing from the spec only with `prune`",
        path="aioubiwebhooks/migrate/_diff.py",
        old="    if prune:\n",
        new="    if True:\n",
        tests=(
            "tests/integration/test_migrate.py::test_a_plan_prunes_only_when_asked",
            "tests/integration/test_migrate.py::test_apply_deletes_only_what_a_pruning_plan_names",
            "tests/unit/test_migrate_diff.py::"
            "test_webhooks_missing_from_the_specs_are_deleted_only_with_prune",
        ),
    ),
    HandMutant(
        key="poll-settings-warning-misplaced",
        promise="the deprecated poll settings' warning points at the caller's line",
        path="aioubiwebhooks/_schedule.py",
        old="    stacklevel: int = 3,  # pragma: no mutate",
        new="    stacklevel: int = 2,",
        tests=(
            "tests/integration/test_polling.py::test_loose_poll_settings_still_work_with_a_warning",
        ),
    ),
    HandMutant(
        key="rotate-secrets-warning-misplaced",
        promise="the `rotate_secrets` deprecation warning points at the caller's line",
        path="aioubiwebhooks/migrate/_diff.py",
        old="            stacklevel=3,  # pragma: no mutate",
        new="            stacklevel=2,",
        tests=(
            "tests/unit/test_migrate_diff.py::test_the_rotate_secrets_warning_points_at_the_caller",
        ),
    ),
    HandMutant(
        key="409-for-another-webhook-returned",
        promise="a retried create that meets 409 for a different webhook raises ConflictError",
        path="aioubiwebhooks/session.py",
        old="            if changed:\n                raise\n            return existing",
        new="            return existing",
        tests=(
            "tests/integration/test_transport.py::"
            "test_a_409_on_a_retried_create_for_a_different_webhook_raises",
            "tests/integration/test_reliability_retries.py::"
            "test_a_retried_create_that_meets_another_webhook_raises_conflict",
        ),
    ),
)


@dataclass(frozen=True)
class Result:
    """What one test did against one hand mutant."""

    key: str
    test: str
    killed: bool
    seconds: float


def _apply(copy: Path, mutant: HandMutant) -> str:
    """Write the mutant into ``copy``; return the original text to put back."""
    target = copy / mutant.path
    original = target.read_text()
    found = original.count(mutant.old)
    if found != 1:
        raise LookupError(
            f"{mutant.key}: {mutant.old!r} occurs {found} times in {mutant.path} "
            "(expected once); the code moved, update tools/hand_mutants.py"
        )
    target.write_text(original.replace(mutant.old, mutant.new))
    return original


def _run_test(copy: Path, *tests: str) -> tuple[int, float]:
    started = time.monotonic()
    # Run from the copy: the current directory comes first on sys.path, so the tests
    # import the mutated package, not the installed one.
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode not in (0, 1):
        raise RuntimeError(f"{tests}: pytest exited {completed.returncode}\n{completed.stdout}")
    return completed.returncode, time.monotonic() - started


def run(mutants: Sequence[HandMutant]) -> list[Result]:
    """Run every test of every mutant against a mutated copy of the package."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="hand-mutants-") as tmp:
        copy = Path(tmp)
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, copy / name)
        tests = sorted({test for mutant in mutants for test in mutant.tests})
        code, _ = _run_test(copy, *tests)
        if code != 0:
            raise RuntimeError("the hand mutants' tests fail on the unchanged code")
        for mutant in mutants:
            original = _apply(copy, mutant)
            try:
                for test in mutant.tests:
                    code, seconds = _run_test(copy, test)
                    results.append(Result(mutant.key, test, code == 1, round(seconds, 1)))
                    print(f"{'killed  ' if code == 1 else 'SURVIVED'} {mutant.key}: {test}")
            finally:
                (copy / mutant.path).write_text(original)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", help="run only these mutants (default: all)")
    args = parser.parse_args(argv)
    chosen = [m for m in HAND_MUTANTS if not args.keys or m.key in args.keys]
    try:
        results = run(chosen)
    except (LookupError, RuntimeError) as error:
        print(error, file=sys.stderr)
        return 2
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0 if all(r.killed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
