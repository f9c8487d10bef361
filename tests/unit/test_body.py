"""Reading a body with a ceiling on its decoded size, chunk by chunk, without sockets."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest

from aioubiwebhooks._body import BodyDecodeError, BoundedBody

LIMIT = 1024 * 1024


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def collect(body: BoundedBody, data: bytes) -> bytes:
    for chunk in chunks(data):
        if not body.feed(chunk):
            break
    return body.body()


@pytest.mark.parametrize("encoding", [None, "identity", "gzip", "deflate"])
def test_a_body_within_the_limit_comes_back_whole(encoding: str | None) -> None:
    data = b'{"name": "h"}' * 1000
    sent = {
        None: data,
        "identity": data,
        "gzip": gzip.compress(data),
        "deflate": zlib.compress(data),
    }[encoding]
    body = BoundedBody(LIMIT, encoding)
    assert collect(body, sent) == data
    assert not body.oversized


def test_a_body_exactly_at_the_limit_is_not_oversized() -> None:
    body = BoundedBody(10)
    assert body.feed(b"0123456789")
    assert not body.oversized


def test_reading_stops_one_byte_past_the_limit() -> None:
    body = BoundedBody(LIMIT)
    collected = collect(body, b"x" * (3 * LIMIT))
    assert body.oversized
    assert len(collected) == LIMIT + 1


def test_a_compression_bomb_is_stopped_at_the_limit_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * (200 * LIMIT))  # 200 MiB of zeros in about 200 kB
    assert len(bomb) < LIMIT
    tracemalloc.start()
    try:
        body = BoundedBody(LIMIT, "gzip")
        collected = collect(body, bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert body.oversized
    assert len(collected) == LIMIT + 1
    assert peak < 8 * LIMIT  # a wide margin; inflating it whole would take 200 MiB


def test_bare_deflate_and_concatenated_gzip_members_are_read() -> None:
    bare = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = bare.compress(b"hello ") + bare.flush()
    assert collect(BoundedBody(LIMIT, "deflate"), raw) == b"hello "
    members = gzip.compress(b"one ") + gzip.compress(b"two")
    assert collect(BoundedBody(LIMIT, "gzip"), members) == b"one two"


def test_an_unknown_or_corrupt_encoding_is_a_decode_error() -> None:
    with pytest.raises(BodyDecodeError, match="br"):
        BoundedBody(LIMIT, "br")
    with pytest.raises(BodyDecodeError, match="corrupt"):
        collect(BoundedBody(LIMIT, "gzip"), b"definitely not gzip")
