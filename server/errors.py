"""App-wide error pages, never a traceback: JSON in Scorecard's error shape for the API and the
webhook receiver, the UI's styled page for every other path (unknown ones included)."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from .api import error_response, handle_http_error
from .request_guard import API_JSON_PREFIXES, WEBHOOK_PREFIX
from .ui import error_page

JSON_PATH_PREFIXES = (*API_JSON_PREFIXES, WEBHOOK_PREFIX)


def answers_json() -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not answers_json():
            page = error_page(exc.code or 500, exc.description or exc.name)
            # Keep the exception's own headers, such as Allow on a 405 (the page has its type).
            page.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
            return page
        return handle_http_error(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if not answers_json():
            return error_page(500, "Something went wrong on the server; it has been logged. Try again in a moment.")
        return error_response(500, "INTERNAL_ERROR", "Unexpected server error; it has been logged")
