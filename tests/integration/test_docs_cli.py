"""The command-line guide, run as written: every ``$ command`` and what it prints.

``docs/guides/cli.md`` is replayed in order, in a fresh directory, against the
emulator the page itself starts:

- a ```console block holds commands (``$ ...``, continued by a trailing ``\\``), each
  followed by its expected output (stdout and stderr together, as a terminal shows
  them; ``...`` is a wildcard as in ``test_docs_examples``). A command must exit 0
  unless the next command is ``echo $?``, whose output then gives the status;
- ``export NAME=VALUE`` sets a variable for the commands after it;
- a block with ``title="FILE"`` (the seed, spec files) is written to ``FILE`` first;
- ``<!-- cli: background NAME -->`` before a block starts its one command in the
  background and waits for its first line; ``<!-- cli: wait NAME -->`` waits for it to
  end by itself, ``<!-- cli: stop NAME -->`` stops it as Ctrl-C does; either then
  checks all it printed.

The page's fixed ports (8765 for the emulator, 8080 for the receiver) are swapped for
free ones, so the test never collides with anything else on the machine.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_docs_examples import DOCS, Block, Comment, check_output, clean_env, parse_page

PAGE = DOCS / "guides" / "cli.md"
PAGE_PORTS = ("8765", "8080")
COMMAND_TIMEOUT = 60.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

pytestmark = pytest.mark.timeout(240)


def _free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def commands_of(block: Block) -> list[tuple[str, str]]:
    """``(command, expected output)`` pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    lines = block.body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.startswith("$ "):
            if not pairs:
                raise AssertionError(f"{block.where}: output before any '$ ' command")
            pairs[-1][1].append(line)
            continue
        command = line[2:]
        while command.endswith("\\") and index < len(lines):
            command = command[:-1].rstrip() + " " + lines[index].strip()
            index += 1
        pairs.append((command, []))
    return [(command, "\n".join(output)) for command, output in pairs]


class Background:
    """A command left running, its output collected by a thread."""

    def __init__(self, name: str, command: str, shell: Shell, where: str) -> None:
        self.name, self.where = name, where
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=shell.cwd,
            env=shell.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_first_line(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.lines:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"{self.where}: {self.name} printed nothing and {self.state}")
            time.sleep(0.05)

    @property
    def state(self) -> str:
        code = self.process.poll()
        return "is still running" if code is None else f"ended with status {code}"

    def finish(self, *, interrupt: bool) -> int:
        if interrupt and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT if interrupt else COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.where}: {self.name} did not end") from None
        self._reader.join(timeout=5)
        return code


class Shell:
    """Runs the page's commands: one working directory, one environment."""

    def __init__(self, cwd: Path, ports: dict[str, str]) -> None:
        self.cwd = cwd
        self.ports = ports
        self.env = clean_env()
        self.env["PATH"] = f"{self._bin_dir()}{os.pathsep}{self.env.get('PATH', '')}"
        self.last_status = 0
        self.background: dict[str, tuple[Background, str]] = {}

    def _bin_dir(self) -> Path:
        installed = Path(sys.executable).parent
        if (installed / "aioubiwebhooks").is_file():
            return installed
        wrapper_dir = self.cwd / ".bin"
        wrapper_dir.mkdir(exist_ok=True)
        wrapper = wrapper_dir / "aioubiwebhooks"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m aioubiwebhooks "$@"\n')
        wrapper.chmod(0o755)
        return wrapper_dir

    def localise(self, text: str) -> str:
        for page_port, port in self.ports.items():
            text = re.sub(rf"\b{page_port}\b", port, text)
        return text

    def run(self, command: str) -> str:
        if command.startswith("export "):
            name, _, value = command[len("export ") :].partition("=")
            self.env[name] = " ".join(shlex.split(value))
            self.last_status = 0
            return ""
        if command == "echo $?":
            return f"{self.last_status}\n"
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        self.last_status = result.returncode
        return result.stdout

    def finish(self, name: str, where: str, *, interrupt: bool) -> None:
        process, expected = self.background.pop(name)
        code = process.finish(interrupt=interrupt)
        assert code == 0, f"{where}: {name} ended with status {code}:\n" + "\n".join(process.lines)
        check_output(expected, "\n".join(process.lines), f"{process.where} ({name})")

    def close(self) -> None:
        for process, _ in self.background.values():
            if process.process.poll() is None:
                process.process.kill()
                process.process.wait()
        self.background.clear()


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    ports = {page_port: _free_port() for page_port in PAGE_PORTS}
    runner = Shell(tmp_path, ports)
    yield runner
    runner.close()


