"""A durable event stream: a SQLite journal, a restart, and an idempotent handler."""

import asyncio
import sqlite3
import tempfile
from pathlib import Path

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator


class Orders:
    """The application's own state; handling an event twice must change nothing."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS done (request_id TEXT PRIMARY KEY)")

    def handle(self, event: uw.WebhookEvent) -> str:
        # the event's request id is the idempotency key: a second time is a no-op
        added = self.db.execute(
            "INSERT OR IGNORE INTO done VALUES (?)", (event.request_id,)
        ).rowcount
        self.db.commit()
        return "handled" if added else "seen before, skipped"


async def send_tests(api: Emulator, url: str, count: int) -> None:
    async with uw.WebhooksSession(api.token, api.url) as session:
        for _ in range(count):
            spec = uw.WebhookTestCreate(
                url=url,
                object_type="deployment",
                object_name="demo-deployment",
                event="deployment_request_completed",
            )
            await session.check_webhook("demo", spec)  # answered 200 only once stored


async def main() -> None:
    folder = Path(tempfile.mkdtemp())
    journal = folder / "events.db"
    orders = Orders(folder / "orders.db")
    async with Emulator() as api:
        async with uw.WebhookReceiver(journal=journal) as rx:
            await send_tests(api, rx.url, 3)
            async for event in rx:
                print("first run:", orders.handle(event))
                break  # the process "dies" here: this event is in hand, not acknowledged
        async with uw.WebhookReceiver(journal=journal) as rx:
            waiting = len(await rx.pending())
            print("after the restart,", waiting, "events wait")
            async for event in rx:
                print("second run:", orders.handle(event))
                waiting -= 1
                if not waiting:
                    await rx.ack(event)  # leaving the loop: this one is handled too
                    break
            print("left in the journal:", len(await rx.pending()))


asyncio.run(main())
