"""Benchmarks of aioubiwebhooks against the official ``ubiops`` client and raw aiohttp.

Each module runs one comparison and can be run on its own (``python -m
benchmarks.throughput``); ``python -m benchmarks.run_all`` runs them all and
writes ``benchmarks/RESULTS.md`` and ``benchmarks/throughput.png``.
"""
