"""The JSON backend: orjson where installed, with results and errors exactly as ``json`` gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aioubiwebhooks import _json, _wire

BODIES: list[bytes] = [
    b'{"id": "a", "labels": {"k": "v"}, "n": [1, 2.5, null, true]}',
    b"[]",
    b'"caf\\u00e9"',
    '{"name": "café ☕"}'.encode(),
    b'{"x": NaN, "y": Infinity}',  # json reads these; orjson does not
    b'{"lone": "\\ud800"}',  # a lone surrogate
    '{"utf16": 1}'.encode("utf-16"),  # json detects the encoding of bytes
    b'{"a": 1, "a": 2}',  # the last one wins
]
BROKEN: list[bytes] = [
    b"",
    b"{",
    b"<html>",
    b'{"a": 1} trailing',
    b"\xff\xfe\xfd",
    b"[" * 100_000,
    b"[" * 200_000 + b"]" * 200_000,  # orjson before 3.9.15 crashed the process on this
]
VALUES: list[Any] = [
    {"k": "v", "n": [1, 2.5, None, True]},
    {"name": "café ☕", "nested": {"list": [{"a": "b"}]}},
    {"big": 2**70},  # orjson refuses integers beyond 64 bits
    {"lone": "\ud800"},  # and lone surrogates
    {1: "int key"},  # and keys that are not strings
]


@pytest.mark.parametrize("body", BODIES)
def test_reading_gives_what_json_gives(body: bytes) -> None:
    expected = json.loads(body)
    found = _json.loads(body)
    assert json.dumps(found, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("body", BROKEN, ids=range(len(BROKEN)))
def test_broken_bodies_fail_as_with_json(body: bytes) -> None:
    with pytest.raises((ValueError, RecursionError)) as with_json:
        json.loads(body)
    with pytest.raises(type(with_json.value)) as with_backend:
        _json.loads(body)
    assert str(with_backend.value) == str(with_json.value)


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_writing_reads_back_as_with_json(value: Any) -> None:
    written = _json.dumps(value)
    assert json.loads(written) == json.loads(_json.stdlib_dumps(value))


def test_an_integer_beyond_64_bits_is_a_number_either_way() -> None:
    body = b'{"big": 123456789012345678901234567890}'
    assert _json.loads(body)["big"] == pytest.approx(json.loads(body)["big"])
    hook = json.loads(
        b'{"id": "i", "name": "n", "url": "u", "object_type": "x", "object_name": "o"}'
    )
    too_long = json.dumps({**hook, "event": "e"}).replace(
        '"e"}', '"e", "timeout": 1' + "0" * 25 + "}"
    )
    if _json.BACKEND == "orjson":  # read as a float, which no timeout may be
        with pytest.raises(_wire.DecodeError, match="timeout"):
            _wire.webhook_from_json(_wire.decode_json(too_long.encode()))


def test_bodies_are_compact() -> None:
    assert _wire.to_body({"a": [1, "b c"], "d": None}) == b'{"a":[1,"b c"],"d":null}'


def test_the_wire_layer_decodes_the_same_with_either_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = {
        "id": "i",
        "name": "n",
        "url": "https://example.org/h",
        "object_type": "deployment",
        "object_name": "d",
        "event": "deployment_request_failed",
        "headers": [{"key": "A", "value": None, "protected": True}],
        "timeout": 10,
    }
    body = json.dumps([hook, {**hook, "name": "m", "object_type": "experiment"}]).encode()
    fast = _wire.webhooks_from_json(_wire.decode_json(body))
    assert _wire.decode_webhooks(body) == fast
    monkeypatch.setattr(_json, "loads", _json.stdlib_loads)
    assert _wire.webhooks_from_json(_wire.decode_json(body)) == fast
    with pytest.raises(_wire.DecodeError, match=r"^\$\[1\]"):
        _wire.webhooks_from_json(
            _wire.decode_json(json.dumps([hook, {**hook, "timeout": "10"}]).encode())
        )


def test_the_backend_is_named() -> None:
    assert _json.BACKEND in ("orjson", "json")
