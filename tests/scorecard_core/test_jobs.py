"""The job pool's delayed jobs: they run once their delay has passed, hold no worker while they
wait, and are dropped at shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from scorecard_core.jobs import JobsClosed, ThreadJobs

SHORT = 0.2  # a delay long enough to tell "after" from "at once" on a busy machine


@pytest.fixture(params=[False, True], ids=["queueing", "backpressure"])
def jobs(request) -> Iterator[ThreadJobs]:
    pool = ThreadJobs(1, name="test-job", backpressure=request.param)
    yield pool
    pool.shutdown()


def test_a_delayed_job_runs_after_its_delay(jobs):
    ran_at: list[float] = []
    done = threading.Event()
    submitted_at = time.monotonic()
    jobs.submit_later(SHORT, lambda: (ran_at.append(time.monotonic()), done.set()))
    assert done.wait(10)
    assert ran_at[0] - submitted_at >= SHORT


def test_delayed_jobs_run_in_the_order_they_come_due(jobs):
    order: list[str] = []
    done = threading.Event()
    jobs.submit_later(2 * SHORT, lambda: (order.append("later"), done.set()))
    jobs.submit_later(SHORT, order.append, "sooner")
    assert done.wait(10)
    assert order == ["sooner", "later"]


def test_a_waiting_delayed_job_leaves_the_only_worker_free(jobs):
    delayed, immediate = threading.Event(), threading.Event()
    jobs.submit_later(30, delayed.set)
    jobs.submit(immediate.set)
    assert immediate.wait(5), "the immediate job waited behind the delayed one"
    assert not delayed.is_set()


def test_shutdown_drops_pending_delayed_jobs_and_refuses_new_ones(jobs):
    dropped = threading.Event()
    jobs.submit_later(SHORT, dropped.set)
    jobs.shutdown()
    time.sleep(2 * SHORT)
    assert not dropped.is_set()
    with pytest.raises(RuntimeError):
        jobs.submit_later(0, dropped.set)
    # What a producer such as the scoring dispatcher catches to stop quietly at exit.
    with pytest.raises(JobsClosed):
        jobs.submit(dropped.set)


def test_a_failing_delayed_job_does_not_stop_the_next(jobs):
    done = threading.Event()
    jobs.submit_later(0, lambda: 1 / 0)
    jobs.submit_later(SHORT, done.set)
    assert done.wait(10)
