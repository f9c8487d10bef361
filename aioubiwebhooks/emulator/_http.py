"""The HTTP layer's shared pieces: the app key, JSON answers, the token check and the
two middlewares.

``guard`` (outermost) makes sure every answer is JSON and nothing escapes as an
aiohttp default page: HTTP exceptions become ``{"error": ...}`` with their status,
and any unexpected exception becomes a JSON 500 that is logged and counted.
``api_gate`` runs only for the seven API operations: it counts them, applies
injected faults, then the token check, then the rate limit (only authenticated
requests use up the window), and puts the ``x-ratelimit-*`` headers on every answer,
as the service does: without a rate limit they report one no client reaches.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from aiohttp import web

from ._faults import Drop, Fail
from ._problems import Problem, Unauthorized
from ._state import EmulatorState

__all__ = [
    "ADMIN_PREFIX",
    "API_PREFIXES",
    "DEFAULT_TOKEN",
    "STATE_KEY",
    "api_gate",
    "check_token",
    "guard",
    "json_error",
    "json_ok",
    "operation_of",
    "strip_prefix",
]

_log = logging.getLogger("aioubiwebhooks.emulator")

STATE_KEY: Final = web.AppKey("aioubiwebhooks_emulator_state", EmulatorState)
API_PREFIXES: Final = {"v2_1": "/v2.1", "v2": "/v2"}
"""Route-name namespace -> URL prefix: the API is served under both versions."""
ADMIN_PREFIX: Final = "/_emulator"
DEFAULT_TOKEN: Final = "emulator-token"  # noqa: S105 - a placeholder, not a secret
"""What ``Emulator.token`` is when no token was configured (any non-empty token passes)."""


def strip_prefix(value: str | None) -> str:
    """The bare token of a header value, with or without ``Token `` in front."""
    text = (value or "").strip()
    if text[:6].lower() == "token ":
        text = text[6:].strip()
    return text


def check_token(header: str | None, expected: str | None) -> None:
    """Raise :class:`Unauthorized` unless ``header`` carries the expected token.

    Without an expected token any non-empty token passes, so a first try needs no set-up.
    A header that is not UTF-8 text (aiohttp keeps such bytes as surrogates) carries no
    token at all.
    """
    given = strip_prefix(header)
    if not given:
        raise Unauthorized("Authentication credentials were not provided.")
    try:
        given_bytes = given.encode()
    except UnicodeEncodeError:
        raise Unauthorized("Invalid token.") from None
    if expected is not None and not hmac.compare_digest(
        given_bytes, strip_prefix(expected).encode()
    ):
        raise Unauthorized("Invalid token.")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def json_ok(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def json_error(
    status: int, message: str, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers, dumps=_dumps)


def operation_of(request: web.Request) -> tuple[str, str] | None:
    """``("api", "webhooks_get")`` or ``("admin", "stats")`` for a matched route, else None."""
    name = request.match_info.route.name
    if not name:
        return None
    namespace, _, operation = name.partition(":")
    return ("api" if namespace in API_PREFIXES else namespace), operation


def _from_http_exception(request: web.Request, error: web.HTTPException) -> web.Response:
    if error.status == 404:
        message = f"Not found: {request.path}"
    elif error.status == 405:
        message = f"Method {request.method} is not allowed on {request.path}"
    else:
        message = error.text or error.reason
        message = message.removeprefix(f"{error.status}: ")
    headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
    return json_error(error.status, message, headers=headers)


def _problem(error: Problem) -> web.Response:
    headers = {"WWW-Authenticate": "Token"} if error.status == 401 else None
    return json_error(error.status, error.message, headers=headers)


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's response, or the JSON error that a refusal it raised stands for."""
    try:
        return await handler(request)
    except Problem as error:
        return _problem(error)
    except web.HTTPException as error:
        return _from_http_exception(request, error)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    operation = operation_of(request)
    counted = operation is None or operation[0] == "api"
    if counted:
        state.stats.requests[operation[1] if operation else "unmatched"] += 1
        state.stats.methods[request.method] += 1
    try:
        response = await _answer(request, handler)
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:
        state.stats.server_errors += 1
        _log.exception("emulator: unexpected error on %s %s", request.method, request.path)
        response = json_error(500, "Internal server error")
    if counted and not isinstance(response, _Dropped):
        state.stats.statuses[response.status] += 1
    return response


@web.middleware
async def api_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    operation = operation_of(request)
    if operation is None or operation[0] != "api":
        return await handler(request)
    state = request.app[STATE_KEY]
    decision = state.faults.decide(request.method, operation[1])
    if decision.delay:
        if request.can_read_body:
            await request.read()  # a real server has the body before it is slow to answer
        await asyncio.sleep(decision.delay)
    if isinstance(decision.action, Drop):
        return _drop(request)
    window = state.window
    if isinstance(decision.action, Fail):
        failed = json_error(decision.action.status, decision.action.message)
        failed.headers.update(window.peek().headers())
        return failed
    try:  # before the rate limit: a request without the right token uses up no budget
        check_token(request.headers.get("Authorization"), state.token)
    except Problem as error:
        refused = _problem(error)
        refused.headers.update(window.peek().headers())
        return refused
    rate = window.hit()
    if not rate.allowed:
        state.stats.rate_limited += 1
        return json_error(
            429,
            f"Rate limit exceeded: {rate.limit} requests per window; retry in {rate.reset} s",
            headers=rate.headers(),
        )
    response = await _answer(request, handler)
    response.headers.update(rate.headers())
    return response


class _Dropped(web.Response):
    """Stands for an answer never sent: the connection was aborted instead."""


def _drop(request: web.Request) -> web.StreamResponse:
    """Abort the connection; the response returned is never sent (aiohttp sees it closed)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return _Dropped(status=500)
