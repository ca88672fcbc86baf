"""Leases on the runs this server executes: one process calls a run's system at a time.

The process executing a run holds ``Run.execution_lease_until`` and renews it while it calls the
system, so two web processes resuming at once, or a duplicated message to the workers, execute a
run once; a process that dies leaves a lease that lapses, and the next one to look resumes the
run. Each renewal also reads the runs' statuses: a run cancelled through another process stops
calling its system here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, or_, update
from sqlmodel import Session, col, select

from scorecard_core.db import session_scope
from scorecard_core.models import Run, utcnow
from scorecard_core.periodic import Periodic
from scorecard_core.run_status import EXECUTING


def lapsed(now: datetime | None = None) -> ColumnElement[bool]:
    """Runs no process holds: never leased, or the holder stopped renewing."""
    now = now or utcnow()
    return or_(col(Run.execution_lease_until).is_(None), col(Run.execution_lease_until) < now)


class ExecutionLeases:
    def __init__(self, engine: Engine, seconds: float, held: Callable[[], Iterable[int]], ended: Callable[[int], None]):
        """``held``: the runs this process is executing now (read at each renewal); ``ended`` is
        told of each of them found no longer executing."""
        self._engine = engine
        self._length = timedelta(seconds=seconds)
        self._held = held
        self._ended = ended
        self._renewal = Periodic("scorecard-execution-leases", max(seconds / 3, 0.5), self._renew_and_tell)

    def take(self, session: Session, run_id: int) -> bool:
        """Lease the run to this process (committing ``session``); False when another holds it."""
        now = utcnow()
        taken = session.execute(
            update(Run).where(col(Run.id) == run_id, lapsed(now)).values(execution_lease_until=now + self._length)
        )
        session.commit()
        self._renewal.start()
        return taken.rowcount == 1

    def release(self, run_id: int) -> None:
        with session_scope(self._engine) as session:
            session.execute(update(Run).where(col(Run.id) == run_id).values(execution_lease_until=None))

    def stop(self) -> None:
        self._renewal.stop()

    def _renew_and_tell(self) -> None:
        for run_id in self.renew():
            self._ended(run_id)

    def renew(self) -> set[int]:
        """Renew the held runs' leases; returns those of them no longer executing."""
        held = list(self._held())
        if not held:
            return set()
        with session_scope(self._engine) as session:
            session.execute(
                update(Run).where(col(Run.id).in_(held)).values(execution_lease_until=utcnow() + self._length)
            )
            executing = session.exec(
                select(col(Run.id)).where(col(Run.id).in_(held), col(Run.status).in_(list(EXECUTING)))
            ).all()
        return set(held) - set(executing)
