"""Senders that misbehave, against a real receiver on loopback: each attack is bounded.

- idle or half-sent request heads: closed after ``head_timeout``, at most
  ``max_connections`` held, real deliveries still accepted meanwhile;
- many large senders with nobody consuming: at most ``max_waiting`` wait, for at most
  ``hold_timeout``; the rest get 503 + Retry-After before their body is read;
- malformed requests: one INFO line each, no ERROR traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest

from aioubiwebhooks.receiver import WebhookReceiver

pytestmark = pytest.mark.timeout(60)


def payload(request_id: str, result: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": "deployment_request_completed",
        "deployment_id": "d-1",
        "deployment_name": "dep",
        "deployment_version_id": "v-1",
        "deployment_version_name": "v1",
        "request_id": request_id,
        "status": "completed",
        "text": "done",
    }
    if result is not None:
        body["result"] = result
    return body


# --- slow or idle connections -------------------------------------------------------------

HEAD_TIMEOUT = 0.5
CAP = 50
ATTACKERS = 300
ATTACK_SECONDS = 3.0


async def _half_head(port: int, closed_after: list[float]) -> None:
    """Connect, send half a request head, then wait for the server to hang up."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appli")
        await writer.drain()
        await asyncio.wait_for(reader.read(), HEAD_TIMEOUT + 10)  # b"" once closed
        closed_after.append(time.monotonic() - started)
    except (ConnectionError, asyncio.TimeoutError):
        closed_after.append(time.monotonic() - started)
    finally:
        writer.close()


async def test_half_sent_heads_are_cut_off_and_real_deliveries_keep_coming_in() -> None:
    async with WebhookReceiver(
        head_timeout=HEAD_TIMEOUT, keepalive_timeout=0.5, max_connections=CAP
    ) as rx:
        closed_after: list[float] = []
        statuses: list[int] = []

        async def attack() -> None:
            deadline = time.monotonic() + ATTACK_SECONDS
            waves = 0
            while time.monotonic() < deadline and waves < 10:
                waves += 1
                await asyncio.gather(
                    *(_half_head(rx.port, closed_after) for _ in range(ATTACKERS // 3))
                )

        async def deliver() -> None:
            timeout = aiohttp.ClientTimeout(total=5)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                for n in range(40):
                    async with http.post(rx.url, json=payload(f"real-{n}")) as response:
                        statuses.append(response.status)
                    await asyncio.sleep(ATTACK_SECONDS / 40)

        attackers = [asyncio.create_task(attack()) for _ in range(3)]
        await asyncio.sleep(0.2)  # the attack is under way
        await deliver()
        await asyncio.gather(*attackers)

        connections = rx.connections
        assert statuses == [200] * 40
        assert rx.stats.accepted == 40
        # the cap held, and every half head was closed by the server, in bounded time
        assert connections.most_open <= CAP
        assert len(closed_after) >= ATTACKERS
        assert max(closed_after) < HEAD_TIMEOUT + 2.0
        # the guard closed them (aiohttp may close a few first, at its own keep-alive time)
        assert connections.timed_out + connections.pushed_out > len(closed_after) // 2
        assert connections.open <= 1


async def test_an_idle_keepalive_connection_is_closed_after_its_timeout() -> None:
    async with WebhookReceiver(keepalive_timeout=0.3) as rx:
        reader, writer = await asyncio.open_connection("127.0.0.1", rx.port)
        try:
            body = json.dumps(payload("ka")).encode()
            writer.write(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 5)
            assert b" 200 " in status_line
            started = time.monotonic()
            rest = await asyncio.wait_for(reader.read(), 5)  # the answer, then the close
            assert b"accepted" in rest
            assert time.monotonic() - started < 3
        finally:
            writer.close()
        assert rx.connections.open == 0


# --- senders held back --------------------------------------------------------------------

MAX_QUEUE = 5
MAX_WAITING = 10
HOLD = 0.5
BIG_SENDERS = 120
CONNECTIONS = BIG_SENDERS + 10
RESULT = "x" * 200_000
BODY_AFTER = 0.3  # seconds a sender waits for an early answer before sending its body


def _complete(answer: bytes) -> bool:
    """The whole answer is in: its head and as many body bytes as it announced."""
    head, found, rest = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(rest) >= int(line.split(b":", 1)[1])
    return False


def _raw_post(port: int, body: bytes) -> tuple[int, str | None, float]:
    """POST from a blocking socket: the head, then the body unless an answer came first.

    Like a client that waits briefly for ``100 Continue``: a receiver that answers
    before reading the body never gets it, so what it holds shows in its memory.
    """
    started = time.monotonic()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head)
        sock.settimeout(BODY_AFTER)
        with contextlib.suppress(OSError):
            answer = sock.recv(65536)  # an early answer (503 before the body), or nothing
        sock.settimeout(20)
        with contextlib.suppress(OSError):
            if not answer:
                sock.sendall(body)
            while not _complete(answer) and (chunk := sock.recv(65536)):
                answer += chunk
    seconds = time.monotonic() - started
    if not answer.startswith(b"HTTP/1.1 "):
        return 0, None, seconds
    head_lines = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in head_lines[1:] if ": " in line)
    return int(head_lines[0].split()[1]), fields.get("Retry-After"), seconds


