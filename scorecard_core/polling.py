"""Asking again until an answer is final, backing off, within a deadline: the schedule written once.

The Action waits for a run's scores by sleeping between looks (:func:`poll`); the webhook service
re-checks a hosted run on the same kind of schedule without sleeping, as delayed jobs. Both
describe the schedule with a :class:`Backoff`. Sleep and clock are parameters so tests need not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Looks ``first`` seconds apart, the gap growing ``factor`` times up to ``longest``, until
    ``give_up_after`` seconds have passed since the first look."""

    first: float
    longest: float
    give_up_after: float
    factor: float = 2.0

    def next_gap(self, gap: float) -> float:
        return min(gap * self.factor, self.longest)


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    backoff: Backoff,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fetch`` until ``done`` says its answer is final, sleeping between calls as
    ``backoff`` says. Returns the final answer, or the last one when the next sleep would end
    past the deadline (the caller checks ``done`` to tell which)."""
    deadline = clock() + backoff.give_up_after
    gap = backoff.first
    while True:
        answer = fetch()
        if done(answer) or clock() + gap > deadline:
            return answer
        sleep(gap)
        gap = backoff.next_gap(gap)
