"""Background jobs behind one small interface.

The embedded default runs jobs on in-process worker threads with bounded concurrency; a queue
backed by Redis workers can implement the same interface for larger installs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Jobs(Protocol):
    def submit(self, func: Callable[..., Any], *args: Any) -> None: ...

    def shutdown(self) -> None: ...


class ThreadJobs:
    """At most ``concurrency`` jobs run at once. With ``backpressure``, ``submit`` blocks while
    every slot is busy (a producer that must not run ahead, like the scoring dispatcher);
    without it jobs queue, so a caller that must answer quickly (a webhook) never waits."""

    def __init__(self, concurrency: int, name: str = "scorecard-job", backpressure: bool = True):
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency) if backpressure else None
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=name)

    def submit(self, func: Callable[..., Any], *args: Any) -> None:
        if self._slots is not None:
            self._slots.acquire()
        try:
            self._pool.submit(self._run, func, args)
        except RuntimeError:  # the pool is shutting down
            if self._slots is not None:
                self._slots.release()
            raise

    def _run(self, func: Callable[..., Any], args: tuple) -> None:
        try:
            func(*args)
        except Exception:  # a job's failure must not kill its worker thread
            log.exception("background job %s failed", getattr(func, "__name__", func))
        finally:
            if self._slots is not None:
                self._slots.release()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
