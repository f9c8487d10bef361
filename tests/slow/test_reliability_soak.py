"""Soak: 5,000 mixed operations at concurrency 64 against a faulty emulator.

While it runs, 10% of API requests fail with 500/502/503, 2% of connections are
dropped without an answer, and updates, lists and test polls are delayed by up to
0.6 s against a client timeout of 0.5 s (about one in six of those answers comes
too late). Retry backoff is real. At the end the emulator's state must equal a
model of what should be there, built only from what the client was told:

- every operation ends as an Outcome: a value, or a typed error of a kind that
  operation can meet (no other exception escapes the bulk runner);
- per webhook name, operations run one at a time and their outcomes are replayed
  in order: a success fixes the state, a typed 404/409 confirms it, and any other
  failure leaves "present or absent" (a 500 or a timeout may or may not have
  acted), settled at the end with a fault-free ``webhooks_get``;
- an update whose request may have landed late (it failed, or needed a retry) may
  still show its description, so those markers stay acceptable;
- nothing is lost (every name the model knows to be present is stored with an
  acceptable description) and nothing is duplicated (no name twice in a list, no
  webhook the model does not know of, no webhook test delivered twice).

Run it alone, with its figures, with::

    .venv/bin/python -m pytest tests/slow/test_reliability_soak.py -s -q
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from aiohttp import web

import aioubiwebhooks
from aioubiwebhooks import (
    ApiConnectionError,
    ApiError,
    ConflictError,
    NotFoundError,
    Outcome,
    PollSchedule,
    ServerError,
    TestTimeoutError,
    UbiOpsError,
    WebhookDetail,
    WebhooksSession,
)
from aioubiwebhooks.bulk import run_bulk
from aioubiwebhooks.emulator import Emulator

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

OPERATIONS = 5_000
CONCURRENCY = 64
NAMES = 300
SEED = 20240501
PROJECT = "demo"
CLIENT_TIMEOUT = 0.5
FAIL_FRACTION = 0.10
DROP_FRACTION = 0.02
LATENCY = (0.0, 0.6)
LATE_ROUTES = ("webhooks_update", "webhooks_list", "webhook_tests_get")

ALLOWED_ERRORS: dict[str, tuple[type[UbiOpsError], ...]] = {
    "create": (ServerError, ApiConnectionError, ConflictError),
    "get": (ServerError, ApiConnectionError, NotFoundError),
    "list": (ServerError, ApiConnectionError),
    "update": (ServerError, ApiConnectionError, NotFoundError),
    "delete": (ServerError, ApiConnectionError, NotFoundError),
    "test": (ServerError, ApiConnectionError, TestTimeoutError),
}


@attrs.frozen
class Op:
    index: int
    kind: str
    name: str = ""
    marker: str = ""
    sink_path: str = ""


def make_plan(rng: random.Random) -> list[Op]:
    """Operations on a pool of names, mostly ones that make sense in the intended state."""
    names = [f"soak-{n:03d}" for n in range(NAMES)]
    intended = dict.fromkeys(names, False)
    ops: list[Op] = []
    for index in range(OPERATIONS):
        roll = rng.random()
        if roll < 0.14:
            path = "/ok" if rng.random() < 0.8 else "/fail"
            ops.append(Op(index, "test", marker=f"t{index}", sink_path=path))
            continue
        if roll < 0.18:
            ops.append(Op(index, "list"))
            continue
        name = rng.choice(names)
        if intended[name]:
            kind = rng.choices(["get", "update", "delete", "create"], [30, 35, 25, 10])[0]
        else:
            kind = rng.choices(["create", "get", "update", "delete"], [80, 8, 6, 6])[0]
        if kind == "create":
            intended[name] = True
        elif kind == "delete":
            intended[name] = False
        ops.append(Op(index, kind, name=name, marker=f"m{index}"))
    return ops


class Sink:
    """Where webhook tests deliver: ``/ok`` answers 200, ``/fail`` 500; counts per op."""

    def __init__(self) -> None:
        self.deliveries: Counter[str] = Counter()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.deliveries[request.headers.get("X-Soak-Op", "?")] += 1
        status = 200 if request.path == "/ok" else 500
        return web.json_response({"ok": status == 200}, status=status)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    endpoint = Sink()
    app = web.Application()
    app.router.add_post("/{tail:.*}", endpoint.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    endpoint.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield endpoint
    await runner.cleanup()


def spec_for(op: Op) -> dict[str, Any]:
    return {
        "name": op.name,
        "url": "http://127.0.0.1:9/unused",
        "object_type": "deployment",
        "object_name": "demo-deployment",
        "event": "deployment_request_completed",
        "description": op.marker,
        "labels": {"soak": "yes"},
    }


@attrs.define
class Knowledge:
    """What the client's answers say about one name: present (None: unknown) and its text."""

    present: bool | None = False
    descriptions: set[str] | None = attrs.field(factory=set)
    stale: set[str] = attrs.field(factory=set)

    def allowed(self) -> set[str] | None:
        return None if self.descriptions is None else self.descriptions | self.stale


