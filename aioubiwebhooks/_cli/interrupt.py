"""Ctrl-C and SIGTERM during a many-item command: stop cleanly, then report.

The first signal asks the bulk call to stop (:class:`~aioubiwebhooks.bulk.BulkStop`):
no new item starts, and items in flight get a few seconds to finish, so the report
that follows says exactly what was done. A second signal cuts that wait short.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Final

from .._signals import on_stop_signals
from ..bulk import BulkStop
from .output import Output

__all__ = ["INTERRUPT_GRACE", "stop_on_signals"]

INTERRUPT_GRACE: Final = 5.0
"""Seconds items in flight get to finish after Ctrl-C or SIGTERM."""


@contextlib.contextmanager
def stop_on_signals(out: Output, grace: float = INTERRUPT_GRACE) -> Iterator[BulkStop]:
    """A BulkStop that SIGINT and SIGTERM request while the block runs (in the event
    loop's thread; elsewhere the signals keep their usual effect)."""
    stop = BulkStop()

    def on_signal() -> None:
        if stop.requested:
            out.note("interrupted again: not waiting for the requests in flight")
            stop.request(grace=0)
            return
        out.note(
            f"interrupted: starting no new items; the ones in flight get up to {grace:g} s "
            "(interrupt again to stop at once)"
        )
        stop.request(grace=grace)

    with on_stop_signals(on_signal):
        yield stop
