"""The errors you meet, and the retries that happen before you see one."""

import asyncio

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator

SPEC = {
    "name": "on-failure",
    "url": "https://example.org/hooks",
    "object_type": "deployment",
    "object_name": "demo-deployment",
    "event": "deployment_request_failed",
}


async def main() -> None:
    # Bad input is refused when the model is built, before any request.
    try:
        uw.WebhookCreate.from_dict({**SPEC, "event": "pipeline_request_failed"})
    except uw.ValidationError as error:
        print("ValidationError:", error)
        print("  field:", error.field, "| also a ValueError:", isinstance(error, ValueError))

    async with Emulator() as api, uw.WebhooksSession(api.token, api.url) as session:
        # The server's refusals carry its status and its own message.
        try:
            await session.webhooks_get("demo", "no-such-webhook")
        except uw.NotFoundError as error:
            print("NotFoundError:", error.status, error.message)

        await session.webhooks_create("demo", SPEC)
        try:
            await session.webhooks_create("demo", {**SPEC, "url": "https://example.org/other"})
        except uw.ConflictError as error:
            print("ConflictError:", error)

        # Two 503 answers in a row: the call is retried and succeeds.
        api.faults.fail_next(2, status=503)
        hooks = await session.webhooks_list("demo")
        attempts = api.stats.requests["webhooks_list"]
        print("listed", len(hooks), "webhook after", attempts, "attempts")

        # A webhook test is not repeated once the server may have acted on it,
        # because a repeat would send a second delivery.
        api.faults.fail_next(1, status=503, routes=["webhook_tests_create"])
        test = {key: value for key, value in SPEC.items() if key != "name"}
        try:
            await session.webhook_tests_create("demo", test)
        except uw.ServerError as error:
            print("ServerError:", error.status, "after", error.attempts, "attempt")

    # Nothing listens on this port: the request was never sent, so it was safe to retry.
    async with uw.WebhooksSession("a-token", "http://127.0.0.1:9", max_retries=2) as session:
        try:
            await session.webhooks_list("demo")
        except uw.ApiConnectionError as error:
            print(type(error).__name__, "| sent:", error.sent)


if __name__ == "__main__":
    asyncio.run(main())
