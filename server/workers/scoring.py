"""Scoring in a worker process: each ``scorecard.score`` task claims a batch of scores (AI
scores a few at a time, heuristics a thousand), scores it, stores it, and, when it found a full
batch, sends itself again, so every chain of tasks keeps going while work is left.

What the tasks of one process share lives here: the judge's thread pool (the process's judge
calls at once), the scores in flight, whose leases a maintenance thread renews, and the runs
whose scores changed, which it refreshes a few times a second (a refresh reads all of a run's
scores, so not once per batch).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine

from scorecard_core.periodic import Periodic
from scorecard_core.scoring import claims, judge
from scorecard_core.scoring.claims import Claim, Leases, Scorer
from scorecard_core.scoring.one_record import Judge

AI_BATCH = 16
HEURISTIC_BATCH = 1000
REFRESH_SECONDS = 0.5
# Chains of score tasks a dispatch starts at most, per kind: enough for many workers' threads.
MAX_FANOUT = 64


def batch_size(ai: bool) -> int:
    return AI_BATCH if ai else HEURISTIC_BATCH


class WorkerScoring:
    def __init__(
        self,
        engine: Engine,
        judge: Judge,
        leases: Leases,
        judge_calls: int,
        on_run_finished: Callable[[int], None],
    ):
        self.engine = engine
        self.leases = leases
        self.on_run_finished = on_run_finished
        self._scorer = Scorer(engine, judge)
        self._judge_pool = ThreadPoolExecutor(judge_calls, thread_name_prefix="scorecard-judge")
        self._lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._dirty: set[int] = set()
        self._renewal = Periodic("scorecard-leases", max(leases.seconds / 3, 0.5), self._renew)
        self._refreshes = Periodic("scorecard-refresh", REFRESH_SECONDS, self._refresh)

    def start(self) -> WorkerScoring:
        self._renewal.start()
        self._refreshes.start()
        return self

    def stop(self) -> None:
        self._renewal.stop()
        self._refreshes.stop()
        self._judge_pool.shutdown(wait=False, cancel_futures=True)
        judge.stop_loop()  # its open connections to the judge, and its thread

    def score(self, ai: bool) -> bool:
        """Claim, score and store one batch; True when the batch was full (more may wait)."""
        size = batch_size(ai)
        found = claims.claim(self.engine, ai, size, self.leases)
        if not found:
            return False
        with self._lock:
            self._in_flight.update(c.score_id for c in found)
        try:
            records = self._scorer.load(found)

            def scored(claim: Claim) -> claims.Result:
                return self._scorer.score(claim, records.get(claim.record_id))

            results = list(self._judge_pool.map(scored, found)) if ai else [scored(c) for c in found]
            claims.write(self.engine, results)
        finally:
            with self._lock:
                self._in_flight.difference_update(c.score_id for c in found)
                self._dirty.update(c.run_id for c in found)
        return len(found) == size

    def chains_to_start(self, ai: bool) -> int:
        """How many score tasks to send for the work waiting now: a chain per waiting batch, up
        to MAX_FANOUT chains, less the chains working already (a batch each)."""
        waiting = claims.claimable_count(self.engine, ai, self.leases)
        if not waiting:
            return 0
        size = batch_size(ai)
        working = math.ceil(claims.claimed_count(self.engine, ai) / size)
        return max(0, min(math.ceil(waiting / size), MAX_FANOUT) - working)

    def give_up_exhausted(self) -> None:
        given_up = claims.give_up_exhausted(self.engine, self.leases)
        if given_up:
            claims.write(self.engine, given_up)
            with self._lock:
                self._dirty.update(r.run_id for r in given_up)

    def _renew(self) -> None:
        with self._lock:
            in_flight = list(self._in_flight)
        claims.renew(self.engine, in_flight, self.leases)

    def _refresh(self) -> None:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        if not dirty:
            return
        try:
            claims.refresh_runs(self.engine, dirty, self.on_run_finished)
        except Exception:
            with self._lock:
                self._dirty.update(dirty)
            raise
