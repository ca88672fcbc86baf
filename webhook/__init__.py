"""The GitHub webhook service: receives GitHub's webhooks, dispatches workflow runs for kickoffs
and pull requests, and posts results back to pull requests.

Mounted in our server it works on our database; ``webhook.app`` runs it on its own against any
Scorecard API (hosted Scorecard)."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask

from scorecard_core.jobs import ThreadJobs
from scorecard_core.settings import Settings

from . import receiver
from .scorecard import LocalScorecard, Scorecard
from .service import EXTENSION, WebhookService

WEBHOOK_JOB_CONCURRENCY = 8


def init_app(app: Flask, scorecard: Scorecard | None = None) -> WebhookService:
    """Attach the service to ``app`` (our server passes nothing: it uses the app's database)."""
    # The app's config may override the SCORECARD_GITHUB_* environment (tests point it at a fake).
    overrides = {
        field: app.config[key]
        for key, field in (
            ("GITHUB_API_URL", "github_api_url"),
            ("GITHUB_TOKEN", "github_token"),
            ("GITHUB_WEBHOOK_SECRETS", "github_webhook_secrets"),
        )
        if key in app.config
    }
    service = WebhookService(
        scorecard=scorecard or LocalScorecard(app.extensions["scorecard.engine"]),
        settings=replace(Settings(), **overrides),
        jobs=ThreadJobs(
            app.config.get("WEBHOOK_JOB_CONCURRENCY", WEBHOOK_JOB_CONCURRENCY),
            name="scorecard-webhook",
            backpressure=False,
        ),
        public_url=app.config["PUBLIC_URL"],
        seconds_between_writes=app.config.get("GITHUB_SECONDS_BETWEEN_WRITES", 1.0),
    )
    app.extensions[EXTENSION] = service
    app.register_blueprint(receiver.bp)
    return service
