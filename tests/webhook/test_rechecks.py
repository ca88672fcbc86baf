"""Steps a delivery finishes later: looked at on a backing-off schedule on the job pool, ending the
delivery once the last has ended, with every failure named as ``run_each`` names them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from scorecard_core.errors import ScorecardError
from scorecard_core.jobs import ThreadJobs
from scorecard_core.polling import Backoff
from webhook.events.rechecks import Later, follow_up, run_each_later
from webhook.events.routing import StepsFailed

QUICK = Backoff(first=0.01, longest=0.04, give_up_after=0.5)


@dataclass
class Countdown:
    """Done at its ``done_at``-th look (never, when 0); ``broken`` raises at the first look."""

    name: str
    done_at: int = 1
    broken: bool = False
    looks: int = 0

    def look(self) -> bool:
        self.looks += 1
        if self.broken:
            raise ValueError("cannot look")
        return self.looks == self.done_at

    def timed_out(self, timeout: float) -> Exception:
        return ScorecardError(f"{self.name} not done after {timeout}s and {self.looks} looks")


@pytest.fixture
def jobs() -> Iterator[ThreadJobs]:
    pool = ThreadJobs(1, name="test-recheck", backpressure=False)
    yield pool
    pool.shutdown()


def followed_up(later: Later, jobs: ThreadJobs) -> Exception | None:
    ended: list[Exception | None] = []
    finished = threading.Event()
    follow_up(later, jobs, lambda error: (ended.append(error), finished.set()))
    assert finished.wait(10)
    return ended[0]


def test_a_step_is_looked_at_until_it_is_done(jobs):
    step = Countdown("run 1", done_at=3)
    assert followed_up(Later([step], QUICK), jobs) is None
    assert step.looks == 3


def test_the_delivery_ends_once_every_step_has_ended_naming_each_failure(jobs):
    steps = [Countdown("run 1", done_at=2), Countdown("run 2", done_at=0), Countdown("run 3", broken=True)]
    error = followed_up(Later(steps, QUICK, ["run 0: KeyError: 'id'"]), jobs)
    assert isinstance(error, StepsFailed)
    message = str(error)
    assert message.startswith("run 0: KeyError: 'id'; ")
    assert "run 3: ValueError: cannot look" in message
    assert "run 2: ScorecardError: run 2 not done after 0.5s" in message
    assert "run 1:" not in message and steps[0].looks == 2
    assert steps[1].looks >= 3  # backed off, gave up


def test_run_each_later_keeps_what_is_left_and_what_failed():
    left = Countdown("run 2")

    def fails() -> None:
        raise ValueError("broken")

    later = run_each_later([("run 1", fails), ("run 2", lambda: left), ("run 3", lambda: None)], QUICK)
    assert later == Later([left], QUICK, ["run 1: ValueError: broken"])
    assert run_each_later([("run 3", lambda: None)], QUICK) is None
    with pytest.raises(StepsFailed, match="run 1: ValueError: broken"):
        run_each_later([("run 1", fails)], QUICK)
