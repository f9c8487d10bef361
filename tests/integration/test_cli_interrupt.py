"""Ctrl-C and SIGTERM during a long command: the report of a finished run, then a resume.

The command runs as a real process against an emulator on loopback whose answers are
slowed down, so the run is still going when the signal arrives (sent by pid). What it
reports must be exactly what the server holds, and running it again must finish the job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aioubiwebhooks.emulator import EmulatorThread

pytestmark = pytest.mark.timeout(120)

TOKEN = "interrupt-token-0b7c"
COUNT = 300


@pytest.fixture
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread(token=TOKEN) as emulator:
        emulator.emulator.faults.latency(0.05)  # about 80 requests a second at concurrency 4
        yield emulator


def environment(emu: EmulatorThread) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UBIOPS_")}
    env.update(UBIOPS_API_HOST=emu.url, UBIOPS_API_TOKEN=TOKEN)
    return env


def spec(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "url": "https://example.org/hook",
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
    }


def stored(emu: EmulatorThread) -> set[str]:
    return {hook.name for hook in emu.emulator.webhooks("demo")}


def interrupt_when(
    emu: EmulatorThread, argv: list[str], signum: int, count: int
) -> tuple[int, str, str]:
    """Run the command, send ``signum`` once ``count`` webhooks are stored, collect it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aioubiwebhooks", *argv],
        env=environment(emu),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(stored(emu)) < count and process.poll() is None:
            assert time.monotonic() < deadline, "the command made no progress"
            time.sleep(0.02)
        assert process.poll() is None, "the command ended before it could be interrupted"
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_create_reports_every_item_and_resumes(
    emu: EmulatorThread, tmp_path: Path, signum: int
) -> None:
    path = tmp_path / "hooks.yaml"
    path.write_text(yaml.safe_dump([spec(f"hook-{i:03d}") for i in range(COUNT)]))
    argv = ["create", "demo", "-f", str(path), "--concurrency", "4", "--json"]
    code, out, err = interrupt_when(emu, argv, signum, count=20)

    assert code == 130, err
    doc = json.loads(out)  # exactly one JSON document, with every item
    assert (doc["ok"], doc["interrupted"], doc["total"]) == (False, True, COUNT)
    created = {item["name"] for item in doc["items"] if item["status"] == "created"}
    never = [item for item in doc["items"] if item["status"] == "not attempted"]
    assert len(created) + len(never) == COUNT
    assert len(never) > 0
    assert never[0]["error"]["type"] == "NotAttemptedError"
    assert created == stored(emu)  # the report says exactly what the server holds
    assert "interrupted: starting no new items" in err
    assert f"interrupted: {len(created)} done, 0 failed, {len(never)} not attempted" in err
    assert "hint: run the same command again with --on-conflict skip" in err

    emu.emulator.faults.latency(None)
    resumed = subprocess.run(
        [sys.executable, "-m", "aioubiwebhooks", *argv, "--on-conflict", "skip"],
        env=environment(emu), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["counts"] == {"exists": len(created), "created": len(never)}
    assert len(stored(emu)) == COUNT


def test_an_interrupted_apply_reports_in_text_and_a_new_plan_finds_the_rest(
    emu: EmulatorThread, tmp_path: Path
) -> None:
    path = tmp_path / "desired.json"
    path.write_text(json.dumps([spec(f"hook-{i:03d}") for i in range(COUNT)]))
    argv = ["apply", "demo", str(path), "--concurrency", "4"]
    code, out, err = interrupt_when(emu, argv, signal.SIGINT, count=10)

    assert code == 130, err
    done = len(stored(emu))
    report = f"apply: created {done}, not attempted {COUNT - done} (of {COUNT})"
    assert out.splitlines()[-1] == report
    assert "hint: plan and apply again to finish" in err
    assert "Traceback" not in err

    emu.emulator.faults.latency(None)
    planned = subprocess.run(
        [sys.executable, "-m", "aioubiwebhooks", "plan", "demo", str(path), "--json"],
        env=environment(emu), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["plan"]["counts"]["create"] == COUNT - done
