"""Background jobs behind one small interface.

The embedded default runs jobs on in-process worker threads with bounded concurrency. Larger
installs send their background work to Celery workers instead (the server's workers package),
whose tasks claim it through the same database leases.

A job that must look at something again later (a hosted run still scoring) schedules itself with
``submit_later`` instead of sleeping: a sleeping job holds a worker, and a few of them would hold
up every other job.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

log = logging.getLogger(__name__)


class JobsClosed(RuntimeError):
    """The jobs were shut down (or the interpreter is exiting): nothing more can be submitted."""


class Jobs(Protocol):
    def submit(self, func: Callable[..., Any], *args: Any) -> None: ...

    def submit_later(self, delay: float, func: Callable[..., Any], *args: Any) -> None:
        """Submit ``func(*args)`` once ``delay`` seconds have passed; nothing is held meanwhile."""
        ...

    def shutdown(self) -> None:
        """Stop: queued and scheduled jobs are dropped, running ones finish."""
        ...


class ThreadJobs:
    """At most ``concurrency`` jobs run at once. With ``backpressure``, ``submit`` blocks while
    every slot is busy (a producer that must not run ahead, like the scoring dispatcher);
    without it jobs queue, so a caller that must answer quickly (a webhook) never waits.
    Delayed jobs wait on one timer thread, then queue like any other."""

    def __init__(self, concurrency: int, name: str = "scorecard-job", backpressure: bool = True):
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency) if backpressure else None
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=name)
        self._timers = _Timers(f"{name}-timer", self._submit_due)

    def submit(self, func: Callable[..., Any], *args: Any) -> None:
        if self._slots is not None:
            self._slots.acquire()
        try:
            self._pool.submit(self._run, func, args)
        except RuntimeError as exc:  # the pool, or the interpreter, is shutting down
            if self._slots is not None:
                self._slots.release()
            raise JobsClosed(str(exc)) from exc

    def submit_later(self, delay: float, func: Callable[..., Any], *args: Any) -> None:
        """Raises RuntimeError once the jobs are shut down, as ``submit`` does."""
        self._timers.add(delay, func, args)

    def _submit_due(self, func: Callable[..., Any], args: tuple) -> None:
        try:
            self.submit(func, *args)
        except RuntimeError:  # shut down while it came due: dropped, as queued jobs are
            log.debug("delayed job %s dropped: the jobs are shutting down", getattr(func, "__name__", func))

    def _run(self, func: Callable[..., Any], args: tuple) -> None:
        try:
            func(*args)
        except Exception:  # a job's failure must not kill its worker thread
            log.exception("background job %s failed", getattr(func, "__name__", func))
        finally:
            if self._slots is not None:
                self._slots.release()

    def shutdown(self) -> None:
        self._timers.close()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._timers.join()


class _Timers:
    """Delayed jobs in a heap by due time, handed to ``submit`` by one thread (started on first
    use) as they come due."""

    def __init__(self, name: str, submit: Callable[[Callable[..., Any], tuple], None]):
        self._name = name
        self._submit = submit
        self._due: list[tuple[float, int, Callable[..., Any], tuple]] = []
        self._order = itertools.count()  # equal due times keep their order; functions never compare
        self._changed = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, delay: float, func: Callable[..., Any], args: tuple) -> None:
        with self._changed:
            if self._closed:
                raise RuntimeError("cannot schedule new jobs after shutdown")
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), func, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._hand_over, name=self._name, daemon=True)
                self._thread.start()
            self._changed.notify()

    def _hand_over(self) -> None:
        while True:
            with self._changed:
                due = self._wait_for_due()
            if due is None:
                return
            self._submit(*due)  # outside the lock: with backpressure it may wait for a slot

    def _wait_for_due(self) -> tuple[Callable[..., Any], tuple] | None:
        """The next job once its time comes (None when closed); call holding the lock."""
        while not self._closed:
            if not self._due:
                self._changed.wait()
                continue
            wait = self._due[0][0] - time.monotonic()
            if wait <= 0:
                _when, _order, func, args = heapq.heappop(self._due)
                return func, args
            self._changed.wait(wait)
        return None

    def close(self) -> None:
        """Drop every pending job; later ``add`` calls raise."""
        with self._changed:
            self._closed = True
            self._due.clear()
            self._changed.notify()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
