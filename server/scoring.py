"""The app's scoring engine: started with the app, woken when new work is stored."""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app
from sqlmodel import Session

from scorecard_core.scoring.engine import ScoringEngine
from scorecard_core.scoring.judge import judge_record
from scorecard_core.scoring.lifecycle import finished_runs
from webhook.results import publish_results
from webhook.service import EXTENSION as WEBHOOK_EXTENSION

from .settings import settings_of

EXTENSION = "scorecard.scoring"


def init_app(app: Flask) -> None:
    settings = settings_of(app)
    if not settings.scoring_enabled:
        app.extensions[EXTENSION] = None
        return
    app.extensions[EXTENSION] = ScoringEngine(
        app.extensions["scorecard.engine"],
        partial(judge_record, base_url=settings.openai_base_url, api_key=settings.openai_api_key),
        concurrency=settings.scoring_concurrency,
        lease_seconds=settings.scoring_lease_seconds,
        max_attempts=settings.scoring_max_attempts,
        on_run_finished=partial(_publish_results, app),
    ).start()


def _publish_results(app: Flask, run_id: int) -> None:
    """On the scoring writer thread: the PR comment and commit status go to the webhook
    service's jobs (looked up now: the service is attached after the engine starts)."""
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
        _publish_results(current_app._get_current_object(), run_id)


def stop(app: Flask) -> None:
    engine = app.extensions.get(EXTENSION)
    if engine is not None:
        engine.stop()
