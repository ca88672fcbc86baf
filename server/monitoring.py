"""The app's monitors: their cycles (scorecard_core/monitors.py), and who runs them on schedule.

The embedded server checks every few seconds for cycles due. With workers on a queue, each
worker's sweep does (workers/sweep.py), playing the part a Celery beat process would without one
more process to deploy; the database lease lets only one of them run a monitor's cycle. A cycle's
new run wakes scoring (the embedded engine, or the workers through the queue).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from scorecard_core.monitors import MonitorCycles
from scorecard_core.periodic import Periodic

from . import scoring
from .settings import settings_of
from .workers.queue import TaskQueue

EXTENSION = "scorecard.monitors"
CHECK_SECONDS = 5.0


@dataclass
class Monitoring:
    cycles: MonitorCycles
    schedule: Periodic | None

    def stop(self) -> None:
        if self.schedule is not None:
            self.schedule.stop()


def init_app(app: Flask, queue: TaskQueue | None) -> None:
    settings = settings_of(app)
    cycles = MonitorCycles(
        app.extensions["scorecard.engine"],
        on_new_run=lambda _run_id: _wake_scoring(app),
        settle_seconds=settings.monitor_settle_seconds,
    )
    schedule = None
    # A real server (not a one-off app: CLI, tests of other parts), with no workers to sweep.
    if settings.scoring_enabled and queue is None:
        schedule = Periodic("scorecard-monitors", CHECK_SECONDS, cycles.run_due).start()
    app.extensions[EXTENSION] = Monitoring(cycles, schedule)


def _wake_scoring(app: Flask) -> None:
    engine = app.extensions.get(scoring.EXTENSION)
    if engine is not None:
        engine.wake()


def cycles_of(app: Flask) -> MonitorCycles:
    return app.extensions[EXTENSION].cycles


def stop(app: Flask) -> None:
    monitoring = app.extensions.get(EXTENSION)
    if monitoring is not None:
        monitoring.stop()
