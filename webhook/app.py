"""The webhook service on its own, for teams on hosted Scorecard (or any Scorecard API).

Runs come from the API at ``SCORECARD_API_URL`` with ``SCORECARD_API_KEY``; the service keeps
only its own small database (deliveries and GitHub connections): ``SCORECARD_DATABASE_URL``,
default ``webhook.db`` in the data directory. Connections are read at start from the JSON file
named by ``SCORECARD_GITHUB_CONNECTIONS``: a list of objects shaped like the body of our
``PUT /api/v2/projects/{id}/github`` plus the hosted project's ``projectId``::

    [{"projectId": "123", "repo": "acme/bot", "onPullRequest": true, "testsetId": "45",
      "metricIds": ["67"], "failUnder": "0.8"}]

Results reach a pull request when the API returns the run's git context (our server does; hosted
Scorecard keeps none, so there the Action's own PR comment is the report).

WSGI entry (GitHub posts to ``/webhooks/github``)::

    gunicorn 'webhook.app:create_app()'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from flask import Flask
from pydantic import Field, model_validator
from sqlalchemy.engine import Engine

from scorecard_core import db
from scorecard_core.client import ScorecardClient
from scorecard_core.connections import replace_hosted_connections
from scorecard_core.db import session_scope
from scorecard_core.links import app_url_of
from scorecard_core.settings import APP_EXTENSION, InvalidSetting, Settings, read_from
from scorecard_web import headers

from . import init_app
from .scorecard import RemoteScorecard


class StandaloneSettings(Settings):
    """The server's settings plus where the Scorecard API is; the service's own database is
    ``webhook.db`` in the data dir unless SCORECARD_DATABASE_URL says otherwise."""

    database_file: ClassVar[str] = "webhook.db"

    scorecard_api_url: str | None = Field(None, validation_alias=read_from("SCORECARD_API_URL"))
    scorecard_api_key: str | None = Field(None, validation_alias=read_from("SCORECARD_API_KEY"), repr=False)
    # A JSON file of connections (see the module's docstring).
    github_connections: str | None = None

    @model_validator(mode="after")
    def _runs_are_shown_where_the_api_is(self) -> StandaloneSettings:
        if self.scorecard_api_url and "public_url" not in self.model_fields_set:
            object.__setattr__(self, "public_url", app_url_of(self.scorecard_api_url))
        return self


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """``config`` overrides the settings by field name: SCORECARD_API_URL, SCORECARD_API_KEY,
    DATABASE_URL, PUBLIC_URL (where run links point; default Scorecard's app for the hosted API,
    else the API's own server), the GITHUB_* keys the mounted service takes; and CONNECTIONS, the
    list itself instead of the file."""
    overrides, flask_config = StandaloneSettings.split(config or {})
    connections = flask_config.pop("CONNECTIONS", None)
    settings = StandaloneSettings.load(overrides)
    if not (settings.scorecard_api_url and settings.scorecard_api_key):
        raise InvalidSetting(
            "set SCORECARD_API_URL and SCORECARD_API_KEY: the Scorecard API the service reads runs from"
        )
    if connections is None:
        connections = read_connections_file(settings.github_connections)

    app = Flask(__name__)
    app.extensions[APP_EXTENSION] = settings
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, **flask_config)
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    app.extensions["scorecard.engine"] = engine
    store_connections(engine, connections)
    client = ScorecardClient(settings.scorecard_api_url, settings.scorecard_api_key)
    init_app(app, RemoteScorecard(client, connections=engine))  # runs remote, connections our own
    headers.init_app(app)
    return app


def read_connections_file(path: str | None) -> list[dict[str, Any]]:
    if not path:
        return []
    try:
        entries = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidSetting(f"SCORECARD_GITHUB_CONNECTIONS: cannot read {path} as JSON ({exc})") from None
    if not isinstance(entries, list):
        raise InvalidSetting(f"SCORECARD_GITHUB_CONNECTIONS: {path} must hold a JSON list of connections")
    return entries


def store_connections(engine: Engine, entries: list[dict[str, Any]]) -> None:
    with session_scope(engine) as session:
        replace_hosted_connections(session, entries)
