"""Quick start: create a webhook, test it, receive its delivery, then create many at once."""

import asyncio

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator

SECRET = "Token s3cret"  # the receiver refuses deliveries that do not carry it


async def main() -> None:
    async with (
        Emulator() as api,  # a local stand-in for the UbiOps API
        uw.WebhooksSession(api.token, api.url) as session,
        uw.WebhookReceiver(secret=SECRET) as receiver,  # a local endpoint for deliveries
    ):
        hook = await session.webhooks_create(
            "demo",
            uw.WebhookCreate(
                name="on-failure",
                url=receiver.url,
                object_type="deployment",
                object_name="demo-deployment",
                event="deployment_request_failed",
                headers=[uw.WebhookHeader("Authorization", SECRET, protected=True)],
            ),
        )
        print("created", hook.name, "for", hook.event)
        print("stored header:", hook.headers[0])  # the API never returns a protected value

        # One test delivery with the stored settings; the secret must be given again.
        test = await session.check_webhook(
            "demo", "on-failure", protected_values={"Authorization": SECRET}
        )
        print("test", test.status)

        event = await receiver.wait_for(timeout=10)
        print("received", event.event, "for", event.object_name, event.version_name)

        # Plain dicts work wherever a model does.
        specs = [
            {
                "name": f"pipeline-hook-{i:03d}",
                "url": receiver.url,
                "object_type": "pipeline",
                "object_name": "demo-pipeline",
                "event": "pipeline_request_completed",
            }
            for i in range(100)
        ]
        outcomes = await session.bulk_create("demo", specs, concurrency=32)
        print(sum(o.ok for o in outcomes), "of", len(outcomes), "created")


if __name__ == "__main__":
    asyncio.run(main())
