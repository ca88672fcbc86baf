"""Headers on every response (API, webhook, UI, static files, error pages), and the refusal of
oversized request headers in our JSON error shape.

Browsers must not guess a response's type (``nosniff``) nor show it inside another site's frame
(``X-Frame-Options`` for older browsers, CSP ``frame-ancestors`` for current ones). The UI sets its
own stricter Content-Security-Policy, which already forbids framing and is kept as it is.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.wrappers import Response

from scorecard_core.errors import error_body

ALWAYS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
FRAME_ANCESTORS = "frame-ancestors 'none'"
# For responses without a policy of their own (JSON, plain text): nothing may load or frame them.
DEFAULT_POLICY = f"default-src 'none'; {FRAME_ANCESTORS}"

# Below every server's own cap (werkzeug: 64 KiB a line, waitress: 256 KiB in all), so that the
# client gets our JSON answer rather than the server's page. Real browsers send a few KiB.
MAX_HEADER_BYTES = 32 * 1024


def header_bytes() -> int:
    """The request's header section, as sent: ``Name: value\\r\\n`` for each field."""
    return sum(len(name) + len(value) + 4 for name, value in request.headers.items())


def refuse_oversized_headers() -> Response | None:
    if header_bytes() <= MAX_HEADER_BYTES:
        return None
    response = jsonify(
        error_body(
            "REQUEST_HEADER_FIELDS_TOO_LARGE",
            f"The request's headers are larger than {MAX_HEADER_BYTES // 1024} KiB; send fewer or smaller "
            "headers (large cookies for this host?)",
        )
    )
    response.status_code = 431
    return response


def add_security_headers(response: Response) -> Response:
    for name, value in ALWAYS.items():
        response.headers.setdefault(name, value)
    policy = response.headers.get("Content-Security-Policy")
    if policy is None:
        response.headers["Content-Security-Policy"] = DEFAULT_POLICY
    elif "frame-ancestors" not in policy:
        response.headers["Content-Security-Policy"] = f"{policy}; {FRAME_ANCESTORS}"
    return response


def init_app(app: Flask) -> None:
    """Registered app-wide, first among the before-request functions, so an oversized request is
    refused before authentication or any database work."""
    app.before_request(refuse_oversized_headers)
    app.after_request(add_security_headers)
