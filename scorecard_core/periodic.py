"""Work repeated every few seconds on a daemon thread until stopped: lease renewals, refreshes,
sweeps. A round that fails (the database is away) is logged, and the next round tries again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, seconds: float, work: Callable[[], None]):
        self._name = name
        self._seconds = seconds
        self._work = work
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._start_lock = threading.Lock()

    def start(self) -> Periodic:
        """Start (once; later calls do nothing): the first round comes ``seconds`` from now."""
        with self._start_lock:
            if self._thread.ident is None and not self._stopping.is_set():
                self._thread.start()
        return self

    def stop(self, wait: float = 10.0) -> None:
        self._stopping.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=wait)

    def _loop(self) -> None:
        while not self._stopping.wait(self._seconds):
            try:
                self._work()
            except Exception:
                log.exception("%s failed; retrying in %.1f s", self._name, self._seconds)