def test_the_page_has_sessions_to_replay() -> None:
    blocks = [item for item in parse_page(PAGE) if isinstance(item, Block)]
    commands = [c for b in blocks if b.lang == "console" for c, _ in commands_of(b)]
    names = {shlex.split(c)[1] for c in commands if c.startswith("aioubiwebhooks ")}
    # Every command of the CLI is shown at least once.
    assert names >= {"--help", "list", "get", "create", "update", "delete", "test", "listen"}
    assert names >= {"export", "plan", "apply", "copy", "emulator", "demo"}


def test_the_cli_guide_runs_as_shown(shell: Shell) -> None:
    for item in parse_page(PAGE):
        if isinstance(item, Comment):
            directive = item.text.removeprefix("cli:").split()
            if item.text.startswith("cli:") and directive[0] in ("wait", "stop"):
                where = f"guides/cli.md:{item.line}"
                shell.finish(directive[1], where, interrupt=directive[0] == "stop")
            continue
        if item.title is not None and item.lang in ("json", "yaml", "text") and not item.is_output:
            (shell.cwd / item.title).write_text(shell.localise(item.body), encoding="utf-8")
            continue
        if item.lang != "console":
            continue
        pairs = commands_of(item)
        marker = item.marker or ""
        if marker.startswith("cli: background"):
            name = marker.split()[-1]
            assert len(pairs) == 1, f"{item.where}: a background block holds one command"
            command, expected = pairs[0]
            process = Background(name, shell.localise(command), shell, item.where)
            process.wait_for_first_line()
            check_output(
                shell.localise(expected).splitlines()[0], process.lines[0], f"{item.where} ({name})"
            )
            shell.background[name] = (process, shell.localise(expected))
            continue
        for position, (command, expected) in enumerate(pairs):
            printed = shell.run(shell.localise(command))
            where = f"{item.where}: $ {command}"
            check_output(shell.localise(expected), printed, where)
            checked_by_echo = position + 1 < len(pairs) and pairs[position + 1][0] == "echo $?"
            if command != "echo $?" and not checked_by_echo:
                assert shell.last_status == 0, (
                    f"{where}: exit status {shell.last_status}\n{printed}"
                )
    assert not shell.background, f"never stopped: {sorted(shell.background)}"


def test_console_blocks_elsewhere_are_marked() -> None:
    """Only the CLI guide's sessions are replayed; any other console block says why not."""
    unmarked = []
    for page in sorted(DOCS.rglob("*.md")):
        if page == PAGE:
            continue
        for item in parse_page(page):
            if not isinstance(item, Block) or item.lang not in ("console", "bash", "sh"):
                continue
            if not item.not_executed:
                unmarked.append(item.where)
    assert not unmarked, f"console blocks neither replayed nor marked 'not executed': {unmarked}"


def test_command_blocks_are_parsed() -> None:
    block = Block(
        page=PAGE,
        line=1,
        lang="console",
        title=None,
        body="$ a \\\n    --b c\nout 1\nout 2\n$ echo $?\n1\n",
        marker=None,
    )
    assert commands_of(block) == [("a --b c", "out 1\nout 2"), ("echo $?", "1")]
