"""Benchmark 4: decoding a list answer of N webhooks into typed objects.

aioubiwebhooks: ``_wire.decode_webhooks(body)``, the path ``webhooks_list`` takes (it
reads the list one element at a time, each element's JSON turned into its model
before the next is read). As a reference, the whole body decoded first and then
converted: ``webhooks_from_json(decode_json(body))``. The official client:
``ApiClient.deserialize`` of the same body with response type
``list[WebhookDetail]``; in ubiops 4.15.0 it reads ``response.text`` (a ``str``), so
its fake response carries the body already decoded, which spares it the
bytes-to-text step the library's timing includes.

``python -m benchmarks.parsing [--sizes 1000 50000] [--rounds 5] [--no-reference]``
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._common import DEPLOYMENT, fmt, markdown_table, median, rotate

__all__ = ["ParsingResult", "list_body", "run"]

LIB = "aioubiwebhooks (decode_list)"
LIB_WHOLE_BODY = "aioubiwebhooks, whole body decoded first (reference)"
OFFICIAL = "ubiops ApiClient.deserialize"
Decoder = Callable[[bytes], list[Any]]
REPEAT_UNDER = 10_000
"""Bodies with fewer webhooks than this are decoded several times per timing."""


def list_body(count: int) -> bytes:
    """A ``webhooks_list`` answer as the emulator renders it: varied, realistic webhooks."""
    items: list[dict[str, Any]] = []
    for i in range(count):
        protected = i % 3 == 0
        items.append(
            {
                "id": f"{i:08x}-3b4a-4968-8788-99aabbccddee",
                "name": f"hook-{i}",
                "url": f"https://hooks.example.org/ubiops/{i}",
                "headers": [
                    {"key": "X-Team", "value": "data", "protected": False},
                    {
                        "key": "Authorization",
                        "value": None if protected else "Token abc",
                        "protected": protected,
                    },
                ],
                "object_type": "deployment",
                "object_name": DEPLOYMENT,
                "version": "v1" if i % 2 else None,
                "description": f"webhook number {i}" if i % 4 else None,
                "labels": {"team": "data", "env": "prod" if i % 2 else "dev"},
                "event": "deployment_request_completed",
                "timeout": 10,
                "enabled": True,
                "retry": bool(i % 2),
                "include_result": False,
                "creation_date": "2024-05-01T12:00:00.123456Z",
                "last_updated": "2024-05-02T08:30:00.000001Z",
            }
        )
    return json.dumps(items, separators=(",", ":")).encode()


class _Answer:
    """What ``ApiClient.deserialize`` reads from a ``requests`` response: ``.text``."""

    def __init__(self, body: bytes) -> None:
        self.text = body.decode()
        self.data = body


def _lib_decoder() -> Decoder:
    from aioubiwebhooks._wire import decode_webhooks

    def decode(body: bytes) -> list[Any]:
        return decode_webhooks(body)

    return decode


def _lib_decoder_whole_body() -> Decoder:
    """The whole body decoded, then converted: what reading element by element is worth."""
    from aioubiwebhooks._wire import decode_json, webhooks_from_json

    def decode(body: bytes) -> list[Any]:
        return webhooks_from_json(decode_json(body))

    return decode


def _official_decoder() -> Decoder:
    import ubiops

    client = ubiops.ApiClient(ubiops.Configuration(host="http://127.0.0.1/v2.1"))

    def decode(body: bytes) -> list[Any]:
        answer = _Answer(body)
        result: list[Any] = client.deserialize(answer, "list[WebhookDetail]")
        return result

    return decode


@dataclass
class ParsingResult:
    """CPU seconds per decode, per size and contender; the official/library ratio per round."""

    rounds: int
    seconds: dict[tuple[int, str], list[float]] = field(default_factory=dict)

    def sizes(self) -> list[int]:
        return sorted({size for size, _ in self.seconds})

    def speedup(self, size: int, name: str = LIB) -> float:
        pairs = zip(self.seconds[(size, OFFICIAL)], self.seconds[(size, name)], strict=True)
        return median([official / lib for official, lib in pairs])

    def names(self) -> list[str]:
        return [n for n in (LIB, LIB_WHOLE_BODY, OFFICIAL) if (self.sizes()[0], n) in self.seconds]

    def to_markdown(self) -> str:
        rows = []
        for size in self.sizes():
            for name in self.names():
                seconds = median(self.seconds[(size, name)])
                rows.append(
                    [
                        f"{size:,}",
                        name,
                        fmt(seconds * 1e3, 1),
                        fmt(seconds / size * 1e6, 1),
                        "1.0x" if name == OFFICIAL else fmt(self.speedup(size, name), 1) + "x",
                    ]
                )
        header = [
            "webhooks",
            "decoder",
            "ms (median)",
            "µs/webhook",
            "faster than the official client (median of per-round ratios)",
        ]
        return markdown_table(header, rows)


def _time(decode: Decoder, body: bytes, size: int) -> float:
    repeats = max(1, REPEAT_UNDER // size)  # small bodies: average several decodes
    gc.collect()
    started = time.process_time()
    for _ in range(repeats):
        decoded = decode(body)
    elapsed = (time.process_time() - started) / repeats
    if len(decoded) != size:
        raise RuntimeError(f"decoded {len(decoded)} webhooks, expected {size}")
    return elapsed


def run(
    sizes: Sequence[int],
    rounds: int,
    *,
    reference: bool = True,
    log: Callable[[str], None] = print,
) -> ParsingResult:
    """Every decoder on the same bodies, in a rotated order each round."""
    decoders: dict[str, Decoder] = {LIB: _lib_decoder(), OFFICIAL: _official_decoder()}
    if reference:
        decoders[LIB_WHOLE_BODY] = _lib_decoder_whole_body()
    result = ParsingResult(rounds)
    for size in sizes:
        body = list_body(size)
        for decode in decoders.values():
            decode(list_body(10))  # warm up imports and caches
        for round_index in range(rounds):
            for name in rotate(list(decoders), round_index):
                seconds = _time(decoders[name], body, size)
                result.seconds.setdefault((size, name), []).append(seconds)
                log(f"  parsing {size:,} round {round_index + 1}/{rounds} {name}: {seconds:.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--no-reference", action="store_true", help="leave out the whole-body reference decode"
    )
    args = parser.parse_args()
    print(run(args.sizes, args.rounds, reference=not args.no_reference).to_markdown())


if __name__ == "__main__":
    main()
