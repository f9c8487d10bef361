"""The installed command as a real process: the console script, ``python -m``, signals."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aioubiwebhooks.emulator import EmulatorThread

pytestmark = pytest.mark.timeout(60)

TOKEN = "subprocess-token-5c2d"
SCRIPT = Path(sys.executable).with_name("aioubiwebhooks")


@pytest.fixture
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread(token=TOKEN) as emulator:
        yield emulator


def environment(emu: EmulatorThread | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UBIOPS_")}
    if emu is not None:
        env.update(UBIOPS_API_HOST=emu.url, UBIOPS_API_TOKEN=TOKEN)
    return env


def read_line(stream: object, timeout: float = 10.0) -> str:
    """One line from a child's pipe, or fail after ``timeout`` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "the process printed nothing in time"
    line: str = stream.readline()  # type: ignore[attr-defined]
    return line


def test_console_script_lists_against_an_emulator(emu: EmulatorThread) -> None:
    assert SCRIPT.exists()
    done = subprocess.run(
        [str(SCRIPT), "create", "demo", "--name", "p1", "--url", "https://example.org/h",
         "--object-type", "deployment", "--object-name", "demo-deployment",
         "--event", "deployment_request_started", "--json"],
        env=environment(emu), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == {"created": 1}
    listed = subprocess.run(
        [sys.executable, "-m", "aioubiwebhooks", "list", "demo", "--json"],
        env=environment(emu), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert [h["name"] for h in json.loads(listed.stdout)["webhooks"]] == ["p1"]


def test_exit_statuses_as_a_process(emu: EmulatorThread) -> None:
    env = environment(emu)
    missing = subprocess.run(
        [str(SCRIPT), "get", "demo", "nope"], env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: NotFoundError:")
    usage = subprocess.run(
        [str(SCRIPT), "list"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert usage.returncode == 2
    assert "required: project" in usage.stderr
    wrong = subprocess.run(
        [str(SCRIPT), "list", "demo"], env={**env, "UBIOPS_API_TOKEN": "wrong-token-0000"},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert "AuthenticationError" in wrong.stderr
    assert "wrong-token-0000" not in wrong.stderr + wrong.stdout


def test_emulator_subcommand_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "aioubiwebhooks", "emulator", "--port", "0", "--token", TOKEN],
        env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = read_line(process.stdout)
        assert line.startswith("listening on http://127.0.0.1:")
        root = line.split()[-1]
        listed = subprocess.run(
            [str(SCRIPT), "list", "demo", "--host", root, "--json"],
            env={**environment(), "UBIOPS_API_TOKEN": TOKEN},
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == {"project": "demo", "webhooks": []}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


def test_listen_prints_deliveries_as_json_lines(emu: EmulatorThread) -> None:
    process = subprocess.Popen(
        [str(SCRIPT), "listen", "--port", "0", "--count", "2", "--timeout", "20",
         "--secret", "Token listen-secret"],
        env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = read_line(process.stderr)
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        for event in ("deployment_request_completed", "deployment_request_failed"):
            done = subprocess.run(
                [str(SCRIPT), "test", "demo", "--url", url, "--object-type", "deployment",
                 "--object-name", "demo-deployment", "--event", event, "--wait",
                 "--protected-header", "Authorization=Token listen-secret"],
                env=environment(emu), capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == [
        "deployment_request_completed",
        "deployment_request_failed",
    ]
    assert {r.payload["request_id"] for r in emu.emulator.deliveries} == {
        e["request_id"] for e in events
    }
    assert "listen-secret" not in out + err


def test_listen_count_not_reached_exits_1() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [str(SCRIPT), "listen", "--port", "0", "--count", "1", "--timeout", "0.5"],
        env=environment(), capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "0 of 1 deliveries received" in done.stderr
    assert done.stdout == ""
    assert time.monotonic() - started < 20


def test_listen_stops_on_sigint_with_status_0() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "aioubiwebhooks", "listen", "--port", "0"],
        env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert read_line(process.stderr).startswith("listening on ")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
