"""The scoring engine: claims pending scores from the database, scores them, writes results.

- Heuristic scores are cheap: they are computed on the dispatcher thread in large batches.
- AI scores go to background jobs (bounded concurrency, default 32); the judge retries 429/5xx.
  A judgement asked for before is answered by the judge cache (judge_cache.py).
- One writer thread stores results in batches and refreshes the runs they belong to. A batch
  the database refuses is stored row by row, and a row it still refuses is stored as an error
  saying why: one bad score never holds back the others.

Claims are leases (``status='running'`` until ``lease_until``), renewed while work is in flight.
A process that dies leaves leases that expire, and whoever runs next picks those scores up:
nothing stays pending forever, and the unique (record, metric version) row means nothing is
ever scored twice into two rows. Each claim counts as an attempt; a score whose lease expired
after ``max_attempts`` claims becomes an error instead of being claimed (and judged, and billed)
again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, StatementError
from sqlmodel import Session, col, select

from ..db import session_scope
from ..jobs import Jobs, JobsClosed, ThreadJobs
from ..models import MetricVersion, Record, Run, Score, id_of, utcnow
from ..storable import storable_text
from .judge_cache import JudgeCache
from .lifecycle import finished_runs, refresh_run
from .one_record import Judge, score_record

log = logging.getLogger(__name__)

HEURISTIC_BATCH = 1000
WRITE_BATCH = 500
WRITE_LINGER_SECONDS = 0.02
REFRESH_SECONDS = 0.5
STORE_ERROR_CHARS = 500


@dataclass(frozen=True)
class Claim:
    score_id: int
    run_id: int
    record_id: int
    metric_version_id: str
    scored_by: str
    fresh: bool  # ask the judge even when the judge cache holds the judgement


@dataclass(frozen=True)
class Result:
    score_id: int
    run_id: int
    score: dict[str, Any] | None
    error: str | None
    usage: dict[str, Any] | None = None


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
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.on_run_finished = on_run_finished
        self._judge = judge
        self._cache = JudgeCache(engine) if judge_cache else None
        self._jobs = jobs or ThreadJobs(concurrency, name="scorecard-judge")
        self._results: queue.Queue[Result | None] = queue.Queue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._in_flight: set[int] = set()
        self._in_flight_lock = threading.Lock()
        self._versions: dict[str, dict[str, Any]] = {}
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
        now = utcnow()
        expired = and_(col(Score.status) == "running", col(Score.lease_until) < now)
        claimable = and_(
            col(Score.scored_by) == "ai" if ai else col(Score.scored_by) == "heuristic",
            or_(col(Score.status) == "pending", and_(expired, col(Score.attempts) < self.max_attempts)),
        )
        # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway): rows a rescore or another
        # server holds are left to them, so a claim never waits in a lock cycle.
        candidates = (
            select(col(Score.id))
            .where(claimable)
            .order_by(col(Score.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(Score)
            .where(col(Score.id).in_(candidates.scalar_subquery()), claimable)
            .values(status="running", lease_until=now + self.lease, attempts=col(Score.attempts) + 1)
            .returning(
                col(Score.id),
                col(Score.run_id),
                col(Score.record_id),
                col(Score.metric_version_id),
                col(Score.scored_by),
                col(Score.fresh),
            )
        )
        with session_scope(self.engine) as session:
            rows = session.execute(statement).all()
        claims = [Claim(*row) for row in rows]
        with self._in_flight_lock:
            self._in_flight.update(c.score_id for c in claims)
        return claims

    def _give_up_exhausted(self) -> None:
        """Scores whose every attempt ended without a stored result become errors, through the
        writer (which refreshes their runs); claimed first, so only one process reports each."""
        now = utcnow()
        exhausted = and_(
            col(Score.status) == "running",
            col(Score.lease_until) < now,
            col(Score.attempts) >= self.max_attempts,
            col(Score.scored_by).in_(("ai", "heuristic")),
        )
        statement = (
            update(Score)
            .where(exhausted)
            .values(lease_until=now + self.lease)
            .returning(col(Score.id), col(Score.run_id), col(Score.attempts))
        )
        with session_scope(self.engine) as session:
            rows = session.execute(statement).all()
        with self._in_flight_lock:
            self._in_flight.update(score_id for score_id, _, _ in rows)
        for score_id, run_id, attempts in rows:
            reason = (
                f"gave up after {attempts} attempts to score it: none stored a result (the scoring process "
                "stopped, or the database could not be written, each time); it will not be tried again"
            )
            self._results.put(Result(score_id, run_id, None, reason))

    def _renew_leases(self) -> None:
        with self._in_flight_lock:
            ids = list(self._in_flight)
        if not ids:
            return
        with session_scope(self.engine) as session:
            session.execute(
                update(Score)
                .where(col(Score.id).in_(ids), col(Score.status) == "running")
                .values(lease_until=utcnow() + self.lease)
            )

    def _load(self, claims: list[Claim]) -> tuple[dict[int, Record], dict[str, dict[str, Any]]]:
        with Session(self.engine) as session:
            records = {
                id_of(r): r
                for r in session.exec(select(Record).where(col(Record.id).in_({c.record_id for c in claims})))
            }
            missing = {c.metric_version_id for c in claims} - self._versions.keys()
            if missing:
                for version in session.exec(select(MetricVersion).where(col(MetricVersion.id).in_(missing))):
                    self._versions[version.id] = version.config  # versions are immutable: cache forever
        return records, self._versions

    # -- scoring -----------------------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        renew_every = max(self.lease.total_seconds() / 3, 0.5)
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
            claims = self._claim(ai=False, limit=HEURISTIC_BATCH)
            if not claims:
                return
            records, versions = self._load(claims)
            for claim in claims:
                self._results.put(self._score_heuristic(claim, records.get(claim.record_id), versions))

    def _score_heuristic(self, claim: Claim, record: Record | None, versions: dict) -> Result:
        return self._scored(claim, record, versions)

    def _scored(self, claim: Claim, record: Record | None, versions: dict) -> Result:
        if record is None:
            return Result(claim.score_id, claim.run_id, None, "the record was deleted")
        judge = self._cache.judging(self._judge, fresh=claim.fresh) if self._cache else self._judge
        scored = score_record(
            versions[claim.metric_version_id],
            inputs=record.inputs,
            outputs=record.outputs,
            expected=record.expected,
            judge=judge,
        )
        return Result(claim.score_id, claim.run_id, scored.score, scored.error, scored.usage)

    def _dispatch_ai(self) -> None:
        while not self._stopping.is_set():
            with self._in_flight_lock:
                free = self.concurrency * 2 - len(self._in_flight)
            if free <= 0:
                return
            claims = self._claim(ai=True, limit=free)
            if not claims:
                return
            records, versions = self._load(claims)
            for claim in claims:
                self._jobs.submit(self._score_ai, claim, records.get(claim.record_id), versions)

    def _score_ai(self, claim: Claim, record: Record | None, versions: dict) -> None:
        try:
            result = self._scored(claim, record, versions)
        except Exception as exc:  # the judge promises not to raise; this is the last guard
            log.exception("judge failed on score %s", claim.score_id)
            result = Result(claim.score_id, claim.run_id, None, f"judge failed: {exc}")
        self._results.put(result)

    # -- writing -----------------------------------------------------------------------------
    def _write_loop(self) -> None:
        dirty: set[int] = set()
        last_refresh = 0.0
        while not (self._stopping.is_set() and self._results.empty()):
            batch = self._next_batch()
            idle = False
            if batch:
                try:
                    self._write(batch)
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
                    self._refresh(dirty)
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

    def _write(self, batch: list[Result]) -> None:
        """One transaction for the batch; if the database refuses it, one per row, and a row it
        still refuses is stored as an error saying why. A fault of the database itself (down,
        locked, deadlocked) stores nothing: the leases expire and the scores are claimed again."""
        try:
            self._store(batch)
            return
        except Exception as exc:
            if _transient(exc):
                raise
            if len(batch) == 1:
                self._store_refused(batch[0], exc)
                return
            log.warning("the database refused a batch of %d scores; storing them one by one", len(batch))
        for result in batch:
            try:
                self._store([result])
            except Exception as exc:
                if _transient(exc):
                    raise
                self._store_refused(result, exc)

    def _store_refused(self, result: Result, exc: Exception) -> None:
        log.warning(
            "the database refused the result of score %s; storing an error instead", result.score_id, exc_info=exc
        )
        reason = f"the result could not be stored: {_database_error(exc)}"
        self._store([Result(result.score_id, result.run_id, None, reason)])

    def _store(self, batch: list[Result]) -> None:
        now = utcnow()
        rows = [
            {
                "sid": r.score_id,
                "new_status": "scored" if r.error is None else "error",
                "new_score": r.score,
                "new_error": r.error,
                "new_usage": r.usage,
                "now": now,
            }
            for r in sorted(batch, key=lambda r: r.score_id)  # ID order, as rescoring locks them
        ]
        with session_scope(self.engine) as session:
            session.connection().execute(_STORE_RESULT, rows)

    def _refresh(self, run_ids: set[int]) -> None:
        with session_scope(self.engine) as session:
            for run_id in sorted(run_ids):
                run = session.get(Run, run_id)
                if run is not None:
                    refresh_run(session, run)
        if self.on_run_finished:
            for run_id in finished_runs(session):
                self.on_run_finished(run_id)


_STORE_RESULT = (
    update(Score)
    .where(col(Score.id) == bindparam("sid"), col(Score.status) == "running")
    .values(
        status=bindparam("new_status"),
        score=bindparam("new_score"),
        error=bindparam("new_error"),
        usage=bindparam("new_usage"),
        lease_until=None,
        updated_at=bindparam("now"),
    )
)


def _transient(exc: Exception) -> bool:
    """A fault of the database itself (unreachable, locked, a deadlock), not of the row."""
    return isinstance(exc, (OperationalError, InterfaceError))


def _database_error(exc: Exception) -> str:
    """Why the database (or its driver) refused a row, without the statement and its parameters."""
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    return storable_text(f"{type(cause).__name__}: {cause}")[:STORE_ERROR_CHARS]
