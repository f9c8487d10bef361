"""Events of deliveries with the same head share one redacted copy of their headers."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from aioubiwebhooks._header_copies import HeaderCopies, RawHeaders
from aioubiwebhooks.events import HIDDEN

SECRET = "Token s3cret"


def head(*pairs: tuple[str, str]) -> tuple[RawHeaders, CIMultiDictProxy[str]]:
    """A raw head and the headers aiohttp decodes from it."""
    raw = tuple((name.encode(), value.encode()) for name, value in pairs)
    return raw, CIMultiDictProxy(CIMultiDict(pairs))


def test_the_same_head_gives_the_same_copy_with_the_secret_hidden() -> None:
    copies = HeaderCopies("Authorization")
    raw, headers = head(("Authorization", SECRET), ("Content-Length", "10"), ("X-Hook", "a"))
    first = copies.redacted(raw, headers)
    again = copies.redacted(
        *head(("Authorization", SECRET), ("Content-Length", "10"), ("X-Hook", "a"))
    )
    assert again is first
    assert list(first.items()) == [
        ("Authorization", HIDDEN),
        ("Content-Length", "10"),
        ("X-Hook", "a"),
    ]
    assert len(copies) == 1


@pytest.mark.parametrize(
    "other",
    [
        (("Authorization", SECRET), ("Content-Length", "11"), ("X-Hook", "a")),  # one byte
        (("Authorization", SECRET), ("Content-Length", "10"), ("x-hook", "a")),  # spelling
        (("Authorization", SECRET), ("X-Hook", "a"), ("Content-Length", "10")),  # order
        (("Authorization", SECRET), ("Content-Length", "10")),  # one header fewer
    ],
)
def test_a_head_that_differs_in_any_way_gets_its_own_copy(
    other: tuple[tuple[str, str], ...],
) -> None:
    copies = HeaderCopies("Authorization")
    first = copies.redacted(
        *head(("Authorization", SECRET), ("Content-Length", "10"), ("X-Hook", "a"))
    )
    raw, headers = head(*other)
    second = copies.redacted(raw, headers)
    assert second is not first
    assert list(second.items()) == [
        (name, HIDDEN if name == "Authorization" else value) for name, value in other
    ]
    assert len(copies) == 2


def test_without_a_secret_header_nothing_is_hidden() -> None:
    copies = HeaderCopies(None)
    shared = copies.redacted(*head(("Authorization", "Token theirs"), ("X-Hook", "a")))
    assert shared["Authorization"] == "Token theirs"


def test_the_copy_is_read_only_and_not_the_request_headers() -> None:
    copies = HeaderCopies("Authorization")
    raw, headers = head(("Authorization", SECRET))
    shared = copies.redacted(raw, headers)
    assert headers["Authorization"] == SECRET  # the request's own headers are left as they are
    with pytest.raises(TypeError):
        shared["Authorization"] = SECRET  # type: ignore[index]


def test_it_remembers_at_most_limit_heads_and_stays_correct_past_it() -> None:
    copies = HeaderCopies("Authorization", limit=3)
    for length in range(10):
        raw, headers = head(("Authorization", SECRET), ("Content-Length", str(length)))
        assert copies.redacted(raw, headers)["Content-Length"] == str(length)
        assert 1 <= len(copies) <= 3
    raw, headers = head(("Authorization", SECRET), ("Content-Length", "9"))
    assert copies.redacted(raw, headers) is copies.redacted(raw, headers)


def test_its_repr_shows_no_header() -> None:
    copies = HeaderCopies("Authorization")
    copies.redacted(*head(("Authorization", SECRET), ("X-Hook", "a")))
    assert repr(copies) == "<HeaderCopies 1 of at most 64>"


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit must be at least 1, got 0"):
        HeaderCopies(None, limit=0)
