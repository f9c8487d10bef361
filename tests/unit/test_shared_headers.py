"""Equal headers are kept once: a bulk create's specs built from dicts, and the webhooks
a session reads one at a time, share their equal header tuples (fewer objects for the
cycle collector to scan), while every webhook keeps its own values and flags."""

from __future__ import annotations

from typing import Any

from aioubiwebhooks import (
    HttpRequest,
    HttpResponse,
    MockTransport,
    WebhookCreate,
    WebhookHeader,
    WebhooksSession,
)

PLAIN = {"key": "X-Team", "value": "data", "protected": False}
SECRET = {"key": "X-Team", "value": "data", "protected": True}


def spec(name: str, *headers: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "url": "https://example.org/hook",
        "object_type": "deployment",
        "object_name": "model",
        "event": "deployment_request_completed",
        "headers": list(headers),
    }


def stored(request: HttpRequest) -> HttpResponse:
    """Echo a create as the stored webhook (a protected value read back as null)."""
    sent = request.json()
    headers = [{**h, "value": None} if h["protected"] else h for h in sent["headers"]]
    return HttpResponse.json({**sent, "id": f"id-{sent['name']}", "headers": headers}, 201)


async def test_a_bulk_create_shares_equal_headers_of_its_specs_and_answers() -> None:
    given = WebhookCreate.from_dict(spec("given", PLAIN))
    items: list[WebhookCreate | dict[str, Any]] = [
        spec("a", PLAIN),
        spec("b", PLAIN),
        spec("c", SECRET),
        spec("d"),
        given,
    ]
    async with WebhooksSession("Token t", transport=MockTransport(stored)) as session:
        outcomes = await session.bulk_create("project", items)
    assert all(outcome.ok for outcome in outcomes)
    specs = [outcome.item for outcome in outcomes]
    details = [outcome.unwrap() for outcome in outcomes]
    assert specs[0].headers is specs[1].headers
    assert specs[4] is given  # the caller's own model, left as it is
    assert given.headers is not specs[0].headers
    assert [s.headers for s in specs] == [WebhookCreate.from_dict(i).headers for i in items]
    assert specs[2].headers[0] == WebhookHeader("X-Team", "data", protected=True)
    assert details[0].headers is details[1].headers is details[4].headers
    assert details[2].headers == (WebhookHeader("X-Team", None, protected=True),)
    assert details[0].headers == (WebhookHeader("X-Team", "data"),)
    assert details[3].headers == ()
