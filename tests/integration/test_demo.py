"""The demo: as a library call, and as ``aioubiwebhooks demo`` (in-process and as a process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aioubiwebhooks import demo
from aioubiwebhooks.cli import main
from aioubiwebhooks.demo import DemoSummary, run_demo

pytestmark = pytest.mark.timeout(90)


async def test_run_demo_checks_every_delivery() -> None:
    phases: list[str] = []
    summary = await run_demo(
        count=20, rate_limit=(40, 2.0), progress=lambda phase, _: phases.append(phase)
    )
    assert summary.ok, summary.problems
    assert summary.created == summary.tested == summary.completed == 20
    assert summary.failed == 0
    assert summary.deliveries_received == summary.deliveries_matched == 20
    assert summary.deliveries_rejected == 0
    # 20 creates and 20 test creates at least, plus a poll or more per test: more than
    # one window's worth, and the session paced them instead of collecting 429s.
    assert summary.requests_sent >= 60
    assert summary.rate_limited == 0
    assert summary.elapsed >= 2.0
    assert summary.rate_limit == (40, 2.0)
    assert phases[0] == "create"
    assert phases[-1] == "test"
    assert phases.count("create") == 20


async def test_run_demo_without_a_rate_limit_checks_every_delivery() -> None:
    summary = await run_demo(count=10, rate_limit=None)
    assert summary.ok, summary.problems
    assert summary.created == summary.completed == summary.deliveries_matched == 10
    assert summary.to_dict()["rate_limit"] is None


async def test_run_demo_refuses_a_silly_count() -> None:
    with pytest.raises(ValueError, match="count"):
        await run_demo(count=0)


def test_demo_command_prints_the_summary_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--count", "10", "--rate-limit", "100/1", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert list(summary) == [
        "ok", "webhooks", "created", "tested", "completed", "failed", "deliveries_received",
        "deliveries_matched", "deliveries_rejected", "requests_sent", "rate_limited",
        "rate_limit", "elapsed_seconds", "problems",
    ]  # fmt: skip
    assert summary["ok"] is True
    assert summary["completed"] == summary["deliveries_matched"] == 10
    assert summary["rate_limit"] == {"limit": 100, "window": 1.0}
    assert summary["problems"] == []
    assert captured.err == ""


def test_demo_command_human_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--count", "5", "--rate-limit", "off"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("demo: 5 webhooks")
    assert "request ids matched  5 of 5" in lines
    assert "rate limit           off" in lines
    assert lines[-1] == "result: ok"


def test_demo_command_exits_1_when_the_demo_finds_problems(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**options: Any) -> DemoSummary:
        return DemoSummary(
            webhooks=3, created=3, tested=3, completed=2, failed=1, deliveries_received=2,
            deliveries_matched=2, deliveries_rejected=0, requests_sent=9, rate_limited=0,
            elapsed=0.1, rate_limit=None, problems=("1 tests failed: Connection error",),
        )  # fmt: skip

    monkeypatch.setattr("aioubiwebhooks._cli.demo_output.run_demo", broken)
    code = main(["demo"])
    captured = capsys.readouterr()
    assert code == 1
    assert "result: FAILED" in captured.out
    assert "1 tests failed: Connection error" in captured.err


@pytest.mark.parametrize("argv", [["--count", "0"], ["--rate-limit", "fast"]])
def test_demo_bad_options_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", *argv]) == 2
    assert "error" in capsys.readouterr().err


def test_make_demo_entry_point_runs_as_a_process() -> None:
    script = Path(sys.executable).with_name("aioubiwebhooks")
    done = subprocess.run(
        [str(script), "demo", "--count", "10"], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "result: ok"
    assert demo.DEFAULT_COUNT == 50
