"""What GitHub said when it refused a request, read once from PyGithub's exception.

PyGithub's ``GithubException`` carries the HTTP status in ``status`` and GitHub's JSON answer
in ``data`` (``{"message": ..., "errors": [...]}``, or not a dict at all). The runner and the
webhook service both report it; this reads it by duck typing, so scorecard_core needs no PyGithub.
"""

from __future__ import annotations


def github_message(exc: BaseException, fallback: str | None = None) -> str:
    """GitHub's own ``message``, else ``fallback``, else the exception's text."""
    data = getattr(exc, "data", None)
    message = data.get("message") if isinstance(data, dict) else None
    if message:
        return str(message)
    return str(exc) if fallback is None else fallback


def github_reason(exc: BaseException) -> str:
    """GitHub's message and each of its listed ``errors`` (a refused dispatch names the bad input
    there), joined by semicolons."""
    data = getattr(exc, "data", None)
    errors = data.get("errors") if isinstance(data, dict) else None
    listed = [e.get("message") or e.get("code") if isinstance(e, dict) else e for e in errors or []]
    reason = github_message(exc, str(getattr(exc, "message", None) or "no reason given"))
    return "; ".join([reason, *(str(e) for e in listed if e)])
