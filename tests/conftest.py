"""Shared fixtures: backoff sleeps off (retries still happen), a fresh emulator per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import aioubiwebhooks


@pytest.fixture(autouse=True)
def _no_backoff_sleeps() -> Iterator[None]:
    aioubiwebhooks.set_testing(True)
    yield
    aioubiwebhooks.set_testing(False)
