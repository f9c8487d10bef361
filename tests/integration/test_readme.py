"""The README's quick start runs as written (against the emulator it starts)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_quick_start_runs_and_prints_what_it_promises(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a python quick start"
    script = tmp_path / "quick_start.py"
    script.write_text(blocks[0])
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("on-failure (WebhookHeader(key='Authorization', value=None")
    assert lines[1] == "test completed"
    assert lines[2].startswith("received deployment_request_failed ")
    assert lines[3] == "100 created"
    assert "s3cret" not in done.stdout


def test_fixture_example_passes_under_pytest(tmp_path: Path) -> None:
    blocks = re.findall(r'```python title="test_alerts.py"\n(.*?)```', README.read_text(), re.S)
    assert len(blocks) == 1
    (tmp_path / "test_alerts.py").write_text(blocks[0])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            "test_alerts.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
