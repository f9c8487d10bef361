"""Start a webhook test and wait for its result."""

import asyncio

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator


async def main() -> None:
    async with (
        Emulator(test_delay=1.0) as api,  # tests stay pending for a second
        uw.WebhooksSession(api.token, api.url) as session,
        uw.WebhookReceiver() as receiver,
    ):
        spec = uw.WebhookTestCreate(
            url=receiver.url,
            object_type="deployment",
            object_name="demo-deployment",
            event="deployment_request_completed",
        )
        test = await session.webhook_tests_create("demo", spec)
        print("right after creating:", test.status)

        done = await session.await_test("demo", test.id, timeout=30)
        print("after waiting:", done.status, done.error_message)

        # watch_test yields each change of status, not every poll.
        second = await session.webhook_tests_create("demo", spec)
        async for detail in session.watch_test("demo", second.id, timeout=30):
            print("status changed to", detail.status)


if __name__ == "__main__":
    asyncio.run(main())
