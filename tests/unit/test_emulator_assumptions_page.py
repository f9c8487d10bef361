"""``docs/emulator-assumptions.md`` stays true to the code: its settings exist, its
defaults are the code's."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path

import attrs
import pytest

from aioubiwebhooks.emulator import DEFAULT_MAX_BODY_SIZE, Emulator, Limits
from aioubiwebhooks.emulator.__main__ import add_arguments
from aioubiwebhooks.emulator._delivery import Deliverer
from aioubiwebhooks.emulator._state import OPEN_LIMIT, OPEN_WINDOW
from aioubiwebhooks.emulator._store import DEFAULT_MAX_PENDING_TESTS, DEFAULT_MAX_TESTS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "emulator-assumptions.md"
TEXT = PAGE.read_text(encoding="utf-8")


def test_every_keyword_setting_named_exists() -> None:
    emulator = set(inspect.signature(Emulator).parameters)
    limits = {f.name for f in attrs.fields(Limits)}
    named = set(re.findall(r"`(\w+)=", TEXT))
    assert named, "the page names no setting"
    assert named - emulator == set(), f"not settings of Emulator: {sorted(named - emulator)}"
    in_limits = set(re.findall(r"(\w+)=\.\.\.", TEXT))
    assert in_limits, "the page names no limit"
    assert in_limits <= limits, sorted(in_limits - limits)


def test_every_command_option_named_exists() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = {o for action in parser._actions for o in action.option_strings}
    named = set(re.findall(r"`(--[a-z-]+)", TEXT))
    assert named, "the page names no option"
    assert named <= options, sorted(named - options)


@pytest.mark.parametrize(
    "row",
    [
        f"| request body | {DEFAULT_MAX_BODY_SIZE // 1024 // 1024} MiB (413 beyond) |",
        f"| webhooks per project | {Limits().max_webhooks_per_project:,} |",
        f"| labels of one webhook | {Limits().max_labels}, {Limits().max_labels_size:,} characters",
        f"| headers of one webhook or test | {Limits().max_headers}, "
        f"{Limits().max_headers_size:,} characters",
        f"| `url` | {Limits().max_url_length:,} characters |",
        f"| tests pending at once | {DEFAULT_MAX_PENDING_TESTS:,} (503 beyond) |",
        f"| finished tests kept | {DEFAULT_MAX_TESTS:,}, oldest forgotten first",
        f"they report {OPEN_LIMIT:,} requests per {OPEN_WINDOW:g} s",
        f"at most {Deliverer(on_finish=lambda *_: None).attempts} attempts, "
        f"{Deliverer(on_finish=lambda *_: None).retry_pause:g} s apart",
    ],
)
def test_the_defaults_shown_are_the_codes(row: str) -> None:
    assert row in TEXT
