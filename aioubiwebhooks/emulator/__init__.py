"""A faithful local emulator of the UbiOps webhooks API.

For demos, tests and benchmarks: the seven webhook endpoints under ``/v2.1`` and
``/v2``, the real wire format and field rules, webhook tests that really POST
their payload, an optional fixed-window rate limit, and fault injection::

    async with Emulator(token="T", rate_limit=(300, 60)) as emu:
        session = WebhooksSession(token=emu.token, host=emu.url)
        emu.faults.fail_next(2, status=503)

``python -m aioubiwebhooks.emulator --port 8765`` serves one from the command line.
"""

from __future__ import annotations

from ._app import DEFAULT_MAX_BODY_SIZE, create_app
from ._delivery import DelaySource, DeliveryRecord
from ._faults import OPERATIONS, FaultInjector
from ._http import DEFAULT_TOKEN
from ._ratelimit import FixedWindow, RateDecision, parse_rate_limit
from ._rules import Limits
from ._seed import DEFAULT_SEED, ProjectSeed, Seed, SeedError, load_seed, parse_seed
from ._server import API_VERSION, Emulator
from ._state import EmulatorState, SeedSource, Stats
from ._targets import REFUSED_NAMES, REFUSED_NETWORKS, TargetPolicy
from ._thread import EmulatorThread

__all__ = [
    "API_VERSION",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_SEED",
    "DEFAULT_TOKEN",
    "OPERATIONS",
    "REFUSED_NAMES",
    "REFUSED_NETWORKS",
    "DelaySource",
    "DeliveryRecord",
    "Emulator",
    "EmulatorState",
    "EmulatorThread",
    "FaultInjector",
    "FixedWindow",
    "Limits",
    "ProjectSeed",
    "RateDecision",
    "Seed",
    "SeedError",
    "SeedSource",
    "Stats",
    "TargetPolicy",
    "create_app",
    "load_seed",
    "parse_rate_limit",
    "parse_seed",
]
