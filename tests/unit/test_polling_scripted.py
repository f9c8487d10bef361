"""Waiting for webhook tests against scripted answers (the library's MockTransport).

The statuses a test goes through are scripted, so each rule of the waits is checked
exactly: what ``watch_test`` yields, when it stops, what it raises, what ``await_tests``
reports for each test. Testing mode (on for the whole suite) makes every poll delay
zero; the schedule itself is checked in ``test_poll_schedule*.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from conftest import delivery_spec

from aioubiwebhooks import (
    HttpRequest,
    HttpResponse,
    MockTransport,
    PollSchedule,
    TestFailedError,
    TestTimeoutError,
    ValidationError,
    WebhooksSession,
    set_testing,
)
from aioubiwebhooks.models import TestStatus


def status(test_id: str, value: str, message: str | None = None) -> HttpResponse:
    return HttpResponse.json({"id": test_id, "status": value, "error_message": message})


class ScriptedTests:
    """Answers each test's polls from its own list (the last answer repeats)."""

    def __init__(self, **answers: list[HttpResponse]) -> None:
        self.answers = answers
        self.polls: dict[str, int] = dict.fromkeys(answers, 0)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        test_id = request.path.rsplit("/", 1)[1]
        self.polls[test_id] += 1
        queue = self.answers[test_id]
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
async def session_for() -> AsyncIterator[Any]:
    sessions: list[WebhooksSession] = []

    def make(tests: ScriptedTests) -> WebhooksSession:
        session = WebhooksSession("Token t", transport=MockTransport(tests))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        await session.close()


async def test_watch_yields_each_status_once_and_ends_after_the_final_one(session_for: Any) -> None:
    tests = ScriptedTests(t=[status("t", "pending")] * 3 + [status("t", "completed")])
    session = session_for(tests)
    seen = [detail.status async for detail in session.watch_test("p", "t", timeout=10)]
    assert seen == [TestStatus.PENDING, TestStatus.COMPLETED]
    assert tests.polls["t"] == 4


async def test_a_status_the_library_does_not_know_is_final(session_for: Any) -> None:
    tests = ScriptedTests(
        t=[status("t", "pending"), status("t", "archived"), status("t", "completed")]
    )
    done = await session_for(tests).await_test("p", "t", timeout=10)
    assert done.status == "archived"
    assert tests.polls["t"] == 2


async def test_a_failed_test_is_returned_or_raised_as_asked(session_for: Any) -> None:
    tests = ScriptedTests(t=[status("t", "failed", "receiver answered 500")])
    session = session_for(tests)
    failed = await session.await_test("p", "t", timeout=10)
    assert (failed.status, failed.error_message) == (TestStatus.FAILED, "receiver answered 500")
    with pytest.raises(TestFailedError) as caught:
        await session.await_test("p", "t", timeout=10, raise_on_failure=True)
    assert (caught.value.test_id, caught.value.detail) == ("t", failed)
    assert "receiver answered 500" in str(caught.value)


async def test_a_completed_test_is_not_raised_with_raise_on_failure(session_for: Any) -> None:
    tests = ScriptedTests(t=[status("t", "pending"), status("t", "completed")])
    done = await session_for(tests).await_test("p", "t", timeout=10, raise_on_failure=True)
    assert done.status is TestStatus.COMPLETED


async def test_a_wait_past_its_deadline_names_the_last_status(session_for: Any) -> None:
    tests = ScriptedTests(t=[status("t", "pending")])
    with pytest.raises(TestTimeoutError) as caught:
        await session_for(tests).await_test("p", "t", timeout=0.2)
    assert caught.value.last_status == "pending"
    assert str(caught.value) == "webhook test t still pending after 0.2 s"


@pytest.mark.parametrize("timeout", [0, -1.0])
async def test_a_timeout_that_is_not_positive_is_refused(timeout: float, session_for: Any) -> None:
    tests = ScriptedTests(t=[status("t", "completed")])
    with pytest.raises(ValidationError) as caught:
        await session_for(tests).await_test("p", "t", timeout=timeout)
    error = caught.value
    assert (error.field, error.rule, error.value) == (
        "timeout",
        "must be a positive number of seconds",
        timeout,
    )
    assert tests.polls["t"] == 0


async def test_await_tests_reports_every_test_with_its_outcome(session_for: Any) -> None:
    tests = ScriptedTests(
        ok=[status("ok", "pending"), status("ok", "completed")],
        bad=[status("bad", "failed", "refused")],
        slow=[status("slow", "pending")],
    )
    session = session_for(tests)
    outcomes = {
        o.item: o
        async for o in session.await_tests(
            "p", ["ok", "bad", "slow"], timeout=0.3, raise_on_failure=True
        )
    }
    assert outcomes["ok"].ok
    assert outcomes["ok"].value is not None
    assert outcomes["ok"].value.status is TestStatus.COMPLETED
    assert isinstance(outcomes["bad"].error, TestFailedError)
    assert isinstance(outcomes["slow"].error, TestTimeoutError)
    assert set(outcomes) == {"ok", "bad", "slow"}


