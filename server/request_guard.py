"""Requests refused from their headers alone, before any of the body is read.

A body that is too large (by its Content-Length) or that nobody could be allowed to send (an API
request without an API key, a webhook delivery without a signature) is answered at once, so an
anonymous client cannot make the server read and buffer megabytes it will throw away.

The same rules serve two places: ``RequestGuard``, a WSGI middleware around the app (for any WSGI
server, e.g. gunicorn, which hands the app an unread body), and ``server.serving``, which applies
them inside waitress's request parser (waitress reads the whole body before it calls the app).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from scorecard_core.apikeys import KEY_PREFIX
from scorecard_web.headers import ALWAYS, DEFAULT_POLICY
from webhook.receiver import MAX_WEBHOOK_BYTES

from .api import INVALID_KEY_MESSAGE, MISSING_KEY_MESSAGE

API_PREFIX = "/api/"
WEBHOOK_PREFIX = "/webhooks/"
# The OTLP trace receiver (server/otel.py): API keys and errors as the API's.
OTEL_PREFIX = "/otel/"
# Signed attachment uploads and downloads: no API key, but API clients read their errors.
API_JSON_PREFIXES = (API_PREFIX, "/attachment-files/", OTEL_PREFIX)
REASONS = {401: "Unauthorized", 413: "Payload Too Large"}
# Codes for the parser's own refusals (answered before the app sees the request).
PARSER_CODES = {
    400: "BAD_REQUEST",
    413: "PAYLOAD_TOO_LARGE",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    501: "NOT_IMPLEMENTED",
}


@dataclass(frozen=True)
class Refusal:
    status: int
    content_type: str
    body: bytes
    reason: str = ""

    @property
    def status_line(self) -> str:
        return f"{self.status} {self.reason or REASONS[self.status]}"

    def headers(self) -> list[tuple[str, str]]:
        """The connection closes: the unread body must not be taken for a next request."""
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            ("Connection", "close"),
            *ALWAYS.items(),
            ("Content-Security-Policy", DEFAULT_POLICY),
        ]


def _api_error(status: int, code: str, message: str) -> Refusal:
    body = json.dumps({"code": code, "message": message, "details": {}}).encode()
    return Refusal(status, "application/json", body)


def _webhook_error(status: int, message: str) -> Refusal:
    return Refusal(status, "application/json", json.dumps({"message": message}).encode())


def body_limit(path: str, max_body_bytes: int) -> int:
    """GitHub sends deliveries of up to 25 MB; everything else has the server's own limit."""
    return MAX_WEBHOOK_BYTES if path.startswith(WEBHOOK_PREFIX) else max_body_bytes


def too_large(path: str, limit: int) -> Refusal:
    megabytes = limit // (1024 * 1024)
    if path.startswith(WEBHOOK_PREFIX):
        return _webhook_error(413, f"The payload is larger than {megabytes} MB, GitHub's own limit")
    if path.startswith(API_JSON_PREFIXES):
        return _api_error(
            413,
            "PAYLOAD_TOO_LARGE",
            f"Request body is larger than the {megabytes} MB limit; send fewer items per request",
        )
    return Refusal(413, "text/plain; charset=utf-8", f"The request body is larger than {megabytes} MB.\n".encode())


def parser_error(path: str, status: int, reason: str, message: str) -> Refusal:
    """The server's own parser refused the request (headers too large, malformed): the same
    refusal in our shapes, where the path could be read."""
    if path.startswith(WEBHOOK_PREFIX):
        return Refusal(status, "application/json", json.dumps({"message": message}).encode(), reason)
    if path.startswith(API_JSON_PREFIXES):
        body = json.dumps({"code": PARSER_CODES.get(status, "BAD_REQUEST"), "message": message, "details": {}})
        return Refusal(status, "application/json", body.encode(), reason)
    return Refusal(status, "text/plain; charset=utf-8", f"{message}\n".encode(), reason)


def refusal(
    path: str, headers: Mapping[str, str], content_length: int | None, has_body: bool, max_body_bytes: int
) -> Refusal | None:
    """Why a request must be refused before its body is read, or None.

    ``headers`` are keyed as in a WSGI environ without the ``HTTP_`` prefix (``AUTHORIZATION``);
    ``content_length`` is None for a chunked body."""
    limit = body_limit(path, max_body_bytes)
    if content_length is not None and content_length > limit:
        return too_large(path, limit)
    if not has_body:
        return None
    if path.startswith((API_PREFIX, OTEL_PREFIX)):
        scheme, _, key = headers.get("AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _api_error(401, "UNAUTHORIZED", MISSING_KEY_MESSAGE)
        if not key.strip().startswith(KEY_PREFIX):
            return _api_error(401, "UNAUTHORIZED", INVALID_KEY_MESSAGE)
    if path.startswith(WEBHOOK_PREFIX) and not headers.get("X_HUB_SIGNATURE_256", "").strip():
        return _webhook_error(
            401,
            "The X-Hub-Signature-256 header is missing: check that the webhook has a "
            "secret equal to SCORECARD_GITHUB_WEBHOOK_SECRET",
        )
    return None


def environ_refusal(environ: Mapping[str, object], max_body_bytes: int) -> Refusal | None:
    raw_length = str(environ.get("CONTENT_LENGTH") or "").strip()
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    content_length = int(raw_length) if raw_length.isdigit() else None
    headers = {key[5:]: str(value) for key, value in environ.items() if key.startswith("HTTP_")}
    has_body = chunked or bool(content_length)
    return refusal(str(environ.get("PATH_INFO", "")), headers, content_length, has_body, max_body_bytes)


StartResponse = Callable[..., object]
WsgiApp = Callable[[dict, StartResponse], Iterable[bytes]]


class RequestGuard:
    """WSGI middleware: answers a refused request without touching ``wsgi.input``. A chunked body
    is capped by the app itself while it streams (werkzeug stops at ``MAX_CONTENT_LENGTH``)."""

    def __init__(self, app: WsgiApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        refused = environ_refusal(environ, self.max_body_bytes)
        if refused is None:
            return self.app(environ, start_response)
        start_response(refused.status_line, refused.headers())
        return [refused.body]
