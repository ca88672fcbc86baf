"""Steps a delivery finishes later: looked at again on a schedule, not waited for in a worker.

Hosted Scorecard tells nobody when a run's scoring ends, so after a workflow succeeds the
standalone service looks at the run until it has finished, then publishes it. Sleeping between
looks would hold one of the few job workers for up to half an hour, and a few finishing runs would
hold up every other delivery; a look scheduled with ``Jobs.submit_later`` holds nothing meanwhile.

The delivery stays ``processing`` until its last look ends, then ends as if its handler had done
everything at once: processed, or failed naming each step that failed (so GitHub's redelivery
can try it again)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from scorecard_core.jobs import Jobs
from scorecard_core.polling import Backoff

from .routing import StepsFailed, describe, run_each

log = logging.getLogger(__name__)


class Recheck(Protocol):
    @property
    def name(self) -> str:
        """The step, as the delivery's error names it."""
        ...

    def look(self) -> bool:
        """Look once: True when done (its work too), False to look again later."""
        ...

    def timed_out(self, timeout: float) -> Exception:
        """Why the step failed: still not done ``timeout`` seconds after the first look."""
        ...


@dataclass
class Later:
    """What a handler leaves for later: steps to look at on ``backoff``'s schedule, and the
    failures of its other steps, reported with theirs."""

    rechecks: list[Recheck]
    backoff: Backoff
    failures: list[str] = field(default_factory=list)


def run_each_later(steps: Iterable[tuple[str, Callable[[], Recheck | None]]], backoff: Backoff) -> Later | None:
    """``run_each`` for steps that may leave a re-check: what is left for later, or None when
    nothing is (then failures raise StepsFailed at once, as ``run_each`` does)."""
    rechecks: list[Recheck] = []

    def keeping_rechecks(step: Callable[[], Recheck | None]) -> Callable[[], None]:
        def run() -> None:
            recheck = step()
            if recheck is not None:
                rechecks.append(recheck)

        return run

    try:
        run_each((name, keeping_rechecks(step)) for name, step in steps)
    except StepsFailed as exc:
        if not rechecks:
            raise
        return Later(rechecks, backoff, [str(exc)])
    return Later(rechecks, backoff) if rechecks else None


def follow_up(later: Later, jobs: Jobs, ended: Callable[[Exception | None], None]) -> None:
    """Look at each re-check now, then on schedule until it is done, fails or times out; once the
    last has ended, ``ended`` gets None, or StepsFailed naming every failure."""
    _FollowUp(later, jobs, ended).start()


class _FollowUp:
    def __init__(self, later: Later, jobs: Jobs, ended: Callable[[Exception | None], None]):
        self._later = later
        self._jobs = jobs
        self._ended = ended
        self._lock = threading.Lock()
        self._left = len(later.rechecks)
        self._failures = list(later.failures)

    def start(self) -> None:
        backoff = self._later.backoff
        for recheck in self._later.rechecks:
            self._look(recheck, backoff.first, time.monotonic() + backoff.give_up_after)

    def _look(self, recheck: Recheck, gap: float, deadline: float) -> None:
        """One look; the next comes ``gap`` seconds later, unless that is past ``deadline``."""
        backoff = self._later.backoff
        try:
            if recheck.look():
                return self._end(None)
            if time.monotonic() + gap > deadline:
                raise recheck.timed_out(backoff.give_up_after)
            self._jobs.submit_later(gap, self._look, recheck, backoff.next_gap(gap), deadline)
        except Exception as exc:
            log.exception("%s failed", recheck.name)
            self._end(f"{recheck.name}: {describe(exc)}")

    def _end(self, failure: str | None) -> None:
        with self._lock:
            if failure is not None:
                self._failures.append(failure)
            self._left -= 1
            if self._left:
                return
        self._ended(StepsFailed("; ".join(self._failures)) if self._failures else None)
