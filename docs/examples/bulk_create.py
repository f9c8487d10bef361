"""Create many webhooks at once, run it again, and bring changed ones up to date."""

import asyncio

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator


def spec(i: int, url: str = "https://example.org/hooks") -> dict[str, object]:
    return {
        "name": f"hook-{i:03d}",
        "url": url,
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
        "labels": {"team": "data"},
    }


def report(progress: uw.BulkProgress) -> None:
    if progress.done % 50 == 0:
        print(f"  {progress.done}/{progress.total} done, {progress.failed} failed")


async def main() -> None:
    async with Emulator() as api, uw.WebhooksSession(api.token, api.url) as session:
        specs = [spec(i) for i in range(150)]
        outcomes = await session.bulk_create("demo", specs, concurrency=32, progress=report)
        print("created:", sum(o.ok for o in outcomes))

        # Outcomes come back in input order; item is the checked spec, value the webhook.
        first = outcomes[0]
        print(first.item.name, "->", first.value.name if first.value else None, first.ok)

        # Run the same job again: every name exists now.
        again = await session.bulk_create("demo", specs)
        print("on_conflict='error':", {type(o.error).__name__ for o in again})
        again = await session.bulk_create("demo", specs, on_conflict="skip")
        print("on_conflict='skip': skipped", sum(o.skipped for o in again))

        # Point ten webhooks elsewhere; "update" changes those and leaves the rest alone.
        specs[:10] = [spec(i, url="https://example.org/v2/hooks") for i in range(10)]
        again = await session.bulk_create("demo", specs, on_conflict="update")
        updated = [o for o in again if o.ok and not o.skipped]
        skipped = [o for o in again if o.skipped]
        print("on_conflict='update': updated", len(updated), "skipped", len(skipped))
        print(updated[0].unwrap().url)

        # bulk_update takes webhook name -> update (a WebhookUpdate or a dict of fields).
        changes = {f"hook-{i:03d}": {"labels": {"team": "ml"}, "enabled": False} for i in range(5)}
        results = await session.bulk_update("demo", changes)
        print("bulk_update:", [(o.item, o.value.enabled if o.value else None) for o in results][:2])


if __name__ == "__main__":
    asyncio.run(main())
