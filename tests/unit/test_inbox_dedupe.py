"""The in-memory inbox at its edges: the dedupe window, a delivery waiting for room, the
counts the receiver reports, and the one warning when nobody reads the queue."""

from __future__ import annotations

import asyncio
import logging

import anyio
import pytest
from _event_helpers import completed_event as event

from aioubiwebhooks._inbox import BaseInbox, Inbox, Verdict
from aioubiwebhooks.events import WebhookEvent


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_queue": 0}, "max_queue must be at least 1, got 0"),
        ({"max_history": 0}, "max_history must be at least 1, got 0"),
        ({"max_dedupe": 0}, "max_dedupe must be at least 1, got 0"),
    ],
)
def test_each_bound_must_be_at_least_one(settings: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match="must be at least 1") as info:
        Inbox(**{"max_queue": 1, "max_history": 1, "max_dedupe": 1, **settings})
    assert str(info.value) == message


async def test_the_dedupe_window_holds_exactly_max_dedupe_keys() -> None:
    inbox = Inbox(max_queue=10, max_history=10, max_dedupe=2)
    assert await inbox.offer(event("a")) is Verdict.ACCEPTED
    assert await inbox.offer(event("b")) is Verdict.ACCEPTED
    assert await inbox.offer(event("a")) is Verdict.DUPLICATE  # two keys: both remembered
    assert await inbox.offer(event("c")) is Verdict.ACCEPTED  # "b" is now the oldest: gone
    assert await inbox.offer(event("b")) is Verdict.ACCEPTED
    assert (inbox.stats.accepted, inbox.stats.duplicates) == (4, 1)
    one = Inbox(max_queue=10, max_history=10, max_dedupe=1)
    assert await one.offer(event("a")) is Verdict.ACCEPTED
    assert await one.offer(event("a")) is Verdict.DUPLICATE


async def test_a_delivery_waiting_for_room_and_its_redelivery_are_answered_together() -> None:
    inbox = Inbox(max_queue=1, max_history=10, max_dedupe=10)
    assert await inbox.offer(event("first")) is Verdict.ACCEPTED
    waiting = asyncio.create_task(inbox.offer(event("second")))
    again = asyncio.create_task(inbox.offer(event("second")))
    await settle()
    assert not waiting.done()
    assert not again.done()
    assert inbox.stats.held_back == 1
    assert (await inbox.get()).request_id == "first"
    with anyio.fail_after(2):
        assert await waiting is Verdict.ACCEPTED
        assert await again is Verdict.DUPLICATE
    assert (inbox.stats.accepted, inbox.stats.duplicates) == (2, 1)
    assert (await inbox.get()).request_id == "second"
    assert await inbox.offer(event("second")) is Verdict.DUPLICATE  # remembered once stored
    assert inbox.stats.duplicates == 2


async def test_a_delivery_that_finds_no_room_in_time_is_busy_and_forgotten() -> None:
    inbox = Inbox(max_queue=1, max_history=10, max_dedupe=10, hold_timeout=0.05)
    await inbox.offer(event("first"))
    with anyio.fail_after(5):
        assert await inbox.offer(event("second")) is Verdict.BUSY
    assert inbox.stats.rejected["busy"] == 1
    assert inbox.stats.accepted == 1
    await inbox.get()
    assert await inbox.offer(event("second")) is Verdict.ACCEPTED  # a retry is new


async def test_an_event_a_waiting_wait_for_takes_never_reaches_the_queue() -> None:
    inbox = Inbox(max_queue=1, max_history=10, max_dedupe=10)
    await inbox.offer(event("first"))
    found = asyncio.create_task(
        inbox.wait_for(lambda e: e.request_id == "second", timeout=5, description="second")
    )
    offered = asyncio.create_task(inbox.offer(event("second")))
    await settle()
    await inbox.get()
    with anyio.fail_after(2):
        assert await offered is Verdict.ACCEPTED
        assert (await found).request_id == "second"
    assert inbox.stats.queued == 0
    assert await inbox.pending() == []


