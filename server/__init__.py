"""The self-hosted Scorecard server: a Flask app factory serving the v2 REST API."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from flask import Flask

from scorecard_core import db
from scorecard_core.settings import APP_EXTENSION, Settings


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the app from ``Settings`` (read from the environment when not given). A mapping
    overrides settings by field name, e.g. ``{"DATABASE_URL": "sqlite:///...", "SCORING_ENABLED":
    False}``; its other keys are Flask's own config (``TESTING``, ``SECRET_KEY``)."""
    app = Flask(__name__)
    if isinstance(config, Settings):
        settings, flask_config = config, {}
    else:
        overrides, flask_config = Settings.split(config or {})
        settings = Settings.load(overrides)
    app.extensions[APP_EXTENSION] = settings
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, **flask_config)
    app.json.sort_keys = False

    if settings.upgrade_database:
        db.upgrade(settings.database_url)
    app.extensions["scorecard.engine"] = db.make_engine(settings.database_url)

    import webhook
    from scorecard_web import headers

    from . import database, errors, executions, monitoring, scoring
    from .api import api
    from .api.attachments import files as attachment_files
    from .otel import otel
    from .request_guard import RequestGuard
    from .ui import ui
    from .workers.queue import QUEUE_EXTENSION, TaskQueue, deliver_on_queue

    # Workers on a queue (server/workers) do the background work when a broker is configured.
    queue = TaskQueue(settings.broker_url) if settings.broker_url else None
    app.extensions[QUEUE_EXTENSION] = queue

    database.init_app(app)
    headers.init_app(app)
    app.register_blueprint(api)
    app.register_blueprint(attachment_files)
    app.register_blueprint(otel)
    app.register_blueprint(ui)
    errors.init_app(app)
    scoring.init_app(app, queue)
    executions.init_app(app, app.extensions["scorecard.engine"], queue)
    monitoring.init_app(app, queue)
    service = webhook.init_app(app)
    if queue is not None:
        service.deliver_elsewhere = partial(deliver_on_queue, queue)
    # Outermost: refuses oversized and unauthenticated bodies before anything reads them.
    app.wsgi_app = RequestGuard(app.wsgi_app, settings.max_body_bytes)
    return app
