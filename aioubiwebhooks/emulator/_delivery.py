"""Webhook test deliveries: the payload they send, and POSTing it in the background.

The payload follows the documented request-event body: ``deployment_*`` or
``pipeline_*`` ids and names, ``event``, ``request_id``, ``status`` and ``text``;
``result`` is present only when the webhook asks for it. The status follows the
event (``started``: ``processing``); a ``finished`` event reports ``completed``,
``failed`` or ``cancelled`` as :class:`FinishedStatus` says.

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
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, Literal, TypeAlias

import aiohttp
import attrs
from multidict import CIMultiDict
from yarl import URL

from ..models import ObjectType
from ._store import DeliveryPlan
from ._targets import PolicyResolver, TargetPolicy, TargetRefused

__all__ = [
    "FINISHED_STATUSES",
    "NOT_FORWARDED",
    "SAMPLE_RESULT",
    "AttemptOutcome",
    "DelaySource",
    "Deliverer",
    "DeliveryRecord",
    "FinishedStatus",
    "build_payload",
    "outgoing_headers",
    "resolve_delay",
    "status_for_event",
]

AttemptOutcome: TypeAlias = Literal["succeeded", "failed", "refused"]
"""What became of one attempt: the target answered 2xx/3xx, it did not, or the target
policy refused it (nothing was sent)."""

NOT_FORWARDED: Final = frozenset({"host", "content-length", "transfer-encoding", "connection"})
"""Configured headers a delivery leaves out: they address or frame the request, which is
the emulator's to decide (a caller-chosen ``Host`` would reach another virtual host)."""

_log = logging.getLogger("aioubiwebhooks.emulator")

DelaySource: TypeAlias = float | Callable[[], float]
"""Seconds a test stays pending before delivery, or a function returning them (per test)."""

MAX_DELAY: Final = 3600.0

SAMPLE_RESULT: Final = {"message": "Webhook test result"}
"""What a test delivery carries as ``result`` when ``include_result`` is set."""

_STATUS: Final = {"started": "processing", "completed": "completed", "failed": "failed"}

FINISHED_STATUSES: Final = ("completed", "failed", "cancelled")
"""What a ``*_request_finished`` event can report: it covers every way a request ends."""


class FinishedStatus:
    """The status ``*_request_finished`` deliveries report: always one of
    :data:`FINISHED_STATUSES`, or drawn among several with a seeded generator (the same
    ``seed`` gives the same sequence)."""

    def __init__(self, choice: str | Sequence[str] = "completed", *, seed: int = 0) -> None:
        choices = (choice,) if isinstance(choice, str) else tuple(choice)
        unknown = [c for c in choices if c not in FINISHED_STATUSES]
        if not choices or unknown:
            raise ValueError(
                f"finished_status must be one or more of {', '.join(FINISHED_STATUSES)} "
                f"(got {choice!r:.60})"
            )
        self.choices = choices
        self.seed = seed
        self._random = random.Random(seed)

    def next(self) -> str:
        """The status of the next finished delivery."""
        if len(self.choices) == 1:
            return self.choices[0]
        return self._random.choice(self.choices)

    def describe(self) -> str | list[str]:
        return self.choices[0] if len(self.choices) == 1 else list(self.choices)


def status_for_event(event: str, finished: str = "completed") -> str:
    """The request status an event reports; a ``finished`` event reports ``finished``."""
    stage = event.rsplit("_", 1)[1]
    return finished if stage == "finished" else _STATUS[stage]


def outgoing_headers(configured: Iterable[tuple[str, str]]) -> CIMultiDict[str]:
    """The headers a delivery sends: JSON, then the configured ones but :data:`NOT_FORWARDED`."""
    headers: CIMultiDict[str] = CIMultiDict({"Content-Type": "application/json"})
    for key, value in configured:
        if key.lower() not in NOT_FORWARDED:
            headers[key] = value
    return headers


def build_payload(
    plan: DeliveryPlan, request_id: str, finished: str = "completed"
) -> dict[str, Any]:
    """The JSON body one delivery of ``plan`` POSTs, for the request ``request_id``;
    a ``finished`` event reports the status ``finished``."""
    prefix = plan.object_type.value
    label = "Deployment" if plan.object_type is ObjectType.DEPLOYMENT else "Pipeline"
    status = status_for_event(plan.event, finished)
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

    It reports each attempt's :data:`AttemptOutcome` to ``on_attempt`` and each
    test's outcome to ``on_finish`` (test id, error message or None). ``policy`` gives
    the :class:`~._targets.TargetPolicy` in force; a refused target fails the test
    without sending anything. Credentials in a URL (``user:password@``) are not sent.
    """

    def __init__(
        self,
        *,
        on_finish: Callable[[str, str | None], None],
        on_attempt: Callable[[AttemptOutcome], None] = lambda outcome: None,
        policy: Callable[[], TargetPolicy] = TargetPolicy,
        finished: FinishedStatus | None = None,
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
        self._policy = policy
        self.finished = finished if finished is not None else FinishedStatus()
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._session is None:
            self._semaphore = asyncio.Semaphore(self._concurrency)
            connector = aiohttp.TCPConnector(
                limit=self._concurrency, resolver=PolicyResolver(self._policy)
            )
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
        finished = self.finished.next() if plan.event.endswith("_finished") else "completed"
        payload = build_payload(plan, str(uuid.uuid4()), finished)
        body = json.dumps(payload).encode()
        attempts = self.attempts if plan.retry else 1
        try:
            target = URL(plan.url).with_user(None)  # never sent as Basic auth
        except ValueError:
            self._on_attempt("failed")
            return "Invalid request (bad header or URL)"
        error: str | None = None
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.retry_pause)
            status, error, final = await self._attempt(plan, target, body)
            self.records.append(
                DeliveryRecord(plan.test_id, attempt, str(target), status, error, payload)
            )
            if error is None or final:
                break
        return error

    async def _attempt(
        self, plan: DeliveryPlan, target: URL, body: bytes
    ) -> tuple[int | None, str | None, bool]:
        """One POST: (status, error or None, whether retrying is pointless)."""
        assert self._session is not None
        refusal = self._policy().refuse_host(target.raw_host or "")
        if refusal is not None:
            return self._refused(refusal)
        try:
            async with self._session.post(
                target,
                data=body,
                headers=outgoing_headers(plan.headers),
                timeout=aiohttp.ClientTimeout(total=plan.timeout),
                allow_redirects=False,
            ) as response:
                status = response.status
        except asyncio.TimeoutError:
            return self._failed(None, f"Timeout after {plan.timeout} s")
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, TargetRefused):
                return self._refused(str(error.os_error))
            return self._failed(None, "Connection error")
        except (aiohttp.ClientError, OSError):
            return self._failed(None, "Connection error")
        except ValueError as problem:  # a header or URL aiohttp refuses to send
            _log.info("webhook test %s: cannot send request: %s", plan.test_id, problem)
            return (*self._failed(None, "Invalid request (bad header or URL)")[:2], True)
        if 200 <= status < 400:
            self._on_attempt("succeeded")
            return status, None, True
        return self._failed(status, f"Received status {status}")

    def _failed(self, status: int | None, error: str) -> tuple[int | None, str, bool]:
        self._on_attempt("failed")
        return status, error, False

    def _refused(self, reason: str) -> tuple[None, str, bool]:
        self._on_attempt("refused")
        return None, f"Refused target: {reason}", True
