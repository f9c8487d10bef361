"""The client's limits, sent over raw HTTP past the client's own checks: the emulator agrees.

Each limit of the client's request models gives a value just inside it and one just
outside. The client's model must accept the first and refuse the second (so the
limit really is the client's), then the emulator, reached with plain aiohttp, must
accept the first and answer the second with a 400 naming the field. A limit moved on
either side alone fails here; ``tests/unit/test_emulator_rule_parity.py`` checks the
same from the emulator's table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import aiohttp
import pytest

from aioubiwebhooks.emulator import Emulator
from aioubiwebhooks.errors import ValidationError
from aioubiwebhooks.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    TIMEOUT_MAX,
    TIMEOUT_MIN,
    EventType,
    ObjectType,
    WebhookCreate,
    WebhookTestCreate,
    WebhookUpdate,
)

TARGET: Final = {
    "url": "https://example.org/hook",
    "object_type": "deployment",
    "object_name": "demo-deployment",
    "event": "deployment_request_completed",
}
HEADER: Final = {"key": "K", "value": "v", "protected": False}

# (field, just inside the client's limit, just outside it)
LIMITS: Final[list[tuple[str, object, object]]] = [
    ("name", "n" * NAME_MAX_LENGTH, "n" * (NAME_MAX_LENGTH + 1)),
    ("name", "n", ""),
    ("description", "d" * DESCRIPTION_MAX_LENGTH, "d" * (DESCRIPTION_MAX_LENGTH + 1)),
    ("timeout", TIMEOUT_MAX, TIMEOUT_MAX + 1),
    ("timeout", TIMEOUT_MIN, TIMEOUT_MIN - 1),
    ("object_name", "demo-deployment", ""),
    ("version", "v1", ""),
    ("url", "http://example.org/x", "example.org/x"),
    ("enabled", False, "false"),
    ("labels", {"a": "b"}, {"a": 1}),
    ("headers[0].key", "K", ""),
    ("headers[0].value", "v", ""),
    ("headers[0].protected", True, "yes"),
]
OPERATIONS: Final[dict[str, tuple[Callable[[object], object], set[str]]]] = {
    "create": (WebhookCreate.from_dict, set()),
    "update": (WebhookUpdate.from_dict, {"object_name", "version"}),
    "test": (WebhookTestCreate.from_dict, {"name", "description", "labels", "enabled"}),
}


def _body(operation: str, field: str, value: object) -> dict[str, Any]:
    body: dict[str, Any] = {} if operation == "update" else dict(TARGET)
    if operation == "create":
        body["name"] = "hook"
    if field.startswith("headers[0]."):
        body["headers"] = [{**HEADER, field.rpartition(".")[2]: value}]
    else:
        body[field] = value
    return body


def _cases() -> list[Any]:
    cases = []
    for operation, (_, unknown) in OPERATIONS.items():
        for field, inside, outside in LIMITS:
            if field not in unknown:
                shown = f"{len(outside)} chars" if isinstance(outside, str) else repr(outside)
                cases.append(
                    pytest.param(
                        operation, field, inside, outside, id=f"{operation}-{field}-{shown}"
                    )
                )
    return cases


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Token {emulator.token}"}
    async with aiohttp.ClientSession(emulator.url + "/", headers=headers) as session:
        yield session


async def _send(
    http: aiohttp.ClientSession, operation: str, body: dict[str, Any]
) -> tuple[int, Any]:
    if operation == "update":
        async with http.post("projects/demo/webhooks", json={**TARGET, "name": "hook"}) as made:
            assert made.status == 201, await made.text()
        request = http.patch("projects/demo/webhooks/hook", json=body)
    elif operation == "create":
        request = http.post("projects/demo/webhooks", json=body)
    else:
        request = http.post("projects/demo/webhooks-tests", json=body)
    async with request as answer:
        return answer.status, await answer.json()


@pytest.mark.parametrize(("operation", "field", "inside", "outside"), _cases())
async def test_the_emulator_holds_the_clients_limits(
    emulator: Emulator,
    http: aiohttp.ClientSession,
    operation: str,
    field: str,
    inside: object,
    outside: object,
) -> None:
    emulator.test_delay = 3600.0  # tests stay pending: nothing is delivered
    build = OPERATIONS[operation][0]
    build(_body(operation, field, inside))
    with pytest.raises(ValidationError) as refused:
        build(_body(operation, field, outside))
    assert refused.value.field.startswith(field)

    status, answer = await _send(http, operation, _body(operation, field, outside))
    assert status == 400, f"the emulator accepts {field}={outside!r:.40} ({operation})"
    assert answer["error"].startswith(field), answer

    emulator.reset()
    status, answer = await _send(http, operation, _body(operation, field, inside))
    assert status in (200, 201), f"the emulator refuses {field}={inside!r:.40}: {answer!r:.200}"


@pytest.mark.parametrize("event", list(EventType), ids=str)
async def test_every_event_of_the_client_is_accepted(
    http: aiohttp.ClientSession, event: EventType
) -> None:
    kind = ObjectType(event.object_type)
    body = {
        **TARGET,
        "name": "hook",
        "object_type": kind.value,
        "object_name": f"demo-{kind.value}",
        "event": event.value,
    }
    status, answer = await _send(http, "create", body)
    assert status == 201, answer
