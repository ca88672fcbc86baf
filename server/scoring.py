"""The app's scoring: the embedded engine, started with the app and woken when new work is
stored; or, with workers on a queue, a message to them that work is waiting."""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app
from sqlmodel import Session

from scorecard_core.scoring.engine import ScoringEngine
from scorecard_core.scoring.judge import judge_record
from scorecard_core.scoring.lifecycle import finished_runs
from scorecard_core.scoring.one_record import Judge
from scorecard_core.settings import Settings
from webhook.results import publish_results
from webhook.service import EXTENSION as WEBHOOK_EXTENSION

from .settings import settings_of
from .workers.queue import DISPATCH, PUBLISH, QUEUE_EXTENSION, TaskQueue

EXTENSION = "scorecard.scoring"


class ScoringOnWorkers:
    """Scoring runs in the workers: new work is announced to them (their sweep finds it anyway)."""

    def __init__(self, queue: TaskQueue):
        self._queue = queue

    def wake(self) -> None:
        self._queue.nudge(DISPATCH)

    def stop(self) -> None:
        """Nothing runs here."""


def init_app(app: Flask, queue: TaskQueue | None) -> None:
    settings = settings_of(app)
    if not settings.scoring_enabled:
        app.extensions[EXTENSION] = None
        return
    if queue is not None:
        app.extensions[EXTENSION] = ScoringOnWorkers(queue)
        return
    app.extensions[EXTENSION] = ScoringEngine(
        app.extensions["scorecard.engine"],
        judge_of(settings),
        concurrency=settings.scoring_concurrency,
        lease_seconds=settings.scoring_lease_seconds,
        max_attempts=settings.scoring_max_attempts,
        on_run_finished=partial(publish_finished, app),
    ).start()


def judge_of(settings: Settings) -> Judge:
    """The judge at the configured OpenAI-compatible endpoint."""
    return partial(judge_record, base_url=settings.openai_base_url, api_key=settings.openai_api_key)


def publish_finished(app: Flask, run_id: int) -> None:
    """A run finished (on the scoring writer thread, or a worker's): the PR comment and commit status go to the workers, or to
    the webhook service's jobs (looked up now: the service is attached after the engine starts)."""
    queue = app.extensions.get(QUEUE_EXTENSION)
    if queue is not None:
        queue.nudge(PUBLISH, run_id)
        return
    service = app.extensions.get(WEBHOOK_EXTENSION)
    if service is not None:
        service.jobs.submit(publish_results, service, None, str(run_id))


def wake() -> None:
    engine = current_app.extensions.get(EXTENSION)
    if engine is not None:
        engine.wake()


def stored(session: Session) -> None:
    """After a request committed a change to runs: new work may be pending, and a run that
    finished in this request (its last score entered by a person, execution ended after
    scoring) is published, as the engine publishes the runs it finishes; each finish is seen
    by one of them only."""
    wake()
    for run_id in finished_runs(session):
        publish_finished(current_app._get_current_object(), run_id)


def stop(app: Flask) -> None:
    engine = app.extensions.get(EXTENSION)
    if engine is not None:
        engine.stop()
