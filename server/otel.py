"""``POST /otel/v1/traces``: the OTLP/HTTP trace receiver Scorecard's SDKs export to.

Point the SDKs here: ``SCORECARD_TRACING_URL`` (JS) or ``wrap_openai``'s ``endpoint`` option
(Python). The API key comes as a Bearer token (the request guard refuses a body without one
before reading it), the project in the resource attribute ``scorecard.project_id``. Decoding and
storage live in ``scorecard_core.traces``; the spans are acknowledged once committed.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from scorecard_core import apikeys, traces
from scorecard_core.errors import ScorecardError, Unauthorized, error_body
from scorecard_core.models import utcnow
from scorecard_core.settings import APP_EXTENSION, Settings

from . import database
from .api import INVALID_KEY_MESSAGE, MISSING_KEY_MESSAGE, handle_database_unavailable, handle_http_error
from .error_status import http_status

otel = Blueprint("otel", __name__, url_prefix="/otel/v1")

ENCODINGS = {
    "application/x-protobuf": traces.PROTOBUF,
    "application/protobuf": traces.PROTOBUF,
    "application/json": traces.JSON,
}
RETENTION_EXTENSION = "scorecard.trace_retention"


def _encoding() -> str:
    encoding = ENCODINGS.get(request.mimetype)
    if encoding is None:
        raise UnsupportedMediaType(
            f"Content-Type {request.mimetype or '(none)'!r} is not OTLP: send application/x-protobuf "
            "or application/json"
        )
    return encoding


def _body() -> bytes:
    body = request.get_data(cache=False)
    content_encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if content_encoding == "gzip":
        return traces.decompress_gzip(body, current_app.extensions[APP_EXTENSION].max_body_bytes)
    if content_encoding != "identity":
        raise UnsupportedMediaType(f"Content-Encoding {content_encoding!r} is not supported: send gzip or no encoding")
    return body


def _authenticate() -> None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized(MISSING_KEY_MESSAGE)
    if apikeys.verify(database.session(), key.strip()) is None:
        raise Unauthorized(INVALID_KEY_MESSAGE)


@otel.post("/traces")
def export_traces():
    _authenticate()
    encoding = _encoding()
    export = traces.decode_request(_body(), encoding)
    session = database.session()
    received = traces.received_spans(session, export)
    traces.store_spans(session, received.rows)
    session.commit()
    _sweep_expired_spans()
    content_type = "application/x-protobuf" if encoding == traces.PROTOBUF else "application/json"
    return Response(traces.encode_response(traces.response(received), encoding), content_type=content_type)


def _sweep_expired_spans() -> None:
    settings: Settings = current_app.extensions[APP_EXTENSION]
    sweep = current_app.extensions.setdefault(RETENTION_EXTENSION, traces.RetentionSweep())
    if sweep.due(utcnow()):
        session = database.session()
        traces.delete_expired_spans(session, settings.trace_retention_days)
        session.commit()


@otel.errorhandler(ScorecardError)
def handle_scorecard_error(exc: ScorecardError):
    database.session().rollback()
    return jsonify(error_body(exc.code, exc.message, exc.details)), http_status(exc)


otel.register_error_handler(HTTPException, handle_http_error)
# 503: OTLP exporters retry it, so a busy database delays spans rather than dropping them.
otel.register_error_handler(OperationalError, handle_database_unavailable)
