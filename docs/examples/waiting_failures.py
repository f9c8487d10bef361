"""A test that fails, and a test that does not finish in time."""

import asyncio

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator


async def main() -> None:
    async with (
        Emulator() as api,
        uw.WebhooksSession(api.token, api.url) as session,
        uw.WebhookReceiver(secret="Token s3cret") as receiver,
    ):
        # No Authorization header: the receiver answers 401, so the delivery fails.
        spec = uw.WebhookTestCreate(
            url=receiver.url,
            object_type="deployment",
            object_name="demo-deployment",
            event="deployment_request_failed",
        )
        test = await session.webhook_tests_create("demo", spec)
        done = await session.await_test("demo", test.id)
        print(done.status, "-", done.error_message)

        # The same, but as an exception.
        test = await session.webhook_tests_create("demo", spec)
        try:
            await session.await_test("demo", test.id, raise_on_failure=True)
        except uw.TestFailedError as error:
            print("TestFailedError:", error.error_message)

        # A test still pending at the deadline.
        api.test_delay = 30.0
        test = await session.webhook_tests_create("demo", spec)
        try:
            await session.await_test("demo", test.id, timeout=0.5)
        except uw.TestTimeoutError as error:
            print("TestTimeoutError: last status", error.last_status, "after", error.timeout, "s")


if __name__ == "__main__":
    asyncio.run(main())
