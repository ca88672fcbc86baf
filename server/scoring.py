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

EXTENSION = "scorecard.scoring"


def init_app(app: Flask) -> None:
    if not app.config["SCORING_ENABLED"]:
        app.extensions[EXTENSION] = None
        return
    config = app.config
    app.extensions[EXTENSION] = ScoringEngine(
        app.extensions["scorecard.engine"],
        partial(judge_record, base_url=config["OPENAI_BASE_URL"], api_key=config["OPENAI_API_KEY"]),
        concurrency=config["SCORING_CONCURRENCY"],
        lease_seconds=config["SCORING_LEASE_SECONDS"],
        max_attempts=config["SCORING_MAX_ATTEMPTS"],
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
