"""Signing in to the UI with an API key, as a session kept on the server (web_sessions.py).

Flask's signed cookie holds the session's random token (and the CSRF token), never the key. Every
request looks the token up, so signing out, revoking the key (``scorecard api-key revoke``) or the
idle and absolute lifetimes (``SCORECARD_SESSION_IDLE_MINUTES``, ``SCORECARD_SESSION_LIFETIME_HOURS``)
end the session for every copy of the cookie.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.wrappers import Response

from scorecard_core import apikeys, web_sessions
from scorecard_core.models import ApiKey
from scorecard_core.settings import load_or_create_secret_key

from .. import database
from ..settings import current_settings, settings_of
from . import csrf

bp = Blueprint("auth", __name__)

SESSION_TOKEN = "session_token"
PUBLIC_ENDPOINTS = {"ui.static", "ui.auth.sign_in"}
API_PATH_PREFIX = "/api/"


class UiSessionInterface(SecureCookieSessionInterface):
    """Sessions for the UI only: API requests authenticate by header and get none, so a server
    used only through the API never needs a secret key. The key comes from Flask's
    ``SECRET_KEY``, else the settings' (``SCORECARD_SECRET_KEY``), else the one kept in the data dir."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PATH_PREFIX):
            return None
        if not app.secret_key:
            app.secret_key = load_or_create_secret_key(settings_of(app))
        return super().open_session(app, request)


def lifetimes() -> web_sessions.Lifetimes:
    settings = current_settings()
    return web_sessions.Lifetimes.of(settings.session_idle_minutes, settings.session_lifetime_hours)


def current_key() -> ApiKey | None:
    """The signed-in API key, or None (also when its session has ended or the key was revoked)."""
    if "ui_key" not in g:
        token = session.get(SESSION_TOKEN)
        g.ui_key = None
        if isinstance(token, str):
            # First called before the view runs, so this commit holds only the session's own
            # bookkeeping (last seen, or the deletion of an ended session).
            db_session = database.session()
            g.ui_key = web_sessions.signed_in_key(db_session, token, lifetimes())
            db_session.commit()
    return g.ui_key


def require_sign_in() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or current_key() is not None:
        return None
    session.pop(SESSION_TOKEN, None)
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("ui.auth.sign_in", next=target))


def _local_target(target: str | None) -> str:
    """Only a path on this server: a sign-in link must not bounce the user to another site."""
    parts = urlsplit(target or "")
    if target and target.startswith("/") and not parts.scheme and not parts.netloc and "\\" not in target:
        return target
    return url_for("ui.projects.index")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    target = _local_target(request.values.get("next"))
    if request.method != "POST":  # GET, or HEAD (a link checker's probe, never a sign-in attempt)
        if current_key() is not None:
            return redirect(target)
        return render_template("ui/sign_in.html", next=target)
    presented = request.form.get("api_key", "").strip()
    if not presented:
        return render_template("ui/sign_in.html", next=target, problem="Paste an API key to sign in."), 400
    db_session = database.session()
    row = apikeys.verify(db_session, presented)
    if row is None:
        problem = "That API key is not valid or has been revoked; check it, or create a new one."
        return render_template("ui/sign_in.html", next=target, problem=problem), 401
    previous = session.get(SESSION_TOKEN)
    if isinstance(previous, str):  # signing in again (perhaps with another key) ends the old session
        web_sessions.end(db_session, previous)
    token = web_sessions.start(db_session, row.id, lifetimes())
    db_session.commit()
    session.clear()  # a fresh session (and CSRF token) for the signed-in user
    session[SESSION_TOKEN] = token
    session.permanent = True
    csrf.token()
    return redirect(target)


@bp.post("/sign-out")
def sign_out():
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        web_sessions.end(database.session(), token)
        database.session().commit()
    session.clear()
    flash("Signed out.", "ok")
    return redirect(url_for("ui.auth.sign_in"))