def replay(
    name: str, ops: list[Op], outcomes: list[Outcome[Op, Any]], problems: list[str]
) -> Knowledge:
    """The model of one name, from its operations' outcomes in the order they ran."""
    k = Knowledge()
    for op in ops:
        outcome = outcomes[op.index]
        error = outcome.error
        where = f"{name} op {op.index} {op.kind}"
        before = k.present
        if op.kind == "create":
            if error is None:
                detail: WebhookDetail = outcome.unwrap()
                if detail.description != op.marker:
                    problems.append(f"{where}: created with {detail.description!r}")
                k.present, k.descriptions = True, {op.marker}
            elif isinstance(error, ConflictError):
                if error.attempts == 1 and before is False:
                    problems.append(f"{where}: 409 although it was known to be absent")
                k.present = True
                if before is not True:
                    k.descriptions = None
            elif before is False:
                k.present, k.descriptions = None, {op.marker}
            elif before is None and k.descriptions is not None:
                k.descriptions.add(op.marker)
        elif op.kind == "get":
            if error is None:
                detail = outcome.unwrap()
                allowed = k.allowed()
                if before is False:
                    problems.append(f"{where}: found although it was known to be absent")
                elif allowed is not None and detail.description not in allowed:
                    problems.append(f"{where}: read {detail.description!r}, expected {allowed}")
                k.present, k.descriptions = True, {str(detail.description)}
            elif isinstance(error, NotFoundError):
                if before is True:
                    problems.append(f"{where}: 404 although it was known to be present")
                k.present, k.descriptions = False, set()
        elif op.kind == "update":
            if outcome.attempts > 1:
                k.stale.add(op.marker)  # an earlier attempt of it may land late
            if error is None:
                detail = outcome.unwrap()
                if before is False:
                    problems.append(f"{where}: updated although it was known to be absent")
                if detail.description != op.marker:
                    problems.append(f"{where}: answered {detail.description!r}")
                k.present, k.descriptions = True, {op.marker}
            elif isinstance(error, NotFoundError):
                if before is True:
                    problems.append(f"{where}: 404 although it was known to be present")
                k.present, k.descriptions = False, set()
            else:
                k.stale.add(op.marker)
                if k.descriptions is not None:
                    k.descriptions.add(op.marker)
        elif op.kind == "delete":
            if error is None:
                k.present, k.descriptions = False, set()
            elif isinstance(error, NotFoundError):
                if before is True:
                    problems.append(f"{where}: 404 although it was known to be present")
                k.present, k.descriptions = False, set()
            elif before is not False:
                k.present = None
    return k


