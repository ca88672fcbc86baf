"""Signing in to the UI with an API key, kept in Flask's signed session cookie.

The cookie holds the key's row ID, never the key, and every request checks that the key is still
active, so revoking a key (``scorecard api-key revoke``) also signs its browsers out.
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

from scorecard_core import apikeys
from scorecard_core.models import ApiKey
from scorecard_core.settings import load_or_create_secret_key

from .. import database
from . import csrf

bp = Blueprint("auth", __name__)

SESSION_KEY_ID = "api_key_id"
PUBLIC_ENDPOINTS = {"ui.static", "ui.auth.sign_in"}
API_PATH_PREFIX = "/api/"


class UiSessionInterface(SecureCookieSessionInterface):
    """Sessions for the UI only: API requests authenticate by header and get none, so a server
    used only through the API never needs a secret key. The key comes from the app config
    (``SECRET_KEY``), else ``SCORECARD_SECRET_KEY``, else the one kept in the data dir."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PATH_PREFIX):
            return None
        if not app.secret_key:
            app.secret_key = load_or_create_secret_key()
        return super().open_session(app, request)


def current_key() -> ApiKey | None:
    """The signed-in API key, or None (also when it has been revoked since)."""
    if "ui_key" not in g:
        key_id = session.get(SESSION_KEY_ID)
        row = database.session().get(ApiKey, key_id) if isinstance(key_id, int) else None
        g.ui_key = row if row is not None and row.revoked_at is None else None
    return g.ui_key


def require_sign_in() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or current_key() is not None:
        return None
    session.pop(SESSION_KEY_ID, None)
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
    if request.method == "GET":
        if current_key() is not None:
            return redirect(target)
        return render_template("ui/sign_in.html", next=target)
    presented = request.form.get("api_key", "").strip()
    if not presented:
        return render_template("ui/sign_in.html", next=target, problem="Paste an API key to sign in."), 400
    row = apikeys.verify(database.session(), presented)
    if row is None:
        problem = "That API key is not valid or has been revoked; check it, or create a new one."
        return render_template("ui/sign_in.html", next=target, problem=problem), 401
    session.clear()  # a fresh session (and CSRF token) for the signed-in user
    session[SESSION_KEY_ID] = row.id
    session.permanent = True
    csrf.token()
    return redirect(target)


@bp.post("/sign-out")
def sign_out():
    session.clear()
    flash("Signed out.", "ok")
    return redirect(url_for("ui.auth.sign_in"))
