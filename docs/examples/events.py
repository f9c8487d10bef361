"""Receive webhook deliveries as typed events."""

import asyncio

import attrs

import aioubiwebhooks as uw
from aioubiwebhooks.emulator import Emulator

SECRET = "Token s3cret"


async def main() -> None:
    async with (
        Emulator() as api,
        uw.WebhooksSession(api.token, api.url) as session,
        uw.WebhookReceiver(secret=SECRET) as receiver,
    ):
        print("deliveries go to", receiver.url)
        header = uw.WebhookHeader("Authorization", SECRET, protected=True)
        for object_type, name in [("deployment", "demo-deployment"), ("pipeline", "demo-pipeline")]:
            spec = uw.WebhookTestCreate(
                url=receiver.url,
                object_type=object_type,
                object_name=name,
                event=f"{object_type}_request_completed",
                headers=[header],
                include_result=True,
            )
            await session.check_webhook("demo", spec)

        # Every accepted delivery comes out of the stream once, in order of arrival.
        seen = 0
        async for event in receiver:
            print(type(event).__name__, event.event, event.object_name, event.status)
            print("  result:", event.result, "| secret header:", event.headers["Authorization"])
            seen += 1
            if seen == 2:
                break

        # wait_for also looks at what has already arrived, and takes nothing from the stream.
        event = await receiver.wait_for(lambda e: isinstance(e, uw.PipelineEvent), timeout=5)
        if isinstance(event, uw.PipelineEvent):  # narrows the type for a type checker
            print("pipeline:", event.pipeline_name, event.pipeline_version_name)
        print(uw.event_to_json(event))

        try:
            await receiver.wait_for(
                lambda e: e.status == "failed", timeout=0.2, description="a failed request"
            )
        except uw.EventTimeoutError as error:
            print("EventTimeoutError:", error)

        # A delivery without the secret is refused with 401, and counted.
        test = await session.check_webhook("demo", attrs.evolve(spec, headers=()))
        print("without the secret:", test.status, "-", test.error_message)
        print("refused as unauthorized:", receiver.stats.rejected["unauthorized"])
        print("accepted:", receiver.stats.accepted)


if __name__ == "__main__":
    asyncio.run(main())
