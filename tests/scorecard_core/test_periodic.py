"""Periodic work: rounds keep coming after one fails, start is idempotent, stop ends the rounds."""

from __future__ import annotations

import threading
import time

from scorecard_core.periodic import Periodic


def test_a_failed_round_is_logged_and_the_next_one_comes(caplog):
    rounds: list[int] = []
    done = threading.Event()

    def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the database is away")
        done.set()

    periodic = Periodic("test-rounds", 0.01, work).start().start()
    assert done.wait(5)
    periodic.stop()
    seen = len(rounds)
    time.sleep(0.05)
    assert len(rounds) == seen >= 2
    assert "test-rounds failed; retrying" in caplog.text and "the database is away" in caplog.text


def test_stopping_before_starting_never_runs():
    rounds: list[int] = []
    periodic = Periodic("test-never", 0.01, lambda: rounds.append(1))
    periodic.stop()
    periodic.start()
    time.sleep(0.05)
    assert rounds == []
