"""The receiver's queue and inbox (dedupe, back-pressure, history, waiters), without sockets."""

from __future__ import annotations

import asyncio

import pytest
from _event_helpers import completed_event as event

from aioubiwebhooks._delivery_check import Reason
from aioubiwebhooks._event_queue import ClosableQueue, QueueClosed
from aioubiwebhooks._inbox import (
    EventTimeoutError,
    Inbox,
    InboxClosed,
    ReceiverClosedError,
    Verdict,
)
from aioubiwebhooks.errors import UbiOpsError
from aioubiwebhooks.events import WebhookEvent
from aioubiwebhooks.models import EventType


def inbox(max_queue: int = 10, max_history: int = 10, max_dedupe: int = 100) -> Inbox:
    return Inbox(max_queue=max_queue, max_history=max_history, max_dedupe=max_dedupe)


async def settle() -> None:
    """Let every ready task run until it blocks again."""
    for _ in range(5):
        await asyncio.sleep(0)


# --- ClosableQueue ------------------------------------------------------------------------


async def test_queue_is_fifo_and_bounded() -> None:
    queue: ClosableQueue[int] = ClosableQueue(2)
    await queue.put(1)
    await queue.put(2)
    third = asyncio.create_task(queue.put(3))
    await settle()
    assert not third.done()
    assert queue.waiting_putters == 1
    assert await queue.get() == 1
    await third
    assert [await queue.get(), await queue.get()] == [2, 3]
    assert queue.high_water == 2


async def test_closed_queue_refuses_puts_and_drains_gets() -> None:
    queue: ClosableQueue[int] = ClosableQueue(1)
    await queue.put(1)
    held = asyncio.create_task(queue.put(2))
    await settle()
    queue.close()
    with pytest.raises(QueueClosed):
        await held
    with pytest.raises(QueueClosed):
        await queue.put(3)
    assert await queue.get() == 1
    with pytest.raises(QueueClosed):
        await queue.get()


async def test_close_wakes_a_waiting_getter() -> None:
    queue: ClosableQueue[int] = ClosableQueue(1)
    getter = asyncio.create_task(queue.get())
    await settle()
    queue.close()
    with pytest.raises(QueueClosed):
        await getter


async def test_cancelled_putter_leaves_no_trace_and_passes_its_turn() -> None:
    queue: ClosableQueue[int] = ClosableQueue(1)
    await queue.put(0)
    first = asyncio.create_task(queue.put(1))
    second = asyncio.create_task(queue.put(2))
    await settle()
    assert queue.waiting_putters == 2
    assert await queue.get() == 0  # wakes `first` ...
    first.cancel()  # ... which is cancelled before it runs: `second` must get the room
    await settle()
    assert first.cancelled()
    assert second.done()
    assert queue.waiting_putters == 0
    assert await queue.get() == 2


async def test_queue_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        ClosableQueue(0)


# --- Inbox: dedupe and back-pressure ------------------------------------------------------


async def test_offer_queues_once_and_acknowledges_redeliveries() -> None:
    box = inbox()
    assert await box.offer(event("a")) is Verdict.ACCEPTED
    assert await box.offer(event("a")) is Verdict.DUPLICATE
    assert await box.offer(event("a", EventType.DEPLOYMENT_REQUEST_FINISHED)) is Verdict.ACCEPTED
    stats = box.stats
    assert (stats.accepted, stats.duplicates, stats.queued) == (2, 1, 2)
    assert (await box.get()).request_id == "a"
    assert (await box.get()).event is EventType.DEPLOYMENT_REQUEST_FINISHED


async def test_dedupe_window_is_bounded() -> None:
    box = inbox(max_queue=10, max_dedupe=2)
    for request_id in ("a", "b", "c"):
        await box.offer(event(request_id))
    # "a" fell out of the window: a redelivery of it counts as new, "c" is still known
    assert await box.offer(event("c")) is Verdict.DUPLICATE
    assert await box.offer(event("a")) is Verdict.ACCEPTED


async def test_full_queue_holds_the_offer_until_there_is_room() -> None:
    box = inbox(max_queue=1)
    await box.offer(event("a"))
    held = asyncio.create_task(box.offer(event("b")))
    await settle()
    assert not held.done()
    assert box.stats.held_back == 1
    assert [e.request_id for e in box.events] == ["a"]  # not acknowledged, not recorded
    assert (await box.get()).request_id == "a"
    assert await held is Verdict.ACCEPTED
    assert box.stats.max_queued == 1


async def test_redelivery_of_a_held_event_waits_with_it() -> None:
    box = inbox(max_queue=1)
    await box.offer(event("a"))
    original = asyncio.create_task(box.offer(event("b")))
    redelivery = asyncio.create_task(box.offer(event("b")))
    await settle()
    assert not original.done()
    assert not redelivery.done()
    await box.get()
    assert await original is Verdict.ACCEPTED
    assert await redelivery is Verdict.DUPLICATE
    assert box.stats.queued == 1


