"""App-wide error pages: JSON in Scorecard's error shape for API paths, never a traceback."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .api import error_response, handle_http_error


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not request.path.startswith("/api/"):
            return exc
        return handle_http_error(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if not request.path.startswith("/api/"):
            return InternalServerError()
        return error_response(500, "INTERNAL_ERROR", "Unexpected server error; it has been logged")
