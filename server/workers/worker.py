"""A worker process: the app (for its settings, database and webhook service), the scoring its
tasks share, and its sweep; built when Celery starts the worker, stopped when it stops."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from flask import Flask
from sqlalchemy.engine import Engine

from scorecard_core.scoring.claims import Leases
from scorecard_core.settings import Settings
from webhook.service import EXTENSION as WEBHOOK_EXTENSION
from webhook.service import WebhookService

from ..executions import Executions, executions_of
from ..monitoring import cycles_of
from ..scoring import judge_of, publish_finished
from ..settings import settings_of
from .queue import QUEUE_EXTENSION, TaskQueue
from .scoring import WorkerScoring
from .sweep import Sweep


@dataclass
class Worker:
    app: Flask
    engine: Engine
    queue: TaskQueue
    scoring: WorkerScoring
    executions: Executions
    webhook: WebhookService
    sweep: Sweep

    def stop(self) -> None:
        self.sweep.stop()
        self.scoring.stop()
        self.executions.stop()


_current: Worker | None = None


def current_worker() -> Worker:
    if _current is None:
        raise RuntimeError("this process is not a started Scorecard worker: start one with `scorecard worker`")
    return _current


def start_worker(judge_calls: int, settings: Settings | None = None) -> Worker:
    from server import create_app

    global _current
    app = create_app(settings)
    settings = settings_of(app)
    queue = app.extensions[QUEUE_EXTENSION]
    if queue is None:
        raise RuntimeError("SCORECARD_BROKER_URL is not set: a worker takes its work from that broker")
    engine = app.extensions["scorecard.engine"]
    on_finished = partial(publish_finished, app)
    scoring = WorkerScoring(
        engine,
        judge_of(settings),
        Leases(settings.scoring_lease_seconds, settings.scoring_max_attempts),
        judge_calls,
        on_finished,
    ).start()
    executions = executions_of(app)
    sweep = Sweep(
        engine, scoring, executions, cycles_of(app), queue, settings.worker_sweep_seconds, on_finished
    ).start()
    _current = Worker(app, engine, queue, scoring, executions, app.extensions[WEBHOOK_EXTENSION], sweep)
    return _current


def stop_worker() -> None:
    global _current
    if _current is not None:
        _current.stop()
        _current = None
