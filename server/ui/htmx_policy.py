"""The UI's Content-Security-Policy with fetches to our own origin allowed, for pages whose htmx
loads parts of pages (the kickoff dialog, a run page following its run). The UI's own policy
leaves fetches to ``default-src 'none'``; a response that carries this one keeps it, because the
UI only sets its headers where none are set."""

from __future__ import annotations

from flask import Response


def allow_htmx_requests(response: Response) -> Response:
    from . import SECURITY_HEADERS  # the package is still importing its modules when they load this

    response.headers["Content-Security-Policy"] = f"{SECURITY_HEADERS['Content-Security-Policy']}; connect-src 'self'"
    return response
