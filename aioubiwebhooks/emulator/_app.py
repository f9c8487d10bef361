"""The aiohttp application: routes, middlewares, body limit and delivery lifetime."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from ._admin import ADMIN_ROUTES
from ._http import ADMIN_PREFIX, API_PREFIXES, STATE_KEY, api_gate, guard
from ._routes import API_ROUTES
from ._state import EmulatorState

__all__ = ["DEFAULT_MAX_BODY_SIZE", "create_app"]

DEFAULT_MAX_BODY_SIZE: Final = 1024 * 1024
"""Larger request bodies are answered 413 with a JSON error."""


def create_app(
    state: EmulatorState | None = None,
    *,
    admin: bool = False,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> web.Application:
    """The emulator as an aiohttp app, for ``web.run_app``, an ``AppRunner`` or a test client.

    The API is served under ``/v2.1`` and ``/v2``; the admin routes under
    ``/_emulator`` only with ``admin``. Deliveries start with the app and are
    cancelled on its cleanup.
    """
    state = state if state is not None else EmulatorState()
    app = web.Application(middlewares=[guard, api_gate], client_max_size=max_body_size)
    app[STATE_KEY] = state
    for namespace, prefix in API_PREFIXES.items():
        for method, path, handler in API_ROUTES:
            app.router.add_route(
                method, prefix + path, handler, name=f"{namespace}:{handler.__name__}"
            )
    if admin:
        for method, path, handler in ADMIN_ROUTES:
            name = f"admin:{handler.__name__}"
            app.router.add_route(method, ADMIN_PREFIX + path, handler, name=name)

    async def start_deliveries(app: web.Application) -> None:
        await app[STATE_KEY].deliverer.start()

    async def stop_deliveries(app: web.Application) -> None:
        await app[STATE_KEY].deliverer.close()

    app.on_startup.append(start_deliveries)
    app.on_cleanup.append(stop_deliveries)
    return app