class AttemptCounter(logging.Handler):
    """Counts the transport's one-line-per-attempt DEBUG records by what each attempt met."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.outcomes: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and "attempt" in str(record.msg):
            self.outcomes[str(args[2])] += 1


async def keep_dropping(emulator: Emulator, stop: asyncio.Event) -> None:
    """``drop_next`` counts requests, not a share of them: keep it topped up to DROP_FRACTION."""
    armed = 0
    while not stop.is_set():
        due = int(emulator.stats.total_requests * DROP_FRACTION)
        if due > armed:
            emulator.faults.drop_next(due - armed)
            armed = due
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.01)


def report(figures: dict[str, Any]) -> None:
    """Print the figures (seen with ``-s``); also write them where SOAK_FIGURES says."""
    text = json.dumps(figures, indent=1)
    print(text)
    path = os.environ.get("SOAK_FIGURES")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            out.write(text + "\n")


async def test_soak_mixed_operations_under_faults_match_the_model(sink: Sink) -> None:
    rng = random.Random(SEED)
    plan = make_plan(rng)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    ran: defaultdict[str, list[Op]] = defaultdict(list)

    async with (
        Emulator(test_delay=0.0) as emulator,
        WebhooksSession(emulator.token, emulator.url, timeout=CLIENT_TIMEOUT) as session,
    ):

        async def call(op: Op) -> Any:
            if op.kind == "list":
                return await session.webhooks_list(PROJECT)
            if op.kind == "test":
                spec = {
                    **spec_for(op),
                    "url": sink.url + op.sink_path,
                    "headers": [{"key": "X-Soak-Op", "value": op.marker, "protected": False}],
                }
                del spec["name"], spec["description"], spec["labels"]
                created = await session.webhook_tests_create(PROJECT, spec)
                return await session.await_test(
                    PROJECT, created.id, timeout=30, schedule=PollSchedule(initial_delay=0.05)
                )
            async with locks[op.name]:
                try:
                    if op.kind == "create":
                        return await session.webhooks_create(PROJECT, spec_for(op))
                    if op.kind == "get":
                        return await session.webhooks_get(PROJECT, op.name)
                    if op.kind == "update":
                        change = {"description": op.marker, "labels": {"soak": op.marker}}
                        return await session.webhooks_update(PROJECT, op.name, change)
                    return await session.webhooks_delete(PROJECT, op.name)
                finally:
                    ran[op.name].append(op)

        was_testing = aioubiwebhooks.is_testing()
        aioubiwebhooks.set_testing(False)  # real backoff between retries
        transport_log = logging.getLogger("aioubiwebhooks")
        was_level = transport_log.level
        counter = AttemptCounter()
        transport_log.addHandler(counter)
        transport_log.setLevel(logging.DEBUG)
        emulator.faults.fail_fraction(FAIL_FRACTION, statuses=(500, 502, 503), seed=SEED)
        emulator.faults.latency(LATENCY, routes=LATE_ROUTES, seed=SEED)
        stop = asyncio.Event()
        dropper = asyncio.create_task(keep_dropping(emulator, stop))
        started = time.monotonic()
        try:
            outcomes = await run_bulk(plan, call, concurrency=CONCURRENCY)
        finally:
            elapsed = time.monotonic() - started
            stop.set()
            await dropper
            emulator.faults.clear()
            aioubiwebhooks.set_testing(was_testing)
            transport_log.removeHandler(counter)
            transport_log.setLevel(was_level)
        faults = dict(emulator.stats.faults)
        statuses = {str(k): v for k, v in sorted(emulator.stats.statuses.items())}
        requests_seen = emulator.stats.total_requests

        # late requests still on their way to the store land within the latency bound
        await asyncio.sleep(LATENCY[1] + 0.4)
        assert await emulator.drain(30)

        problems: list[str] = []
        # every failure is typed, and of a kind the operation can meet
        for outcome in outcomes:
            op = outcome.item
            if outcome.error is None:
                continue
            error = outcome.error
            if not isinstance(error, ALLOWED_ERRORS[op.kind]):
                problems.append(f"op {op.index} {op.kind}: unexpected {error!r}")
            if isinstance(error, ApiError) and not (error.method and error.path):
                problems.append(f"op {op.index}: error without method/path: {error!r}")
            if isinstance(error, ServerError) and error.status not in (500, 502, 503):
                problems.append(f"op {op.index}: server error {error.status}")

        # lists never show a name twice, nor a name outside the pool
        pool = {f"soak-{n:03d}" for n in range(NAMES)}
        for outcome in outcomes:
            if outcome.item.kind == "list" and outcome.ok:
                names = [w.name for w in outcome.unwrap()]
                if len(names) != len(set(names)) or not set(names) <= pool:
                    problems.append(f"op {outcome.item.index}: list {names}")

        # webhook tests: each finished one ended as its URL decides; none delivered twice
        for outcome in outcomes:
            op = outcome.item
            if op.kind != "test":
                continue
            delivered = sink.deliveries[op.marker]
            if delivered > 1:
                problems.append(f"op {op.index}: test delivered {delivered} times")
            if outcome.ok:
                expected = "completed" if op.sink_path == "/ok" else "failed"
                if outcome.unwrap().status.value != expected or delivered != 1:
                    problems.append(f"op {op.index}: {outcome.value!r}, delivered {delivered}")
        tests_ok = sum(1 for o in outcomes if o.item.kind == "test" and o.ok)
        tests_stored = len(emulator.tests(PROJECT))
        tests_offered = sum(1 for op in plan if op.kind == "test")
        assert tests_ok <= tests_stored <= tests_offered
        assert sum(sink.deliveries.values()) == tests_stored

        # the model, name by name, against what the emulator holds
        stored = {w.name: w for w in emulator.webhooks(PROJECT)}
        assert set(stored) <= pool
        knowledge = {name: replay(name, ran[name], outcomes, problems) for name in sorted(pool)}
        reconciled = 0
        for name, k in knowledge.items():
            here = stored.get(name)
            if k.present is None:
                reconciled += 1
                try:
                    read: WebhookDetail | None = await session.webhooks_get(PROJECT, name)
                except NotFoundError:
                    read = None
                if (read is None) != (here is None):
                    problems.append(f"{name}: get says {read!r}, store holds {here!r}")
            elif k.present and here is None:
                problems.append(f"{name}: lost (known to be present)")
            elif not k.present and here is not None:
                problems.append(f"{name}: known to be absent, but stored: {here.description!r}")
            allowed = k.allowed()
            if here is not None and allowed is not None and here.description not in allowed:
                problems.append(f"{name}: stored {here.description!r}, expected one of {allowed}")
        listed = await session.webhooks_list(PROJECT)
        assert [w.name for w in listed] == list(stored)

    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    attempts: Counter[str] = Counter()
    for outcome in outcomes:
        kind = outcome.item.kind
        by_kind[kind]["ok" if outcome.ok else type(outcome.error).__name__] += 1
        attempts[kind] += outcome.attempts
    figures = {
        "operations": len(plan),
        "concurrency": CONCURRENCY,
        "elapsed_s": round(elapsed, 1),
        "operations_by_kind": dict(Counter(op.kind for op in plan)),
        "outcomes_by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "attempts_by_kind": dict(attempts),
        "attempts_total": sum(attempts.values()),
        "attempts_by_what_they_met": dict(counter.outcomes.most_common()),
        "requests_seen_by_emulator": requests_seen,
        "faults_fired": faults,
        "statuses_answered": statuses,
        "webhooks_stored_at_end": len(stored),
        "names_settled_by_a_get": reconciled,
        "tests_stored": tests_stored,
        "tests_delivered": sum(sink.deliveries.values()),
    }
    report(figures)

    assert problems == []
    # the faults really fired, in about the shares asked for
    assert faults["fail_fraction"] > 0.05 * requests_seen
    assert faults["drop"] > 0.01 * requests_seen
    assert faults["latency"] > 0
    assert sum(1 for o in outcomes if isinstance(o.error, ApiConnectionError)) > 0
    assert sum(attempts.values()) > len(plan)
    assert counter.outcomes["ApiTimeoutError"] > 0
