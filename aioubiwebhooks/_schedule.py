"""When to ask again whether a webhook test has finished: the poll schedule.

Two aims pull against each other: notice the end soon after it happens, and ask few
times (polls share the rate limit with everything else). The default schedule answers
them in three phases:

- a ramp: the first delay is ``initial_delay`` (0.1 s) and each next one ``factor``
  (1.5) times longer, so a test that ends at once is noticed at once;
- a steady pace: from ``max_delay`` (0.7 s) on, the delay stops growing, so the many
  tests that end within a few seconds are noticed within a fraction of a second;
- a poll budget: by any time ``t``, at most ``polls_per_doubling * log2(t /
  initial_delay) + 3`` polls (the one that sees the end included). Where the steady pace
  would ask more often, the delay grows instead, so a long wait asks only
  logarithmically often; its poll times then grow by ``2 ** (1 / polls_per_doubling)``
  (1.59 for the default 1.5).

For pending times spread evenly over 50 ms to 5 s, ``benchmarks/waiting_model.py`` (no
network) puts the default 14 % of the pending time late in the median (polling every
second: 20 %) and 42 % at the 90th percentile, within the budget; ``benchmarks/waiting.py``
measures it against the emulator. A geometric schedule cannot do as well within the
same budget: its poll times must grow by at least 1.59, which leaves it about 23 % late
in the median. The budget limits how many polls come before each moment, not where:
this one asks less in the first half second, where few tests end, and more at a steady
pace over the seconds where most do.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator, Mapping
from typing import Final

import attrs

from ._retry import is_testing
from .errors import ValidationError

__all__ = ["LEGACY_POLL_SETTINGS", "PollSchedule", "schedule_from"]


@attrs.frozen
class PollSchedule:
    """Delays between polls: a ramp, a steady pace, and a budget on the number of polls.

    The first delay is ``initial_delay``; each next one is ``factor`` times longer until
    it reaches ``max_delay``, the steady pace. ``polls_per_doubling`` sets the poll
    budget: by time ``t`` of a wait, at most ``polls_per_doubling * log2(t /
    initial_delay) + 3`` polls, the one that sees the end included; where the steady
    pace would ask more often, delays grow beyond ``max_delay`` instead. ``None`` turns
    the budget off (``max_delay`` is then a true maximum, and a long wait asks about
    every ``max_delay`` seconds). With ``jitter`` each delay is spread by +-10 % (never
    below what the budget needs), so many waits started together do not poll in lock
    step. In testing mode (:func:`~aioubiwebhooks.set_testing`) every delay is zero.
    """

    initial_delay: float = 0.1
    max_delay: float = 0.7
    factor: float = 1.5
    jitter: bool = True
    polls_per_doubling: float | None = 1.5

    def __attrs_post_init__(self) -> None:
        if not self.initial_delay > 0:
            raise ValidationError("initial_delay", "must be positive", self.initial_delay)
        if not self.max_delay >= self.initial_delay:
            raise ValidationError("max_delay", "must be at least initial_delay", self.max_delay)
        if not self.factor >= 1:
            raise ValidationError("factor", "must be at least 1", self.factor)
        if self.polls_per_doubling is not None and not self.polls_per_doubling > 0:
            raise ValidationError(
                "polls_per_doubling", "must be positive, or None", self.polls_per_doubling
            )

    def earliest(self, poll: int) -> float:
        """The earliest moment (seconds into the wait) the budget allows poll ``poll`` (1-based).

        A test ending just after poll ``k`` needs ``k + 1`` polls, which the budget
        allows from ``initial_delay * 2 ** ((k - 2) / polls_per_doubling)`` on.
        """
        if self.polls_per_doubling is None:
            return 0.0
        return float(self.initial_delay * 2.0 ** ((poll - 2) / self.polls_per_doubling))

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The delays, one per poll, forever (zero while testing mode is on).

        Each delay counts from the end of the poll before; since a poll takes time,
        real poll moments come later than the sums of these delays, never earlier.
        """
        draw = rng or random
        delay = self.initial_delay
        elapsed = 0.0
        poll = 0
        while True:
            poll += 1
            if is_testing():
                yield 0.0
            else:
                step = delay * draw.uniform(0.9, 1.1) if self.jitter else delay
                step = max(step, self.earliest(poll) - elapsed)
                elapsed += step
                yield step
            delay = min(self.max_delay, delay * self.factor)

    def times(self, until: float) -> list[float]:
        """Poll moments without jitter, as sums of the delays, up to the first at or past
        ``until`` (what the benchmarks' model and the tests compare against)."""
        plain = attrs.evolve(self, jitter=False)
        moments: list[float] = []
        moment, delay, poll = 0.0, plain.initial_delay, 0
        while not moments or moments[-1] < until:
            poll += 1
            moment = max(moment + delay, plain.earliest(poll))
            moments.append(moment)
            delay = min(plain.max_delay, delay * plain.factor)
        return moments


LEGACY_POLL_SETTINGS: Final = frozenset({"initial_delay", "max_delay", "factor", "jitter"})
"""The keyword arguments the waits took before ``schedule=`` (deprecated)."""


def schedule_from(
    schedule: PollSchedule | None,
    legacy: Mapping[str, float],
    *,
    caller: str,
    stacklevel: int = 3,  # pragma: no mutate
) -> PollSchedule | None:
    """The schedule a wait uses, accepting the deprecated loose keyword arguments.

    ``legacy`` holds the keyword arguments a wrapper collected besides its own;
    the old poll settings among them build a schedule (with a DeprecationWarning),
    anything else is a TypeError, as for any unknown keyword argument.
    """
    if not legacy:
        return schedule
    unknown = sorted(set(legacy) - LEGACY_POLL_SETTINGS)
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
    if schedule is not None:
        raise TypeError(f"{caller}(): give schedule= or {', '.join(sorted(legacy))}, not both")
    given = ", ".join(f"{name}=..." for name in sorted(legacy))
    warnings.warn(
        f"{caller}({given}) is deprecated; pass schedule=PollSchedule({given}) instead",
        DeprecationWarning,
        stacklevel=stacklevel,  # pragma: no mutate
    )
    return PollSchedule(**legacy)  # type: ignore[arg-type]
