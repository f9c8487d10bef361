"""The emulator for synchronous code: here the official ``ubiops`` client talks to it."""

import ubiops

from aioubiwebhooks.emulator import EmulatorThread

with EmulatorThread(token="my-token") as emulator:  # serves from a background thread
    configuration = ubiops.Configuration(
        host=emulator.url, api_key={"Authorization": "Token my-token"}
    )
    with ubiops.ApiClient(configuration) as client:
        api = ubiops.CoreApi(client)
        api.webhooks_create(
            "demo",
            ubiops.WebhookCreate(
                name="from-the-official-client",
                url="https://example.org/hooks",
                object_type="deployment",
                object_name="demo-deployment",
                event="deployment_request_failed",
            ),
        )
        print([hook.name for hook in api.webhooks_list("demo")])

    # The emulator's own view, for assertions.
    print(emulator.emulator.stats.requests)
