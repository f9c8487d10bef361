"""``Emulator``: the emulated UbiOps webhooks API served on a local port, as an async context.

Which URL to give which client (both API versions are served):

- this library: ``WebhooksSession(token=emu.token, host=emu.url)``;
- the official ``ubiops`` client: ``ubiops.Configuration(host=emu.url)``. Its host
  check (a regular expression looking for ``/v<digits>[.<digits>]``) accepts
  ``/v2.1`` as a version and keeps the URL unchanged; given ``emu.root_url`` it
  appends ``/v2``, which the emulator serves too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from aiohttp import web

from .._lifecycle import AsyncStarting
from ..models import ObjectType, WebhookDetail, WebhookTestDetail
from ._app import DEFAULT_MAX_BODY_SIZE, create_app
from ._delivery import DelaySource, DeliveryRecord
from ._faults import FaultInjector
from ._http import DEFAULT_TOKEN
from ._problems import NotFound
from ._ratelimit import ResetRounding
from ._rules import Limits
from ._state import EmulatorState, SeedSource, Stats
from ._store import DEFAULT_MAX_PENDING_TESTS

__all__ = ["API_VERSION", "Emulator"]

API_VERSION: Final = "v2.1"


def url_host(host: str) -> str:
    """``host`` as it appears in a URL: IPv6 addresses in brackets."""
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


class Emulator(AsyncStarting):
    """A faithful local UbiOps webhooks API: ``async with Emulator() as emu: emu.url``.

    It binds to ``host`` (127.0.0.1 unless told otherwise) and ``port`` (0 picks a
    free one). With ``token``, only ``Token <token>`` (prefix optional) is accepted;
    without one any non-empty token is, and :attr:`token` is a usable default.

    :attr:`url` is the API base URL including the version,
    ``http://127.0.0.1:PORT/v2.1``: give it as ``host`` to this library's session
    and to the official ``ubiops`` client alike (its host check accepts ``/v2.1`` as
    a version and keeps it; given :attr:`root_url` it appends ``/v2``, also served).

    ``seed`` says which projects, deployments and pipelines exist (a :class:`Seed`,
    its JSON shape, or a file path; default: project ``demo``). ``rate_limit`` is
    ``(limit, window_seconds)`` or None (off): one fixed window shared by all
    clients of this emulator (the real service keeps one per source IP, and tests
    all come from 127.0.0.1), starting at the first request after the previous
    window ended; 429 answers and requests without the right token do not use up
    budget. ``reset_rounding`` says how ``x-ratelimit-reset`` rounds the seconds left:
    ``"up"`` (default) or ``"down"`` (as a Redis TTL does). Every API answer carries
    ``x-ratelimit-limit``, ``-remaining`` and ``-reset``, as the service's do; without a
    rate limit (the default here, unlike the ``emulator`` command) they report a limit
    of a billion requests a minute.

    ``protected_mask`` reads protected header values back as that text instead of
    null (no public source says which the service does). ``finished_status`` is what
    ``*_request_finished`` test deliveries report: ``"completed"``, ``"failed"``,
    ``"cancelled"``, or several of them drawn in a sequence that ``finished_seed``
    fixes. ``test_delay`` keeps webhook tests pending that many seconds, or calls a
    function for each test. ``admin`` mounts the ``/_emulator/`` routes. Faults are
    injected through :attr:`faults`; what happened is counted in :attr:`stats`.

    Its memory stays bounded whatever clients send: request bodies up to
    ``max_body_size`` bytes (larger ones get 413), webhooks within ``limits`` (a
    :class:`Limits`; beyond them 400), and finished tests keep only their outcome.
    Webhook tests deliver anywhere but link-local and cloud metadata addresses;
    ``allow_targets`` narrows them to a list of networks and host names (see
    :class:`~aioubiwebhooks.emulator.TargetPolicy`).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        seed: SeedSource = None,
        rate_limit: tuple[int, float] | None = None,
        reset_rounding: ResetRounding = "up",
        test_delay: DelaySource = 0.0,
        admin: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        delivery_concurrency: int = 32,
        retry_pause: float = 0.25,
        max_pending_tests: int = DEFAULT_MAX_PENDING_TESTS,
        shutdown_timeout: float = 2.0,
        limits: Limits | None = None,
        allow_targets: Iterable[str] | None = None,
        protected_mask: str | None = None,
        finished_status: str | Sequence[str] = "completed",
        finished_seed: int = 0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.state = EmulatorState(
            token=token,
            seed=seed,
            rate_limit=rate_limit,
            reset_rounding=reset_rounding,
            test_delay=test_delay,
            delivery_concurrency=delivery_concurrency,
            retry_pause=retry_pause,
            max_pending_tests=max_pending_tests,
            limits=limits,
            allow_targets=allow_targets,
            protected_mask=protected_mask,
            finished_status=finished_status,
            finished_seed=finished_seed,
        )
        self.app = create_app(self.state, admin=admin, max_body_size=max_body_size)
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # --- lifetime ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving; on return the port accepts connections."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._requested_port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Stop serving and cancel running deliveries. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # --- where and how to reach it ----------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator not started: use 'async with Emulator() as emu'")
        return self._port

    @property
    def root_url(self) -> str:
        """``http://HOST:PORT``, without the API version."""
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL including the version: ``http://HOST:PORT/v2.1``."""
        return f"{self.root_url}/{API_VERSION}"

    @property
    def token(self) -> str:
        """The configured token, or a default one when any token is accepted."""
        return self.state.token if self.state.token is not None else DEFAULT_TOKEN

    # --- steering ---------------------------------------------------------------------------

    @property
    def faults(self) -> FaultInjector:
        return self.state.faults

    @property
    def stats(self) -> Stats:
        return self.state.stats

    @property
    def test_delay(self) -> DelaySource:
        """Seconds a new test stays pending before delivery, or a function returning them."""
        return self.state.deliverer.delay

    @test_delay.setter
    def test_delay(self, value: DelaySource) -> None:
        self.state.deliverer.delay = value

    @property
    def rate_limit(self) -> tuple[int, float] | None:
        """``(limit, window_seconds)`` or None; setting it starts a fresh window."""
        return self.state.rate_limit

    @rate_limit.setter
    def rate_limit(self, value: tuple[int, float] | None) -> None:
        self.state.rate_limit = value

    def add_project(
        self,
        name: str,
        *,
        deployments: Mapping[str, Iterable[str]] | None = None,
        pipelines: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Create a project (if new) holding these deployments/pipelines -> versions."""
        self.state.store.add_project(name, deployments=deployments, pipelines=pipelines)

    def reset(self, *, restore_seed: bool = False) -> None:
        """Drop webhooks, tests, running deliveries, faults, counters and the rate window.

        Projects stay as they are; with ``restore_seed`` only the start seed's remain.
        """
        self.state.reset(restore_seed=restore_seed)

    async def drain(self, timeout: float | None = 30.0) -> bool:
        """Wait for the deliveries started so far; False if some still run at the timeout."""
        return await self.state.deliverer.drain(timeout)

    # --- reading, for assertions ------------------------------------------------------------

    def webhooks(self, project: str) -> list[WebhookDetail]:
        """The stored webhooks, with their real protected header values (KeyError: no project)."""
        try:
            return self.state.store.list_webhooks(project)
        except NotFound as error:
            raise KeyError(error.message) from None

    def webhook(self, project: str, name: str) -> WebhookDetail:
        """One stored webhook, with its real protected header values (KeyError: none)."""
        try:
            return self.state.store.get_webhook(project, name)
        except NotFound as error:
            raise KeyError(error.message) from None

    def tests(self, project: str | None = None) -> list[WebhookTestDetail]:
        """Webhook tests (of one project, or all), oldest first."""
        return [t.detail() for t in self.state.store.tests(project)]

    @property
    def deliveries(self) -> list[DeliveryRecord]:
        """Recent delivery attempts, oldest first (bounded; header values are not kept)."""
        return list(self.state.deliverer.records)

    def object_id(
        self,
        project: str,
        name: str,
        *,
        object_type: ObjectType | str = ObjectType.DEPLOYMENT,
        version: str | None = None,
    ) -> str:
        """The UUID of a deployment or pipeline, or of one of its versions."""
        kind = ObjectType(object_type)
        record = self.state.store.project(project).objects[(kind, name)]
        return record.id if version is None else record.versions[version]
