"""Every worker's sweep: what a lost message or a dead process would otherwise leave behind.

Every ``worker_sweep_seconds`` each worker: stores as errors the scores whose every attempt
lapsed; starts score tasks for waiting work nobody is on (messages lost when the broker
restarted, chains of a killed worker); refreshes runs still scoring that nobody refreshed lately
(their last scores stored by a worker that died before its refresh); sends again the server
runs still executing that no process holds; and runs the monitors' cycles that are due. Several workers sweeping at once is harmless: each
piece of work is claimed in the database by exactly one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from scorecard_core.models import Run, utcnow
from scorecard_core.monitors import MonitorCycles
from scorecard_core.periodic import Periodic
from scorecard_core.run_status import SCORING
from scorecard_core.scoring import claims

from ..executions import Executions
from .queue import SCORE, TaskQueue
from .scoring import WorkerScoring

STALE_RUNS_PER_SWEEP = 100
KINDS = {"ai": True, "heuristic": False}


def dispatch(scoring: WorkerScoring, queue: TaskQueue) -> None:
    """Start chains of score tasks for the work waiting now."""
    for kind, ai in KINDS.items():
        for _ in range(scoring.chains_to_start(ai)):
            queue.send(SCORE, kind)


class Sweep:
    def __init__(
        self,
        engine: Engine,
        scoring: WorkerScoring,
        executions: Executions,
        monitor_cycles: MonitorCycles,
        queue: TaskQueue,
        every: float,
        on_run_finished: Callable[[int], None],
    ):
        self._engine = engine
        self._scoring = scoring
        self._executions = executions
        self._monitor_cycles = monitor_cycles
        self._queue = queue
        self._every = every
        self._on_run_finished = on_run_finished
        self._rounds = Periodic("scorecard-sweep", every, self.once)

    def start(self) -> Sweep:
        self._rounds.start()
        return self

    def stop(self) -> None:
        self._rounds.stop()

    def once(self) -> None:
        self._scoring.give_up_exhausted()
        dispatch(self._scoring, self._queue)
        self._refresh_stale_runs()
        self._executions.resume()
        self._monitor_cycles.run_due()

    def _refresh_stale_runs(self) -> None:
        quiet_since = utcnow() - timedelta(seconds=2 * self._every)
        with Session(self._engine) as session:
            stale = session.exec(
                select(col(Run.id))
                .where(col(Run.status).in_(list(SCORING)), col(Run.updated_at) < quiet_since)
                .limit(STALE_RUNS_PER_SWEEP)
            ).all()
        if stale:
            claims.refresh_runs(self._engine, [i for i in stale if i is not None], self._on_run_finished)
