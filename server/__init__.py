"""The self-hosted Scorecard server: a Flask app factory serving the v2 REST API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from scorecard_core import db
from scorecard_core.settings import Settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings read from the environment, e.g.
    ``{"DATABASE_URL": "sqlite:///...", "PUBLIC_URL": "http://127.0.0.1:8000"}``."""
    app = Flask(__name__)
    overrides = dict(config or {})
    defaults = Settings()
    app.config.update(
        DATABASE_URL=defaults.database_url,
        PUBLIC_URL=defaults.public_url,
        MAX_CONTENT_LENGTH=defaults.max_body_bytes,
        UPGRADE_DATABASE=True,
        SCORING_ENABLED=True,
        SCORING_CONCURRENCY=defaults.scoring_concurrency,
        SCORING_LEASE_SECONDS=defaults.scoring_lease_seconds,
        SCORING_MAX_ATTEMPTS=defaults.scoring_max_attempts,
        OPENAI_BASE_URL=defaults.openai_base_url,
        OPENAI_API_KEY=defaults.openai_api_key,
        SESSION_IDLE_MINUTES=defaults.session_idle_minutes,
        SESSION_LIFETIME_HOURS=defaults.session_lifetime_hours,
    )
    app.config.update(overrides)
    app.json.sort_keys = False

    if app.config["UPGRADE_DATABASE"]:
        db.upgrade(app.config["DATABASE_URL"])
    app.extensions["scorecard.engine"] = db.make_engine(app.config["DATABASE_URL"])

    import webhook

    from . import database, errors, headers, scoring
    from .api import api
    from .api.attachments import files as attachment_files
    from .request_guard import RequestGuard
    from .ui import ui

    database.init_app(app)
    headers.init_app(app)
    app.register_blueprint(api)
    app.register_blueprint(attachment_files)
    app.register_blueprint(ui)
    errors.init_app(app)
    scoring.init_app(app)
    webhook.init_app(app)
    # Outermost: refuses oversized and unauthenticated bodies before anything reads them.
    app.wsgi_app = RequestGuard(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
    return app
