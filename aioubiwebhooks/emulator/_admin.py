"""The admin routes under ``/_emulator/``: steer and inspect a running emulator over HTTP.

Mounted only when asked for (``admin=True`` / ``--admin``), so a plain emulator
exposes nothing but the API. They need the same token as the API when one is set,
and are never slowed, failed or rate limited by the emulator's own faults.

- ``GET /_emulator/stats``; ``GET /_emulator/deliveries`` (recent attempts)
- ``GET|POST|DELETE /_emulator/faults``: POST ``{"kind": "fail_next", "count": 3,
  "status": 503}`` (kinds: ``fail_next``, ``drop_next``, ``latency``,
  ``fail_fraction``; the other keys are the keyword arguments of the same-named
  :class:`~._faults.FaultInjector` method); DELETE clears them
- ``POST /_emulator/reset`` (optional body ``{"restore_seed": true}``)
- ``GET /_emulator/seed`` (projects with ids); ``POST /_emulator/seed`` adds a seed
- ``GET|POST /_emulator/config``: ``{"test_delay": 1.5, "rate_limit": "300/60" | null}``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

from ._http import STATE_KEY, check_token, json_ok
from ._problems import BadRequest
from ._ratelimit import parse_rate_limit
from ._rules import decode_body
from ._seed import SeedError, parse_seed
from ._state import EmulatorState

__all__ = ["ADMIN_ROUTES"]


def _state(request: web.Request) -> EmulatorState:
    state = request.app[STATE_KEY]
    if state.token is not None:
        check_token(request.headers.get("Authorization"), state.token)
    return state


async def _optional_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    return decode_body(raw) if raw.strip() else {}


async def stats(request: web.Request) -> web.Response:
    state = _state(request)
    return json_ok(
        {
            **state.stats.snapshot(),
            "pending_tests": state.store.pending_tests,
            "deliveries_in_flight": state.deliverer.in_flight,
        }
    )


async def deliveries(request: web.Request) -> web.Response:
    state = _state(request)
    return json_ok(
        [
            {
                "test_id": r.test_id,
                "attempt": r.attempt,
                "url": r.url,
                "status": r.status,
                "error": r.error,
                "payload": r.payload,
            }
            for r in state.deliverer.records
        ]
    )


async def faults_get(request: web.Request) -> web.Response:
    return json_ok(_state(request).faults.describe())


async def faults_add(request: web.Request) -> web.Response:
    state = _state(request)
    body = decode_body(await request.read())
    kind = body.pop("kind", None)
    methods: dict[str, Callable[..., None]] = {
        "fail_next": state.faults.fail_next,
        "drop_next": state.faults.drop_next,
        "latency": state.faults.latency,
        "fail_fraction": state.faults.fail_fraction,
    }
    method = methods.get(kind) if isinstance(kind, str) else None
    if method is None:
        raise BadRequest(f"kind: must be one of {', '.join(sorted(methods))} (got {kind!r:.40})")
    if isinstance(body.get("seconds"), list):
        body["seconds"] = tuple(body["seconds"])
    try:
        method(**body)
    except (TypeError, ValueError) as error:
        raise BadRequest(f"{kind}: {error}") from None
    return json_ok(state.faults.describe(), status=201)


async def faults_clear(request: web.Request) -> web.Response:
    _state(request).faults.clear()
    return web.Response(status=204)


async def reset(request: web.Request) -> web.Response:
    state = _state(request)
    restore = (await _optional_body(request)).get("restore_seed", False)
    if not isinstance(restore, bool):
        raise BadRequest(f"restore_seed: must be true or false (got {restore!r:.40})")
    state.reset(restore_seed=restore)
    return web.Response(status=204)


def _projects(state: EmulatorState) -> dict[str, Any]:
    return {
        "projects": {
            project.name: {
                "id": project.id,
                "objects": [
                    {
                        "type": obj.kind.value,
                        "name": obj.name,
                        "id": obj.id,
                        "default_version": obj.default_version,
                        "versions": dict(obj.versions),
                    }
                    for obj in project.objects.values()
                ],
                "webhooks": len(project.webhooks),
            }
            for project in state.store.projects()
        }
    }


async def seed_get(request: web.Request) -> web.Response:
    return json_ok(_projects(_state(request)))


async def seed_add(request: web.Request) -> web.Response:
    state = _state(request)
    try:
        seed = parse_seed(decode_body(await request.read()))
    except SeedError as error:
        raise BadRequest(str(error)) from None
    state.store.apply_seed(seed)
    return json_ok(_projects(state), status=201)


def _config(state: EmulatorState) -> dict[str, Any]:
    delay = state.deliverer.delay
    limit = state.rate_limit
    return {
        "test_delay": "function" if callable(delay) else delay,
        "rate_limit": None if limit is None else {"limit": limit[0], "window": limit[1]},
        "token_required": state.token is not None,
        "allow_targets": state.target_policy.describe(),
        "protected_mask": state.protected_mask,
        "finished_status": state.deliverer.finished.describe(),
    }


async def config_get(request: web.Request) -> web.Response:
    return json_ok(_config(_state(request)))


async def config_set(request: web.Request) -> web.Response:
    state = _state(request)
    body = decode_body(await request.read())
    if "test_delay" in body:
        delay = body["test_delay"]
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise BadRequest(f"test_delay: must be a number of seconds >= 0 (got {delay!r:.40})")
        state.deliverer.delay = float(delay)
    if "rate_limit" in body:
        limit = body["rate_limit"]
        if limit is not None and not isinstance(limit, str):
            raise BadRequest("rate_limit: must be 'LIMIT/SECONDS' or null")
        try:
            state.rate_limit = None if limit is None else parse_rate_limit(limit)
        except ValueError as error:
            raise BadRequest(f"rate_limit: {error}") from None
    return json_ok(_config(state))


ADMIN_ROUTES: Final = (
    ("GET", "/stats", stats),
    ("GET", "/deliveries", deliveries),
    ("GET", "/faults", faults_get),
    ("POST", "/faults", faults_add),
    ("DELETE", "/faults", faults_clear),
    ("POST", "/reset", reset),
    ("GET", "/seed", seed_get),
    ("POST", "/seed", seed_add),
    ("GET", "/config", config_get),
    ("POST", "/config", config_set),
)
"""(method, path under ``/_emulator``, handler)."""
