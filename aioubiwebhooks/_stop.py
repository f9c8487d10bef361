"""Asking a running bulk call to stop early and cleanly, and keep what it did.

Cancelling a bulk call throws away the outcomes of everything it finished. A
:class:`BulkStop` ends it gently instead: no new item starts, items in flight get a
grace period to finish, and the call returns every Outcome as if it had run to the end
(items never started are ``NotAttemptedError``), so the caller can report exactly what
was done. The command line requests one on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

__all__ = ["DEFAULT_GRACE", "BulkStop"]

DEFAULT_GRACE: Final = 5.0
"""Seconds calls in flight get to finish once a stop is requested."""


class BulkStop:
    """Tells the bulk calls it is given to (``stop=``) to stop starting items.

    After :meth:`request`, calls in flight get ``grace`` seconds to finish; those still
    waiting then are cancelled and reported as ``ApiConnectionError`` (no answer came:
    the request may or may not have been carried out). Use it from the event loop's
    thread, as a handler installed with ``loop.add_signal_handler`` is.
    """

    def __init__(self) -> None:
        self._deadline: float | None = None
        self._listeners: list[Callable[[], None]] = []

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return self._deadline is not None

    @property
    def deadline(self) -> float | None:
        """When calls in flight are cancelled (``time.monotonic()``), once requested."""
        return self._deadline

    def request(self, grace: float = DEFAULT_GRACE) -> None:
        """Stop starting items; give those in flight ``grace`` seconds. Asking again
        with a shorter grace (a second Ctrl-C, say) shortens the wait; never lengthens it."""
        deadline = time.monotonic() + max(0.0, grace)
        if self._deadline is None or deadline < self._deadline:
            self._deadline = deadline
        for listener in list(self._listeners):
            listener()

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on every request; returns the function that stops that."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
