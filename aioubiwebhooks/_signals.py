"""Stopping on Ctrl-C and SIGTERM while a block runs.

The commands that run until told to stop (``listen``, ``emulator``) and the many-item
commands (which stop cleanly, then report) all catch the two signals the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

__all__ = ["on_stop_signals"]


@contextlib.contextmanager
def on_stop_signals(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` in the running event loop's thread on SIGINT or SIGTERM while
    the block runs; leaving the block removes the handlers again.

    Only the main thread may install handlers, and not every loop can: elsewhere the
    signals keep their usual effect, so Ctrl-C still ends the run.
    """
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, callback)
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
