"""Errors a client or user can cause. Each carries a message that says what to do.

Each has a ``code`` (Scorecard's error codes) and no HTTP status: the server maps codes to
statuses in one place (``server/error_status.py``) and answers in Scorecard's error shape
``{"code", "message", "details"}``; the CLI prints them without a traceback.
"""

from __future__ import annotations

from typing import Any


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scorecard's error shape on the wire."""
    return {"code": code, "message": message, "details": details or {}}


class ScorecardError(Exception):
    """Base class for every error this project raises on purpose."""

    code = "INTERNAL_ERROR"

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(ScorecardError):
    code = "BAD_REQUEST"


class InvalidField(BadRequest):
    """A named field is missing or has the wrong type or value."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"`{field}` {problem}", {"field": field})
        self.field = field
        self.problem = problem


class Unauthorized(ScorecardError):
    code = "UNAUTHORIZED"


class NotFound(ScorecardError):
    code = "NOT_FOUND"

    @classmethod
    def of(cls, kind: str, ident: object, field: str | None = None) -> NotFound:
        """``field``: the body field that named it, when a body did (so clients can point at it)."""
        details = {"resource": kind, "id": str(ident)} | ({"field": field} if field else {})
        return cls(f"{kind} {ident!s} not found", details)


class Conflict(ScorecardError):
    code = "CONFLICT"


class PayloadTooLarge(ScorecardError):
    code = "PAYLOAD_TOO_LARGE"
