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
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

from runner.config import HOSTED_API_URL
from scorecard_core import db
from scorecard_core.client import ScorecardClient
from scorecard_core.connections import replace_hosted_connections
from scorecard_core.db import session_scope
from scorecard_core.settings import Settings, default_data_dir
from server import headers

from . import init_app
from .scorecard import LocalScorecard, RemoteScorecard

HOSTED_APP_URL = "https://app.scorecard.io"


class StandaloneScorecard(RemoteScorecard):
    """Runs over the API; GitHub connections from the service's own database."""

    def __init__(self, client: ScorecardClient, engine: Engine):
        super().__init__(client)
        self.engine = engine

    connection = LocalScorecard.connection  # the same lookup, in the service's own database


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """``config`` overrides the environment: SCORECARD_API_URL, SCORECARD_API_KEY, DATABASE_URL,
    CONNECTIONS (the list itself), PUBLIC_URL (where run links point; default Scorecard's app for
    the hosted API, else the API's own server) and the GITHUB_* keys the mounted service takes."""
    settings = Settings()
    app = Flask(__name__)
    app.config.update(
        SCORECARD_API_URL=os.environ.get("SCORECARD_API_URL"),
        SCORECARD_API_KEY=os.environ.get("SCORECARD_API_KEY"),
        DATABASE_URL=os.environ.get("SCORECARD_DATABASE_URL") or f"sqlite:///{default_data_dir() / 'webhook.db'}",
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    app.config.update(config or {})
    api_url = app.config["SCORECARD_API_URL"]
    if not (api_url and app.config["SCORECARD_API_KEY"]):
        raise ValueError("set SCORECARD_API_URL and SCORECARD_API_KEY: the Scorecard API the service reads runs from")
    app.config.setdefault("PUBLIC_URL", os.environ.get("SCORECARD_PUBLIC_URL") or app_url_of(api_url))
    if "CONNECTIONS" not in app.config:
        app.config["CONNECTIONS"] = read_connections_file(os.environ.get("SCORECARD_GITHUB_CONNECTIONS"))

    db.upgrade(app.config["DATABASE_URL"])
    engine = db.make_engine(app.config["DATABASE_URL"])
    app.extensions["scorecard.engine"] = engine
    store_connections(engine, app.config["CONNECTIONS"])
    client = ScorecardClient(app.config["SCORECARD_API_URL"], app.config["SCORECARD_API_KEY"])
    init_app(app, StandaloneScorecard(client, engine))
    headers.init_app(app)
    return app


def app_url_of(api_url: str) -> str:
    """Where the API's runs are shown: Scorecard's app for the hosted API, else the server itself."""
    if api_url.startswith(HOSTED_API_URL.removesuffix("/api/v2")):
        return HOSTED_APP_URL
    return api_url.rstrip("/").removesuffix("/api/v2")


def read_connections_file(path: str | None) -> list[dict[str, Any]]:
    if not path:
        return []
    try:
        entries = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"SCORECARD_GITHUB_CONNECTIONS: cannot read {path} as JSON ({exc})") from None
    if not isinstance(entries, list):
        raise ValueError(f"SCORECARD_GITHUB_CONNECTIONS: {path} must hold a JSON list of connections")
    return entries


def store_connections(engine: Engine, entries: list[dict[str, Any]]) -> None:
    with session_scope(engine) as session:
        replace_hosted_connections(session, entries)
