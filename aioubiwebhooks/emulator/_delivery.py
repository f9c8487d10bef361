"""Webhook test deliveries: the payload they send, and POSTing it in the background.

The payload follows the documented request-event body: ``deployment_*`` or
``pipeline_*`` ids and names, ``event``, ``request_id``, ``status`` and ``text``;
``result`` is present only when the webhook asks for it.

A test is created ``pending``; a background task waits the configured test delay,
then POSTs the payload with the test's headers (protected values included: they
are real headers to the receiver). A 2xx or 3xx answer completes the test; a
network error, a timeout or any other status fails the attempt. With ``retry`` the
call is tried up to ``attempts`` times with a short pause; the test then ends
``completed`` or ``failed`` with the last attempt's error message.

All deliveries share one :class:`aiohttp.ClientSession`, at most ``concurrency``
run at once, every attempt is bounded by the test's timeout, and closing the
deliverer cancels whatever is still running.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Final, TypeAlias

import aiohttp
import attrs
from multidict import CIMultiDict

from ..models import ObjectType
from ._store import DeliveryPlan

__all__ = [
    "SAMPLE_RESULT",
    "DelaySource",
    "Deliverer",
    "DeliveryRecord",
    "build_payload",
    "resolve_delay",
    "status_for_event",
]

_log = logging.getLogger("aioubiwebhooks.emulator")

DelaySource: TypeAlias = float | Callable[[], float]
"""Seconds a test stays pending before delivery, or a function returning them (per test)."""

MAX_DELAY: Final = 3600.0

SAMPLE_RESULT: Final = {"message": "Webhook test result"}
"""What a test delivery carries as ``result`` when ``include_result`` is set."""

_STATUS: Final = {
    "started": "processing",
    "completed": "completed",
    "failed": "failed",
    "finished": "completed",
}


def status_for_event(event: str) -> str:
    """The request status an event reports (``finished`` reports a completed request)."""
    return _STATUS[event.rsplit("_", 1)[1]]


def build_payload(plan: DeliveryPlan, request_id: str) -> dict[str, Any]:
    """The JSON body one delivery of ``plan`` POSTs, for the request ``request_id``."""
    prefix = plan.object_type.value
    label = "Deployment" if plan.object_type is ObjectType.DEPLOYMENT else "Pipeline"
    status = status_for_event(plan.event)
    verb = "started" if status == "processing" else "finished"
    payload: dict[str, Any] = {
        "event": plan.event,
        f"{prefix}_id": plan.object_id,
        f"{prefix}_name": plan.object_name,
        f"{prefix}_version_id": plan.version_id,
        f"{prefix}_version_name": plan.version_name,
        "request_id": request_id,
        "status": status,
        "text": (
            f"{label} request {request_id} {verb} for {prefix} {plan.object_name} "
            f"{plan.version_name} in project {plan.project}"
        ),
    }
    if plan.include_result:
        payload["result"] = dict(SAMPLE_RESULT) if status == "completed" else None
    return payload


def resolve_delay(source: DelaySource) -> float:
    """The delay for one test, clamped to ``0..MAX_DELAY``; a failing function means 0."""
    try:
        value = float(source() if callable(source) else source)
    except Exception:
        _log.exception("test delay function failed; delivering at once")
        return 0.0
    if value != value:  # NaN
        return 0.0
    return min(max(value, 0.0), MAX_DELAY)


@attrs.frozen
class DeliveryRecord:
    """One delivery attempt, for assertions: never carries header values."""

    test_id: str
    attempt: int
    url: str
    status: int | None
    error: str | None
    payload: dict[str, Any]


class Deliverer:
    """Runs deliveries as background tasks.

    It reports each attempt to ``on_attempt`` (True when the target answered 2xx or
    3xx) and each test's outcome to ``on_finish`` (test id, error message or None).
    """

    def __init__(
        self,
        *,
        on_finish: Callable[[str, str | None], None],
        on_attempt: Callable[[bool], None] = lambda succeeded: None,
        delay: DelaySource = 0.0,
        concurrency: int = 32,
        attempts: int = 3,
        retry_pause: float = 0.25,
        log_size: int = 1000,
    ) -> None:
        self.delay: DelaySource = delay
        self.attempts = attempts
        self.retry_pause = retry_pause
        self.records: deque[DeliveryRecord] = deque(maxlen=log_size)
        self._on_finish = on_finish
        self._on_attempt = on_attempt
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._session is None:
            self._semaphore = asyncio.Semaphore(self._concurrency)
            connector = aiohttp.TCPConnector(limit=self._concurrency)
            # trust_env=False: a proxy set for the host must not intercept local deliveries.
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)

    async def close(self) -> None:
        await self.cancel_all()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def submit(self, plan: DeliveryPlan) -> None:
        """Start delivering ``plan`` in the background (the test stays pending meanwhile)."""
        task = asyncio.get_running_loop().create_task(
            self._run(plan), name=f"webhook-test-{plan.test_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def cancel_pending(self) -> None:
        """Cancel every running delivery; their tests are left as they are."""
        for task in self._tasks:
            task.cancel()

    async def cancel_all(self) -> None:
        """Cancel every running delivery and wait until they have stopped."""
        tasks = list(self._tasks)
        self.cancel_pending()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every delivery started so far has finished; False on timeout."""
        tasks = set(self._tasks)
        if not tasks:
            return True
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        return not pending

    async def _run(self, plan: DeliveryPlan) -> None:
        try:
            delay = resolve_delay(self.delay)
            if delay:
                await asyncio.sleep(delay)
            await self.start()
            assert self._semaphore is not None
            async with self._semaphore:
                error = await self._deliver(plan)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must not leave a test pending forever
            _log.exception("webhook test %s: delivery crashed", plan.test_id)
            error = "Internal error while delivering"
        self._on_finish(plan.test_id, error)

    async def _deliver(self, plan: DeliveryPlan) -> str | None:
        payload = build_payload(plan, str(uuid.uuid4()))
        body = json.dumps(payload).encode()
        attempts = self.attempts if plan.retry else 1
        error: str | None = None
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.retry_pause)
            status, error, final = await self._attempt(plan, body)
            self.records.append(
                DeliveryRecord(plan.test_id, attempt, plan.url, status, error, payload)
            )
            if error is None or final:
                break
        return error

    async def _attempt(
        self, plan: DeliveryPlan, body: bytes
    ) -> tuple[int | None, str | None, bool]:
        """One POST: (status, error or None, whether retrying is pointless)."""
        assert self._session is not None
        headers: CIMultiDict[str] = CIMultiDict({"Content-Type": "application/json"})
        for key, value in plan.headers:
            headers[key] = value
        try:
            async with self._session.post(
                plan.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=plan.timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
        except asyncio.TimeoutError:
            return self._failed(None, f"Timeout after {plan.timeout} s")
        except (aiohttp.ClientError, OSError):
            return self._failed(None, "Connection error")
        except ValueError as problem:  # a header or URL aiohttp refuses to send
            _log.info("webhook test %s: cannot send request: %s", plan.test_id, problem)
            return (*self._failed(None, "Invalid request (bad header or URL)")[:2], True)
        if 200 <= status < 400:
            self._on_attempt(True)
            return status, None, True
        return self._failed(status, f"Received status {status}")

    def _failed(self, status: int | None, error: str) -> tuple[int | None, str, bool]:
        self._on_attempt(False)
        return status, error, False
