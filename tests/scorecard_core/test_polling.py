"""The one poll-with-backoff helper, on a fake clock: delays grow by the factor up to the cap,
and the deadline ends the wait with the last answer."""

from __future__ import annotations

from scorecard_core.polling import Backoff, poll


class FakeTime:
    """A clock that moves only when slept on, recording each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def answers(*values):
    remaining = iter(values)
    return lambda: next(remaining)


def test_a_final_first_answer_returns_at_once():
    time = FakeTime()
    assert poll(lambda: "done", lambda a: a == "done", Backoff(1, 5, 10), sleep=time.sleep) == "done"
    assert time.sleeps == []


def test_delays_grow_by_the_factor_up_to_the_cap():
    time = FakeTime()
    fetch = answers(*["running"] * 6, "done")
    found = poll(fetch, lambda a: a == "done", Backoff(1, 5, 1000, factor=2), sleep=time.sleep, clock=time.clock)
    assert found == "done"
    assert time.sleeps == [1, 2, 4, 5, 5, 5]


def test_the_deadline_returns_the_last_answer_without_sleeping_past_it():
    time = FakeTime()
    calls = []

    def fetch():
        calls.append(time.now)
        return f"running {len(calls)}"

    last = poll(fetch, lambda a: False, Backoff(1, 4, 10), sleep=time.sleep, clock=time.clock)
    assert last == "running 4"
    assert time.sleeps == [1, 2, 4]  # a fourth sleep (4 s) would end at 11 s, past the 10 s deadline
    assert calls == [0, 1, 3, 7]


def test_backoff_gaps_double_up_to_the_longest():
    backoff = Backoff(first=2.0, longest=60.0, give_up_after=1800.0)
    gaps = [backoff.first]
    while gaps[-1] < backoff.longest:
        gaps.append(backoff.next_gap(gaps[-1]))
    assert gaps == [2, 4, 8, 16, 32, 60]
    assert backoff.next_gap(60.0) == 60.0
