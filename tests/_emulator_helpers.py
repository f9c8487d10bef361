"""Shared pieces of the emulator tests: a recording webhook target, request bodies, and the
recorded samples of documented requests and answers (``tests/samples/``) with a way to
compare the shape of two JSON values."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from aioubiwebhooks._lifecycle import AsyncStarting

__all__ = [
    "SAMPLES",
    "Received",
    "Recorder",
    "Sample",
    "hook_test_body",
    "load_samples",
    "shape_differences",
    "template_pattern",
    "webhook_body",
]

SAMPLES = Path(__file__).parent / "samples"


def webhook_body(**changes: Any) -> dict[str, Any]:
    """A valid create body for the demo project, with ``changes`` applied."""
    body: dict[str, Any] = {
        "name": "hook-1",
        "url": "https://example.org/hook",
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
    }
    body.update(changes)
    return body


def hook_test_body(url: str, **changes: Any) -> dict[str, Any]:
    """A valid webhook-test body for the demo project aimed at ``url``."""
    body: dict[str, Any] = {
        "url": url,
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
    }
    body.update(changes)
    return body


@attrs.frozen
class Received:
    path: str
    headers: dict[str, str]
    json: Any


class Recorder(AsyncStarting):
    """A loopback HTTP server recording every POST; ``answer`` decides each response.

    ``answer(n)`` gets the 1-based number of the request and returns a status, or
    an awaitable one (to stall, e.g. for timeouts).
    """

    def __init__(self, answer: Callable[[int], int | Awaitable[int]] = lambda n: 200) -> None:
        self.answer = answer
        self.received: list[Received] = []
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(
            Received(request.path, dict(request.headers), json.loads(await request.read()))
        )
        async with self._arrived:
            self._arrived.notify_all()
        status = self.answer(len(self.received))
        if not isinstance(status, int):
            status = await status
        return web.Response(status=status)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` requests have arrived (event-based, bounded)."""

        async def arrived() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.received) >= count)

        await asyncio.wait_for(arrived(), timeout)
        return self.received

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


# --- recorded samples -----------------------------------------------------------------------


@attrs.frozen
class Sample:
    """One recorded example: where it comes from, the request (if any) and the answer."""

    name: str
    source: str
    operation: str
    request: dict[str, Any] | None
    status: int | None
    body: Any
    undocumented_keys: dict[str, dict[str, str]]
    optional_keys: dict[str, str]


def load_samples(operation: str | None = None) -> list[Sample]:
    """The samples in ``tests/samples/`` (of one operation), each checked to say its source."""
    found = []
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data.get("source"), f"{path.name} does not say where it comes from"
        if operation is None or data["operation"] == operation:
            found.append(
                Sample(
                    name=path.stem,
                    source=data["source"],
                    operation=data["operation"],
                    request=data["request"],
                    status=data["response"]["status"],
                    body=data["response"]["body"],
                    undocumented_keys=data.get("undocumented_keys", {}),
                    optional_keys=data.get("optional_keys", {}),
                )
            )
    return found


MAPS = frozenset({"labels"})
"""Objects whose keys are data (label names), not field names: their values share a path."""


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    return names.get(type(value), "object")


def _walk(value: object, path: str) -> Iterator[tuple[str, str, frozenset[str] | None]]:
    """(path, JSON type, the keys of an object) for ``value`` and everything inside it."""
    keys = frozenset(value) if isinstance(value, dict) else None
    yield path, _json_type(value), keys
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(
                item, f"{path}{{}}" if path.rpartition(".")[2] in MAPS else f"{path}.{key}"
            )
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, f"{path}[]")


def _shape(value: object) -> tuple[dict[str, set[str]], dict[str, set[frozenset[str]]]]:
    types: dict[str, set[str]] = {}
    keys: dict[str, set[frozenset[str]]] = {}
    for path, kind, names in _walk(value, "$"):
        types.setdefault(path, set()).add(kind)
        if names is not None and path.rpartition(".")[2] not in MAPS:
            keys.setdefault(path, set()).add(names)
    return types, keys


def shape_differences(
    documented: object,
    actual: object,
    *,
    undocumented: dict[str, dict[str, str]] | None = None,
    optional: dict[str, str] | None = None,
    also: dict[str, set[str]] | None = None,
) -> list[str]:
    """How ``actual`` differs in shape from ``documented``: its objects must have the same
    keys (plus the ``undocumented`` ones, which must have their recorded type, and any of
    the ``optional`` ones), and every value a type the documented one has (or one of
    ``also`` at that path). Values themselves may differ."""
    undocumented = undocumented or {}
    optional = optional or {}
    also = also or {}
    want_types, want_keys = _shape(documented)
    got_types, got_keys = _shape(actual)
    problems = []
    for path, key_sets in got_keys.items():
        if path not in want_keys:
            continue  # the sample records no object here (an empty list, say)
        top = path in ("$", "$[]")
        expected = set().union(*want_keys[path]) | (set(undocumented) if top else set())
        maybe = set(optional) if top else set()
        for names in key_sets:
            missing = sorted(expected - names - maybe)
            extra = sorted(names - expected - maybe)
            if missing:
                problems.append(f"{path}: keys missing: {missing}")
            if extra:
                problems.append(f"{path}: keys not documented: {extra}")
    for path, kinds in got_types.items():
        parent, _, name = path.rpartition(".")
        top = parent in ("$", "$[]")
        if top and name in optional:
            continue
        allowed = want_types.get(path, set()) | also.get(path, set())
        if top and name in undocumented:
            allowed = allowed | {undocumented[name]["type"]}
        if not allowed:
            continue  # inside a value the sample does not record
        if kinds - allowed:
            problems.append(f"{path}: {sorted(kinds)} where the sample has {sorted(allowed)}")
    return problems


def template_pattern(template: str) -> re.Pattern[str]:
    """A documented text with ``<placeholders>`` as a pattern matching filled-in text."""
    parts = re.split(r"<[a-z_]+>", template)
    return re.compile(r"\S+".join(re.escape(p) for p in parts))
