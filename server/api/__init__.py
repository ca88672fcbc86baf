"""The ``/api/v2`` blueprint: authentication, the error shape, and one module per resource."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from scorecard_core import apikeys
from scorecard_core.errors import ScorecardError, Unauthorized, error_body

from .. import database
from ..error_status import http_status
from . import (
    assignees,
    attachments,
    github,
    metrics,
    monitors,
    openapi,
    project_records,
    projects,
    record_annotations,
    records,
    results,
    runs,
    systems,
    tags,
    testsets,
)
from .parsing import check_path_values, check_query_values

api = Blueprint("api", __name__, url_prefix="/api/v2")

PUBLIC_ENDPOINTS = {"api.openapi.document"}

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
}


MISSING_KEY_MESSAGE = "Missing API key: send `Authorization: Bearer <key>` (create one with `scorecard api-key create`)"
INVALID_KEY_MESSAGE = "Invalid or revoked API key"


def error_response(status: int, code: str, message: str, details: dict | None = None):
    return jsonify(error_body(code, message, details)), status


@api.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized(MISSING_KEY_MESSAGE)
    verified = apikeys.verify(database.session(), key.strip())
    if verified is None:
        raise Unauthorized(INVALID_KEY_MESSAGE)
    # Who made the call, where the API records a user (tags, assignments): the key's listed prefix.
    g.user_id = f"api-key:{verified.prefix}"
    return None


api.before_request(check_path_values)
api.before_request(check_query_values)


@api.errorhandler(ScorecardError)
def handle_scorecard_error(exc: ScorecardError):
    database.session().rollback()
    return error_response(http_status(exc), exc.code, exc.message, exc.details)


@api.errorhandler(HTTPException)
def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 413:
        message = "Request body is larger than the 15 MB limit; send fewer items per request"
    response, status = error_response(status, HTTP_CODES.get(status, "ERROR"), message)
    # Keep the exception's own headers, such as Allow on a 405 (its Content-Type is for HTML).
    response.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")
    return response, status


@api.errorhandler(IntegrityError)
def handle_conflict(_exc: IntegrityError):
    database.session().rollback()
    return error_response(
        409, "CONFLICT", "The change conflicts with existing data (a duplicate name?); nothing was saved"
    )


@api.errorhandler(OperationalError)
def handle_database_unavailable(_exc: OperationalError):
    database.session().rollback()
    return error_response(503, "SERVICE_UNAVAILABLE", "The database is busy or unreachable; retry shortly")


for module in (
    projects,
    testsets,
    metrics,
    systems,
    runs,
    records,
    project_records,
    tags,
    record_annotations,
    assignees,
    attachments,
    results,
    github,
    monitors,
    openapi,
):
    api.register_blueprint(module.bp)

# The signed attachment URLs live outside /api/v2 (see attachments.py) but answer in its error shape.
attachments.files.register_error_handler(ScorecardError, handle_scorecard_error)
attachments.files.register_error_handler(HTTPException, handle_http_error)
