"""Wait for many tests at once: each result arrives as soon as its test is done."""

import asyncio
import random

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator


async def main() -> None:
    async with (
        Emulator(test_delay=lambda: random.uniform(0.1, 1.0)) as api,
        uw.WebhooksSession(api.token, api.url) as session,
        uw.WebhookReceiver() as receiver,
    ):
        spec = uw.WebhookTestCreate(
            url=receiver.url,
            object_type="pipeline",
            object_name="demo-pipeline",
            event="pipeline_request_completed",
        )
        ids = [(await session.webhook_tests_create("demo", spec)).id for _ in range(20)]

        finished = 0
        async for outcome in session.await_tests("demo", ids, timeout=30):
            if outcome.ok:  # outcome.value is the final WebhookTestDetail
                finished += 1
            else:  # outcome.error says why this one has no result
                print(outcome.item, type(outcome.error).__name__)
        print(finished, "of", len(ids), "tests finished")

        # bulk_test creates the tests and waits for them in one call.
        outcomes = await session.bulk_test("demo", [spec] * 20, timeout=30)
        statuses = {str(o.value.status) for o in outcomes if o.value is not None}
        print(len(outcomes), "tests, statuses:", statuses)


if __name__ == "__main__":
    asyncio.run(main())
