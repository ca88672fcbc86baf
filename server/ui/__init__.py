"""The web UI: server-rendered pages over the same database as the API, signed in with an API key.

Every value that comes from users, testcases or systems is untrusted; templates autoescape it
and never mark it safe. Pages send a strict Content-Security-Policy too: scripts only from our own
origin (the vendored htmx), no inline script or style and no eval.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, make_response, render_template, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from scorecard_core.errors import ScorecardError

from .. import database
from ..api.parsing import check_query_values
from ..error_status import http_status
from ..settings import settings_of
from . import (
    auth,
    compare,
    csrf,
    formatting,
    kickoff,
    metrics,
    monitors,
    playground,
    projects,
    records,
    records_page,
    runs,
    testsets,
    traces,
)

ui = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/ui/static")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@ui.record_once
def _configure(state: BlueprintSetupState) -> None:
    app = state.app
    app.session_interface = auth.UiSessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    settings = settings_of(app)
    if settings.public_url.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    # The cookie lasts as long as the server-side session can (auth.py ends it sooner).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=settings.session_lifetime_hours)


ui.before_request(csrf.check)
ui.before_request(auth.require_sign_in)
ui.before_request(check_query_values)


@ui.after_request
def _secure(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "ui.static":
        # Pages show private data: neither the browser (back button after sign-out) nor a
        # shared proxy may keep a copy.
        response.headers["Cache-Control"] = "no-store"
    return response


@ui.context_processor
def _page_globals():
    return {"signed_in_key": auth.current_key(), "csrf_token": csrf.token}


for name, function in formatting.FILTERS.items():
    ui.add_app_template_filter(function, name)
ui.add_app_template_global(formatting.status_group, "status_group")  # macros see globals only
ui.add_app_template_global(formatting.still_moving, "still_moving")


def error_page(status: int, message: str):
    """The styled error page; the app's handlers use it for paths outside the UI's routes too."""
    return _secure(make_response(render_template("ui/error.html", status=status, message=message), status))


@ui.errorhandler(ScorecardError)
def _scorecard_error(exc: ScorecardError):
    database.session().rollback()
    return error_page(http_status(exc), exc.message)


@ui.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return error_page(exc.code or 500, exc.description or exc.name)


@ui.errorhandler(OperationalError)
def _database_unavailable(_exc: OperationalError):
    database.session().rollback()
    g.ui_key = None  # the page header must not ask the database who is signed in
    return error_page(503, "The database is busy or unreachable; reload the page in a moment.")


for module in (
    auth,
    projects,
    runs,
    records,
    records_page,
    testsets,
    kickoff,
    playground,
    compare,
    metrics,
    traces,
    monitors,
):
    ui.register_blueprint(module.bp)
