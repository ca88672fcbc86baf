"""App-wide error pages: JSON in Scorecard's error shape for API paths, never a traceback."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .api import HTTP_CODES, error_response


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not request.path.startswith("/api/"):
            return exc
        status = exc.code or 500
        return error_response(status, HTTP_CODES.get(status, "ERROR"), exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if not request.path.startswith("/api/"):
            return InternalServerError()
        return error_response(500, "INTERNAL_ERROR", "Unexpected server error; it has been logged")
