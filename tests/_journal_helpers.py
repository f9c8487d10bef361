"""Processes for the journal tests: a real redis-server and receiver children, by pid.

``redis_server`` starts Debian's ``redis-server`` on a free loopback port in a
temporary folder, with its configuration on the command line, and stops it by its
pid. When the binary is missing the tests are skipped, unless
``AIOUBIWEBHOOKS_REQUIRE_REDIS=1`` (set by ``make test``), which makes it a failure.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["Child", "handled_counts", "redis_server", "start_child"]

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A redis-server on loopback for one test; yields its ``redis://`` URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("AIOUBIWEBHOOKS_REQUIRE_REDIS") == "1":
            pytest.fail(message + "; AIOUBIWEBHOOKS_REQUIRE_REDIS=1 requires it")
        pytest.skip(message)
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)


class Child:
    """A receiver process (tests/journal_child.py) and where it records what it handled."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, handled: Path) -> None:
        self.process = process
        self.port = port
        self.handled = handled

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_child(journal: str, folder: Path, name: str, handled: Path) -> Child:
    port_file = folder / f"{name}.port"
    port_file.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, str(_HERE / "journal_child.py"), journal, str(port_file),
         str(handled), name],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not port_file.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGKILL)
            raise RuntimeError(f"receiver child {name} did not start")
        time.sleep(0.02)
    return Child(process, int(port_file.read_text()), handled)


def handled_counts(*files: Path) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for path in files:
        if path.exists():
            counts.update(line for line in path.read_text().splitlines() if line)
    return counts
