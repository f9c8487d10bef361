"""A delivery sender in its own process, for the receiver benchmark.

It opens its connections with a warm-up burst, prints ``ready``, waits for a line
on standard input, then POSTs ``--count`` webhook payloads (each with its own
request id) with ``--concurrency`` in flight, and prints one JSON line:
``{"ok": ..., "failed": ..., "seconds": ..., "cpu": ...}`` (``cpu``: this process's
CPU seconds while sending). Running apart from the receiver means the receiver's
process spends its CPU on receiving only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import uuid

import aiohttp

DEADLINE = 120.0


def payload(request_id: str) -> bytes:
    """A ``deployment_request_completed`` delivery as UbiOps sends it."""
    return json.dumps(
        {
            "event": "deployment_request_completed",
            "deployment_id": "5f0e1d2c-3b4a-4968-8788-99aabbccddee",
            "deployment_name": "demo-deployment",
            "deployment_version_id": "6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d",
            "deployment_version_name": "v1",
            "request_id": request_id,
            "status": "completed",
            "text": f"Deployment request {request_id} finished for deployment "
            "demo-deployment v1 in project demo",
        }
    ).encode()


async def _send(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], count: int, concurrency: int
) -> tuple[int, int]:
    bodies = iter([payload(str(uuid.uuid4())) for _ in range(count)])
    ok = failed = 0

    async def worker() -> None:
        nonlocal ok, failed
        for body in bodies:
            try:
                async with session.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    if answer.status == 200:
                        ok += 1
                    else:
                        failed += 1
            except aiohttp.ClientError:
                failed += 1

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), DEADLINE)
    return ok, failed


async def main_async(args: argparse.Namespace) -> None:
    headers = {"Content-Type": "application/json", "Authorization": args.secret}
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        warm_ok, warm_failed = await _send(
            session, args.url, headers, args.concurrency, args.concurrency
        )
        print(json.dumps({"ready": True, "warm_ok": warm_ok, "warm_failed": warm_failed}))
        sys.stdout.flush()
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started, started_cpu = time.perf_counter(), _cpu_seconds()
        ok, failed = await _send(session, args.url, headers, args.count, args.concurrency)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - started_cpu
    print(json.dumps({"ok": ok, "failed": failed, "seconds": seconds, "cpu": cpu}), flush=True)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--secret", default="Token bench-secret")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
