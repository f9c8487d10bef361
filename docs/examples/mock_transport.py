"""Scripted answers without a server: a MockTransport under the session."""

import asyncio

import aioubiwebhooks as uw

answers = [
    uw.HttpResponse.json({"error": "busy"}, status=503),
    uw.HttpResponse.json([]),
]
seen: list[str] = []


def handler(request: uw.HttpRequest) -> uw.HttpResponse:
    """Called for every request attempt; returns the next scripted answer."""
    seen.append(f"{request.method} {request.path}")
    return answers.pop(0)


def echo(request: uw.HttpRequest) -> uw.HttpResponse:
    """A careless server that repeats the token in its error message."""
    token = request.headers["Authorization"]
    return uw.HttpResponse.json({"error": f"token {token!r} refused"}, status=401)


async def main() -> None:
    uw.set_testing()  # retries without the backoff sleeps
    async with uw.WebhooksSession("a-token", transport=uw.MockTransport(handler)) as session:
        print(await session.webhooks_list("demo"))  # the 503 is retried
    print(seen)

    async with uw.WebhooksSession("s3cret", transport=uw.MockTransport(echo)) as session:
        try:
            await session.webhooks_list("demo")
        except uw.AuthenticationError as error:
            print(error)


if __name__ == "__main__":
    asyncio.run(main())
