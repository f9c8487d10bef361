"""Pytest fixtures for applications that use aioubiwebhooks (registered as a pytest plugin).

- ``ubiops_emulator``: a running :class:`~aioubiwebhooks.emulator.Emulator` on a free
  loopback port, seeded with the ``demo`` project, fresh for every test: no rate limit
  unless asked, but the ``x-ratelimit-*`` headers on every answer, as the service sends
  them. Options go in a marker:
  ``@pytest.mark.ubiops_emulator(token="T", rate_limit=(10, 1), protected_mask="***")``.
- ``webhook_receiver``: a running :class:`~aioubiwebhooks.receiver.WebhookReceiver`
  (``.url`` is where deliveries go); options in ``@pytest.mark.webhook_receiver(...)``,
  ``journal`` included: a path or ``redis://`` URL, or ``True`` for a SQLite file in
  the test's temporary folder.
- ``ubiops_testing_mode``: testing mode (:func:`~aioubiwebhooks.set_testing`) for the
  test, with no backoff sleeps and no poll delays; the previous setting comes back after.

The first two are async fixtures and need pytest-asyncio. Pytest imports this module for every
project that has aioubiwebhooks installed, so it imports nothing heavy up front and
never fails to import: without pytest-asyncio the fixtures fail with a clear message
when used, and are otherwise inert.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from .emulator import Emulator
    from .receiver import WebhookReceiver  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "pytest_configure",
    "ubiops_emulator",
    "ubiops_testing_mode",
    "webhook_receiver",
]

_F = TypeVar("_F", bound=Callable[..., Any])

_asyncio_fixture: Callable[..., Any] | None
try:
    from pytest_asyncio import fixture as _imported_fixture
except ImportError:  # pragma: no cover - only where pytest-asyncio is absent
    _asyncio_fixture = None
else:
    _asyncio_fixture = _imported_fixture


def _async_fixture(function: _F) -> _F:
    """``pytest_asyncio.fixture``, or a fixture that explains it is missing."""
    if _asyncio_fixture is not None:
        return cast(_F, _asyncio_fixture(function))

    def unavailable() -> None:  # pragma: no cover - only where pytest-asyncio is absent
        pytest.fail(f"the {function.__name__} fixture needs pytest-asyncio installed")

    unavailable.__name__ = function.__name__
    unavailable.__doc__ = function.__doc__
    return cast(_F, pytest.fixture(unavailable))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ubiops_emulator(**options): keyword arguments for the ubiops_emulator fixture"
    )
    config.addinivalue_line(
        "markers", "webhook_receiver(**options): keyword arguments for the webhook_receiver fixture"
    )


def _options(request: pytest.FixtureRequest, marker: str) -> dict[str, Any]:
    found = request.node.get_closest_marker(marker)
    return dict(found.kwargs) if found is not None else {}


@_async_fixture
async def ubiops_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    """A fresh emulated UbiOps webhooks API on a free port: ``.url``, ``.token``, ``.faults``."""
    from .emulator import Emulator

    options = {"port": 0, **_options(request, "ubiops_emulator")}
    async with Emulator(**options) as emulator:
        yield emulator


@_async_fixture
async def webhook_receiver(request: pytest.FixtureRequest) -> AsyncIterator[WebhookReceiver]:
    """A started webhook receiver on a free loopback port; ``.url`` is where to deliver."""
    from .receiver import WebhookReceiver

    options = _options(request, "webhook_receiver")
    if options.get("journal") is True:
        folder = request.getfixturevalue("tmp_path")
        options["journal"] = folder / "webhook-events.db"
    async with WebhookReceiver(**options) as receiver:
        yield receiver


@pytest.fixture
def ubiops_testing_mode() -> Iterator[None]:
    """Testing mode for one test: retries and polls do not sleep; restored afterwards.

    Use it in a test's arguments, with ``@pytest.mark.usefixtures("ubiops_testing_mode")``,
    or in an autouse fixture of your own to cover a whole module or suite.
    """
    from ._retry import set_testing

    with set_testing(True):
        yield
