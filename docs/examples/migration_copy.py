"""Copy webhooks from one host and project to another: rename, rewrite URLs, supply secrets."""

import asyncio

import aioubiwebhooks as uw
from aioubiwebhooks import migrate
from aioubiwebhooks.emulator import Emulator

SEED = {"projects": {"shop": {"deployments": {"checkout": ["v1"]}}}}


async def main() -> None:
    async with (
        Emulator(seed=SEED) as staging_api,
        Emulator(seed=SEED) as production_api,
        uw.WebhooksSession(staging_api.token, staging_api.url) as staging,
        uw.WebhooksSession(production_api.token, production_api.url) as production,
    ):
        for event in ("failed", "completed"):
            await staging.webhooks_create(
                "shop",
                uw.WebhookCreate(
                    name=f"staging-checkout-{event}",
                    url="https://staging.example.org/hooks/checkout",
                    object_type="deployment",
                    object_name="checkout",
                    event=f"deployment_request_{event}",
                    headers=[uw.WebhookHeader("Authorization", "Token staging", protected=True)],
                ),
            )

        def rename(name: str) -> str:
            return name.replace("staging-", "prod-", 1)

        urls = {"https://staging.example.org/": "https://example.org/"}

        # Staging cannot reveal the secret, and none was given: nothing is changed.
        try:
            await migrate.copy(
                staging, "shop", production, "shop", rename=rename, rewrite_urls=urls
            )
        except migrate.PlanBlockedError as error:
            print("blocked:", [blocked.name for blocked in error.blocked])

        # Give the secret as a reference to an environment variable, and look first.
        secrets = {"Authorization": "${PROD_HOOK_TOKEN}"}
        environ = {"PROD_HOOK_TOKEN": "Token production"}  # default: os.environ
        for dry_run in (True, False):
            copied = await migrate.copy(
                staging,
                "shop",
                production,
                "shop",
                rename=rename,
                rewrite_urls=urls,
                protected_values=secrets,
                environ=environ,
                dry_run=dry_run,
            )
            if copied.result is None:  # a dry run stops after the plan
                print(copied.plan.summary())
            else:
                print(copied.result.summary())
        for hook in await production.webhooks_list("shop"):
            print(" ", hook.name, hook.url)


if __name__ == "__main__":
    asyncio.run(main())
