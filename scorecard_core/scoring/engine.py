"""The embedded scoring engine: claims pending scores from the database, scores them, writes
results, all in this process (workers on a queue do the same, a batch per task, with claims.py).

- Heuristic scores are cheap: they are computed on the dispatcher thread in large batches.
- AI scores go to background jobs (bounded concurrency, default 32); the judge retries 429/5xx.
  A judgement asked for before is answered by the judge cache (judge_cache.py).
- One writer thread stores results in batches and refreshes the runs they belong to. A batch
  the database refuses is stored row by row, and a row it still refuses is stored as an error
  saying why: one bad score never holds back the others.

Claims are leases, renewed while work is in flight (claims.py says what that guarantees).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine

from ..jobs import Jobs, JobsClosed, ThreadJobs
from ..models import Record, utcnow
from . import claims
from .claims import Claim, Leases, Result, Scorer
from .one_record import Judge

log = logging.getLogger(__name__)

HEURISTIC_BATCH = 1000
WRITE_BATCH = 500
WRITE_LINGER_SECONDS = 0.02
REFRESH_SECONDS = 0.5


class ScoringEngine:
    def __init__(
        self,
        engine: Engine,
        judge: Judge,
        concurrency: int = 32,
        lease_seconds: float = 60.0,
        poll_seconds: float = 2.0,
        jobs: Jobs | None = None,
        on_run_finished: Callable[[int], None] | None = None,
        max_attempts: int = 3,
        judge_cache: bool = True,
    ):
        self.engine = engine
        self.concurrency = concurrency
        self.leases = Leases(lease_seconds, max_attempts)
        self.poll_seconds = poll_seconds
        self.on_run_finished = on_run_finished
        self._scorer = Scorer(engine, judge, judge_cache)
        self._jobs = jobs or ThreadJobs(concurrency, name="scorecard-judge")
        self._results: queue.Queue[Result | None] = queue.Queue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._in_flight: set[int] = set()
        self._in_flight_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._dispatch_loop, name="scorecard-dispatch", daemon=True),
            threading.Thread(target=self._write_loop, name="scorecard-writer", daemon=True),
        ]

    # -- control -----------------------------------------------------------------------------
    def start(self) -> ScoringEngine:
        for thread in self._threads:
            thread.start()
        self.wake()
        return self

    def wake(self) -> None:
        """New work may be pending (records arrived, a rescore started)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._results.put(None)  # wakes the writer at once
        for thread in self._threads:
            thread.join(timeout=10)
        self._jobs.shutdown()

    # -- claiming ----------------------------------------------------------------------------
    def _claim(self, ai: bool, limit: int) -> list[Claim]:
        found = claims.claim(self.engine, ai, limit, self.leases)
        with self._in_flight_lock:
            self._in_flight.update(c.score_id for c in found)
        return found

    def _give_up_exhausted(self) -> None:
        """Scores whose every attempt ended without a stored result become errors, through the
        writer (which refreshes their runs)."""
        given_up = claims.give_up_exhausted(self.engine, self.leases)
        with self._in_flight_lock:
            self._in_flight.update(r.score_id for r in given_up)
        for result in given_up:
            self._results.put(result)

    def _renew_leases(self) -> None:
        with self._in_flight_lock:
            ids = list(self._in_flight)
        claims.renew(self.engine, ids, self.leases)

    # -- scoring -----------------------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        renew_every = max(self.leases.seconds / 3, 0.5)
        last_renewal = 0.0
        while not self._stopping.is_set():
            self._wake.wait(timeout=min(self.poll_seconds, renew_every))
            self._wake.clear()
            try:
                now = utcnow().timestamp()
                if now - last_renewal >= renew_every:
                    self._renew_leases()
                    self._give_up_exhausted()
                    last_renewal = now
                self._dispatch_heuristics()
                self._dispatch_ai()
            except JobsClosed:  # the process is exiting: claimed scores are claimed again when their lease ends
                log.debug("scoring dispatcher stopped: the jobs are shut down")
                return
            except Exception:  # keep scoring alive through a transient database error
                log.exception("scoring dispatcher failed; retrying")

    def _dispatch_heuristics(self) -> None:
        while not self._stopping.is_set():
            found = self._claim(ai=False, limit=HEURISTIC_BATCH)
            if not found:
                return
            records = self._scorer.load(found)
            for claim in found:
                self._results.put(self._scorer.score(claim, records.get(claim.record_id)))

    def _dispatch_ai(self) -> None:
        while not self._stopping.is_set():
            with self._in_flight_lock:
                free = self.concurrency * 2 - len(self._in_flight)
            if free <= 0:
                return
            found = self._claim(ai=True, limit=free)
            if not found:
                return
            records = self._scorer.load(found)
            for claim in found:
                self._jobs.submit(self._score_ai, claim, records.get(claim.record_id))

    def _score_ai(self, claim: Claim, record: Record | None) -> None:
        self._results.put(self._scorer.score(claim, record))

    # -- writing -----------------------------------------------------------------------------
    def _write_loop(self) -> None:
        dirty: set[int] = set()
        last_refresh = 0.0
        while not (self._stopping.is_set() and self._results.empty()):
            batch = self._next_batch()
            idle = False
            if batch:
                try:
                    claims.write(self.engine, batch)
                except Exception:  # leases expire and the scores are claimed again
                    log.exception("could not store %d scores; they will be retried", len(batch))
                finally:
                    dirty.update(r.run_id for r in batch)  # some may be stored even so
                    with self._in_flight_lock:
                        self._in_flight.difference_update(r.score_id for r in batch)
                        idle = not self._in_flight
                self.wake()
            # Refreshing a run reads all its scores: do it a few times a second, and at once
            # when no work is left in flight (the run may have just finished).
            now = time.monotonic()
            if dirty and (not batch or idle or now - last_refresh >= REFRESH_SECONDS):
                try:
                    claims.refresh_runs(self.engine, dirty, self.on_run_finished)
                    dirty.clear()
                except Exception:
                    log.exception("could not refresh runs %s; will retry", sorted(dirty))
                last_refresh = now

    def _next_batch(self) -> list[Result]:
        """Results for one transaction: waits for the first, then lingers briefly for more."""
        try:
            first = self._results.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first] if first is not None else []
        deadline = time.monotonic() + WRITE_LINGER_SECONDS
        while batch and len(batch) < WRITE_BATCH:
            remaining = deadline - time.monotonic()
            try:
                result = self._results.get(timeout=remaining) if remaining > 0 else self._results.get_nowait()
            except queue.Empty:
                break
            if result is None:  # stopping: store what we have
                break
            batch.append(result)
        return batch