async def test_crowded_once_the_queue_and_the_waiting_room_are_full() -> None:
    inbox = Inbox(max_queue=2, max_history=10, max_dedupe=10)
    assert not inbox.crowded(max_waiting=3, in_flight=4)
    assert inbox.crowded(max_waiting=3, in_flight=5)
    await inbox.offer(event("a"))
    assert not inbox.crowded(max_waiting=3, in_flight=3)
    assert inbox.crowded(max_waiting=3, in_flight=4)


async def test_a_full_queue_nobody_reads_is_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = Inbox(max_queue=1, max_history=10, max_dedupe=10, hold_timeout=0.01)
    await inbox.offer(event("a"))
    with caplog.at_level(logging.WARNING, logger="aioubiwebhooks.receiver"):
        await inbox.offer(event("b"))
        await inbox.offer(event("c"))
    assert [r.getMessage() for r in caplog.records] == [
        "the receiver's queue is full (max_queue=1) and no 'async for' reads it: deliveries "
        "wait for room, then are refused with 503. Read the events with 'async for' or "
        "wait_for(), or raise max_queue"
    ]


async def test_no_warning_once_someone_reads_the_queue(caplog: pytest.LogCaptureFixture) -> None:
    inbox = Inbox(max_queue=1, max_history=10, max_dedupe=10, hold_timeout=0.01)
    await inbox.offer(event("a"))
    await inbox.get()
    await inbox.offer(event("b"))
    with caplog.at_level(logging.WARNING, logger="aioubiwebhooks.receiver"):
        assert await inbox.offer(event("c")) is Verdict.BUSY
    assert caplog.records == []


async def test_every_redelivery_that_waited_with_its_first_copy_counts_as_a_duplicate() -> None:
    inbox = Inbox(max_queue=1, max_history=10, max_dedupe=10)
    await inbox.offer(event("first"))
    waiting = asyncio.create_task(inbox.offer(event("second")))
    copies = [asyncio.create_task(inbox.offer(event("second"))) for _ in range(3)]
    await settle()
    await inbox.get()
    with anyio.fail_after(2):
        assert await waiting is Verdict.ACCEPTED
        assert [await copy for copy in copies] == [Verdict.DUPLICATE] * 3
    assert inbox.stats.duplicates == 3


@pytest.mark.parametrize("full", [False, True], ids=["room", "waiting for room"])
async def test_an_event_a_wait_for_claimed_is_not_queued_even_if_that_wait_is_cancelled(
    full: bool,
) -> None:
    """The claim decides: a wait_for cancelled between matching the event and returning
    it leaves the event handled, never also yielded by ``async for``."""
    inbox = Inbox(max_queue=1, max_history=10, max_dedupe=10)
    if full:
        await inbox.offer(event("first"))

    def cancel_the_wait(candidate: WebhookEvent) -> bool:
        if candidate.request_id != "second":
            return False
        found.cancel()  # cancelled once it matched, before it returns
        return True

    found = asyncio.create_task(inbox.wait_for(cancel_the_wait, timeout=5, description="second"))
    await settle()
    offered = asyncio.create_task(inbox.offer(event("second")))
    await settle()
    if full:
        await inbox.get()
    with anyio.fail_after(2):
        assert await offered is Verdict.ACCEPTED
    with pytest.raises(asyncio.CancelledError):
        await found
    assert inbox.stats.queued == 0
    assert await inbox.pending() == []


async def test_an_inbox_is_open_until_closed() -> None:
    inbox = Inbox(max_queue=1, max_history=1, max_dedupe=1)
    assert inbox.closed is False
    inbox.close()
    assert inbox.closed is True


def test_a_store_without_a_queue_of_its_own_is_never_crowded() -> None:
    """The base store (the journal's) holds nothing in memory: however many deliveries are
    on their way, none is refused for crowding."""
    store = BaseInbox(max_history=1, max_dedupe=1)
    assert not store.crowded(max_waiting=0, in_flight=10**6)
