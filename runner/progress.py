"""Progress lines a person can watch in the terminal or the Actions log.

The total may be learned as the work streams in (the runner's testcases come page by page):
until it is complete the line reads ``[done/known+]``, with no percentage or time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO

REPORT_EVERY_SECONDS = 2.0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    def __init__(self, total: int | None, label: str, stream: TextIO | None = None):
        """``total`` None: not known yet; :meth:`grow` it as work arrives, then say it is :meth:`counted`."""
        self.total = total or 0
        self.total_known = total is not None
        self.label = label
        self.stream = stream or sys.stdout
        self.ok = 0
        self.failed = 0
        self.started = time.monotonic()
        self._last_report = 0.0

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def grow(self, count: int) -> None:
        self.total += count

    def counted(self) -> None:
        """The total is complete; if the work is done already, that is the last line."""
        self.total_known = True
        if self.done == self.total and self.done:
            self.report()

    def advance(self, ok: bool) -> None:
        if ok:
            self.ok += 1
        else:
            self.failed += 1
        now = time.monotonic()
        if (self.total_known and self.done == self.total) or now - self._last_report >= REPORT_EVERY_SECONDS:
            self._last_report = now
            self.report()

    def report(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        width = len(str(self.total))
        if self.total_known:
            eta = (self.total - self.done) / rate if rate and self.done < self.total else 0.0
            percent = 100 * self.done / self.total if self.total else 100.0
            count = f"[{self.done:>{width}}/{self.total}] {percent:5.1f}%"
        else:
            eta, count = 0.0, f"[{self.done:>{width}}/{self.total}+]"
        line = f"{count} {self.label}: {self.ok} ok, {self.failed} failed, {rate:.1f}/s, elapsed {_duration(elapsed)}"
        if eta:
            line += f", ~{_duration(eta)} left"
        print(line, file=self.stream, flush=True)
