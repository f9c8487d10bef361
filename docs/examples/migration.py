"""Export a project's webhooks, plan a change, apply it, and apply again (nothing left to do)."""

import asyncio

import aioubiwebhooks as uw
from aioubiwebhooks import migrate
from aioubiwebhooks.emulator import Emulator


async def main() -> None:
    async with Emulator() as api, uw.WebhooksSession(api.token, api.url) as session:
        for name, event in [("on-failure", "failed"), ("on-success", "completed")]:
            await session.webhooks_create(
                "demo",
                uw.WebhookCreate(
                    name=name,
                    url="https://alerts.example.org/ubiops",
                    object_type="deployment",
                    object_name="demo-deployment",
                    event=f"deployment_request_{event}",
                    headers=[uw.WebhookHeader("Authorization", "Token s3cret", protected=True)],
                ),
            )

        # Export: every field written, sorted by name; protected values are unknown (null).
        specs = await migrate.export(session, "demo")
        text = migrate.dump_specs(specs, format="yaml")
        print(migrate.dump_specs(specs[:1], format="yaml"))

        # Edit the specs: a new URL for every webhook, and a third webhook.
        wanted = migrate.load_specs(text)
        for item in wanted:
            item["url"] = "https://alerts.example.org/v2/ubiops"
        wanted.append(
            {
                "name": "on-start",
                "url": "https://alerts.example.org/v2/ubiops",
                "object_type": "deployment",
                "object_name": "demo-deployment",
                "event": "deployment_request_started",
            }
        )

        the_plan = await migrate.plan(session, "demo", wanted)
        print(the_plan.summary())

        result = await migrate.apply(session, the_plan)
        print(result.summary())

        again = await migrate.plan(session, "demo", wanted)
        print(again.summary())

        # The protected values, unknown to the specs, were kept as stored.
        print("secret kept:", api.webhook("demo", "on-failure").headers[0].value == "Token s3cret")


if __name__ == "__main__":
    asyncio.run(main())
