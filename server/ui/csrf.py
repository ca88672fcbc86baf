"""CSRF protection: every UI form posts a per-session token that must match the session's.

A SameSite=Lax cookie already keeps most cross-site posts out; the token also covers browsers
and same-site origins that Lax does not.
"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from scorecard_core.errors import ScorecardError

FIELD = "csrf_token"


class FormRefused(ScorecardError):
    code = "FORBIDDEN"


def token() -> str:
    """The session's token, created on first use (forms call this while rendering)."""
    if not isinstance(session.get(FIELD), str):
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def check() -> None:
    if request.method != "POST":
        return
    expected = session.get(FIELD)
    sent = request.form.get(FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise FormRefused(
            "This form has expired or was sent from another site, so nothing was changed. "
            "Go back, reload the page and submit it again."
        )
