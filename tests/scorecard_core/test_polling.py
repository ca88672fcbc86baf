"""The one poll-with-backoff helper, on a fake clock: delays grow by the factor up to the cap,
and the deadline ends the wait with the last answer."""

from __future__ import annotations

from scorecard_core.polling import poll


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
    assert poll(lambda: "done", lambda a: a == "done", 10, first_delay=1, max_delay=5, sleep=time.sleep) == "done"
    assert time.sleeps == []


def test_delays_grow_by_the_factor_up_to_the_cap():
    time = FakeTime()
    fetch = answers(*["running"] * 6, "done")
    found = poll(
        fetch, lambda a: a == "done", 1000, first_delay=1, max_delay=5, factor=2, sleep=time.sleep, clock=time.clock
    )
    assert found == "done"
    assert time.sleeps == [1, 2, 4, 5, 5, 5]


def test_the_deadline_returns_the_last_answer_without_sleeping_past_it():
    time = FakeTime()
    calls = []

    def fetch():
        calls.append(time.now)
        return f"running {len(calls)}"

    last = poll(fetch, lambda a: False, 10, first_delay=1, max_delay=4, sleep=time.sleep, clock=time.clock)
    assert last == "running 4"
    assert time.sleeps == [1, 2, 4]  # a fourth sleep (4 s) would end at 11 s, past the 10 s deadline
    assert calls == [0, 1, 3, 7]
