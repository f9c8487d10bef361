"""Hostile spec files: alias bombs, deep nesting, repeated keys, odd files, huge values.

The command runs as a real process with its address space capped, against an emulator
that counts requests, so a file that makes it grow without bound ends in MemoryError
(and fails the test) instead of taking the machine down. What each refusal must be:
exit status 2, one line on standard error naming the problem, no request sent.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import webhook_spec

from aioubiwebhooks import ValidationError
from aioubiwebhooks.emulator import EmulatorThread
from aioubiwebhooks.migrate import diff, load_specs, read_specs

pytestmark = pytest.mark.timeout(120)

TOKEN = "hostile-files-token-3e1d"
ADDRESS_SPACE = 1024 * 1024 * 1024
"""The command's address space: ample for the command (about 300 MB), far below what an
expanded alias bomb or a full repr of one takes."""

ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
"""Nine levels of nine aliases each: a few hundred bytes naming 9**9 (387 million) items."""


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread(token=TOKEN) as emulator:
        yield emulator


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_cli(emu: EmulatorThread, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UBIOPS_")}
    env.update(UBIOPS_API_HOST=emu.url, UBIOPS_API_TOKEN=TOKEN)
    return subprocess.run(
        [sys.executable, "-m", "aioubiwebhooks", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=_cap_memory,  # the child only sets a limit
    )


def assert_refused(done: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("error: ValidationError: ")
    assert len(lines[0]) < 300
    for phrase in phrases:
        assert phrase in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["plan", "apply", "create"])
def test_an_alias_bomb_is_refused_at_once(
    emu: EmulatorThread, tmp_path: Path, command: str
) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    assert len(ALIAS_BOMB) == 342
    before = emu.emulator.stats.total_requests
    argv = ["create", "demo", "--file", str(path)] if command == "create" else [command, "demo"]
    done = run_cli(emu, *argv, *([] if command == "create" else [str(path)]))
    assert_refused(done, "bomb.yaml", "anchor", "line 1")
    assert emu.emulator.stats.total_requests == before


def test_an_alias_bomb_costs_the_library_next_to_nothing() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError, match="anchors and aliases are not allowed"):
            load_specs(ALIAS_BOMB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024


def test_an_alias_alone_is_refused_too(tmp_path: Path) -> None:
    # An alias to an anchor is refused wherever it stands; so is a merge of one.
    text = "- &hook {name: a}\n- *hook\n"
    with pytest.raises(ValidationError, match=r"specs: defines an anchor \(&hook\)"):
        read_specs(text)


@pytest.mark.parametrize(("name", "text"), [
    ("deep.json", "[" * 100_000),
    ("deep.yaml", "[" * 100_000),
    ("deep.yml", "- " * 50_000 + "x\n"),
    ("deep-closed.json", "[" * 5_000 + "]" * 5_000),
])  # fmt: skip
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(
    emu: EmulatorThread, tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    done = run_cli(emu, "plan", "demo", str(path))
    assert_refused(done, name, "deeper than 16 levels")
    assert "RecursionError" not in done.stderr


def test_deep_nesting_in_text_given_to_the_library() -> None:
    seventeen = "[" * 17 + "]" * 17
    for text in ("[" * 100_000, '{"a":' * 100_000, seventeen, f"- {seventeen}\n"):
        with pytest.raises(ValidationError, match="deeper than 16 levels"):
            load_specs(text)


def test_a_key_given_twice_is_an_error_naming_it(emu: EmulatorThread, tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    spec_text = "\n".join(f"  {k}: {v}" for k, v in webhook_spec("hook").items())
    path.write_text(f"- {spec_text.lstrip()}\n  timeout: 10\n  timeout: 20\n")
    done = run_cli(emu, "plan", "demo", str(path))
    assert_refused(done, "twice.yaml", "the key 'timeout' twice", "line 7")

    as_json = '[{"name": "a", "name": "b"}]'
    with pytest.raises(ValidationError, match="the key 'name' twice"):
        load_specs(as_json)
    with pytest.raises(ValidationError, match="the key 'key' twice"):
        load_specs("- headers:\n  - {key: A, key: B}\n")


def test_files_that_are_not_spec_files(emu: EmulatorThread, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # reading would wait for a writer forever
    assert_refused(run_cli(emu, "plan", "demo", str(fifo)), "not a regular file")
    assert_refused(run_cli(emu, "create", "demo", "-f", str(tmp_path)), "not a regular file")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"- name: \xff\xfe\x00\x01\n")
    assert_refused(run_cli(emu, "plan", "demo", str(binary)), "is not UTF-8 text (byte 8)")
    code = tmp_path / "code.yaml"
    marker = tmp_path / "ran"
    code.write_text(f'!!python/object/apply:os.system ["touch {marker}"]\n')
    assert_refused(run_cli(emu, "plan", "demo", str(code)), "code.yaml", "is not valid YAML")
    assert not marker.exists()


def test_a_file_past_the_size_limit_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aioubiwebhooks.migrate import _specfile

    monkeypatch.setattr(_specfile, "MAX_SPEC_FILE_SIZE", 1024)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([webhook_spec(f"hook-{i}") for i in range(20)]))
    with pytest.raises(ValidationError, match=r"big\.json: is larger than"):
        read_specs(path)


def test_values_in_messages_are_short_whatever_their_size() -> None:
    huge = "x" * 5_000_000
    shared: object = "leaf"
    for _ in range(12):  # 50**12 leaves as a tree: a full repr would never finish
        shared = [shared] * 50
    for spec in (
        webhook_spec(huge),
        webhook_spec("a", labels=shared),
        webhook_spec("a", description={"k": shared}),
        {**webhook_spec("a"), huge: 1},
        {**webhook_spec("a"), "unknown": shared},
    ):
        with pytest.raises(ValidationError) as caught:
            diff("demo", [spec], [])
        assert len(str(caught.value)) < 400


def test_a_syntax_error_does_not_show_the_line_it_is_on(tmp_path: Path) -> None:
    secret = "Token do-not-print-me-7c1"
    path = tmp_path / "broken.yaml"
    path.write_text(f"- name: a\n  headers:\n  - {{key: Authorization, value: {secret}\n")
    with pytest.raises(ValidationError) as caught:
        read_specs(path)
    assert "is not valid YAML" in str(caught.value)
    assert secret not in str(caught.value)
    path = tmp_path / "broken.json"
    path.write_text(f'[{{"headers": [{{"value": "{secret}"}}]')
    with pytest.raises(ValidationError) as caught:
        read_specs(path)
    assert "is not valid JSON" in str(caught.value)
    assert secret not in str(caught.value)


def test_a_hostile_protected_file_is_refused_too(emu: EmulatorThread, tmp_path: Path) -> None:
    desired = tmp_path / "desired.json"
    desired.write_text(json.dumps([webhook_spec("hook")]))
    fifo = tmp_path / "secrets.env"
    os.mkfifo(fifo)
    big = tmp_path / "big.env"
    big.write_text("K=" + "v" * (1024 * 1024) + "\n")
    deep = tmp_path / "deep.json"
    deep.write_text("{" + '"a":{' * 100_000)
    cases = ((fifo, "not a regular file"), (big, "is larger than 1 MiB"), (deep, "deeper"))
    for path, phrase in cases:
        done = run_cli(emu, "plan", "demo", str(desired), "--protected-file", str(path))
        assert_refused(done, path.name, phrase)
