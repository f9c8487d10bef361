"""A wait that watches where its test delivers, without sockets: the receiver's own
in-memory store stands for the receiver (it has what a wait reads of one: ``events`` and
``wait_for``), and the project's MockTransport answers the polls.

Every schedule here but the receiver's fallback is far longer than the test may take, so
a poll that comes at all came because of a delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import anyio
import pytest
from _event_helpers import completed_event as event

from aioubiwebhooks import (
    HttpRequest,
    HttpResponse,
    MockTransport,
    PollSchedule,
    TestTimeoutError,
    WebhooksSession,
    set_testing,
)
from aioubiwebhooks._inbox import Inbox
from aioubiwebhooks._polling import DeliverySource, final_status, watch_test
from aioubiwebhooks.models import TestStatus, WebhookTestDetail

NEVER = PollSchedule(initial_delay=30.0, max_delay=30.0, jitter=False, polls_per_doubling=None)
"""A schedule whose first poll comes after 30 s: only a delivery brings one sooner."""


class ScriptedTest:
    """A webhook test that reads pending until delivered, then for ``pending_after`` more
    polls; it counts the polls."""

    def __init__(self, pending_after: int = 0) -> None:
        self.delivered = False
        self.pending_after = pending_after
        self.polls = 0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.polls += 1
        done = self.delivered and self.pending_after == 0
        if self.delivered and self.pending_after:
            self.pending_after -= 1
        status = "completed" if done else "pending"
        return HttpResponse.json({"id": "t", "status": status, "error_message": None})


@pytest.fixture
def inbox() -> Inbox:
    return Inbox(max_queue=10, max_history=10, max_dedupe=10)


@pytest.fixture(autouse=True)
def real_delays() -> AsyncIterator[None]:
    with set_testing(False):  # the schedules' delays are what these tests are about
        yield


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def deliver(inbox: Inbox, test: ScriptedTest, request_id: str = "t") -> None:
    test.delivered = True
    await inbox.offer(event(request_id))


def source(inbox: Inbox) -> DeliverySource:
    return cast(DeliverySource, inbox)


async def await_test(session: WebhooksSession, *args: Any, **settings: Any) -> WebhookTestDetail:
    """The wait the session runs: ``watch_test`` to its final status."""
    return await final_status(watch_test(session, *args, **settings))


async def test_a_matching_delivery_brings_the_poll_forward_and_another_does_not(
    inbox: Inbox,
) -> None:
    test = ScriptedTest()
    async with WebhooksSession("Token t", transport=MockTransport(test)) as session:
        wait = asyncio.ensure_future(
            await_test(
                session,
                "p",
                "t",
                timeout=20,
                schedule=NEVER,
                receiver=source(inbox),
                matches=lambda e: e.request_id == "t",
            )
        )
        await settle()
        await inbox.offer(event("someone else's"))
        await asyncio.sleep(0.3)
        assert test.polls == 0  # it did not match: no poll
        await deliver(inbox, test)
        with anyio.fail_after(10):
            done = await wait
    assert done.status is TestStatus.COMPLETED
    assert test.polls == 1


async def test_after_a_delivery_the_polls_follow_quickly_until_the_test_ends(
    inbox: Inbox,
) -> None:
    test = ScriptedTest(pending_after=2)  # the server marks it done a little after the delivery
    async with WebhooksSession("Token t", transport=MockTransport(test)) as session:
        wait = asyncio.ensure_future(
            await_test(session, "p", "t", timeout=20, schedule=NEVER, receiver=source(inbox))
        )
        await settle()
        await deliver(inbox, test)
        with anyio.fail_after(10):
            done = await wait
    assert done.status is TestStatus.COMPLETED
    assert test.polls == 3


async def test_once_the_quick_polls_are_spent_the_wait_goes_back_to_its_schedule(
    inbox: Inbox,
) -> None:
    test = ScriptedTest(pending_after=7)  # two more than the polls that follow a delivery
    steady = PollSchedule(initial_delay=0.05, max_delay=0.05, jitter=False, polls_per_doubling=None)
    async with WebhooksSession("Token t", transport=MockTransport(test)) as session:
        wait = asyncio.ensure_future(
            await_test(session, "p", "t", timeout=20, schedule=steady, receiver=source(inbox))
        )
        await settle()
        await deliver(inbox, test)
        with anyio.fail_after(10):
            done = await wait
    assert done.status is TestStatus.COMPLETED


async def test_with_a_receiver_the_wait_falls_back_to_polls_a_second_apart(inbox: Inbox) -> None:
    """Without a schedule, a wait that watches a receiver first polls after a second (its
    fallback), not after the 0.1 s of a wait that has no receiver: within half a second,
    at most the one look a wait takes at its deadline."""
    test = ScriptedTest()
    async with WebhooksSession("Token t", transport=MockTransport(test)) as session:
        with pytest.raises(TestTimeoutError) as caught:
            await await_test(session, "p", "t", timeout=0.5, receiver=source(inbox))
    assert caught.value.timeout == 0.5
    assert test.polls <= 1


async def test_a_delivery_that_arrives_during_a_poll_brings_the_next_one_forward(
    inbox: Inbox,
) -> None:
    polls = 0

    async def answer(request: HttpRequest) -> HttpResponse:
        nonlocal polls
        polls += 1
        if polls == 1:
            await inbox.offer(event("during"))  # while this poll is on its way
        status = "completed" if polls == 3 else "pending"
        return HttpResponse.json({"id": "t", "status": status, "error_message": None})

    async with WebhooksSession("Token t", transport=MockTransport(answer)) as session:
        wait = asyncio.ensure_future(
            await_test(session, "p", "t", timeout=20, schedule=NEVER, receiver=source(inbox))
        )
        await settle()
        await inbox.offer(event("first"))
        with anyio.fail_after(10):
            done = await wait
    assert done.status is TestStatus.COMPLETED
    assert polls == 3


async def test_without_a_receiver_the_wait_polls_by_the_default_schedule() -> None:
    """Its first polls come after 0.1 and 0.25 s: at least two within 0.9 s, where a
    receiver's fallback would poll only at the deadline."""
    test = ScriptedTest()
    async with WebhooksSession("Token t", transport=MockTransport(test)) as session:
        with pytest.raises(TestTimeoutError):
            await await_test(session, "p", "t", timeout=0.9)
    assert test.polls >= 2
