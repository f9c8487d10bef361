"""A receiver process for the crash tests: records every handled event, killed from outside.

``python tests/journal_child.py JOURNAL PORT_FILE HANDLED_FILE [CONSUMER]`` serves a
receiver on a free loopback port (written to PORT_FILE once listening) with the
journal, and appends each handled event's request id to HANDLED_FILE with one
``os.write`` (the line survives a SIGKILL right after). It handles an event
(sleeping 1 ms, as real work would) and then asks for the next one, which
acknowledges it. It stops by itself after 60 s, or on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from aioubiwebhooks.receiver import WebhookReceiver

LIFETIME = 60.0


async def main(journal: str, port_file: str, handled_file: str, consumer: str | None) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    out = os.open(handled_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    async with WebhookReceiver(journal=journal, consumer=consumer, claim_after=1.0) as rx:
        Path(port_file + ".tmp").write_text(str(rx.port))  # noqa: ASYNC240 - a few bytes
        os.replace(port_file + ".tmp", port_file)

        async def consume() -> None:
            async for event in rx:
                await asyncio.sleep(0.001)
                os.write(out, f"{event.request_id}\n".encode())

        consumer_task = asyncio.ensure_future(consume())
        await asyncio.wait({consumer_task, asyncio.ensure_future(stop.wait())}, timeout=LIFETIME)
        consumer_task.cancel()
    os.close(out)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4], sys.argv[4] if len(sys.argv) > 4 else None))
