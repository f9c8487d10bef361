"""The comparison that decides "changed or not": a 409 met by a retried create, bulk_create's
on_conflict="update" and migration plans all act on what it reports, so a change it
misses is silently not applied. One test per field of a spec."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from aioubiwebhooks import WebhookCreate, WebhookDetail, WebhookHeader
from aioubiwebhooks._compare import IMMUTABLE_FIELDS, differences
from aioubiwebhooks._wire import SPEC_FIELDS
from aioubiwebhooks.bulk import update_for

STORED = WebhookCreate(
    name="hook",
    url="https://example.org/hook",
    object_type="deployment",
    object_name="dep",
    event="deployment_request_completed",
    headers=(WebhookHeader("X-Plain", "a"), WebhookHeader("Authorization", "s", protected=True)),
    description="watches dep",
    labels={"team": "a"},
    version="v1",
    timeout=10,
    enabled=True,
    retry=False,
    include_result=False,
)


def stored(spec: WebhookCreate = STORED) -> WebhookDetail:
    """What the API would hold for ``spec`` (protected values read back as null)."""
    headers = tuple(attrs.evolve(h, value=None) if h.protected else h for h in spec.headers)
    fields = {f: getattr(spec, f) for f in SPEC_FIELDS}
    return WebhookDetail(id="id-1", **{**fields, "headers": headers})


# field -> a spec that differs from STORED in that field only
CHANGES: dict[str, dict[str, Any]] = {
    "url": {"url": "https://example.org/other"},
    "object_type": {"object_type": "pipeline", "event": "pipeline_request_completed"},
    "object_name": {"object_name": "dep-2"},
    "event": {"event": "deployment_request_failed"},
    "headers": {"headers": (WebhookHeader("X-Plain", "b"), STORED.headers[1])},
    "description": {"description": "watches dep, now better"},
    "labels": {"labels": {"team": "b"}},
    "version": {"version": "v2"},
    "timeout": {"timeout": 11},
    "enabled": {"enabled": False},
    "retry": {"retry": True},
    "include_result": {"include_result": True},
}


def test_every_field_but_the_name_has_its_own_test() -> None:
    assert set(CHANGES) == set(SPEC_FIELDS) - {"name"}  # the name is how it was found


def test_an_unchanged_webhook_has_no_differences() -> None:
    assert differences(STORED, stored()) == {}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_a_change_in_one_field_is_noticed(field: str) -> None:
    wanted = attrs.evolve(STORED, **CHANGES[field])
    changed = differences(wanted, stored())
    expected = {"event", "object_type"} if field == "object_type" else {field}
    assert set(changed) == expected
    assert changed[field] == (getattr(stored(), field), getattr(wanted, field))


@pytest.mark.parametrize("field", sorted(set(CHANGES) - set(IMMUTABLE_FIELDS)))
def test_the_update_for_a_change_carries_that_field(field: str) -> None:
    wanted = attrs.evolve(STORED, **CHANGES[field])
    update = update_for(wanted, stored())
    assert update.changed_fields() == (field,)
    assert getattr(update, field) == getattr(wanted, field)


@pytest.mark.parametrize(
    "headers",
    [
        (),  # all removed
        STORED.headers[:1],  # one removed
        (*STORED.headers, WebhookHeader("X-New", "n")),  # one added
        STORED.headers[::-1],  # order changed
        (WebhookHeader("X-Other", "a"), STORED.headers[1]),  # key changed
        (attrs.evolve(STORED.headers[0], protected=True), STORED.headers[1]),  # made protected
        (STORED.headers[0], WebhookHeader("Authorization", "s")),  # no longer protected
    ],
    ids=["removed all", "removed one", "added", "reordered", "key", "protected", "unprotected"],
)
def test_every_kind_of_header_change_is_noticed(headers: tuple[WebhookHeader, ...]) -> None:
    assert set(differences(attrs.evolve(STORED, headers=headers), stored())) == {"headers"}


def test_what_cannot_be_known_or_means_the_same_is_no_change() -> None:
    new_secret = (STORED.headers[0], WebhookHeader("Authorization", "rotated", protected=True))
    assert differences(attrs.evolve(STORED, headers=new_secret), stored()) == {}
    assert differences(attrs.evolve(STORED, version=None), stored()) == {}  # default version
    no_description = attrs.evolve(STORED, description=None)
    assert differences(no_description, stored(attrs.evolve(STORED, description=""))) == {}


def test_every_field_is_read_by_the_comparison() -> None:
    """All fields changed at once: each is reported, whatever the others do."""
    everything = {k: v for change in CHANGES.values() for k, v in change.items()}
    wanted = attrs.evolve(STORED, **{**everything, "event": "pipeline_request_failed"})
    assert set(differences(wanted, stored())) == set(CHANGES)
