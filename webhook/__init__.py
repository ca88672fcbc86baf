"""The GitHub webhook service: receives GitHub's webhooks, dispatches workflow runs for kickoffs
and pull requests, and posts results back to pull requests.

Mounted in our server it works on our database; ``webhook.app`` runs it on its own against any
Scorecard API (hosted Scorecard)."""

from __future__ import annotations

from flask import Flask

from scorecard_core.jobs import ThreadJobs
from scorecard_core.settings import APP_EXTENSION

from . import receiver
from .scorecard import LocalScorecard, Scorecard
from .service import EXTENSION, WebhookService


def init_app(app: Flask, scorecard: Scorecard | None = None) -> WebhookService:
    """Attach the service to ``app``, configured by the app's settings (our server passes no
    ``scorecard``: the service uses the app's database)."""
    settings = app.extensions[APP_EXTENSION]
    service = WebhookService(
        scorecard=scorecard or LocalScorecard(app.extensions["scorecard.engine"]),
        settings=settings,
        jobs=ThreadJobs(settings.webhook_job_concurrency, name="scorecard-webhook", backpressure=False),
    )
    app.extensions[EXTENSION] = service
    app.register_blueprint(receiver.bp)
    return service
