"""The ``async with`` of objects that open and close: leaving the block always closes.

One definition for the session, the receiver and the emulator, so that each of them
only says how it starts and how it closes.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncClosing", "AsyncStarting"]

_Closing = TypeVar("_Closing", bound="AsyncClosing")
_Starting = TypeVar("_Starting", bound="AsyncStarting")


class AsyncClosing:
    """``async with`` gives the object itself and calls :meth:`close` on leaving."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Closing) -> _Closing:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class AsyncStarting(AsyncClosing):
    """Like :class:`AsyncClosing`, but entering the block calls :meth:`start` first."""

    async def start(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Starting) -> _Starting:
        await self.start()
        return self
