"""The seven API endpoints as aiohttp handlers: parse, ask the store, render.

Each handler checks the project first (404), then the body (400), then the rules
that need the store (404 for unknown objects, 409 for a taken name), the order a
client would meet them in on the real service.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from .._wire import webhook_json, webhook_test_json
from ._http import STATE_KEY, json_ok
from ._rules import decode_body, parse_create, parse_list_filter, parse_test_create, parse_update
from ._state import EmulatorState

__all__ = ["API_ROUTES"]


def _state(request: web.Request) -> tuple[EmulatorState, str]:
    state = request.app[STATE_KEY]
    project = request.match_info["project"]
    state.store.project(project)  # 404 before anything else
    return state, project


async def webhooks_create(request: web.Request) -> web.Response:
    state, project = _state(request)
    spec = parse_create(decode_body(await request.read()), state.store.limits)
    made = state.store.create_webhook(project, spec)
    return json_ok(webhook_json(made, mask=state.protected_mask), status=201)


async def webhooks_list(request: web.Request) -> web.Response:
    state, project = _state(request)
    where = parse_list_filter(request.query)
    mask = state.protected_mask
    return json_ok([webhook_json(w, mask=mask) for w in state.store.list_webhooks(project, where)])


async def webhooks_get(request: web.Request) -> web.Response:
    state, project = _state(request)
    found = state.store.get_webhook(project, request.match_info["name"])
    return json_ok(webhook_json(found, mask=state.protected_mask))


async def webhooks_update(request: web.Request) -> web.Response:
    state, project = _state(request)
    name = request.match_info["name"]
    state.store.get_webhook(project, name)
    change = parse_update(decode_body(await request.read()), state.store.limits)
    updated = state.store.update_webhook(project, name, change)
    return json_ok(webhook_json(updated, mask=state.protected_mask))


async def webhooks_delete(request: web.Request) -> web.Response:
    state, project = _state(request)
    state.store.delete_webhook(project, request.match_info["name"])
    return web.Response(status=204)


async def webhook_tests_create(request: web.Request) -> web.Response:
    state, project = _state(request)
    spec = parse_test_create(decode_body(await request.read()), state.store.limits)
    test, plan = state.store.create_test(project, spec)
    state.deliverer.submit(plan)
    return json_ok(webhook_test_json(test.detail()), status=201)


async def webhook_tests_get(request: web.Request) -> web.Response:
    state, project = _state(request)
    test = state.store.get_test(project, request.match_info["test_id"])
    return json_ok(webhook_test_json(test.detail()))


API_ROUTES: Final = (
    ("POST", "/projects/{project}/webhooks", webhooks_create),
    ("GET", "/projects/{project}/webhooks", webhooks_list),
    ("GET", "/projects/{project}/webhooks/{name}", webhooks_get),
    ("PATCH", "/projects/{project}/webhooks/{name}", webhooks_update),
    ("DELETE", "/projects/{project}/webhooks/{name}", webhooks_delete),
    ("POST", "/projects/{project}/webhooks-tests", webhook_tests_create),
    ("GET", "/projects/{project}/webhooks-tests/{test_id}", webhook_tests_get),
)
"""(method, path under the version prefix, handler); the handler's name is the operation."""
