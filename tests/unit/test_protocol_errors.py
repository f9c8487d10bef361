"""The typed error an answer becomes: its class, its words and every attribute it carries.

``tests/unit/test_protocol.py`` holds what follows an attempt; this file holds what a
caller reads from the error when the call fails: the server's message (found under the
keys the API uses, cut to a bound), the status, method, path, attempts, an excerpt of
the body, and what only some errors carry (a redirect's location, a size limit, a 429's
wait). Expected values are written out here.
"""

from __future__ import annotations

import json

import pytest

from aioubiwebhooks import (
    ApiError,
    NotFoundError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    ServerError,
)
from aioubiwebhooks._protocol import (
    MAX_EXCERPT,
    MAX_MESSAGE,
    CallState,
    api_error,
    error_message_from_body,
    excerpt_of,
)
from aioubiwebhooks._transport import HttpResponse

CALL = CallState("DELETE", "/projects/p/webhooks/h", attempts=3, max_response_size=1024)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": "gone"}, "gone"),
        ({"error_message": "gone"}, "gone"),
        ({"detail": "gone"}, "gone"),
        ({"message": "gone"}, "gone"),
        ({"message": "last", "detail": "third", "error_message": "second"}, "second"),
        ({"error": "", "detail": "said instead"}, "said instead"),
        ({"error": None, "message": "said instead"}, "said instead"),
        ({"error": {"name": ["taken"]}}, '{"name": ["taken"]}'),
        ({"name": ["is taken"]}, '{"name": ["is taken"]}'),
        ({}, "Not Found"),
        (["a", "list"], "Not Found"),
    ],
)
def test_the_servers_own_words_are_found_under_the_keys_the_api_uses(
    body: object, message: str
) -> None:
    assert error_message_from_body(json.dumps(body).encode(), "Not Found") == message


def test_a_body_that_is_not_json_is_its_own_message_or_the_reason() -> None:
    assert error_message_from_body(b"  upstream timed out \n", "Bad Gateway") == (
        "upstream timed out"
    )
    assert error_message_from_body(b"  \n", "Bad Gateway") == "Bad Gateway"
    assert error_message_from_body(b"\xff\xfeoops", "Bad Gateway") == "\ufffd\ufffdoops"


def test_a_long_message_is_cut_to_500_characters() -> None:
    long = "x" * 2_000
    assert error_message_from_body(json.dumps({"error": long}).encode(), "") == "x" * 500
    assert error_message_from_body(long.encode(), "") == "x" * 500
    keyed = error_message_from_body(json.dumps({"field": long}).encode(), "")
    assert keyed == '{"field": "' + "x" * 489


def test_an_error_answer_carries_the_call_and_an_excerpt_of_the_body() -> None:
    body = json.dumps({"error": "no such webhook", "padding": "p" * 3_000}).encode()
    error = api_error(CALL, HttpResponse(404, {}, body, "Not Found"), retry_after=7.0)
    assert type(error) is NotFoundError
    assert (error.status, error.message) == (404, "no such webhook")
    assert (error.method, error.path, error.attempts) == ("DELETE", "/projects/p/webhooks/h", 3)
    assert error.body == body[:2_000].decode()
    assert error.retry_after is None  # only a 429 says how long to wait


def test_a_429_keeps_the_wait_it_was_given() -> None:
    error = api_error(CALL, HttpResponse(429, {}, b'{"error": "slow down"}'), retry_after=7.0)
    assert type(error) is RateLimitError
    assert (error.message, error.retry_after, error.attempts) == ("slow down", 7.0, 3)


def test_an_oversized_answer_names_the_limit_and_carries_the_call() -> None:
    error = api_error(CALL, HttpResponse(200, {}, b"x" * 1024, oversized=True))
    assert type(error) is ResponseTooLargeError
    assert error.message == (
        "the answer body is larger than 1,024 bytes (max_response_size); reading stopped there"
    )
    assert (error.status, error.limit, error.body) == (200, 1024, "x" * 1024)
    assert (error.method, error.path, error.attempts) == ("DELETE", "/projects/p/webhooks/h", 3)


@pytest.mark.parametrize("status", [300, 302, 399])
def test_every_3xx_is_a_redirect_naming_where_it_pointed(status: int) -> None:
    answer = HttpResponse(status, {"location": "https://elsewhere.example/x"}, b"moved")
    error = api_error(CALL, answer)
    assert type(error) is RedirectError
    assert error.message == (
        "redirected to https://elsewhere.example/x; the API does not redirect, "
        "so it was not followed"
    )
    assert (error.status, error.location, error.body) == (
        status,
        "https://elsewhere.example/x",
        "moved",
    )
    assert (error.method, error.path, error.attempts) == ("DELETE", "/projects/p/webhooks/h", 3)


def test_a_redirect_without_a_location_says_so() -> None:
    error = api_error(CALL, HttpResponse(302, {}, b""))
    assert isinstance(error, RedirectError)
    assert error.location is None
    assert error.message.startswith("redirected to (no Location); ")


@pytest.mark.parametrize(("status", "kind"), [(400, ApiError), (500, ServerError)])
def test_the_statuses_around_the_3xx_range_are_no_redirects(status: int, kind: type) -> None:
    error = api_error(CALL, HttpResponse(status, {"location": "https://x.example/"}, b"{}"))
    assert isinstance(error, kind)
    assert not isinstance(error, RedirectError)


def hide_every_s(text: str) -> str:
    return text.replace("S", "")


def test_only_twice_the_bound_of_a_body_is_read_however_much_hiding_takes_out() -> None:
    """Hiding runs before the cut, so it reads a slice of the body first: twice the bound,
    room for secrets to shrink, and no more, whatever the body's length."""
    unread = b"S" * (2 * MAX_MESSAGE) + b"past the slice"
    just_read = b"S" * (2 * MAX_MESSAGE - 4) + b"read"
    assert error_message_from_body(unread, "Bad Gateway", hide_every_s) == "Bad Gateway"
    assert error_message_from_body(just_read, "Bad Gateway", hide_every_s) == "read"
    unread = b"S" * (2 * MAX_EXCERPT) + b"past the slice"
    just_read = b"S" * (2 * MAX_EXCERPT - 4) + b"read"
    assert excerpt_of(unread, hide_every_s) == ""
    assert excerpt_of(just_read, hide_every_s) == "read"
