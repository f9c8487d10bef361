"""What happens after each attempt, as a table: the pure decision, without sockets."""

from __future__ import annotations

import random

import pytest

import aioubiwebhooks
from aioubiwebhooks import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ConflictError,
    HttpResponse,
    NotFoundError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    TlsError,
)
from aioubiwebhooks._protocol import (
    RETURN,
    CallState,
    Decision,
    Raise,
    Retry,
    WaitForWindow,
    decide,
)
from aioubiwebhooks._ratelimit import RateLimitHeaders, parse_rate_limit_headers
from aioubiwebhooks._redact import secret_forms
from aioubiwebhooks._retry import RetryOn

POLICY = RetryPolicy(max_retries=2, initial_delay=0.2, max_delay=10.0, max_rate_limit_wait=60.0)
READ = CallState("GET", "/projects/p/webhooks/h")
TEST_CREATE = CallState("POST", "/projects/p/webhooks-tests", RetryOn.UNSENT)


@pytest.fixture(autouse=True)
def _real_backoff() -> None:
    aioubiwebhooks.set_testing(False)  # the table shows the delays a user's session waits


def answer(status: int, body: bytes = b"{}", **headers: str) -> HttpResponse:
    return HttpResponse(status, headers, body)


def kind(decision: Decision) -> str:
    if decision is RETURN:
        return "return"
    if isinstance(decision, Retry):
        return "retry"
    if isinstance(decision, WaitForWindow):
        return "wait"
    assert isinstance(decision, Raise)
    return type(decision.error).__name__


@pytest.mark.parametrize(
    ("call", "result", "expected"),
    [
        (READ, answer(200), "return"),
        (READ, answer(201), "return"),
        (READ, answer(204, b""), "return"),
        (READ, answer(301), "RedirectError"),
        (READ, answer(307), "RedirectError"),
        (READ, answer(308), "RedirectError"),
        (READ, answer(400), "BadRequestError"),
        (READ, answer(401), "AuthenticationError"),
        (READ, answer(404), "NotFoundError"),
        (READ, answer(408), "retry"),
        (READ, answer(409), "ConflictError"),
        (READ, answer(418), "ApiError"),
        (READ, answer(500), "ServerError"),
        (READ, answer(501), "ServerError"),
        (READ, answer(502), "retry"),
        (READ, answer(503), "retry"),
        (READ, answer(504), "retry"),
        (TEST_CREATE, answer(201), "return"),
        (TEST_CREATE, answer(408), "ApiError"),
        (TEST_CREATE, answer(502), "ServerError"),
        (TEST_CREATE, answer(503), "ServerError"),
        (TEST_CREATE, answer(504), "ServerError"),
        (READ, ApiConnectionError("reset", sent=True), "retry"),
        (READ, ApiConnectionError("refused", sent=False), "retry"),
        (READ, ApiTimeoutError("read timeout", sent=True), "retry"),
        (READ, TlsError("certificate not trusted"), "TlsError"),
        (TEST_CREATE, ApiConnectionError("refused", sent=False), "retry"),
        (TEST_CREATE, ApiTimeoutError("connect timeout", sent=False), "retry"),
        (TEST_CREATE, ApiConnectionError("reset", sent=True), "ApiConnectionError"),
        (TEST_CREATE, ApiTimeoutError("read timeout", sent=True), "ApiTimeoutError"),
        (TEST_CREATE, TlsError("certificate not trusted"), "TlsError"),
    ],
)
def test_what_follows_an_attempt(
    call: CallState, result: HttpResponse | ApiConnectionError, expected: str
) -> None:
    assert kind(decide(call, result, POLICY)) == expected


def test_retries_stop_when_used_up() -> None:
    spent = CallState("GET", "/x", retries=POLICY.max_retries, attempts=3)
    assert kind(decide(spent, answer(503), POLICY)) == "ServerError"
    failure = ApiConnectionError("reset")
    decision = decide(spent, failure, POLICY)
    assert isinstance(decision, Raise)
    assert decision.error is failure


def test_the_retry_backoff_is_never_zero_outside_testing_mode_and_grows() -> None:
    class Extreme(random.Random):
        def __init__(self, value: float) -> None:
            super().__init__()
            self.value = value

        def random(self) -> float:
            return self.value

        def uniform(self, a: float, b: float) -> float:
            return a + (b - a) * self.value

    policy = RetryPolicy(max_retries=8, initial_delay=0.2, max_delay=10.0)
    previous_longest = 0.0
    for number in range(1, 6):
        shortest = policy.backoff(number, Extreme(0.0))
        longest = policy.backoff(number, Extreme(0.999999))
        assert shortest > 0
        assert shortest >= previous_longest * 0.999  # the next retry waits no less
        previous_longest = longest
    assert policy.backoff(40, Extreme(0.999999)) <= 10.0
    decision = decide(CallState("GET", "/x"), answer(503), policy, rng=Extreme(0.0))
    assert isinstance(decision, Retry)
    assert decision.delay > 0


def test_testing_mode_removes_the_backoff_but_not_the_retry() -> None:
    aioubiwebhooks.set_testing(True)
    decision = decide(READ, answer(503), POLICY)
    assert decision == Retry(0.0)


def test_backoff_settings_of_zero_are_refused() -> None:
    with pytest.raises(ValueError, match="initial_delay"):
        RetryPolicy(initial_delay=0)
    with pytest.raises(ValueError, match="max_delay"):
        RetryPolicy(max_delay=0)


# --- 429 ------------------------------------------------------------------------------------


