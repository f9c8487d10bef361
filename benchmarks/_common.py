"""Shared pieces of the benchmarks: server processes, TLS material, timing and tables.

The emulator runs in a child process so that ``getrusage(RUSAGE_SELF)`` in the
benchmark process counts the client's CPU only. Every child started here is
stopped by its PID in a ``finally`` block.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import math
import os
import resource
import select
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "DEPLOYMENT",
    "PROJECT",
    "TOKEN",
    "Admin",
    "CollectorClock",
    "ServerProcess",
    "TlsFiles",
    "child_env",
    "cpu_load",
    "cpu_seconds",
    "emulator_process",
    "fmt",
    "markdown_table",
    "median",
    "median_interval",
    "percentile",
    "quiet_logs",
    "rotate",
    "tls_files",
    "webhook_spec",
]

PROJECT = "demo"
DEPLOYMENT = "demo-deployment"
TOKEN = "Token bench"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def cpu_seconds() -> float:
    """User plus system CPU of this process, all threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """A distribution-free interval for the median: two order statistics that enclose the
    true median with at least ``confidence`` (binomial, p = 1/2). With too few values
    for that, the smallest and the largest."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return math.nan, math.nan
    # the interval (k-th smallest, k-th largest) misses the median with probability
    # 2 * P(Binomial(n, 1/2) < k): take the largest k that keeps that within 1 - confidence
    k, below = 1, 0.0
    while k < n - k + 1:
        below += math.comb(n, k - 1) / 2**n
        if 2 * (below + math.comb(n, k) / 2**n) > 1 - confidence:
            break
        k += 1
    return ordered[k - 1], ordered[n - k]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the value below which ``fraction`` of the values lie."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class CollectorClock:
    """Seconds the cycle collector ran between :meth:`start` and :meth:`stop`, timed by
    ``gc.callbacks``: the part of a run's CPU that goes to collecting, whoever allocated."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began = 0.0

    def _tick(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._began

    def start(self) -> CollectorClock:
        gc.callbacks.append(self._tick)
        return self

    def stop(self) -> float:
        """Stop timing; the seconds counted."""
        if self._tick in gc.callbacks:
            gc.callbacks.remove(self._tick)
        return self.seconds


def rotate(items: Sequence[Any], by: int) -> list[Any]:
    """The contenders in a different order each round, so no one always goes first."""
    if not items:
        return []
    shift = by % len(items)
    return list(items[shift:]) + list(items[:shift])


def fmt(value: float, digits: int = 0) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def quiet_logs() -> None:
    """Rate-limit waits are expected here; their warnings would only clutter the output."""
    # The official client resets its package logger's level; its rest module's stays put.
    logging.getLogger("ubiops.rest").setLevel(logging.CRITICAL)
    logging.getLogger("aioubiwebhooks").setLevel(logging.ERROR)


def webhook_spec(name: str) -> dict[str, Any]:
    """One webhook as plain data: every contender starts from the same dict."""
    return {
        "name": name,
        "url": "https://example.org/hooks/ubiops",
        "object_type": "deployment",
        "object_name": DEPLOYMENT,
        "event": "deployment_request_completed",
        "headers": [{"key": "X-Team", "value": "data", "protected": False}],
        "labels": {"team": "data", "env": "bench"},
        "description": "benchmark webhook",
        "timeout": 10,
    }


@dataclass(frozen=True)
class TlsFiles:
    """A throw-away CA and a server certificate for 127.0.0.1, as PEM files."""

    ca_path: Path
    server_pem: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))


@contextlib.contextmanager
def tls_files() -> Iterator[TlsFiles]:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    with tempfile.TemporaryDirectory(prefix="aioubiwebhooks-bench-") as folder:
        files = TlsFiles(Path(folder, "ca.pem"), Path(folder, "server.pem"))
        ca.cert_pem.write_to_path(str(files.ca_path))
        cert.private_key_and_cert_chain_pem.write_to_path(str(files.server_pem))
        yield files


class ServerProcess:
    """A child process that prints ``listening on URL`` once ready; stopped by its PID."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.env = env
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: Any = None

    def start(self) -> str:
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self._process.poll() is not None:
                break
            ready, _, _ = select.select([self._process.stdout], [], [], left)
            if not ready:
                continue
            line = self._process.stdout.readline()
            if line.startswith("listening on "):
                self.url = line.split("listening on ", 1)[1].strip()
                return self.url
            if not line:
                break
        message = self._error_output()
        self.stop()
        raise RuntimeError(f"{' '.join(self.argv)} did not start: {message}")

    def _error_output(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return str(self._stderr.read())[-2000:]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(STOP_TIMEOUT)
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def cpu_load(processes: int) -> Iterator[None]:
    """``processes`` child processes that keep a core busy each (a pure-Python loop), so a
    measurement also runs on a loaded machine; stopped by their PIDs on leaving."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", "while True: pass"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(processes)
    ]
    try:
        yield
    finally:
        for child in children:
            child.kill()
        for child in children:
            child.wait(timeout=STOP_TIMEOUT)


def emulator_process(
    *,
    rate_limit: tuple[int, float] | None = None,
    admin: bool = True,
    tls: TlsFiles | None = None,
    reset_rounding: str = "up",
) -> ServerProcess:
    """The emulator in a child process: the library's own command, or TLS via the harness.

    ``reset_rounding`` (``"up"`` or ``"down"``) goes to ``--reset-rounding``.
    """
    if tls is None:
        argv = [sys.executable, "-m", "aioubiwebhooks.emulator", "--host", "127.0.0.1"]
    else:
        argv = [sys.executable, "-m", "benchmarks._tls_emulator", "--cert", str(tls.server_pem)]
    argv += ["--port", "0"]
    if rate_limit is not None:
        argv += ["--rate-limit", f"{rate_limit[0]}/{rate_limit[1]:g}"]
        if reset_rounding != "up":
            argv += ["--reset-rounding", reset_rounding]
    elif tls is None:  # the command limits to 300 a minute unless told, as the service does
        argv += ["--rate-limit", "off"]
    if admin:
        argv.append("--admin")
    return ServerProcess(argv, env=child_env())


_ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """This environment, with the checkout first on the path of a child process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH", "")]))
    return env


class Admin:
    """The emulator's ``/_emulator`` routes: counters and reset between contenders."""

    def __init__(self, root_url: str, tls: TlsFiles | None = None) -> None:
        self.root_url = root_url.rstrip("/")
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if tls is not None:
            handlers.append(urllib.request.HTTPSHandler(context=tls.client_context()))
        self._opener = urllib.request.build_opener(*handlers)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.root_url}/_emulator{path}",
            data=data,
            method=method,
            headers={"Authorization": TOKEN, "Content-Type": "application/json"},
        )
        with self._opener.open(request, timeout=10) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/stats")
        return result

    def reset(self) -> None:
        self._call("POST", "/reset", {})
