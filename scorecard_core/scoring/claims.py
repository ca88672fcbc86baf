"""Claims on pending scores, and storing what came of them: the database side of scoring, shared
by the embedded engine (engine.py) and the workers' tasks.

Claims are leases (``status='running'`` until ``lease_until``), renewed while work is in flight.
A process that dies leaves leases that expire, and whoever claims next picks those scores up:
nothing stays pending forever, and the unique (record, metric version) row means nothing is
ever scored twice into two rows. Each claim counts as an attempt; a score whose lease expired
after ``max_attempts`` claims becomes an error instead of being claimed (and judged, and billed)
again. A result is stored only while its score is still ``running``, so the first result of a
score wins and a late duplicate changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, StatementError
from sqlmodel import Session, col, select

from ..db import session_scope
from ..models import MetricVersion, Record, Run, Score, id_of, utcnow
from ..storable import storable_text
from .judge_cache import JudgeCache
from .lifecycle import finished_runs, refresh_run
from .one_record import Judge, score_record

log = logging.getLogger(__name__)

STORE_ERROR_CHARS = 500
MACHINE_SCORERS = ("ai", "heuristic")


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


@dataclass(frozen=True)
class Leases:
    """How long a claim lasts, and how many claims a score gets."""

    seconds: float = 60.0
    max_attempts: int = 3

    @property
    def length(self) -> timedelta:
        return timedelta(seconds=self.seconds)


def _claimable(ai: bool, leases: Leases, now: Any) -> Any:
    expired = and_(col(Score.status) == "running", col(Score.lease_until) < now)
    return and_(
        col(Score.scored_by) == ("ai" if ai else "heuristic"),
        or_(col(Score.status) == "pending", and_(expired, col(Score.attempts) < leases.max_attempts)),
    )


def claim(engine: Engine, ai: bool, limit: int, leases: Leases) -> list[Claim]:
    """Up to ``limit`` pending (or abandoned) scores of one kind, now leased to the caller."""
    now = utcnow()
    claimable = _claimable(ai, leases, now)
    # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway): rows a rescore or another
    # process holds are left to them, so a claim never waits in a lock cycle.
    candidates = (
        select(col(Score.id)).where(claimable).order_by(col(Score.id)).limit(limit).with_for_update(skip_locked=True)
    )
    with session_scope(engine) as session:
        # Two statements: as one (UPDATE ... WHERE id IN (locking subquery)), PostgreSQL runs
        # the subquery once per row it scans, which made concurrent claims take seconds.
        ids = session.exec(candidates).all()
        if not ids:
            return []
        rows = session.execute(
            update(Score)
            .where(col(Score.id).in_(ids), claimable)  # SQLite locks nothing on SELECT: look again
            .values(status="running", lease_until=now + leases.length, attempts=col(Score.attempts) + 1)
            .returning(
                col(Score.id),
                col(Score.run_id),
                col(Score.record_id),
                col(Score.metric_version_id),
                col(Score.scored_by),
                col(Score.fresh),
            )
        ).all()
    return [Claim(*row) for row in rows]


def claimable_count(engine: Engine, ai: bool, leases: Leases) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).where(_claimable(ai, leases, utcnow()))).one()


def claimed_count(engine: Engine, ai: bool) -> int:
    """Scores of one kind someone holds a live claim on: work in progress."""
    with Session(engine) as session:
        return session.exec(
            select(func.count()).where(
                col(Score.scored_by) == ("ai" if ai else "heuristic"),
                col(Score.status) == "running",
                col(Score.lease_until) >= utcnow(),
            )
        ).one()


def renew(engine: Engine, score_ids: Iterable[int], leases: Leases) -> None:
    ids = list(score_ids)
    if not ids:
        return
    # SKIP LOCKED: a row another transaction is writing (its result being stored, its lapsed
    # lease claimed by another process) needs no renewal, and waiting for it could deadlock.
    held = (
        select(col(Score.id))
        .where(col(Score.id).in_(ids), col(Score.status) == "running")
        .with_for_update(skip_locked=True)
    )
    with session_scope(engine) as session:
        renewable = session.exec(held).all()
        if renewable:
            session.execute(
                update(Score).where(col(Score.id).in_(renewable)).values(lease_until=utcnow() + leases.length)
            )


def give_up_exhausted(engine: Engine, leases: Leases) -> list[Result]:
    """Scores whose every attempt ended without a stored result, as error results to store;
    re-leased first, so only one process reports each."""
    now = utcnow()
    exhausted = and_(
        col(Score.status) == "running",
        col(Score.lease_until) < now,
        col(Score.attempts) >= leases.max_attempts,
        col(Score.scored_by).in_(MACHINE_SCORERS),
    )
    statement = (
        update(Score)
        .where(exhausted)
        .values(lease_until=now + leases.length)
        .returning(col(Score.id), col(Score.run_id), col(Score.attempts))
    )
    with session_scope(engine) as session:
        rows = session.execute(statement).all()
    return [
        Result(
            score_id,
            run_id,
            None,
            f"gave up after {attempts} attempts to score it: none stored a result (the scoring process "
            "stopped, or the database could not be written, each time); it will not be tried again",
        )
        for score_id, run_id, attempts in rows
    ]


class Scorer:
    """Scores claims: loads their records and metric versions, asks the judge (through the judge
    cache) or the built-in checks. Metric versions never change, so they are kept."""

    def __init__(self, engine: Engine, judge: Judge, judge_cache: bool = True):
        self.engine = engine
        self._judge = judge
        self._cache = JudgeCache(engine) if judge_cache else None
        self._versions: dict[str, dict[str, Any]] = {}

    def load(self, claims: list[Claim]) -> dict[int, Record]:
        with Session(self.engine) as session:
            records = {
                id_of(r): r
                for r in session.exec(select(Record).where(col(Record.id).in_({c.record_id for c in claims})))
            }
            missing = {c.metric_version_id for c in claims} - self._versions.keys()
            if missing:
                for version in session.exec(select(MetricVersion).where(col(MetricVersion.id).in_(missing))):
                    self._versions[version.id] = version.config
        return records

    def score(self, claim: Claim, record: Record | None) -> Result:
        """Never raises: whatever goes wrong is the result's error."""
        if record is None:
            return Result(claim.score_id, claim.run_id, None, "the record was deleted")
        try:
            judge = self._cache.judging(self._judge, fresh=claim.fresh) if self._cache else self._judge
            scored = score_record(
                self._versions[claim.metric_version_id],
                inputs=record.inputs,
                outputs=record.outputs,
                expected=record.expected,
                judge=judge,
            )
        except Exception as exc:  # the judge promises not to raise; this is the last guard
            log.exception("scoring failed on score %s", claim.score_id)
            return Result(claim.score_id, claim.run_id, None, f"judge failed: {exc}")
        return Result(claim.score_id, claim.run_id, scored.score, scored.error, scored.usage)


