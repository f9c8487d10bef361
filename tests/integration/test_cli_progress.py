"""The progress bar of a bulk command keeps moving while the rate limit holds it back."""

from __future__ import annotations

import io

from conftest import webhook_spec

from aioubiwebhooks import WebhooksSession
from aioubiwebhooks._cli.output import Output
from aioubiwebhooks.emulator import Emulator


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_the_bar_counts_down_rate_limit_waits() -> None:
    screen = Terminal()
    out = Output(json_mode=False, stdout=io.StringIO(), stderr=screen)
    async with (
        Emulator(rate_limit=(3, 2.0)) as emulator,
        WebhooksSession(emulator.token, emulator.url) as session,
        out.progress("creating", pacer=session.pacer) as bar,
    ):
        specs = [webhook_spec(f"slow-{i}") for i in range(8)]  # three windows of 2 s
        outcomes = await session.bulk_create("demo", specs, progress=bar)
    assert all(o.ok for o in outcomes)
    drawn = screen.getvalue().split("\r\x1b[K")
    waiting = [line for line in drawn if "rate limit: next window in" in line]
    assert waiting  # redrawn while no item finished
    assert any("/s  about " in line for line in waiting)  # with the rate and the time left
    assert drawn[-1] == "creating [" + "#" * 28 + "] 8/8\n"
