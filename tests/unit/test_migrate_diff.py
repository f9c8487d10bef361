"""The pure diff behind plans: desired specs against stored webhooks, no server.

Each decision it makes (create, update, replace, delete, leave alone, blocked) is
checked here with values written out by hand; the integration tests run the same
decisions against the emulator.
"""

from __future__ import annotations

from typing import Any

import attrs
from conftest import webhook_spec

from aioubiwebhooks import WebhookCreate, WebhookDetail
from aioubiwebhooks._wire import SPEC_FIELDS
from aioubiwebhooks.migrate import Delete, diff


def stored(name: str, **changes: Any) -> WebhookDetail:
    """What the API holds for ``webhook_spec(name, **changes)``."""
    spec = WebhookCreate.from_dict(webhook_spec(name, **changes))
    return WebhookDetail(id=f"id-{name}", **{f: getattr(spec, f) for f in SPEC_FIELDS})


def test_webhooks_missing_from_the_specs_are_deleted_only_with_prune() -> None:
    current = [stored("kept"), stored("extra"), stored("another")]
    left_alone = diff("demo", [webhook_spec("kept")], current)
    assert left_alone.deletes == ()
    assert left_alone.unchanged == ("kept",)
    pruned = diff("demo", [webhook_spec("kept")], current, prune=True)
    assert pruned.deletes == (Delete("another"), Delete("extra"))
    assert pruned.unchanged == ("kept",)
    assert attrs.evolve(pruned, deletes=()) == left_alone