async def test_senders_beyond_the_cap_get_503_before_their_body_is_read() -> None:
    bodies = [json.dumps(payload(f"big-{n}", RESULT)).encode() for n in range(BIG_SENDERS)]
    offered = sum(len(body) for body in bodies)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        async with WebhookReceiver(
            max_queue=MAX_QUEUE,
            max_waiting=MAX_WAITING,
            hold_timeout=HOLD,
            max_body=400_000,
            max_connections=CONNECTIONS,
        ) as rx:
            loop = asyncio.get_running_loop()
            with ThreadPoolExecutor(max_workers=BIG_SENDERS) as pool:
                results = await asyncio.gather(
                    *(loop.run_in_executor(pool, _raw_post, rx.port, body) for body in bodies)
                )
            # nobody consumed: memory stays bounded by the queue and the waiting senders
            peak = tracemalloc.get_traced_memory()[1] - baseline
            answers = {f"big-{n}": result for n, result in enumerate(results)}

            ok = sorted(rid for rid, (status, _, _) in answers.items() if status == 200)
            busy = [answer for answer in answers.values() if answer[0] == 503]
            assert len(ok) == MAX_QUEUE
            assert len(ok) + len(busy) == BIG_SENDERS
            assert all(retry_after == "1" for _, retry_after, _ in busy)
            # a sender within the cap waited for room at most the hold time, then 503
            assert max(seconds for _, _, seconds in busy) < HOLD + 5
            assert rx.stats.rejected["busy"] == len(busy)
            assert rx.stats.held_back == 0
            # memory: the queued and waiting events (raw and decoded, and while read),
            # not every body: the old receiver read all 120, about 48 MB
            body_size = offered / BIG_SENDERS
            assert peak < (MAX_QUEUE + MAX_WAITING) * body_size * 6, (peak, offered)

            # nothing acknowledged is lost: a consumer now gets exactly the 200s
            received = [(await asyncio.wait_for(rx.__anext__(), 5)).request_id for _ in ok]
            assert sorted(received) == ok
    finally:
        tracemalloc.stop()


async def test_a_held_sender_gets_room_when_the_consumer_catches_up() -> None:
    async with (
        WebhookReceiver(max_queue=1, max_waiting=5, hold_timeout=5) as rx,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
    ):
        async with http.post(rx.url, json=payload("first")) as response:
            assert response.status == 200
        held = asyncio.create_task(http.post(rx.url, json=payload("second")))
        for _ in range(500):  # until the sender is held back (at most 5 s)
            if rx.stats.held_back:
                break
            await asyncio.sleep(0.01)
        assert rx.stats.held_back == 1
        assert (await asyncio.wait_for(rx.__anext__(), 5)).request_id == "first"
        response = await asyncio.wait_for(held, 5)
        assert response.status == 200
        response.release()


# --- malformed requests -------------------------------------------------------------------

MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
    b"POST / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
]


async def test_malformed_requests_log_one_info_line_each(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with WebhookReceiver() as rx:
        for raw in MALFORMED:
            reader, writer = await asyncio.open_connection("127.0.0.1", rx.port)
            try:
                writer.write(raw)
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(), 5)
                assert answer.split(b" ", 2)[1] == b"400", answer[:60]
            finally:
                writer.close()
        # let the server finish logging the last one
        for _ in range(20):
            if rx.connections.malformed >= len(MALFORMED) - 1:
                break
            await asyncio.sleep(0.05)
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [], [r.getMessage() for r in loud]
    assert not [r for r in caplog.records if r.exc_info and r.levelno > logging.DEBUG]
    lines = [r for r in caplog.records if "malformed request" in r.getMessage()]
    assert all(r.levelno == logging.INFO for r in lines)
    assert len(lines) >= len(MALFORMED) - 1  # aiohttp logs a bad first method at DEBUG itself
    assert all("\n" not in r.getMessage() for r in lines)
