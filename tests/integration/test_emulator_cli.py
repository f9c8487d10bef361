"""``python -m aioubiwebhooks.emulator``: options, the ready line, seeds and a clean stop."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from aioubiwebhooks.emulator import Emulator, EmulatorThread
from aioubiwebhooks.emulator.__main__ import add_arguments, main, serve

SEED = {
    "projects": {
        "proj-a": {"deployments": {"dep-1": ["v1", "v2"]}, "pipelines": {"pipe-1": ["v1"]}}
    }
}


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_and_options() -> None:
    args = _parse()
    assert (args.host, args.port, args.token) == ("127.0.0.1", 8765, None)
    assert args.rate_limit == (300, 60.0)  # as the service
    assert _parse("--rate-limit", "off").rate_limit is None
    assert _parse("--rate-limit", "OFF").rate_limit is None
    assert (args.seed, args.test_delay, args.admin) == (None, 0.0, False)
    args = _parse(
        "--port", "0", "--token", "T", "--rate-limit", "50/5", "--test-delay", "1.5", "--admin"
    )
    assert (args.port, args.token, args.rate_limit, args.test_delay, args.admin) == (
        0,
        "T",
        (50, 5.0),
        1.5,
        True,
    )


def test_service_like_options() -> None:
    args = _parse("--protected-mask", "***", "--finished-status", "mixed", "--finished-seed", "3")
    assert (args.protected_mask, args.finished_status, args.finished_seed) == ("***", "mixed", 3)
    args = _parse()
    assert (args.protected_mask, args.finished_status, args.finished_seed) == (None, "completed", 0)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ((), "rate limit 300 requests per 60 s and x-ratelimit-* headers on every answer, as"),
        (("--rate-limit", "50/5"), "rate limit 50 requests per 5 s and x-ratelimit-* headers"),
        (("--rate-limit", "off"), "rate limit off: x-ratelimit-* headers still on every answer"),
    ],
)
async def test_the_first_line_says_which_rate_limit_holds(
    argv: tuple[str, ...], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = asyncio.Event()
    ready: list[Emulator] = []
    task = asyncio.create_task(
        serve(
            _parse("--port", "0", "--protected-mask", "***", *argv), stop=stop, ready=ready.append
        )
    )
    while not ready:
        await asyncio.sleep(0.01)
        assert not task.done()
    emu = ready[0]
    assert capsys.readouterr().err.startswith(says)
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Token t"}) as http,
        http.get(f"{emu.url}/projects/demo/webhooks") as answer,
    ):
        assert answer.status == 200
        limit = int(answer.headers["x-ratelimit-limit"])
    assert limit == ({(): 300, ("--rate-limit", "50/5"): 50}.get(argv) or 1_000_000_000)
    assert emu.state.protected_mask == "***"
    stop.set()
    await asyncio.wait_for(task, 10)


def test_bounds_and_targets() -> None:
    args = _parse()
    assert (args.allow_target, args.max_webhooks, args.max_body_size) == (None, 10_000, 1048576)
    args = _parse(
        "--allow-target", "127.0.0.1", "--allow-target", "10.0.0.0/8",
        "--max-webhooks", "50", "--max-body-size", "4096",
    )  # fmt: skip
    assert args.allow_target == ["127.0.0.1", "10.0.0.0/8"]
    assert (args.max_webhooks, args.max_body_size) == (50, 4096)


def test_a_malformed_target_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--allow-target", "http://x"]) == 2
    assert "allow_targets: 'http://x' is neither a network" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--rate-limit", "fast"],
        ["--test-delay", "-1"],
        ["--test-delay", "soon"],
        ["--max-webhooks", "0"],
        ["--max-body-size", "big"],
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        _parse(*argv)
    assert stopped.value.code == 2
    assert "error" in capsys.readouterr().err


def test_mounts_as_a_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="aioubiwebhooks")
    sub = parser.add_subparsers(dest="command")
    add_arguments(sub.add_parser("emulator"))
    args = parser.parse_args(["emulator", "--port", "0", "--admin"])
    assert (args.command, args.port, args.admin) == ("emulator", 0, True)


def test_bad_seed_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"projects": {"a": {"deployments": {"d": []}}}}))
    assert main(["--port", "0", "--seed", str(seed)]) == 2
    err = capsys.readouterr().err
    assert "seed.json" in err
    assert "non-empty list" in err


def test_port_in_use_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


async def test_serve_in_process_until_stopped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED))
    stop = asyncio.Event()
    ready: list[Emulator] = []
    args = _parse("--port", "0", "--seed", str(seed), "--token", "T")
    task = asyncio.create_task(serve(args, stop=stop, ready=ready.append))
    while not ready:
        await asyncio.sleep(0.01)
        assert not task.done()
    emu = ready[0]
    printed = capsys.readouterr()
    assert printed.out == f"listening on http://127.0.0.1:{emu.port}\n"
    assert printed.err.startswith("rate limit 300 requests per 60 s and x-ratelimit-* headers")
    assert "as the UbiOps service does" in printed.err
    assert emu.rate_limit == (300, 60.0)
    assert [w for w in emu.webhooks("proj-a")] == []
    with pytest.raises(KeyError):
        emu.webhooks("demo")  # a seed replaces the demo project
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_command_line_serves_and_exits_cleanly_on_signals(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED))
    for signum in (signal.SIGINT, signal.SIGTERM):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aioubiwebhooks.emulator",
            "--port", "0", "--seed", str(seed), "--token", "T", "--rate-limit", "300/60", "--admin",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            found = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
            assert found, line
            root = found.group(1)
            headers = {"Authorization": "Token T"}
            async with aiohttp.ClientSession(headers=headers) as http:
                url = f"{root}/v2.1/projects/proj-a/webhooks"
                async with http.get(url) as response:
                    assert response.status == 200
                    assert response.headers["x-ratelimit-limit"] == "300"
                async with http.get(f"{root}/_emulator/seed") as response:
                    assert set((await response.json())["projects"]) == {"proj-a"}
            process.send_signal(signum)
            assert await asyncio.wait_for(process.wait(), 30) == 0
            assert await process.stdout.read() == b""  # exactly one line
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


def test_emulator_thread_serves_sync_code() -> None:
    import urllib.request

    with EmulatorThread(seed=SEED) as running:
        request = urllib.request.Request(
            f"{running.url}/projects/proj-a/webhooks", headers={"Authorization": running.token}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == []
        assert running.call(running.emulator.drain(1)) is True
    with pytest.raises(RuntimeError):
        running.emulator  # noqa: B018 - stopped
