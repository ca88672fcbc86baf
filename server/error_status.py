"""The one place our errors become HTTP statuses: the domain, the runner and the webhook service
raise errors that say what went wrong (a ``code`` and a message), and the server's API and UI
answer each code with the status below."""

from __future__ import annotations

from scorecard_core.errors import ScorecardError

STATUS_OF_CODE = {
    "BAD_REQUEST": 400,
    "SYSTEM_START_ERROR": 400,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    # 422, not 409 or 5xx: clients retry those automatically, and each retry of a kickoff would
    # create another run.
    "GITHUB_NOT_CONFIGURED": 422,
    "GITHUB_DISPATCH_REJECTED": 422,
    "GITHUB_UNAVAILABLE": 502,
}


def http_status(exc: ScorecardError) -> int:
    """The status an error answers with; a code not listed is our fault, a 500."""
    return STATUS_OF_CODE.get(exc.code, 500)
