"""Asking again until an answer is final, backing off, within a deadline: written once.

The Action waits for a run's scores and the standalone webhook service for a hosted run to
finish; both poll the same way. Sleep and clock are parameters so tests need not wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    timeout: float,
    *,
    first_delay: float,
    max_delay: float,
    factor: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fetch`` until ``done`` says its answer is final, sleeping ``first_delay`` seconds
    between calls at first, ``factor`` times longer each time up to ``max_delay``.

    Returns the final answer, or the last one when the next sleep would end past ``timeout``
    seconds from now (the caller checks ``done`` to tell which)."""
    deadline = clock() + timeout
    delay = first_delay
    while True:
        answer = fetch()
        if done(answer) or clock() + delay > deadline:
            return answer
        sleep(delay)
        delay = min(delay * factor, max_delay)
