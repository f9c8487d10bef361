"""What a bulk call does with failing items, with fail_fast, and when deleting twice."""

import asyncio

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator


def spec(name: str, deployment: str = "demo-deployment") -> dict[str, str]:
    return {
        "name": name,
        "url": "https://example.org/hooks",
        "object_type": "deployment",
        "object_name": deployment,
        "event": "deployment_request_failed",
    }


async def main() -> None:
    async with Emulator() as api, uw.WebhooksSession(api.token, api.url) as session:
        # Every item is checked before anything is sent: one bad item stops the call.
        try:
            await session.bulk_create("demo", [spec("a"), {**spec("b"), "timeout": 90}])
        except uw.ValidationError as error:
            print("ValidationError:", error)
        print("webhooks after the refused call:", len(api.webhooks("demo")))

        # A failure on the server side becomes that item's outcome; the others go on.
        specs = [spec("a"), spec("b", deployment="no-such-deployment"), spec("c"), spec("d")]
        outcomes = await session.bulk_create("demo", specs, concurrency=1)
        for outcome in outcomes:
            print(" ", outcome.item.name, "ok" if outcome.ok else type(outcome.error).__name__)

        # With fail_fast, nothing new starts after the first failure.
        specs = [spec("e", deployment="no-such-deployment"), spec("f"), spec("g")]
        outcomes = await session.bulk_create("demo", specs, concurrency=1, fail_fast=True)
        for outcome in outcomes:
            print(" ", outcome.item.name, "ok" if outcome.ok else type(outcome.error).__name__)

        # Deleting is safe to repeat: a webhook already gone counts as done (skipped).
        names = ["a", "c", "d"]
        first = await session.bulk_delete("demo", names)
        second = await session.bulk_delete("demo", names)
        print("first delete:", [o.skipped for o in first])
        print("second delete:", [o.skipped for o in second], "all ok:", all(o.ok for o in second))


if __name__ == "__main__":
    asyncio.run(main())