def write(engine: Engine, batch: list[Result]) -> None:
    """One transaction for the batch; if the database refuses it, one per row, and a row it
    still refuses is stored as an error saying why. A fault of the database itself (down,
    locked, deadlocked) stores nothing and raises: the leases expire and the scores are claimed
    again."""
    try:
        _store(engine, batch)
        return
    except Exception as exc:
        if _transient(exc):
            raise
        if len(batch) == 1:
            _store_refused(engine, batch[0], exc)
            return
        log.warning("the database refused a batch of %d scores; storing them one by one", len(batch))
    for result in batch:
        try:
            _store(engine, [result])
        except Exception as exc:
            if _transient(exc):
                raise
            _store_refused(engine, result, exc)


def _store_refused(engine: Engine, result: Result, exc: Exception) -> None:
    log.warning("the database refused the result of score %s; storing an error instead", result.score_id, exc_info=exc)
    reason = f"the result could not be stored: {_database_error(exc)}"
    _store(engine, [Result(result.score_id, result.run_id, None, reason)])


def _store(engine: Engine, batch: list[Result]) -> None:
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
    with session_scope(engine) as session:
        session.connection().execute(_STORE_RESULT, rows)


def refresh_runs(engine: Engine, run_ids: Iterable[int], on_finished: Callable[[int], None] | None) -> None:
    """Recompute the runs' counts and status; each run this finished goes to ``on_finished``."""
    with session_scope(engine) as session:
        for run_id in sorted(run_ids):
            run = session.get(Run, run_id)
            if run is not None:
                refresh_run(session, run)
    if on_finished:
        for run_id in finished_runs(session):
            on_finished(run_id)


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