async def test_leaving_await_tests_early_stops_polling_the_others(session_for: Any) -> None:
    tests = ScriptedTests(quick=[status("quick", "completed")], slow=[status("slow", "pending")])
    session = session_for(tests)
    waits = session.await_tests("p", ["quick", "slow"], timeout=60)
    first = await waits.__anext__()
    with anyio.fail_after(10):  # a wait left running would hold this for its 60 s
        await waits.aclose()
    assert first.item == "quick"
    polled = tests.polls["slow"]
    for _ in range(50):  # a wait left running polls at every turn (testing mode: no delay)
        await asyncio.sleep(0)
    assert tests.polls["slow"] == polled


async def test_a_deadline_that_strikes_during_the_first_poll_knows_no_status() -> None:
    async def never_in_time(request: HttpRequest) -> HttpResponse:
        await asyncio.sleep(30)
        return status("t", "completed")

    async with WebhooksSession("Token t", transport=MockTransport(never_in_time)) as session:
        with anyio.fail_after(10), pytest.raises(TestTimeoutError) as caught:
            await session.await_test("p", "t", timeout=0.2)
    assert caught.value.last_status is None
    assert str(caught.value) == "webhook test t still unknown after 0.2 s"


async def test_leaving_await_tests_early_returns_once_the_other_waits_have_ended(
    session_for: Any,
) -> None:
    tests = ScriptedTests(quick=[status("quick", "completed")], slow=[status("slow", "pending")])
    waits = session_for(tests).await_tests("p", ["quick", "slow"], timeout=60)
    await waits.__anext__()
    with anyio.fail_after(10):
        await waits.aclose()
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert [t for t in others if not t.done()] == []  # cancelled, and already over


async def test_await_tests_polls_by_the_schedule_given(session_for: Any) -> None:
    """A schedule whose first delay outlasts the deadline: the second poll, which would see
    the test completed, never comes (the default schedule asks again after 0.1 s)."""
    tests = ScriptedTests(t=[status("t", "pending"), status("t", "completed")])
    slow = PollSchedule(initial_delay=5.0, max_delay=5.0, jitter=False)
    with set_testing(False):
        (outcome,) = [
            o async for o in session_for(tests).await_tests("p", ["t"], timeout=0.5, schedule=slow)
        ]
    assert isinstance(outcome.error, TestTimeoutError)
    assert tests.polls["t"] == 1


async def test_bulk_test_gives_a_failed_test_as_its_detail_not_as_an_error() -> None:
    def answer(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            return status("t", "pending")
        return status("t", "failed", "receiver answered 500")

    async with WebhooksSession("Token t", transport=MockTransport(answer)) as session:
        (outcome,) = await session.bulk_test("p", [delivery_spec("http://127.0.0.1:9/x")])
    assert outcome.error is None
    assert outcome.unwrap().status is TestStatus.FAILED
    assert outcome.unwrap().error_message == "receiver answered 500"


async def test_a_poll_still_out_at_the_deadline_is_cut_even_if_its_answer_is_near() -> None:
    async def just_too_late(request: HttpRequest) -> HttpResponse:
        await asyncio.sleep(0.6)  # after the deadline, well within a second of it
        return status("t", "completed")

    async with WebhooksSession("Token t", transport=MockTransport(just_too_late)) as session:
        with anyio.fail_after(10), pytest.raises(TestTimeoutError) as caught:
            await session.await_test("p", "t", timeout=0.1)
    assert caught.value.last_status is None


async def test_a_deadline_passed_while_the_caller_held_a_status_names_that_status(
    session_for: Any,
) -> None:
    tests = ScriptedTests(t=[status("t", "pending")])
    watch = session_for(tests).watch_test("p", "t", timeout=0.1)
    first = await watch.__anext__()
    assert first.status is TestStatus.PENDING
    await asyncio.sleep(0.2)  # the caller is busy past the deadline before asking again
    with pytest.raises(TestTimeoutError) as caught:
        await watch.__anext__()
    assert caught.value.last_status == "pending"
    assert tests.polls["t"] == 1  # no poll after the deadline


async def test_a_poll_cut_at_the_deadline_names_the_status_seen_before_it() -> None:
    polls = 0

    async def pending_then_slow(request: HttpRequest) -> HttpResponse:
        nonlocal polls
        polls += 1
        if polls > 1:
            await asyncio.sleep(5)  # the second poll is still out when the deadline comes
        return status("t", "pending")

    async with WebhooksSession("Token t", transport=MockTransport(pending_then_slow)) as session:
        with anyio.fail_after(10), pytest.raises(TestTimeoutError) as caught:
            await session.await_test("p", "t", timeout=0.5)
    assert polls == 2
    assert caught.value.last_status == "pending"
