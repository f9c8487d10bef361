"""``EmulatorThread``: an emulator on its own event loop in a background thread.

For synchronous code that needs a server to talk to (the official ``ubiops``
client, benchmarks, scripts): the emulator keeps serving while the calling thread
blocks in its HTTP calls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from ._server import Emulator

__all__ = ["EmulatorThread"]

_T = TypeVar("_T")


class EmulatorThread:
    """``with EmulatorThread(token="T") as emu: emu.url`` (keyword arguments as for Emulator).

    :attr:`emulator` is the running :class:`Emulator`; use :meth:`call` to run a
    coroutine on its loop (e.g. ``emu.call(emu.emulator.drain())``). Its plain
    methods and counters may be read from this thread between requests.
    """

    def __init__(self, *, start_timeout: float = 10.0, **options: Any) -> None:
        self._options = options
        self._start_timeout = start_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._emulator: Emulator | None = None

    @property
    def emulator(self) -> Emulator:
        if self._emulator is None:
            raise RuntimeError("EmulatorThread not started")
        return self._emulator

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def root_url(self) -> str:
        return self.emulator.root_url

    @property
    def token(self) -> str:
        return self.emulator.token

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("EmulatorThread already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._serve, args=(loop,), name="ubiops-emulator", daemon=True
        )
        self._thread.start()
        try:
            self._emulator = self.call(self._open(), timeout=self._start_timeout)
        except BaseException:
            self.stop()
            raise

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self) -> Emulator:
        emulator = Emulator(**self._options)
        await emulator.start()
        return emulator

    def call(self, coro: Coroutine[Any, Any, _T], *, timeout: float | None = 30.0) -> _T:
        """Run ``coro`` on the emulator's loop and return its result (blocking)."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("EmulatorThread not started")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Close the emulator, stop the loop and join the thread. Safe to call twice."""
        loop, thread, emulator = self._loop, self._thread, self._emulator
        self._emulator = None
        if loop is None or thread is None:
            return
        try:
            if emulator is not None and loop.is_running():
                self.call(emulator.close(), timeout=timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            self._loop = self._thread = None

    def __enter__(self) -> EmulatorThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
