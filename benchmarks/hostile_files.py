"""What hostile spec files cost the command: wall time and peak memory per refusal.

Each file is given to ``aioubiwebhooks plan`` as a child process (host pointed at a
closed loopback port: a refused file never gets as far as a request), ``rounds`` times;
the table shows the median wall time and the median peak resident memory of the
child, next to the same command refusing an ordinary bad spec, which is what starting
the command costs anyway. Nothing is asserted here.

The "refusal" columns time ``read_specs`` alone in this process (tracemalloc's peak);
the "whole command" columns include starting Python and importing the package.

``python -m benchmarks.hostile_files [--rounds 5]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from aioubiwebhooks import ValidationError
from aioubiwebhooks.migrate import read_specs

from ._common import markdown_table, median, webhook_spec

ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

ATTACKS: dict[str, tuple[str, str]] = {
    "one spec with a bad timeout (the baseline)": (
        "plain.json",
        json.dumps([{**webhook_spec("hook"), "timeout": 99}]),
    ),
    "alias bomb, 9 levels of 9 (342 bytes)": ("bomb.yaml", ALIAS_BOMB),
    "100,000 `[` as JSON": ("deep.json", "[" * 100_000),
    "100,000 `[` as YAML": ("deep.yaml", "[" * 100_000),
    "a key twice in a mapping": ("twice.yaml", "- name: a\n  name: b\n"),
    "a 5 MB unknown key": ("key.json", json.dumps([{"x" * 5_000_000: 1}])),
}


def run_once(path: Path) -> tuple[float, float, int]:
    """Wall seconds, peak resident MiB and exit status of one ``plan`` run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UBIOPS_")}
    env.update(UBIOPS_API_HOST="http://127.0.0.1:9/v2.1", UBIOPS_API_TOKEN="bench")
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "aioubiwebhooks", "plan", "demo", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        if child.poll() is None:
            child.kill()
    elapsed = time.perf_counter() - started
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def refuse_in_process(path: Path) -> tuple[float, float]:
    """Seconds and peak traced MiB of ``read_specs`` refusing the file, in this process."""
    tracemalloc.start()
    started = time.perf_counter()
    with contextlib.suppress(ValidationError):
        read_specs(path)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for attack, (name, text) in ATTACKS.items():
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            inside = [refuse_in_process(path) for _ in range(args.rounds)]
            runs = [run_once(path) for _ in range(args.rounds)]
            rows.append(
                [
                    attack,
                    f"{median([r[0] for r in inside]) * 1000:.1f} ms",
                    f"{median([r[1] for r in inside]):.1f} MiB",
                    f"{median([r[0] for r in runs]):.2f} s",
                    f"{median([r[1] for r in runs]):.0f} MiB",
                    ", ".join(sorted({str(r[2]) for r in runs})),
                ]
            )
    header = ["file", "refusal", "its peak (traced)", "whole command", "its peak RSS", "exit"]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