async def test_close_refuses_held_offers_and_their_redeliveries() -> None:
    box = inbox(max_queue=1)
    await box.offer(event("a"))
    held = asyncio.create_task(box.offer(event("b")))
    again = asyncio.create_task(box.offer(event("b")))
    await settle()
    box.close()
    assert await held is Verdict.CLOSED
    assert await again is Verdict.CLOSED
    assert await box.offer(event("c")) is Verdict.CLOSED
    assert box.stats.rejected["closing"] == 3
    # what was acknowledged is still delivered, then the stream ends
    assert (await box.get()).request_id == "a"
    with pytest.raises(InboxClosed):
        await box.get()


async def test_cancelled_offer_is_forgotten_so_a_retry_is_accepted() -> None:
    box = inbox(max_queue=1)
    await box.offer(event("a"))
    held = asyncio.create_task(box.offer(event("b")))
    await settle()
    held.cancel()
    await settle()
    await box.get()
    assert await box.offer(event("b")) is Verdict.ACCEPTED


async def test_rejections_are_counted_per_reason() -> None:
    box = inbox()
    box.reject(Reason.UNAUTHORIZED)
    box.reject(Reason.UNAUTHORIZED)
    box.reject(Reason.TOO_LARGE)
    stats = box.stats
    assert stats.rejected["unauthorized"] == 2
    assert stats.rejected["too_large"] == 1
    assert stats.rejected["not_json"] == 0
    assert stats.total_rejected == 3


@pytest.mark.parametrize("name", ["max_queue", "max_history", "max_dedupe"])
async def test_bounds_must_be_positive(name: str) -> None:
    bounds = {"max_queue": 1, "max_history": 1, "max_dedupe": 1, name: 0}
    with pytest.raises(ValueError, match=name):
        Inbox(**bounds)


# --- Inbox: history and wait_for ----------------------------------------------------------


async def test_history_is_bounded_and_in_arrival_order() -> None:
    box = inbox(max_queue=10, max_history=3)
    for request_id in "abcde":
        await box.offer(event(request_id))
    assert [e.request_id for e in box.events] == ["c", "d", "e"]


async def test_wait_for_finds_an_event_that_already_arrived_and_handles_it() -> None:
    box = inbox()
    await box.offer(event("a"))
    await box.offer(event("b"))
    found = await box.wait_for(lambda e: e.request_id == "b", timeout=1, description="b")
    assert found.request_id == "b"
    assert box.stats.queued == 1  # "b" left the stream: wait_for handled it
    assert (await box.get()).request_id == "a"
    assert await box.pending() == []
    # the history still has both, for another wait_for
    again = await box.wait_for(lambda e: e.request_id == "b", timeout=1, description="b")
    assert again is found


async def test_wait_for_sees_an_event_that_arrives_later() -> None:
    box = inbox()
    waiting = asyncio.create_task(
        box.wait_for(lambda e: e.request_id == "x", timeout=5, description="x")
    )
    await settle()
    await box.offer(event("w"))
    assert not waiting.done()
    await box.offer(event("x"))
    assert (await waiting).request_id == "x"
    assert (await box.get()).request_id == "w"  # "x" was handled by wait_for
    assert box.stats.queued == 0


async def test_wait_for_misses_nothing_in_a_burst() -> None:
    box = inbox(max_queue=500, max_history=2)
    waiting = asyncio.create_task(
        box.wait_for(lambda e: e.request_id == "r7", timeout=5, description="r7")
    )
    await settle()
    await asyncio.gather(*(box.offer(event(f"r{n}")) for n in range(300)))
    assert (await waiting).request_id == "r7"


async def test_wait_for_timeout_says_what_and_how_many() -> None:
    box = inbox()
    await box.offer(event("a"))
    waiting = asyncio.create_task(
        box.wait_for(lambda e: False, timeout=0.05, description="request zzz")
    )
    await settle()
    await box.offer(event("b"))
    with pytest.raises(EventTimeoutError) as info:
        await waiting
    error = info.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, UbiOpsError)
    assert error.seen == 2
    assert "request zzz" in str(error)
    assert "2 events seen" in str(error)


async def test_wait_for_raises_when_the_inbox_closes() -> None:
    box = inbox()
    waiting = asyncio.create_task(box.wait_for(lambda e: False, timeout=5, description="never"))
    await settle()
    box.close()
    with pytest.raises(ReceiverClosedError, match="never"):
        await waiting
    with pytest.raises(ReceiverClosedError):
        await box.wait_for(lambda e: True, timeout=5, description="anything")


async def test_wait_for_passes_on_a_failing_predicate() -> None:
    box = inbox()

    def broken(e: WebhookEvent) -> bool:
        raise KeyError("boom")

    waiting = asyncio.create_task(box.wait_for(broken, timeout=5, description="broken"))
    await settle()
    await box.offer(event("a"))
    with pytest.raises(KeyError):
        await waiting
    assert box.stats.accepted == 1