def limits(**headers: str) -> RateLimitHeaders | None:
    return parse_rate_limit_headers(headers, max_wait=POLICY.max_rate_limit_wait)


def test_a_429_waits_for_the_window_without_a_retry() -> None:
    headers = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"}
    decision = decide(
        READ, answer(429, **headers), POLICY, limits=limits(**headers), rate_limit_wait=3.0
    )
    assert decision == WaitForWindow(3.0)


def test_a_429_wait_past_the_bound_raises_with_the_wait() -> None:
    waited = CallState("GET", "/x", rate_limit_waited=58.0)
    headers = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"}
    decision = decide(
        waited, answer(429, **headers), POLICY, limits=limits(**headers), rate_limit_wait=3.0
    )
    assert isinstance(decision, Raise)
    assert isinstance(decision.error, RateLimitError)
    assert decision.error.retry_after == 3.0


@pytest.mark.parametrize("reset", ["1700000000", "1e9", "61", "86401"])
def test_a_429_asking_for_too_long_fails_at_once_with_the_servers_value(reset: str) -> None:
    headers = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    decision = decide(READ, answer(429, **headers), POLICY, limits=limits(**headers))
    assert isinstance(decision, Raise)
    assert isinstance(decision.error, RateLimitError)
    assert decision.error.retry_after == float(reset)


def test_a_429_the_budget_says_to_wait_out_is_a_wait_even_without_headers() -> None:
    decision = decide(READ, answer(429), POLICY, limits=None, rate_limit_wait=1.5)
    assert decision == WaitForWindow(1.5)


# --- the errors ------------------------------------------------------------------------------


def test_a_redirect_names_its_status_and_location() -> None:
    decision = decide(READ, answer(307, location="https://elsewhere.example/x"), POLICY)
    assert isinstance(decision, Raise)
    error = decision.error
    assert isinstance(error, RedirectError)
    assert error.status == 307
    assert error.location == "https://elsewhere.example/x"
    assert "307" in str(error)
    assert "https://elsewhere.example/x" in str(error)


def test_an_oversized_answer_is_a_typed_error_whatever_its_status() -> None:
    call = CallState("GET", "/x", max_response_size=1024)
    for status in (200, 404, 429, 503):
        big = HttpResponse(status, {}, b"x" * 1025, oversized=True)
        decision = decide(call, big, POLICY)
        assert isinstance(decision, Raise)
        assert isinstance(decision.error, ResponseTooLargeError)
        assert decision.error.limit == 1024
        assert decision.error.status == status
        assert len(decision.error.body) <= 2000


def test_the_token_and_protected_values_are_hidden_from_errors() -> None:
    secrets = secret_forms(["Token tok-123456", "tok-123456", 'pr"otected'])
    call = CallState("POST", "/projects/p/webhooks", secrets=secrets)
    echo = (
        b'{"error": "bad token tok-123456 with header value pr\\"otected", '
        b'"got": "Token tok-123456"}'
    )
    for status, expected in ((401, ApiError), (404, NotFoundError), (409, ConflictError)):
        decision = decide(call, HttpResponse(status, {}, echo), POLICY)
        assert isinstance(decision, Raise)
        error = decision.error
        assert isinstance(error, expected)
        for text in (str(error), repr(error), error.body, error.message):
            assert "tok-123456" not in text
            assert "otected" not in text
        assert "<hidden>" in error.message


def test_a_server_error_keeps_only_an_excerpt_of_a_huge_body() -> None:
    huge = b'{"error": "' + b"x" * 100_000 + b'"}'
    decision = decide(CallState("GET", "/x"), HttpResponse(500, {}, huge), POLICY)
    assert isinstance(decision, Raise)
    assert isinstance(decision.error, ServerError)
    assert len(decision.error.body) <= 2000
    assert len(str(decision.error)) < 1000


def test_each_retry_waits_the_backoff_of_its_own_number_drawn_from_the_rng_given() -> None:
    class Low(random.Random):
        def random(self) -> float:
            return 0.0

        def uniform(self, a: float, b: float) -> float:
            return a

    policy = RetryPolicy(max_retries=8, initial_delay=0.2, max_delay=10.0)
    for failed in (answer(503), ApiConnectionError("reset")):
        delays = []
        for retries in range(3):
            call = CallState("GET", "/x", retries=retries)
            decision = decide(call, failed, policy, rng=Low())
            assert isinstance(decision, Retry)
            assert decision.delay == policy.backoff(retries + 1, Low())
            delays.append(decision.delay)
        assert len(set(delays)) == 3  # the number counts: each retry waits its own backoff


def test_only_a_2xx_answer_is_returned() -> None:
    assert decide(READ, answer(299), POLICY) is RETURN
    assert kind(decide(READ, answer(300), POLICY)) != "return"


def test_a_429_with_a_usable_reset_waits_even_when_its_retry_after_is_refused() -> None:
    said = RateLimitHeaders(10, 0, 2.0, refused=900.0)
    assert kind(decide(READ, answer(429), POLICY, limits=said, rate_limit_wait=2.0)) == "wait"


def test_a_429_may_wait_up_to_the_longest_wait_the_policy_allows_and_no_longer() -> None:
    limits = RateLimitHeaders(10, 0, 60.0)
    at_the_bound = decide(READ, answer(429), POLICY, limits=limits, rate_limit_wait=60.0)
    assert at_the_bound == WaitForWindow(60.0)
    past_it = decide(READ, answer(429), POLICY, limits=limits, rate_limit_wait=60.5)
    assert kind(past_it) == "RateLimitError"
