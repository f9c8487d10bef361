"""The emulator's aiohttp app served over TLS, for the benchmarks' TLS runs.

The emulator command serves plain HTTP only; real traffic is TLS, where
connection reuse decides the cost of a request, so this harness serves the same
app with a certificate from ``trustme``. It prints ``listening on https://HOST:PORT``
once the port accepts connections and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl

from aiohttp import web

from aioubiwebhooks.emulator import EmulatorState, create_app, parse_rate_limit


async def serve(args: argparse.Namespace) -> None:
    state = EmulatorState(rate_limit=parse_rate_limit(args.rate_limit) if args.rate_limit else None)
    app = create_app(state, admin=args.admin)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, args.host, args.port, ssl_context=context)
        await site.start()
        port = int(runner.addresses[0][1])
        print(f"listening on https://{args.host}:{port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cert", required=True, help="PEM file: private key and certificate")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate-limit", default=None, metavar="LIMIT/SECONDS")
    parser.add_argument("--admin", action="store_true")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
