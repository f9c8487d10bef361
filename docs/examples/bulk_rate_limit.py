"""A bulk job against a rate-limited server: paced to its budget instead of collecting 429s."""

import asyncio
import time

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator

LIMIT, WINDOW = 50, 1.0  # the real API allows 300 a minute; scaled down to finish quickly


def specs(prefix: str) -> list[dict[str, str]]:
    return [
        {
            "name": f"{prefix}-{i:03d}",
            "url": "https://example.org/hooks",
            "object_type": "pipeline",
            "object_name": "demo-pipeline",
            "event": "pipeline_request_finished",
        }
        for i in range(3 * LIMIT)
    ]


async def main() -> None:
    async with Emulator(rate_limit=(LIMIT, WINDOW)) as api:
        for pacing in ("auto", "off"):
            api.reset()  # no webhooks, counters at zero, a fresh window
            async with uw.WebhooksSession(api.token, api.url, pacing=pacing) as session:
                started = time.monotonic()
                outcomes = await session.bulk_create("demo", specs(pacing), concurrency=64)
                elapsed = time.monotonic() - started
            print(f"pacing={pacing!r}: created {sum(o.ok for o in outcomes)} of {len(outcomes)}")
            print("  took at least two windows:", elapsed >= 2 * WINDOW)
            few = api.stats.rate_limited <= 3
            print("  429 answers:", "at most one per window" if few else "many")


if __name__ == "__main__":
    asyncio.run(main())
