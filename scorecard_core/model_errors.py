"""What went wrong when asking a model through the openai client, in one sentence: the judge's
calls and the server's prompt systems describe failures the same way."""

from __future__ import annotations

from collections.abc import Mapping

import openai

# The statuses the openai client retries (with connection errors and 5xx), so their errors say it tried.
RETRIED_STATUSES = (408, 409, 429)
WHERE_SETTINGS = "check SCORECARD_OPENAI_BASE_URL / OPENAI_BASE_URL"


def describe_model_error(
    exc: openai.OpenAIError,
    *,
    where: str,
    tries: int,
    model: str,
    timeout: float | None = None,
    hints: Mapping[int, str] | None = None,
) -> str:
    """``where``: who was asked ("the judge at <url>"); ``tries``: how often the client tried;
    ``hints``: a sentence to add per HTTP status."""
    tried = f"tried {tries} times"
    if isinstance(exc, openai.APITimeoutError):
        within = f"within {timeout:g}s" if timeout is not None else "in time"
        return f"{where} did not answer {within} ({tried})"
    if isinstance(exc, openai.APIConnectionError):
        return f"could not connect to {where} ({tried}); {WHERE_SETTINGS}"
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retried = f" ({tried})" if status in RETRIED_STATUSES or status >= 500 else ""
        detail = (exc.body.get("message") if isinstance(exc.body, dict) else None) or exc.message
        hint = (hints or {}).get(status, "")
        return f"{where} answered HTTP {status}{retried} for model {model!r}: {str(detail).rstrip('.')}.{hint}"
    return f"{where} failed: {exc}"
